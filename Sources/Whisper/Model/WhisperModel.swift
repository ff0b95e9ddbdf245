import GlossaCore
import Tensor
import TensorIO

/// Immutable Whisper weights: f32, except the per-step decoder weights, which stay f16 when
/// the checkpoint's values are exactly f16 and `WeightPrecision.halfWhereExact` asks for it.
///
/// Run state (KV caches) lives in `DecoderState`; one `WhisperModel` can serve many
/// concurrent runs, and LoRA adapters are either passed per call (`ActiveAdapters`,
/// unmerged) or folded into a new model value (`merged(with:)`), never mutating this one.
public struct WhisperModel: Sendable {
    public let config: WhisperConfig
    /// `model.encoder.conv1` [d, n_mels, 3] and `conv2` [d, d, 3] (stride 2), both padding 1.
    public var conv1: LinearWeights
    public var conv2: LinearWeights
    /// `model.encoder.embed_positions.weight` [1500, d] (sinusoids).
    public var encoderPositions: [Float]
    public var encoderLayers: [EncoderLayerWeights]
    public var encoderNorm: LayerNormWeights
    /// `model.decoder.embed_tokens.weight` [vocab, d], no bias; also the output projection
    /// (tied): logits [n, vocab] = x [n, d] E^T.
    public var embedTokens: LinearWeights
    /// The same in f32 (widened when held in f16).
    public var tokenEmbedding: [Float] {
        get { embedTokens.weight }
        set { embedTokens.weight = newValue }
    }
    /// `model.decoder.embed_positions.weight` [448, d].
    public var decoderPositions: [Float]
    public var decoderLayers: [DecoderLayerWeights]
    public var decoderNorm: LayerNormWeights

    public var dModel: Int { config.dModel }
    public var vocabSize: Int { config.vocabSize }
    /// Mel frames per window the encoder takes: 2 x positions (conv2 has stride 2).
    public var inputFrames: Int { 2 * config.maxSourcePositions }

    /// Builds the model from canonical (Hugging Face named) tensors, checking every shape.
    /// With `.halfWhereExact` (the default, for transcription) the per-step decoder weights
    /// of an f16 checkpoint are kept as they are stored, never widened.
    public init(checkpoint: WhisperCheckpoint, precision: WeightPrecision = .halfWhereExact) throws(WhisperModelError) {
        let c = checkpoint.config
        let d = c.dModel
        let loader = Loader(tensors: checkpoint.tensors, half: precision == .halfWhereExact)
        self.config = c
        conv1 = try loader.linear("model.encoder.conv1", out: d, in: c.numMelBins * 3, shape: [d, c.numMelBins, 3])
        conv2 = try loader.linear("model.encoder.conv2", out: d, in: d * 3, shape: [d, d, 3])
        encoderPositions = try loader.floats("model.encoder.embed_positions.weight", [c.maxSourcePositions, d])
        encoderLayers = []
        for i in 0..<c.encoderLayers {
            let (lin, ln) = (Self.names(.encoder, i), Self.normNames(.encoder, i))
            encoderLayers.append(EncoderLayerWeights(
                selfAttnNorm: try loader.norm(ln(.selfAttention), d),
                qkv: try loader.fused([lin(.selfQ), lin(.selfK), lin(.selfV)], d: d),
                out: try loader.linear(lin(.selfOut), out: d, in: d),
                ffnNorm: try loader.norm(ln(.final), d),
                fc1: try loader.linear(lin(.fc1), out: c.encoderFFNDim, in: d),
                fc2: try loader.linear(lin(.fc2), out: d, in: c.encoderFFNDim)))
        }
        encoderNorm = try loader.norm("model.encoder.layer_norm", d)
        // Decoder steps run a few rows at a time and are bound by reading the weights: the
        // per-step ones may stay f16 (`step: true`); crossKV runs once on 1500 frames, via BLAS.
        embedTokens = LinearWeights(values: try loader.values("model.decoder.embed_tokens.weight", [c.vocabSize, d], step: true),
                                    bias: nil, inFeatures: d, outFeatures: c.vocabSize)
        decoderPositions = try loader.floats("model.decoder.embed_positions.weight", [c.maxTargetPositions, d])
        decoderLayers = []
        for i in 0..<c.decoderLayers {
            let (lin, ln) = (Self.names(.decoder, i), Self.normNames(.decoder, i))
            decoderLayers.append(DecoderLayerWeights(
                selfAttnNorm: try loader.norm(ln(.selfAttention), d),
                selfQKV: try loader.fused([lin(.selfQ), lin(.selfK), lin(.selfV)], d: d, step: true),
                selfOut: try loader.linear(lin(.selfOut), out: d, in: d, step: true),
                crossNorm: try loader.norm(ln(.encoderAttention), d),
                crossQ: try loader.linear(lin(.crossQ), out: d, in: d, step: true),
                crossKV: try loader.fused([lin(.crossK), lin(.crossV)], d: d),
                crossOut: try loader.linear(lin(.crossOut), out: d, in: d, step: true),
                ffnNorm: try loader.norm(ln(.final), d),
                fc1: try loader.linear(lin(.fc1), out: c.decoderFFNDim, in: d, step: true),
                fc2: try loader.linear(lin(.fc2), out: d, in: c.decoderFFNDim, step: true)))
        }
        decoderNorm = try loader.norm("model.decoder.layer_norm", d)
    }

