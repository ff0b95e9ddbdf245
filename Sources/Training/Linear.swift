import Tensor
import Whisper

// Linear layer with a frozen base weight and an optional trainable LoRA pair.
//
//   y[n,out] = x[n,in] W[out,in]^T + b[out] + s * (x A[r,in]^T) B[out,r]^T
//
// The base weight is the runtime model's own storage (`WhisperModel`, no copy): one
// `LinearWeights`, or a block of rows of a fused one (q|k|v is [3d, d], k rows with zero bias).

/// A frozen linear as the training graph sees it: rows rowOffset ..< rowOffset + outDim of
/// `weights` ([*, in] row-major; `bias` rows alike).
public struct FrozenLinear: Sendable {
    public let weights: LinearWeights
    public let rowOffset: Int
    public let outDim: Int
    public var inDim: Int { weights.inFeatures }

    /// Rows `rowOffset ..< rowOffset + outDim` of `weights` (all of it by default).
    public init(_ weights: LinearWeights, rowOffset: Int = 0, outDim: Int? = nil) {
        let out = outDim ?? weights.outFeatures
        precondition(rowOffset >= 0 && rowOffset + out <= weights.outFeatures, "FrozenLinear: rows \(rowOffset)..<\(rowOffset + out) of \(weights.outFeatures)")
        self.weights = weights; self.rowOffset = rowOffset; self.outDim = out
    }

    /// The rows' weight [out, in] and bias [out] (nil when the weights have none) as pointers.
    @inline(__always)
    func withPointers<R>(_ body: (UnsafePointer<Float>, UnsafePointer<Float>?) -> R) -> R {
        weights.weight.withUnsafeBufferPointer { w in
            let wp = w.baseAddress! + rowOffset * inDim
            guard let bias = weights.bias else { return body(wp, nil) }
            return bias.withUnsafeBufferPointer { body(wp, $0.baseAddress! + rowOffset) }
        }
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

/// Forward. x [n, in] -> y [n, out], or with `residual` [n, out] y = residual + x W^T + b + LoRA,
/// summed in the order the runtime's blocks use (`Compute.linear` accumulating onto the
/// residual stream, then the adapter term), so a recorded forward computes what inference
/// computes to the bit. Returns h = x A^T [n, r] when LoRA is present (kept for backward).
func linearForward(_ c: Compute, _ x: [Float], rows n: Int, _ lin: FrozenLinear, lora: LoRAFactors?,
                   residual: [Float]? = nil) -> (y: [Float], h: [Float]?) {
    let (i, o) = (lin.inDim, lin.outDim)
    precondition(residual == nil || residual!.count == n * o, "linearForward: residual must be [\(n), \(o)]")
    var y = residual ?? uninitializedFloats(n * o)   // without a residual: bias rows, or fully written by the beta-0 GEMM
    lin.withPointers { w, b in x.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer { yp in
        c.linear(x: xp.baseAddress!, ldx: i, rows: n, inFeatures: i, weight: w, bias: b, outFeatures: o, y: yp.baseAddress!, ldy: o,
                 accumulate: residual != nil)
    } } }
    let h = addLoRA(c, x, rows: n, inDim: i, outDim: o, lora, into: &y)
    return (y, h)
}

/// y [n, out] += s (x A^T) B^T; returns h = x A^T [n, r] (nil without LoRA).
private func addLoRA(_ c: Compute, _ x: [Float], rows n: Int, inDim i: Int, outDim o: Int, _ lora: LoRAFactors?,
                     into y: inout [Float]) -> [Float]? {
    guard let lora else { return nil }
    var h = uninitializedFloats(n * lora.rank)
    c.matmul(x, lora.a, transB: true, m: n, n: lora.rank, k: i, into: &h)                    // h = x A^T  [n, r]
    c.matmul(h, lora.b, transB: true, m: n, n: o, k: lora.rank, alpha: lora.scale, beta: 1, into: &y)  // y += s h B^T
    return h
}

/// Forward of the row blocks of one fused weight (self-attention q|k|v [3d, d], cross-attention
/// k|v [2d, d]) as the runtime runs them: one GEMM for all of them, x [n, in] -> [n, total],
/// then each block's columns [n, out] with its own LoRA term. `parts` must tile the fused
/// weight's rows in order. Returns each part's (y, h) as `linearForward` does.
func fusedLinearForward(_ c: Compute, _ x: [Float], rows n: Int, _ parts: [FrozenLinear],
                        loras: [LoRAFactors?]) -> [(y: [Float], h: [Float]?)] {
    let whole = FrozenLinear(parts[0].weights), total = whole.outDim
    precondition(parts.count == loras.count && parts.reduce(0) { $0 + $1.outDim } == total
                 && parts.indices.allSatisfy { parts[$0].rowOffset == parts[..<$0].reduce(0) { $0 + $1.outDim } },
                 "fusedLinearForward: parts must tile the fused weight's \(total) rows in order")
    let fused = linearForward(c, x, rows: n, whole, lora: nil).y
    return zip(parts, loras).map { part, lora in
        let o = part.outDim
        var y = uninitializedFloats(n * o)
        fused.withUnsafeBufferPointer { fp in y.withUnsafeMutableBufferPointer { yp in
            for r in 0..<n { (yp.baseAddress! + r * o).update(from: fp.baseAddress! + r * total + part.rowOffset, count: o) }
        } }
        let h = addLoRA(c, x, rows: n, inDim: part.inDim, outDim: o, lora, into: &y)
        return (y, h)
    }
}

/// Backward. Given dy [n, out], the forward input x [n, in] and h [n, r]:
///   dB[out,r] += s dy^T h,   dh[n,r] = s dy B,   dA[r,in] += dh^T x,
///   dx[n,in] = dy W + dh A     (only when `needInputGrad`).
/// W and bias are frozen, so no gradient is produced for them.
func linearBackward(_ c: Compute, _ dy: [Float], x: [Float], rows n: Int, _ lin: FrozenLinear, lora: LoRAFactors?, h: [Float]?,
                    grad: inout LoRAFactors?, needInputGrad: Bool) -> [Float]? {
    let (i, o) = (lin.inDim, lin.outDim)
    var dh: [Float]? = nil
    if let lora, let h {
        precondition(grad != nil, "linearBackward: LoRA present but no gradient accumulator")
        let r = lora.rank
        c.matmul(dy, transA: true, h, m: o, n: r, k: n, alpha: lora.scale, beta: 1, into: &grad!.b)   // dB += s dy^T h
        var d = uninitializedFloats(n * r)
        c.matmul(dy, lora.b, m: n, n: r, k: o, alpha: lora.scale, into: &d)                          // dh = s dy B
        c.matmul(d, transA: true, x, m: r, n: i, k: n, beta: 1, into: &grad!.a)                      // dA += dh^T x
        dh = d
    }
    guard needInputGrad else { return nil }
    var dx = uninitializedFloats(n * i)
    lin.withPointers { w, _ in dy.withUnsafeBufferPointer { gp in dx.withUnsafeMutableBufferPointer { dp in
        c.sgemm(m: n, n: i, k: o, a: gp.baseAddress!, lda: o, b: w, ldb: i, c: dp.baseAddress!, ldc: i)   // dx = dy W
    } } }
    if let lora, let dh {
        c.matmul(dh, lora.a, m: n, n: i, k: lora.rank, beta: 1, into: &dx)                           // dx += dh A
    }
    return dx
}
