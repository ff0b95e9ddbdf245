import Tensor

/// How a weight matrix is held. Whisper's released weights are f16: a model keeps the
/// per-step decoder weights in f16 when every value is exactly an f16 (`WeightPrecision`),
/// which halves both their memory and the bytes a decoder step streams, and computes the
/// same products as f32 bit for bit (the kernel widens each value exactly as it loads it).
public enum WeightValues: Sendable {
    case float([Float])
    case half([Float16])

    /// The values in f32 (f16 widened, exactly).
    public var floats: [Float] {
        switch self {
        case .float(let w): return w
        case .half(let h): return h.map(Float.init)
        }
    }
}

/// Which weights a `WhisperModel` keeps in f16.
public enum WeightPrecision: Sendable {
    /// Everything in f32: what the training graph reads (BLAS products in both directions).
    case float32
    /// The per-step decoder weights (self q/k/v and out, cross q and out, fc1, fc2, the tied
    /// output projection) in f16 where every value converts exactly; the rest in f32. For
    /// transcription: whisper-base's decoder then holds 97 MB instead of 194 MB.
    case halfWhereExact
}

/// One `nn.Linear`: weight [out, in] (row-major), optional bias [out] (f32).
/// Several PyTorch linears may be fused row-wise (q/k/v -> [3d, d]) so one GEMM serves all.
public struct LinearWeights: Sendable {
    public private(set) var values: WeightValues
    public var bias: [Float]?
    public let inFeatures: Int
    public let outFeatures: Int

    public init(weight: [Float], bias: [Float]?, inFeatures: Int, outFeatures: Int) {
        self.init(values: .float(weight), bias: bias, inFeatures: inFeatures, outFeatures: outFeatures)
    }

    public init(values: WeightValues, bias: [Float]?, inFeatures: Int, outFeatures: Int) {
        let count: Int
        switch values { case .float(let w): count = w.count; case .half(let h): count = h.count }
        precondition(count == inFeatures * outFeatures, "LinearWeights: \(count) values for [\(outFeatures), \(inFeatures)]")
        precondition(bias == nil || bias!.count == outFeatures, "LinearWeights: bias must be [\(outFeatures)]")
        self.values = values; self.bias = bias; self.inFeatures = inFeatures; self.outFeatures = outFeatures
    }

    /// The weight in f32. Reading an f16 weight widens it (a new array); writing one (a merged
    /// LoRA) stores f32 from then on.
    public var weight: [Float] {
        get { values.floats }
        set { values = .float(newValue) }
    }

    /// The f16 weight, when that is how it is held.
    public var half: [Float16]? {
        if case .half(let h) = values { return h }
        return nil
    }

    /// This linear held in f16 when every value is exactly an f16 (else unchanged).
    public func halvedWhereExact() -> LinearWeights {
        guard case .float(let w) = values, let h = exactHalf(w) else { return self }
        var out = self
        out.values = .half(h)
        return out
    }

    /// This linear held in f32.
    public func widened() -> LinearWeights {
        guard case .half = values else { return self }
        var out = self
        out.values = .float(weight)
        return out
    }

    /// y[n, out] (row stride ldy) = x[n, in] W^T + b, or `+=` with `accumulate` (residuals).
    @inline(__always)
    public func apply(_ c: Compute, x: UnsafePointer<Float>, rows: Int, y: UnsafeMutablePointer<Float>, ldy: Int, accumulate: Bool = false) {
        withBias { b in
            switch values {
            case .half(let h):
                // Streaming f16 takes about BLAS-on-f32's time up to `skinnyHalfRowLimit` rows
                // (`whisper-bench --linear-microbench`); more rows (a long prompt, a big batch of
                // beams) go through in passes of that many, so no f32 copy is ever needed.
                h.withUnsafeBufferPointer { hp in
                    var r = 0
                    while r < rows {
                        let n = min(Compute.skinnyHalfRowLimit, rows - r)
                        c.skinnyLinear(x: x + r * inFeatures, ldx: inFeatures, rows: n, inFeatures: inFeatures, weight: hp.baseAddress!,
                                       bias: b, outFeatures: outFeatures, y: y + r * ldy, ldy: ldy, accumulate: accumulate)
                        r += n
                    }
                }
            case .float(let w):
                w.withUnsafeBufferPointer { wp in
                    c.linear(x: x, ldx: inFeatures, rows: rows, inFeatures: inFeatures, weight: wp.baseAddress!,
                             bias: b, outFeatures: outFeatures, y: y, ldy: ldy, accumulate: accumulate)
                }
            }
        }
    }

    /// out[0 ..< in] = row `i` of W (widened) + add[0 ..< in]: an embedding lookup plus its position.
    @inline(__always)
    func row(_ i: Int, plus add: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>) {
        let k = inFeatures
        switch values {
        case .float(let w): w.withUnsafeBufferPointer { wp in for j in 0..<k { out[j] = wp[i * k + j] + add[j] } }
        case .half(let h): h.withUnsafeBufferPointer { hp in for j in 0..<k { out[j] = Float(hp[i * k + j]) + add[j] } }
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
