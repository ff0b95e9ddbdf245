import Foundation
import GlossaCore
import TensorIO

/// Test and benchmark support (the one random-checkpoint builder): Whisper checkpoints of
/// any size with canonical tensor names, built deterministically from a seed so tests in
/// any module (runtime, trainer, composer, registry) and the benchmarks can make a model
/// without downloading one, and so Python can check the same model (write it with
/// `HuggingFaceWhisper.write` and load it in transformers; scripts/golden/peft_check.py
/// rebuilds it bit for bit).
///
/// Values are f32 and depend only on the seed, the tensor name and the dimensions:
/// each tensor draws from its own SplitMix64 stream seeded by `seed` and the FNV-1a hash
/// of its name, using only exact float arithmetic (24-bit uniforms), so the bytes are
/// identical on every platform. Encoder positions are Whisper's sinusoids (rounded from
/// double precision); everything else is uniform:
///
///     linear / conv weights   U(-1/sqrt(fan_in), 1/sqrt(fan_in))
///     biases                  U(-0.1, 0.1)
///     layer-norm weights      1 + U(-0.1, 0.1); layer-norm biases U(-0.1, 0.1)
///     token embeddings        U(-0.5, 0.5)        decoder positions U(-0.1, 0.1)
///
/// Not a trained model: its transcripts are noise. Use it for shapes, plumbing,
/// round trips and numerical comparisons.
public enum TinyWhisper {
    /// Dimensions of a tiny model. Defaults: d 64, 2 + 2 layers, 4 heads, FFN 256,
    /// the multilingual Whisper vocabulary (51865, so the real tokenizer applies), 80 mel
    /// bins and Whisper's 1500 / 448 positions (so real 30 s features fit).
    public struct Dimensions: Sendable, Equatable {
        public var dModel = 64
        public var encoderLayers = 2
        public var decoderLayers = 2
        public var heads = 4
        public var ffnDim = 256
        public var vocabSize = 51865
        public var numMelBins = 80
        public var maxSourcePositions = 1500
        public var maxTargetPositions = 448

        /// The trainer's gradient checks: d 8, 2 heads, 2 + 2 layers, FFN 16, vocabulary 64,
        /// 4 mel bins, 4 encoder and 16 decoder positions (finite differences stay cheap).
        public static let gradientCheck = Dimensions(dModel: 8, heads: 2, ffnDim: 16, vocabSize: 64, numMelBins: 4,
                                                     maxSourcePositions: 4, maxTargetPositions: 16)
        /// whisper-base's dimensions (multilingual vocabulary), for benchmarks on random weights.
        public static let whisperBase = Dimensions(dModel: 512, encoderLayers: 6, decoderLayers: 6, heads: 8, ffnDim: 2048)

        public init(dModel: Int = 64, encoderLayers: Int = 2, decoderLayers: Int = 2, heads: Int = 4, ffnDim: Int = 256,
                    vocabSize: Int = 51865, numMelBins: Int = 80, maxSourcePositions: Int = 1500, maxTargetPositions: Int = 448) {
            self.dModel = dModel; self.encoderLayers = encoderLayers; self.decoderLayers = decoderLayers
            self.heads = heads; self.ffnDim = ffnDim; self.vocabSize = vocabSize; self.numMelBins = numMelBins
            self.maxSourcePositions = maxSourcePositions; self.maxTargetPositions = maxTargetPositions
        }
    }

    /// The config a tiny model of `dims` has (suppress lists as given).
    public static func config(_ dims: Dimensions, suppressTokens: [Int] = [], beginSuppressTokens: [Int] = []) -> WhisperConfig {
        WhisperConfig(numMelBins: dims.numMelBins, dModel: dims.dModel,
                      encoderLayers: dims.encoderLayers, encoderAttentionHeads: dims.heads, encoderFFNDim: dims.ffnDim,
                      decoderLayers: dims.decoderLayers, decoderAttentionHeads: dims.heads, decoderFFNDim: dims.ffnDim,
                      vocabSize: dims.vocabSize, maxSourcePositions: dims.maxSourcePositions, maxTargetPositions: dims.maxTargetPositions,
                      suppressTokens: suppressTokens, beginSuppressTokens: beginSuppressTokens)
    }

    /// A random checkpoint; the same arguments always give the same bytes.
    /// `tokenizerJSON` is stored as is (pass the real `tokenizer.json` to decode text).
    public static func make(seed: UInt64, dimensions dims: Dimensions = Dimensions(), tokenizerJSON: [UInt8] = [],
                            suppressTokens: [Int] = [], beginSuppressTokens: [Int] = []) -> WhisperCheckpoint {
        let config = config(dims, suppressTokens: suppressTokens, beginSuppressTokens: beginSuppressTokens)
        var tensors = [String: TensorData]()
        for (name, shape) in WhisperLayout.expectedShapes(for: config) {
            let count = shape.reduce(1, *)
            let values: [Float]
            if name == "model.encoder.embed_positions.weight" {
                values = sinusoids(length: shape[0], channels: shape[1])
            } else {
                var rng = stream(seed: seed, name: name)
                let (offset, scale): (Float, Float)
                if name.hasSuffix("layer_norm.weight") {
                    (offset, scale) = (1, 0.1)
                } else if name.hasSuffix(".bias") || name == "model.decoder.embed_positions.weight" {
                    (offset, scale) = (0, 0.1)
                } else if name == "model.decoder.embed_tokens.weight" {
                    (offset, scale) = (0, 0.5)
                } else {
                    let fanIn = shape.dropFirst().reduce(1, *)
                    (offset, scale) = (0, Float(1 / Double(fanIn).squareRoot()))
                }
                values = (0 ..< count).map { _ in offset + scale * rng.uniform(-1, 1) }
            }
            tensors[name] = .float32(shape: shape, values)
        }
        return WhisperCheckpoint(config: config, tensors: tensors, tokenizerJSON: tokenizerJSON)
    }

    /// Whisper's encoder positions: row t = [sin(t * f_0..f_{c/2-1}), cos(...)] with
    /// f_i = exp(-i * ln(10000) / (c/2 - 1)).
    static func sinusoids(length: Int, channels: Int) -> [Float] {
        let half = channels / 2
        let step = log(10000.0) / Double(max(half - 1, 1))
        var out = [Float](repeating: 0, count: length * channels)
        for t in 0 ..< length {
            for i in 0 ..< half {
                let angle = Double(t) * exp(-Double(i) * step)
                out[t * channels + i] = Float(sin(angle))
                out[t * channels + half + i] = Float(cos(angle))
            }
        }
        return out
    }

    /// `count` values `scale * uniform(-1, 1)` from `stream(seed:name:)`: how the golden LoRA
    /// factors are drawn, here and in scripts/golden (numpy `scale * stream(seed, name, n)`).
    public static func uniform(seed: UInt64, name: String, count: Int, scale: Float) -> [Float] {
        var rng = stream(seed: seed, name: name)
        return (0 ..< count).map { _ in scale * rng.uniform(-1, 1) }
    }

    /// The stream of tensor `name`: SplitMix64 (`SeededGenerator`) seeded by seed XOR FNV-1a(name).
    static func stream(seed: UInt64, name: String) -> SeededGenerator {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in name.utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
        return SeededGenerator(seed: seed ^ h)
    }
}
