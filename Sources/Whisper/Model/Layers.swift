import Tensor

/// One `nn.Linear`: weight [out, in] (row-major, f32), optional bias [out].
/// Several PyTorch linears may be fused row-wise (q/k/v -> [3d, d]) so one GEMM serves all.
public struct LinearWeights: Sendable {
    public var weight: [Float]
    public var bias: [Float]?
    public let inFeatures: Int
    public let outFeatures: Int

    public init(weight: [Float], bias: [Float]?, inFeatures: Int, outFeatures: Int) {
        precondition(weight.count == inFeatures * outFeatures, "LinearWeights: \(weight.count) values for [\(outFeatures), \(inFeatures)]")
        precondition(bias == nil || bias!.count == outFeatures, "LinearWeights: bias must be [\(outFeatures)]")
        self.weight = weight; self.bias = bias; self.inFeatures = inFeatures; self.outFeatures = outFeatures
    }

    /// y[n, out] (row stride ldy) = x[n, in] W^T + b, or `+=` with `accumulate` (residuals).
    @inline(__always)
    func apply(_ c: Compute, x: UnsafePointer<Float>, rows: Int, y: UnsafeMutablePointer<Float>, ldy: Int, accumulate: Bool = false) {
        weight.withUnsafeBufferPointer { w in
            if let bias {
                bias.withUnsafeBufferPointer { b in
                    c.linear(x: x, ldx: inFeatures, rows: rows, inFeatures: inFeatures, weight: w.baseAddress!,
                             bias: b.baseAddress!, outFeatures: outFeatures, y: y, ldy: ldy, accumulate: accumulate)
                }
            } else {
                c.linear(x: x, ldx: inFeatures, rows: rows, inFeatures: inFeatures, weight: w.baseAddress!,
                         bias: nil, outFeatures: outFeatures, y: y, ldy: ldy, accumulate: accumulate)
            }
        }
    }
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
