import GlossaCore
import Tensor
import TensorIO

/// Immutable Whisper weights in f32 (f16/bf16 checkpoints are widened at load).
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
    /// `model.decoder.embed_tokens.weight` [vocab, d]; also the output projection (tied).
    public var tokenEmbedding: [Float] { didSet { tokenEmbeddingHalf = nil } }
    /// The same in f16 when exact: a decoder step's output projection streams it (half the bytes).
    public private(set) var tokenEmbeddingHalf: [Float16]?
    /// `model.decoder.embed_positions.weight` [448, d].
    public var decoderPositions: [Float]
    public var decoderLayers: [DecoderLayerWeights]
    public var decoderNorm: LayerNormWeights

    public var dModel: Int { config.dModel }
    public var vocabSize: Int { config.vocabSize }
    /// Mel frames per window the encoder takes: 2 x positions (conv2 has stride 2).
    public var inputFrames: Int { 2 * config.maxSourcePositions }

    /// Builds the f32 model from canonical (Hugging Face named) tensors, checking every shape.
    public init(checkpoint: WhisperCheckpoint) throws(WhisperModelError) {
        let c = checkpoint.config
        let d = c.dModel
        let loader = Loader(tensors: checkpoint.tensors)
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
        tokenEmbedding = try loader.floats("model.decoder.embed_tokens.weight", [c.vocabSize, d])
        decoderPositions = try loader.floats("model.decoder.embed_positions.weight", [c.maxTargetPositions, d])
        decoderLayers = []
        for i in 0..<c.decoderLayers {
            let (lin, ln) = (Self.names(.decoder, i), Self.normNames(.decoder, i))
            decoderLayers.append(DecoderLayerWeights(
                selfAttnNorm: try loader.norm(ln(.selfAttention), d),
                selfQKV: try loader.fused([lin(.selfQ), lin(.selfK), lin(.selfV)], d: d),
                selfOut: try loader.linear(lin(.selfOut), out: d, in: d),
                crossNorm: try loader.norm(ln(.encoderAttention), d),
                crossQ: try loader.linear(lin(.crossQ), out: d, in: d),
                crossKV: try loader.fused([lin(.crossK), lin(.crossV)], d: d),
                crossOut: try loader.linear(lin(.crossOut), out: d, in: d),
                ffnNorm: try loader.norm(ln(.final), d),
                fc1: try loader.linear(lin(.fc1), out: c.decoderFFNDim, in: d),
                fc2: try loader.linear(lin(.fc2), out: d, in: c.decoderFFNDim)))
        }
        decoderNorm = try loader.norm("model.decoder.layer_norm", d)
        // Decoder steps run a few rows at a time and are bound by reading the weights: keep an
        // f16 twin of each per-step weight when exact (not crossKV: it runs once on 1500 frames).
        tokenEmbeddingHalf = exactHalf(tokenEmbedding)
        for i in decoderLayers.indices {
            var l = decoderLayers[i]
            l.selfQKV = l.selfQKV.withExactHalf(); l.selfOut = l.selfOut.withExactHalf()
            l.crossQ = l.crossQ.withExactHalf(); l.crossOut = l.crossOut.withExactHalf()
            l.fc1 = l.fc1.withExactHalf(); l.fc2 = l.fc2.withExactHalf()
            decoderLayers[i] = l
        }
    }

    /// Module paths of block `i` of `stack`, from `WhisperLayout`'s name table.
    private static func names(_ stack: WhisperLayout.Stack, _ i: Int) -> (WhisperLayout.BlockLinear) -> String {
        { WhisperLayout.module(stack, i, $0) }
    }
    private static func normNames(_ stack: WhisperLayout.Stack, _ i: Int) -> (WhisperLayout.BlockNorm) -> String {
        { WhisperLayout.norm(stack, i, $0) }
    }

    /// Reads and widens tensors by canonical name.
    private struct Loader {
        let tensors: [String: TensorData]

        func floats(_ name: String, _ shape: [Int]) throws(WhisperModelError) -> [Float] {
            guard let t = tensors[name] else { throw .missingTensor(name) }
            guard t.shape == shape else { throw .badShape(name, expected: shape, got: t.shape) }
            do { return try HalfConversion.floats(from: t) } catch { throw .conversion(name, error) }
        }

        func optionalFloats(_ name: String, _ shape: [Int]) throws(WhisperModelError) -> [Float]? {
            tensors[name] == nil ? nil : try floats(name, shape)
        }

        func linear(_ p: String, out: Int, in: Int, shape: [Int]? = nil) throws(WhisperModelError) -> LinearWeights {
            // Every Whisper linear and conv has a bias except k_proj (handled in `fused`).
            LinearWeights(weight: try floats(p + ".weight", shape ?? [out, `in`]), bias: try floats(p + ".bias", [out]),
                          inFeatures: `in`, outFeatures: out)
        }

        func norm(_ p: String, _ d: Int) throws(WhisperModelError) -> LayerNormWeights {
            LayerNormWeights(gamma: try floats(p + ".weight", [d]), beta: try floats(p + ".bias", [d]))
        }

        /// Row-wise concatenation of [d, d] linears; a missing bias (HF k_proj) is zeros.
        func fused(_ parts: [String], d: Int) throws(WhisperModelError) -> LinearWeights {
            var w = [Float](), b = [Float]()
            w.reserveCapacity(parts.count * d * d); b.reserveCapacity(parts.count * d)
            for p in parts {
                w += try floats(p + ".weight", [d, d])
                b += try optionalFloats(p + ".bias", [d]) ?? [Float](repeating: 0, count: d)
            }
            return LinearWeights(weight: w, bias: b, inFeatures: d, outFeatures: parts.count * d)
        }
    }
}
