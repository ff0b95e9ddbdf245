// Layer norm over the last dimension (Whisper: eps 1e-5), gamma/beta frozen.
//
//   y[n,d] = (x - mean) * rstd * gamma + beta,  rstd = 1 / sqrt(var + eps)
//
// Checkpoint names: `*_layer_norm.{weight,bias}`, `model.{encoder,decoder}.layer_norm.*`.

/// Frozen layer-norm parameters gamma [d], beta [d].
public struct FrozenLayerNorm: Sendable {
    public var gamma: [Float]
    public var beta: [Float]
    public let eps: Float
    public init(gamma: [Float], beta: [Float], eps: Float = 1e-5) {
        precondition(gamma.count == beta.count, "FrozenLayerNorm: gamma and beta differ in size")
        self.gamma = gamma; self.beta = beta; self.eps = eps
    }
    public var dim: Int { gamma.count }
}

/// Forward. x [n, d] -> y [n, d], plus per-row mean [n] and rstd [n] kept for backward.
func layerNormForward(_ x: [Float], rows n: Int, _ ln: FrozenLayerNorm) -> (y: [Float], mean: [Float], rstd: [Float]) {
    let d = ln.dim
    var y = [Float](repeating: 0, count: n * d)
    var mean = [Float](repeating: 0, count: n)
    var rstd = [Float](repeating: 0, count: n)
    x.withUnsafeBufferPointer { xp in
        y.withUnsafeMutableBufferPointer { yp in
            for r in 0..<n {
                let row = xp.baseAddress! + r * d
                var s: Float = 0
                for j in 0..<d { s += row[j] }
                let m = s / Float(d)
                var v: Float = 0
                for j in 0..<d { let c = row[j] - m; v += c * c }
                let rs = 1 / (v / Float(d) + ln.eps).squareRoot()
                mean[r] = m; rstd[r] = rs
                for j in 0..<d { yp[r * d + j] = (row[j] - m) * rs * ln.gamma[j] + ln.beta[j] }
            }
        }
    }
    return (y, mean, rstd)
}

/// Backward to the input: with xhat = (x - mean) rstd and g = dy * gamma,
///   dx = rstd * (g - mean(g) - xhat * mean(g * xhat)).
func layerNormBackward(_ dy: [Float], x: [Float], mean: [Float], rstd: [Float], rows n: Int, _ ln: FrozenLayerNorm) -> [Float] {
    let d = ln.dim
    var dx = [Float](repeating: 0, count: n * d)
    x.withUnsafeBufferPointer { xp in
        dy.withUnsafeBufferPointer { gp in
            dx.withUnsafeMutableBufferPointer { dp in
                for r in 0..<n {
                    let m = mean[r], rs = rstd[r]
                    var sg: Float = 0, sgx: Float = 0
                    for j in 0..<d {
                        let g = gp[r * d + j] * ln.gamma[j]
                        let xh = (xp[r * d + j] - m) * rs
                        sg += g; sgx += g * xh
                    }
                    sg /= Float(d); sgx /= Float(d)
                    for j in 0..<d {
                        let g = gp[r * d + j] * ln.gamma[j]
                        let xh = (xp[r * d + j] - m) * rs
                        dp[r * d + j] = rs * (g - sg - xh * sgx)
                    }
                }
            }
        }
    }
    return dx
}
