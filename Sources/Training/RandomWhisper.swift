import GlossaCore
import Tensor
import TensorIO

/// Random Whisper checkpoints of any size with canonical tensor names: tiny ones for
/// gradient checks, base-sized ones for benchmarks against PyTorch on identical weights.
public enum RandomWhisper {
    /// A tiny config (d 8, 2 heads, 2+2 layers, vocab 64, 8 mel frames) for tests.
    public static let tinyConfig = WhisperConfig(
        numMelBins: 4, dModel: 8, encoderLayers: 2, encoderAttentionHeads: 2, encoderFFNDim: 16,
        decoderLayers: 2, decoderAttentionHeads: 2, decoderFFNDim: 16, vocabSize: 64,
        maxSourcePositions: 4, maxTargetPositions: 16, suppressTokens: [], beginSuppressTokens: [])

    /// whisper-base dimensions (multilingual vocabulary).
    public static let baseConfig = WhisperConfig(
        numMelBins: 80, dModel: 512, encoderLayers: 6, encoderAttentionHeads: 8, encoderFFNDim: 2048,
        decoderLayers: 6, decoderAttentionHeads: 8, decoderFFNDim: 2048, vocabSize: 51865,
        maxSourcePositions: 1500, maxTargetPositions: 448, suppressTokens: [], beginSuppressTokens: [])

    /// Weights ~ N(0, std^2) with std = 1/sqrt(fan_in) for matrices, layer-norm gammas near 1,
    /// small biases; f32. Deterministic in `seed`.
    public static func checkpoint(config c: WhisperConfig, seed: UInt64) -> WhisperCheckpoint {
        var rng = SeededGenerator(seed: seed)
        var tensors: [String: TensorData] = [:]
        func put(_ name: String, _ shape: [Int], std: Float, mean: Float = 0) {
            let n = shape.reduce(1, *)
            tensors[name] = HalfConversion.f32Data((0..<n).map { _ in mean + std * rng.normal() }, shape: shape)
        }
        let d = c.dModel
        // Names and shapes from WhisperLayout's table; values drawn in a fixed order (block by
        // block: linears in canonical order, each norm after its sub-layer) so a seed always
        // gives the same weights.
        func lin(_ s: WhisperLayout.Stack, _ i: Int, _ l: WhisperLayout.BlockLinear) {
            let p = WhisperLayout.module(s, i, l), shape = WhisperLayout.shape(of: l, in: s, config: c)
            put("\(p).weight", shape, std: 1 / Float(shape[1]).squareRoot())
            if l.hasBias { put("\(p).bias", [shape[0]], std: 0.02) }
        }
        func ln(_ p: String) { put("\(p).weight", [d], std: 0.1, mean: 1); put("\(p).bias", [d], std: 0.05) }
        func block(_ s: WhisperLayout.Stack, _ i: Int) {
            for l in [WhisperLayout.BlockLinear.selfQ, .selfK, .selfV, .selfOut] { lin(s, i, l) }
            ln(WhisperLayout.norm(s, i, .selfAttention))
            if s == .decoder {
                for l in [WhisperLayout.BlockLinear.crossQ, .crossK, .crossV, .crossOut] { lin(s, i, l) }
                ln(WhisperLayout.norm(s, i, .encoderAttention))
            }
            lin(s, i, .fc1); lin(s, i, .fc2); ln(WhisperLayout.norm(s, i, .final))
        }
        put("model.encoder.conv1.weight", [d, c.numMelBins, 3], std: 1 / Float(3 * c.numMelBins).squareRoot())
        put("model.encoder.conv1.bias", [d], std: 0.02)
        put("model.encoder.conv2.weight", [d, d, 3], std: 1 / Float(3 * d).squareRoot())
        put("model.encoder.conv2.bias", [d], std: 0.02)
        put("model.encoder.embed_positions.weight", [c.maxSourcePositions, d], std: 0.1)
        for i in 0..<c.encoderLayers { block(.encoder, i) }
        ln("model.encoder.layer_norm")
        put("model.decoder.embed_tokens.weight", [c.vocabSize, d], std: 0.5)
        put("model.decoder.embed_positions.weight", [c.maxTargetPositions, d], std: 0.1)
        for i in 0..<c.decoderLayers { block(.decoder, i) }
        ln("model.decoder.layer_norm")
        return WhisperCheckpoint(config: c, tensors: tensors, tokenizerJSON: [])
    }
}
