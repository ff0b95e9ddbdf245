import Tensor

/// One `nn.Linear`: weight [out, in] (row-major, f32), optional bias [out].
/// Several PyTorch linears may be fused row-wise (q/k/v -> [3d, d]) so one GEMM serves all.
public struct LinearWeights: Sendable {
    public var weight: [Float] { didSet { half = nil } }   // a changed weight (merged LoRA) has no f16 twin
    /// The same weight in f16 when every value is exactly an f16 (`withExactHalf()`): decoder
    /// steps stream it instead, bit-identical results for half the bytes (SkinnyLinear.swift).
    public private(set) var half: [Float16]?
    public var bias: [Float]?
    public let inFeatures: Int
    public let outFeatures: Int

    public init(weight: [Float], bias: [Float]?, inFeatures: Int, outFeatures: Int) {
        precondition(weight.count == inFeatures * outFeatures, "LinearWeights: \(weight.count) values for [\(outFeatures), \(inFeatures)]")
        precondition(bias == nil || bias!.count == outFeatures, "LinearWeights: bias must be [\(outFeatures)]")
        self.weight = weight; self.bias = bias; self.inFeatures = inFeatures; self.outFeatures = outFeatures
    }

    /// This linear with an f16 copy of its weight when that copy is exact (else unchanged).
    public func withExactHalf() -> LinearWeights {
        var out = self
        out.half = exactHalf(weight)
        return out
    }

    /// y[n, out] (row stride ldy) = x[n, in] W^T + b, or `+=` with `accumulate` (residuals).
    @inline(__always)
    func apply(_ c: Compute, x: UnsafePointer<Float>, rows: Int, y: UnsafeMutablePointer<Float>, ldy: Int, accumulate: Bool = false) {
        withBias { b in
            if rows <= Compute.skinnyHalfRowLimit, let half {
                half.withUnsafeBufferPointer { h in
                    c.skinnyLinear(x: x, ldx: inFeatures, rows: rows, inFeatures: inFeatures, weight: h.baseAddress!,
                                   bias: b, outFeatures: outFeatures, y: y, ldy: ldy, accumulate: accumulate)
                }
            } else {
                weight.withUnsafeBufferPointer { w in
                    c.linear(x: x, ldx: inFeatures, rows: rows, inFeatures: inFeatures, weight: w.baseAddress!,
                             bias: b, outFeatures: outFeatures, y: y, ldy: ldy, accumulate: accumulate)
                }
            }
        }
    }

    /// Runs `body` with the bias's base address, or nil when there is none.
    @inline(__always)
    private func withBias(_ body: (UnsafePointer<Float>?) -> Void) {
        if let bias { bias.withUnsafeBufferPointer { body($0.baseAddress!) } } else { body(nil) }
    }
}

/// `values` in f16 when each converts exactly (Whisper's released weights are f16), else nil.
func exactHalf(_ values: [Float]) -> [Float16]? {
    var out = [Float16](repeating: 0, count: values.count)
    for (i, v) in values.enumerated() {
        let h = Float16(v)
        guard Float(h) == v else { return nil }
        out[i] = h
    }
    return out
}

/// `nn.LayerNorm` weight (gamma) and bias (beta), eps 1e-5.
public struct LayerNormWeights: Sendable {
    public var gamma: [Float]
    public var beta: [Float]

    @inline(__always)
    func apply(_ c: Compute, x: UnsafePointer<Float>, rows: Int, out: UnsafeMutablePointer<Float>) {
        gamma.withUnsafeBufferPointer { g in beta.withUnsafeBufferPointer { b in
            c.layerNorm(x: x, rows: rows, dim: g.count, gamma: g.baseAddress!, beta: b.baseAddress!, eps: 1e-5, out: out)
        } }
    }
}

/// One encoder block (`model.encoder.layers.{i}`), pre-norm.
public struct EncoderLayerWeights: Sendable {
    public var selfAttnNorm: LayerNormWeights
    /// q_proj | k_proj | v_proj fused row-wise: [3d, d]; the k rows have zero bias.
    public var qkv: LinearWeights
    public var out: LinearWeights
    public var ffnNorm: LayerNormWeights
    public var fc1: LinearWeights
    public var fc2: LinearWeights
}

/// One decoder block (`model.decoder.layers.{i}`), pre-norm.
public struct DecoderLayerWeights: Sendable {
    public var selfAttnNorm: LayerNormWeights
    /// self_attn q|k|v fused: [3d, d].
    public var selfQKV: LinearWeights
    public var selfOut: LinearWeights
    public var crossNorm: LayerNormWeights
    /// encoder_attn.q_proj [d, d].
    public var crossQ: LinearWeights
    /// encoder_attn k|v fused: [2d, d] (applied once per audio).
    public var crossKV: LinearWeights
    public var crossOut: LinearWeights
    public var ffnNorm: LayerNormWeights
    public var fc1: LinearWeights
    public var fc2: LinearWeights
}
