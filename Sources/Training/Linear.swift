// Linear layer with a frozen base weight and an optional trainable LoRA pair.
//
//   y[n,out] = x[n,in] W[out,in]^T + b[out] + s * (x A[r,in]^T) B[out,r]^T
//
// Checkpoint names: every `*_proj`, `fc1`, `fc2` of `WhisperCheckpoint`.

/// A frozen linear layer: W [out, in] and optional bias [out].
public struct FrozenLinear: Sendable {
    public var weight: [Float]
    public var bias: [Float]?
    public let inDim: Int
    public let outDim: Int

    public init(weight: [Float], bias: [Float]?, inDim: Int, outDim: Int) {
        precondition(weight.count == inDim * outDim, "FrozenLinear: weight has \(weight.count) values, expected [\(outDim), \(inDim)]")
        precondition(bias == nil || bias!.count == outDim, "FrozenLinear: bias must be [\(outDim)]")
        self.weight = weight; self.bias = bias; self.inDim = inDim; self.outDim = outDim
    }
}

/// Trainable LoRA factors of one linear layer: A [r, in], B [out, r], scale s.
public struct LoRAFactors: Sendable, Equatable {
    public var a: [Float]
    public var b: [Float]
    public let rank: Int
    public let scale: Float

    public init(a: [Float], b: [Float], rank: Int, scale: Float) {
        self.a = a; self.b = b; self.rank = rank; self.scale = scale
    }

    /// Zero factors of the same shapes, used as gradient accumulators.
    public func zeros() -> LoRAFactors {
        LoRAFactors(a: [Float](repeating: 0, count: a.count), b: [Float](repeating: 0, count: b.count), rank: rank, scale: scale)
    }
}

/// Forward. x [n, in] -> y [n, out]; returns h = x A^T [n, r] when LoRA is present (kept for backward).
func linearForward(_ mm: any GEMMBackend, _ x: [Float], rows n: Int, _ lin: FrozenLinear, lora: LoRAFactors?) -> (y: [Float], h: [Float]?) {
    let (i, o) = (lin.inDim, lin.outDim)
    var y = uninitializedFloats(n * o)   // bias rows below, or fully written by the beta-0 GEMM
    if let bias = lin.bias {
        y.withUnsafeMutableBufferPointer { yp in
            for r in 0..<n { for j in 0..<o { yp[r * o + j] = bias[j] } }
        }
    }
    matmul(mm, x, lin.weight, transB: true, m: n, n: o, k: i, beta: lin.bias == nil ? 0 : 1, into: &y)
    guard let lora else { return (y, nil) }
    var h = uninitializedFloats(n * lora.rank)
    matmul(mm, x, lora.a, transB: true, m: n, n: lora.rank, k: i, into: &h)                    // h = x A^T  [n, r]
    matmul(mm, h, lora.b, transB: true, m: n, n: o, k: lora.rank, alpha: lora.scale, beta: 1, into: &y)  // y += s h B^T
    return (y, h)
}

/// Backward. Given dy [n, out], the forward input x [n, in] and h [n, r]:
///   dB[out,r] += s dy^T h,   dh[n,r] = s dy B,   dA[r,in] += dh^T x,
///   dx[n,in] = dy W + dh A     (only when `needInputGrad`).
/// W and bias are frozen, so no gradient is produced for them.
func linearBackward(_ mm: any GEMMBackend, _ dy: [Float], x: [Float], rows n: Int, _ lin: FrozenLinear, lora: LoRAFactors?, h: [Float]?,
                    grad: inout LoRAFactors?, needInputGrad: Bool) -> [Float]? {
    let (i, o) = (lin.inDim, lin.outDim)
    var dh: [Float]? = nil
    if let lora, let h {
        precondition(grad != nil, "linearBackward: LoRA present but no gradient accumulator")
        let r = lora.rank
        matmul(mm, dy, transA: true, h, m: o, n: r, k: n, alpha: lora.scale, beta: 1, into: &grad!.b)   // dB += s dy^T h
        var d = uninitializedFloats(n * r)
        matmul(mm, dy, lora.b, m: n, n: r, k: o, alpha: lora.scale, into: &d)                          // dh = s dy B
        matmul(mm, d, transA: true, x, m: r, n: i, k: n, beta: 1, into: &grad!.a)                      // dA += dh^T x
        dh = d
    }
    guard needInputGrad else { return nil }
    var dx = uninitializedFloats(n * i)
    matmul(mm, dy, lin.weight, m: n, n: i, k: o, into: &dx)                                            // dx = dy W
    if let lora, let dh {
        matmul(mm, dh, lora.a, m: n, n: i, k: lora.rank, beta: 1, into: &dx)                           // dx += dh A
    }
    return dx
}
