import Foundation
import XCTest
import GlossaCore
import Tensor
@testable import Whisper

let testBLAS: BLASLibrary = {
    do { return try BLASLibrary.load(threads: 2) } catch { fatalError("\(error)") }
}()
let testCompute = Compute(blas: testBLAS, threads: 2)

struct TestRNG {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func floats(_ n: Int, scale: Float) -> [Float] {
        (0..<n).map { _ in (Float(next() >> 40) / Float(1 << 24) * 2 - 1) * scale }
    }
}

func f32Data(_ shape: [Int], _ values: [Float]) -> TensorData {
    var d = Data(capacity: values.count * 4)
    for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { d.append(contentsOf: $0) } }
    return TensorData(dtype: .f32, shape: shape, bytes: d)
}

/// A tiny random Whisper (d 16, 2 heads, 2+2 layers, 4 mels, 10 positions) in canonical names.
func tinyCheckpoint(seed: UInt64 = 1) -> WhisperCheckpoint {
    let config = WhisperConfig(numMelBins: 4, dModel: 16, encoderLayers: 2, encoderAttentionHeads: 2, encoderFFNDim: 32,
                               decoderLayers: 2, decoderAttentionHeads: 2, decoderFFNDim: 32, vocabSize: 40,
                               maxSourcePositions: 10, maxTargetPositions: 24, suppressTokens: [1], beginSuppressTokens: [2])
    var rng = TestRNG(state: seed)
    var t = [String: TensorData]()
    func put(_ name: String, _ shape: [Int], scale: Float = 0.3) { t[name] = f32Data(shape, rng.floats(shape.reduce(1, *), scale: scale)) }
    func norm(_ p: String) { t[p + ".weight"] = f32Data([16], rng.floats(16, scale: 0.2).map { $0 + 1 }); put(p + ".bias", [16], scale: 0.1) }
    func attn(_ p: String) {
        for n in ["q", "k", "v", "out"] { put("\(p).\(n)_proj.weight", [16, 16]); if n != "k" { put("\(p).\(n)_proj.bias", [16], scale: 0.1) } }
    }
    put("model.encoder.conv1.weight", [16, 4, 3]); put("model.encoder.conv1.bias", [16], scale: 0.1)
    put("model.encoder.conv2.weight", [16, 16, 3]); put("model.encoder.conv2.bias", [16], scale: 0.1)
    put("model.encoder.embed_positions.weight", [10, 16])
    for i in 0..<2 {
        let p = "model.encoder.layers.\(i)"
        norm(p + ".self_attn_layer_norm"); attn(p + ".self_attn"); norm(p + ".final_layer_norm")
        put(p + ".fc1.weight", [32, 16]); put(p + ".fc1.bias", [32], scale: 0.1)
        put(p + ".fc2.weight", [16, 32]); put(p + ".fc2.bias", [16], scale: 0.1)
    }
    norm("model.encoder.layer_norm")
    put("model.decoder.embed_tokens.weight", [40, 16], scale: 1)
    put("model.decoder.embed_positions.weight", [24, 16])
    for i in 0..<2 {
        let p = "model.decoder.layers.\(i)"
        norm(p + ".self_attn_layer_norm"); attn(p + ".self_attn"); norm(p + ".encoder_attn_layer_norm"); attn(p + ".encoder_attn")
        norm(p + ".final_layer_norm")
        put(p + ".fc1.weight", [32, 16]); put(p + ".fc1.bias", [32], scale: 0.1)
        put(p + ".fc2.weight", [16, 32]); put(p + ".fc2.bias", [16], scale: 0.1)
    }
    norm("model.decoder.layer_norm")
    return WhisperCheckpoint(config: config, tensors: t, tokenizerJSON: [])
}

func relError(_ a: [Float], _ b: [Float]) -> Float {
    var num: Float = 0, den: Float = 1e-30
    for i in 0..<min(a.count, b.count) { num = max(num, abs(a[i] - b[i])); den = max(den, abs(b[i])) }
    return num / den
}

/// `<package>/models/whisper-base-ct2` or $GLOSSA_TEST_MODEL_DIR; nil when absent.
func realModelDirectory() -> URL? {
    if let e = ProcessInfo.processInfo.environment["GLOSSA_TEST_MODEL_DIR"] { return URL(fileURLWithPath: e) }
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let dir = root.appendingPathComponent("models/whisper-base-ct2")
    return FileManager.default.fileExists(atPath: dir.appendingPathComponent("model.bin").path) ? dir : nil
}
