import GlossaCore

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
            tensors[name] = tensorData((0..<n).map { _ in mean + std * rng.normal() }, shape: shape)
        }
        let d = c.dModel
        func lin(_ p: String, _ o: Int, _ i: Int, bias: Bool = true) {
            put("\(p).weight", [o, i], std: 1 / Float(i).squareRoot())
            if bias { put("\(p).bias", [o], std: 0.02) }
        }
        func ln(_ p: String) { put("\(p).weight", [d], std: 0.1, mean: 1); put("\(p).bias", [d], std: 0.05) }
        func attn(_ p: String) { lin("\(p).q_proj", d, d); lin("\(p).k_proj", d, d, bias: false); lin("\(p).v_proj", d, d); lin("\(p).out_proj", d, d) }
        put("model.encoder.conv1.weight", [d, c.numMelBins, 3], std: 1 / Float(3 * c.numMelBins).squareRoot())
        put("model.encoder.conv1.bias", [d], std: 0.02)
        put("model.encoder.conv2.weight", [d, d, 3], std: 1 / Float(3 * d).squareRoot())
        put("model.encoder.conv2.bias", [d], std: 0.02)
        put("model.encoder.embed_positions.weight", [c.maxSourcePositions, d], std: 0.1)
        for i in 0..<c.encoderLayers {
            let p = "model.encoder.layers.\(i)"
            attn("\(p).self_attn"); ln("\(p).self_attn_layer_norm")
            lin("\(p).fc1", c.encoderFFNDim, d); lin("\(p).fc2", d, c.encoderFFNDim); ln("\(p).final_layer_norm")
        }
        ln("model.encoder.layer_norm")
        put("model.decoder.embed_tokens.weight", [c.vocabSize, d], std: 0.5)
        put("model.decoder.embed_positions.weight", [c.maxTargetPositions, d], std: 0.1)
        for i in 0..<c.decoderLayers {
            let p = "model.decoder.layers.\(i)"
            attn("\(p).self_attn"); ln("\(p).self_attn_layer_norm")
            attn("\(p).encoder_attn"); ln("\(p).encoder_attn_layer_norm")
            lin("\(p).fc1", c.decoderFFNDim, d); lin("\(p).fc2", d, c.decoderFFNDim); ln("\(p).final_layer_norm")
        }
        ln("model.decoder.layer_norm")
        return WhisperCheckpoint(config: c, tensors: tensors, tokenizerJSON: [])
    }
}
