import GlossaCore
import Tensor
import TensorIO

/// An adaptable linear layer of Whisper, parsed from a canonical module path such as
/// `model.decoder.layers.3.encoder_attn.k_proj`.
/// Names come from TensorIO's `WhisperLayout` table.
public struct LinearSite: Hashable, Sendable, CustomStringConvertible {
    public typealias Stack = WhisperLayout.Stack
    public typealias Kind = WhisperLayout.BlockLinear
    public let stack: Stack
    public let layer: Int
    public let kind: Kind

    public init(stack: Stack, layer: Int, kind: Kind) { self.stack = stack; self.layer = layer; self.kind = kind }

    /// Parses `model.{encoder,decoder}.layers.{i}.{kind}`; nil if it is not such a path.
    public init?(modulePath: String) {
        let parts = modulePath.split(separator: ".", maxSplits: 4, omittingEmptySubsequences: false)
        guard parts.count == 5, parts[0] == "model", parts[2] == "layers",
              let stack = Stack(rawValue: String(parts[1])), let layer = Int(parts[3]), layer >= 0,
              let kind = Kind(rawValue: String(parts[4])) else { return nil }
        if stack == .encoder, kind.isCrossAttention { return nil }
        self.init(stack: stack, layer: layer, kind: kind)
    }

    public var description: String { WhisperLayout.module(stack, layer, kind) }
}

/// One low-rank term y += coefficient * (x A^T) B^T.
public struct AdapterTerm: Sendable {
    /// lora_A [r, in].
    public let a: [Float]
    /// lora_B [out, r].
    public let b: [Float]
    public let rank: Int
    /// mixing weight x LoRA scale (alpha/r or alpha/sqrt r).
    public let coefficient: Float
}

/// Adapters applied *unmerged* for one run: the base weights stay untouched, so the same
/// loaded model can switch experts per utterance or mix several with weights.
///
/// y = x W^T + b + sum_e w_e s_e (x A_e^T) B_e^T
public struct ActiveAdapters: Sendable {
    public private(set) var terms: [LinearSite: [AdapterTerm]]
    public static let none = ActiveAdapters(terms: [:])
    public var isEmpty: Bool { terms.isEmpty }

    init(terms: [LinearSite: [AdapterTerm]]) { self.terms = terms }

    /// Resolves `adapters` (each with a mixing weight) against `model`, checking shapes.
    public init(_ adapters: [(weights: LoRAWeights, mix: Double)], for model: WhisperModel) throws(WhisperModelError) {
        var terms = [LinearSite: [AdapterTerm]]()
        for (lora, mix) in adapters {
            for (path, pair) in lora.modules.sorted(by: { $0.key < $1.key }) {
                guard let site = LinearSite(modulePath: path), model.hasLayer(site) else { throw .unknownAdapterModule(path) }
                let (out, inF) = model.dimensions(of: site)
                let r = pair.rank
                guard pair.a.shape == [r, inF] else { throw .badShape(path + ".lora_A.weight", expected: [r, inF], got: pair.a.shape) }
                guard pair.b.shape == [out, r] else { throw .badShape(path + ".lora_B.weight", expected: [out, r], got: pair.b.shape) }
                let a: [Float], b: [Float]
                do { a = try HalfConversion.floats(from: pair.a); b = try HalfConversion.floats(from: pair.b) }
                catch { throw .conversion(path, error) }
                terms[site, default: []].append(AdapterTerm(a: a, b: b, rank: r, coefficient: Float(pair.scale * mix)))
            }
        }
        self.terms = terms
    }

    /// Several resolved adapter sets applied together, each scaled by its weight:
    /// y += sum_p w_p sum_{t in p} coef_t (x A_t^T) B_t^T. The factor arrays are shared, not
    /// copied, so mixing experts per utterance (soft routing) costs no weight conversion.
    public static func combining(_ parts: [(adapters: ActiveAdapters, weight: Double)]) -> ActiveAdapters {
        var terms = [LinearSite: [AdapterTerm]]()
        for (p, w) in parts where w != 0 {
            for (site, list) in p.terms {
                terms[site, default: []] += list.map {
                    AdapterTerm(a: $0.a, b: $0.b, rank: $0.rank, coefficient: $0.coefficient * Float(w))
                }
            }
        }
        return ActiveAdapters(terms: terms)
    }

    /// True when any term adapts an encoder layer (the encoder output then depends on it).
    public var touchesEncoder: Bool { terms.keys.contains { $0.stack == .encoder } }

