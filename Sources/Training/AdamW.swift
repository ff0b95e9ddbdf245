import Foundation

/// AdamW hyper-parameters (PyTorch `torch.optim.AdamW` semantics: decoupled weight decay).
public struct AdamWConfig: Codable, Sendable, Equatable {
    public var beta1: Double = 0.9
    public var beta2: Double = 0.999
    public var eps: Double = 1e-8
    /// Decoupled decay: p -= lr * weightDecay * p before the Adam step.
    public var weightDecay: Double = 0.0
    public init(beta1: Double = 0.9, beta2: Double = 0.999, eps: Double = 1e-8, weightDecay: Double = 0.0) {
        self.beta1 = beta1; self.beta2 = beta2; self.eps = eps; self.weightDecay = weightDecay
    }
}

/// First and second moments plus the step count (t in the bias corrections).
public struct AdamWState: Sendable, Equatable {
    public var m: LoRAParameters
    public var v: LoRAParameters
    public var t: Int
    public init(like p: LoRAParameters) { m = p.zeros(); v = p.zeros(); t = 0 }
}

/// One AdamW update of every factor, exactly as PyTorch orders it:
///   p *= 1 - lr wd;  m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2
///   p -= (lr / (1 - b1^t)) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
func adamWStep(_ p: inout LoRAParameters, grads g: LoRAParameters, state s: inout AdamWState, lr: Double, _ c: AdamWConfig) {
    s.t += 1
    let bc1 = 1 - pow(c.beta1, Double(s.t)), bc2 = 1 - pow(c.beta2, Double(s.t))
    let stepSize = Float(lr / bc1), bc2Sqrt = Float(bc2.squareRoot())
    let decay = Float(1 - lr * c.weightDecay), b1 = Float(c.beta1), b2 = Float(c.beta2), eps = Float(c.eps)
    @inline(__always) func update(_ p: inout [Float], _ g: [Float], _ m: inout [Float], _ v: inout [Float]) {
        for j in p.indices {
            let gj = g[j]
            m[j] = b1 * m[j] + (1 - b1) * gj
            v[j] = b2 * v[j] + (1 - b2) * gj * gj
            p[j] = p[j] * decay - stepSize * m[j] / (v[j].squareRoot() / bc2Sqrt + eps)
        }
    }
    for k in p.factors.indices {
        update(&p.factors[k].a, g.factors[k].a, &s.m.factors[k].a, &s.v.factors[k].a)
        update(&p.factors[k].b, g.factors[k].b, &s.m.factors[k].b, &s.v.factors[k].b)
    }
}

/// Clips gradients to a global L2 norm like `torch.nn.utils.clip_grad_norm_`
/// (coefficient max / (norm + 1e-6), applied only when below 1). Returns the norm before clipping.
@discardableResult
func clipGlobalNorm(_ g: inout LoRAParameters, maxNorm: Double) -> Double {
    let norm = g.squaredNorm().squareRoot()
    let coef = maxNorm / (norm + 1e-6)
    if coef < 1 { g.scale(by: Float(coef)) }
    return norm
}
