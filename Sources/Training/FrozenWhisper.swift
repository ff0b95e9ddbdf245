import Foundation
import GlossaCore
import Tensor

// The frozen base model as f32 arrays, in the shapes the training graph uses.
// Names follow `WhisperCheckpoint` (Hugging Face naming).

/// One transformer block's frozen weights. Decoder blocks also carry cross-attention.
public struct FrozenBlock: Sendable {
    public var attnLN: FrozenLayerNorm
    public var q, k, v, o: FrozenLinear
    public var crossLN: FrozenLayerNorm?
    public var cq, ck, cv, co: FrozenLinear?
    public var finalLN: FrozenLayerNorm
    public var fc1, fc2: FrozenLinear
}

/// A Whisper model's frozen weights, converted once to f32 (immutable, shared by all steps).
public struct FrozenWhisper: Sendable {
    public let config: WhisperConfig
    public var conv1W, conv1B, conv2W, conv2B: [Float]
    /// [max_source_positions, d]
    public var encoderPositions: [Float]
    public var encoderBlocks: [FrozenBlock]
    public var encoderLN: FrozenLayerNorm
    /// [vocab, d]; also the output projection (tied).
    public var tokenEmbedding: [Float]
    /// [max_target_positions, d]
    public var decoderPositions: [Float]
    public var decoderBlocks: [FrozenBlock]
    public var decoderLN: FrozenLayerNorm

    /// Converts a checkpoint, checking every tensor's presence and shape.
    public init(_ ckpt: WhisperCheckpoint) throws(TrainingError) {
        let c = ckpt.config
        config = c
        let d = c.dModel
        func t(_ name: String, _ shape: [Int]) throws(TrainingError) -> [Float] {
            guard let td = ckpt.tensors[name] else { throw .badBaseTensor(name: name, expected: shape, found: nil) }
            guard td.shape == shape else { throw .badBaseTensor(name: name, expected: shape, found: td.shape) }
            return try floats(td, name: name)
        }
        func lin(_ p: String, _ o: Int, _ i: Int, bias: Bool = true) throws(TrainingError) -> FrozenLinear {
            let hasBias = bias && ckpt.tensors["\(p).bias"] != nil
            return FrozenLinear(weight: try t("\(p).weight", [o, i]), bias: hasBias ? try t("\(p).bias", [o]) : nil, inDim: i, outDim: o)
        }
        func ln(_ p: String) throws(TrainingError) -> FrozenLayerNorm {
            FrozenLayerNorm(gamma: try t("\(p).weight", [d]), beta: try t("\(p).bias", [d]))
        }
        func block(_ p: String, ffn: Int, cross: Bool) throws(TrainingError) -> FrozenBlock {
            FrozenBlock(
                attnLN: try ln("\(p).self_attn_layer_norm"),
                q: try lin("\(p).self_attn.q_proj", d, d), k: try lin("\(p).self_attn.k_proj", d, d, bias: false),
                v: try lin("\(p).self_attn.v_proj", d, d), o: try lin("\(p).self_attn.out_proj", d, d),
                crossLN: cross ? try ln("\(p).encoder_attn_layer_norm") : nil,
                cq: cross ? try lin("\(p).encoder_attn.q_proj", d, d) : nil,
                ck: cross ? try lin("\(p).encoder_attn.k_proj", d, d, bias: false) : nil,
                cv: cross ? try lin("\(p).encoder_attn.v_proj", d, d) : nil,
                co: cross ? try lin("\(p).encoder_attn.out_proj", d, d) : nil,
                finalLN: try ln("\(p).final_layer_norm"),
                fc1: try lin("\(p).fc1", ffn, d), fc2: try lin("\(p).fc2", d, ffn))
        }
        conv1W = try t("model.encoder.conv1.weight", [d, c.numMelBins, 3]); conv1B = try t("model.encoder.conv1.bias", [d])
        conv2W = try t("model.encoder.conv2.weight", [d, d, 3]); conv2B = try t("model.encoder.conv2.bias", [d])
        encoderPositions = try t("model.encoder.embed_positions.weight", [c.maxSourcePositions, d])
        var eb: [FrozenBlock] = []
        for i in 0..<c.encoderLayers { eb.append(try block("model.encoder.layers.\(i)", ffn: c.encoderFFNDim, cross: false)) }
        encoderBlocks = eb
        encoderLN = try ln("model.encoder.layer_norm")
        tokenEmbedding = try t("model.decoder.embed_tokens.weight", [c.vocabSize, d])
        decoderPositions = try t("model.decoder.embed_positions.weight", [c.maxTargetPositions, d])
        var db: [FrozenBlock] = []
        for i in 0..<c.decoderLayers { db.append(try block("model.decoder.layers.\(i)", ffn: c.decoderFFNDim, cross: true)) }
        decoderBlocks = db
        decoderLN = try ln("model.decoder.layer_norm")
    }
}

/// f32 values of a stored tensor (f32, f16 or bf16, little-endian).
func floats(_ td: TensorData, name: String) throws(TrainingError) -> [Float] {
    let n = td.count
    var out = [Float](repeating: 0, count: n)
    switch td.dtype {
    case .f32:
        td.bytes.withUnsafeBytes { raw in
            for i in 0..<n { out[i] = Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self))) }
        }
    case .f16:
        td.bytes.withUnsafeBytes { raw in
            for i in 0..<n { out[i] = Float(Float16(bitPattern: UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))) }
        }
    case .bf16:
        td.bytes.withUnsafeBytes { raw in
            for i in 0..<n { out[i] = Float(bitPattern: UInt32(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) << 16) }
        }
    default:
        throw .unsupportedDType(name: name, dtype: td.dtype)
    }
    return out
}

/// f32 little-endian TensorData of `values` with `shape`.
func tensorData(_ values: [Float], shape: [Int]) -> TensorData { HalfConversion.f32Data(values, shape: shape) }