    /// Adds the low-rank terms of `site` to y[:, offset ..< offset+out] (row stride ldy).
    @inline(__always)
    func apply(_ site: LinearSite, _ c: Compute, x: UnsafePointer<Float>, rows n: Int, inFeatures: Int,
               outFeatures: Int, y: UnsafeMutablePointer<Float>, ldy: Int) {
        guard let list = terms[site] else { return }
        for t in list {
            // tmp [n, r] = x A^T ; y += coef * tmp B^T
            var tmp = [Float](repeating: 0, count: n * t.rank)
            tmp.withUnsafeMutableBufferPointer { tp in
                t.a.withUnsafeBufferPointer { ap in
                    c.sgemm(transB: true, m: n, n: t.rank, k: inFeatures, a: x, lda: inFeatures, b: ap.baseAddress!, ldb: inFeatures,
                                 c: tp.baseAddress!, ldc: t.rank)
                }
                t.b.withUnsafeBufferPointer { bp in
                    c.sgemm(transB: true, m: n, n: outFeatures, k: t.rank, alpha: t.coefficient, a: tp.baseAddress!, lda: t.rank,
                                 b: bp.baseAddress!, ldb: t.rank, beta: 1, c: y, ldc: ldy)
                }
            }
        }
    }
}

extension WhisperModel {
    func hasLayer(_ s: LinearSite) -> Bool {
        s.layer < (s.stack == .encoder ? config.encoderLayers : config.decoderLayers)
    }

    /// (out, in) of the PyTorch linear at `site`.
    func dimensions(of s: LinearSite) -> (Int, Int) {
        let shape = WhisperLayout.shape(of: s.kind, in: s.stack, config: config)
        return (shape[0], shape[1])
    }

    /// Row offset of `site` inside the fused weight that holds it.
    static func fusedRowOffset(_ kind: LinearSite.Kind, d: Int) -> Int {
        switch kind {
        case .selfK, .crossV: return d
        case .selfV: return 2 * d
        default: return 0
        }
    }

    /// A new model with `adapters` folded in: W += sum_e w_e s_e B_e A_e (zero run-time
    /// overhead). `self` is not changed; untouched matrices are shared (copy-on-write).
    public func merged(with adapters: [(weights: LoRAWeights, mix: Double)], compute: Compute) throws(WhisperModelError) -> WhisperModel {
        let active = try ActiveAdapters(adapters, for: self)
        var m = self
        let d = config.dModel
        for (site, list) in active.terms {
            let (out, inF) = dimensions(of: site)
            let rowOffset = WhisperModel.fusedRowOffset(site.kind, d: d)
            func fold(_ w: inout [Float]) {
                w.withUnsafeMutableBufferPointer { wp in
                    for t in list {
                        t.b.withUnsafeBufferPointer { bp in t.a.withUnsafeBufferPointer { ap in
                            // W[rowOffset ..< rowOffset+out, :] += coef * B [out, r] A [r, in]
                            compute.sgemm(m: out, n: inF, k: t.rank, alpha: t.coefficient, a: bp.baseAddress!, lda: t.rank,
                                               b: ap.baseAddress!, ldb: inF, beta: 1, c: wp.baseAddress! + rowOffset * inF, ldc: inF)
                        } }
                    }
                }
            }
            let i = site.layer
            switch (site.stack, site.kind) {
            case (.encoder, .selfQ), (.encoder, .selfK), (.encoder, .selfV): fold(&m.encoderLayers[i].qkv.weight)
            case (.encoder, .selfOut): fold(&m.encoderLayers[i].out.weight)
            case (.encoder, .fc1): fold(&m.encoderLayers[i].fc1.weight)
            case (.encoder, .fc2): fold(&m.encoderLayers[i].fc2.weight)
            case (.decoder, .selfQ), (.decoder, .selfK), (.decoder, .selfV): fold(&m.decoderLayers[i].selfQKV.weight)
            case (.decoder, .selfOut): fold(&m.decoderLayers[i].selfOut.weight)
            case (.decoder, .crossQ): fold(&m.decoderLayers[i].crossQ.weight)
            case (.decoder, .crossK), (.decoder, .crossV): fold(&m.decoderLayers[i].crossKV.weight)
            case (.decoder, .crossOut): fold(&m.decoderLayers[i].crossOut.weight)
            case (.decoder, .fc1): fold(&m.decoderLayers[i].fc1.weight)
            case (.decoder, .fc2): fold(&m.decoderLayers[i].fc2.weight)
            case (.encoder, _): throw .unknownAdapterModule(site.description)
            }
        }
        return m
    }
}