    /// This model with every weight in f32 (what the training graph reads); shares storage
    /// with `self` where it already is.
    public func widened() -> WhisperModel {
        var m = self
        m.embedTokens = embedTokens.widened()
        for i in m.decoderLayers.indices {
            var l = m.decoderLayers[i]
            l.selfQKV = l.selfQKV.widened(); l.selfOut = l.selfOut.widened()
            l.crossQ = l.crossQ.widened(); l.crossOut = l.crossOut.widened()
            l.fc1 = l.fc1.widened(); l.fc2 = l.fc2.widened()
            m.decoderLayers[i] = l
        }
        return m
    }

    /// Module paths of block `i` of `stack`, from `WhisperLayout`'s name table.
    private static func names(_ stack: WhisperLayout.Stack, _ i: Int) -> (WhisperLayout.BlockLinear) -> String {
        { WhisperLayout.module(stack, i, $0) }
    }
    private static func normNames(_ stack: WhisperLayout.Stack, _ i: Int) -> (WhisperLayout.BlockNorm) -> String {
        { WhisperLayout.norm(stack, i, $0) }
    }

    /// Reads tensors by canonical name: widened to f32, or (per-step decoder weights, when
    /// `half`) kept in f16 when every value is exactly one.
    private struct Loader {
        let tensors: [String: TensorData]
        let half: Bool

        /// The tensor `name`, which must exist with `shape`.
        func tensor(_ name: String, _ shape: [Int]) throws(WhisperModelError) -> TensorData {
            guard let t = tensors[name] else { throw .missingTensor(name) }
            guard t.shape == shape else { throw .badShape(name, expected: shape, got: t.shape) }
            return t
        }

        func floats(_ name: String, _ shape: [Int]) throws(WhisperModelError) -> [Float] {
            let t = try tensor(name, shape)
            do { return try HalfConversion.floats(from: t) } catch { throw .conversion(name, error) }
        }

        func optionalFloats(_ name: String, _ shape: [Int]) throws(WhisperModelError) -> [Float]? {
            tensors[name] == nil ? nil : try floats(name, shape)
        }

        /// A weight as `WeightValues`: f16 as stored (no f32 copy is ever made) when `step`
        /// and `half` and the tensor is f16, or an f32 tensor whose values all are f16.
        func values(_ name: String, _ shape: [Int], step: Bool) throws(WhisperModelError) -> WeightValues {
            guard step && half else { return .float(try floats(name, shape)) }
            let t = try tensor(name, shape)
            guard t.dtype == .f16 else {
                let f = try floats(name, shape)
                return exactHalf(f).map(WeightValues.half) ?? .float(f)
            }
            var h = [Float16](repeating: 0, count: t.count)
            guard t.bytes.count == h.count * 2 else { throw .badShape(name, expected: shape, got: [t.bytes.count / 2]) }
            h.withUnsafeMutableBytes { _ = t.bytes.copyBytes(to: $0) }   // little-endian IEEE binary16, as stored
            return .half(h)
        }

        func linear(_ p: String, out: Int, in: Int, shape: [Int]? = nil, step: Bool = false) throws(WhisperModelError) -> LinearWeights {
            // Every Whisper linear and conv has a bias except k_proj (handled in `fused`).
            LinearWeights(values: try values(p + ".weight", shape ?? [out, `in`], step: step), bias: try floats(p + ".bias", [out]),
                          inFeatures: `in`, outFeatures: out)
        }

        func norm(_ p: String, _ d: Int) throws(WhisperModelError) -> LayerNormWeights {
            LayerNormWeights(gamma: try floats(p + ".weight", [d]), beta: try floats(p + ".bias", [d]))
        }

        /// Row-wise concatenation of [d, d] linears; a missing bias (HF k_proj) is zeros.
        /// f16 only when every part is.
        func fused(_ parts: [String], d: Int, step: Bool = false) throws(WhisperModelError) -> LinearWeights {
            var b = [Float]()
            b.reserveCapacity(parts.count * d)
            var each: [WeightValues] = []
            for p in parts {
                each.append(try values(p + ".weight", [d, d], step: step))
                b += try optionalFloats(p + ".bias", [d]) ?? [Float](repeating: 0, count: d)
            }
            let halves = each.compactMap { v -> [Float16]? in if case .half(let h) = v { return h } else { return nil } }
            let w: WeightValues
            if halves.count == parts.count {
                w = .half(Array(halves.joined()))
            } else {
                w = .float(Array(each.map(\.floats).joined()))
            }
            return LinearWeights(values: w, bias: b, inFeatures: d, outFeatures: parts.count * d)
        }
    }
}
