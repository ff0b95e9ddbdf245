import Foundation
import GlossaCore
import Store

/// Tiny artifacts for registry tests and the stress tool: a 1-layer "Whisper" base and
/// LoRA experts on it, with seeded random f16/f32 tensors.
public enum RegistryFixtures {
    public static let created = "2026-11-28T02:00:00Z"

    public static let config = WhisperConfig(numMelBins: 80, dModel: 8, encoderLayers: 1, encoderAttentionHeads: 2, encoderFFNDim: 16,
                                             decoderLayers: 1, decoderAttentionHeads: 2, decoderFFNDim: 16, vocabSize: 64,
                                             maxSourcePositions: 1500, maxTargetPositions: 448, suppressTokens: [], beginSuppressTokens: [])

    /// Seeded float bytes (f32 or f16) for a tensor of `shape`.
    public static func tensor(_ dtype: DType, _ shape: [Int], seed: UInt64) -> TensorData {
        var s = seed &* 0x9E3779B97F4A7C15 | 1
        var bytes: [UInt8] = []
        let n = shape.reduce(1, *)
        bytes.reserveCapacity(n * dtype.size)
        for _ in 0..<n {
            s ^= s << 13; s ^= s >> 7; s ^= s << 17
            let v = Float(Double(s % 20_001) / 10_000 - 1) * 0.05
            if dtype == .f16 {
                #if arch(x86_64) || arch(arm64)
                withUnsafeBytes(of: Float16(v).bitPattern.littleEndian) { bytes += $0 }
                #endif
            } else {
                withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes += $0 }
            }
        }
        return TensorData(dtype: dtype, shape: shape, bytes: Data(bytes))
    }

    /// Publishes a base model named `name` (version 1.0.0) whose tensors depend on `seed`.
    @discardableResult
    public static func publishBase(_ r: LocalRegistry, name: String = "tiny-base", seed: UInt64 = 1) throws -> Digest {
        var tensors: [String: TensorEntry] = [:]
        for (i, (n, shape)) in [("model.encoder.conv1.weight", [8, 80, 3]), ("model.decoder.embed_tokens.weight", [64, 8]),
                                ("model.decoder.layers.0.self_attn.q_proj.weight", [8, 8])].enumerated() {
            tensors[n] = try r.putTensor(tensor(.f16, shape, seed: seed * 100 + UInt64(i)))
        }
        let tok = try r.putBlob(Array(#"{"model":{"type":"BPE"}}"#.utf8))
        let m = BaseManifest(name: name, version: "1.0.0", config: config, tensors: tensors, tokenizer: tok,
                             source: .init(format: "test", digest: Digest(of: Array(name.utf8))), created: created)
        return try r.publish(m)
    }

    /// An expert manifest on `base`, its tensors stored (not yet published).
    public static func expert(_ r: LocalRegistry, base: Digest, name: String, version: String, language: String = "de",
                              seed: UInt64, rank: Int = 2) throws -> ExpertManifest {
        var t: [String: LoRATensorEntry] = [:]
        for (i, m) in ["model.decoder.layers.0.self_attn.q_proj", "model.decoder.layers.0.self_attn.v_proj"].enumerated() {
            let a = try r.putTensor(tensor(.f32, [rank, 8], seed: seed * 1000 + UInt64(2 * i)))
            let b = try r.putTensor(tensor(.f32, [8, rank], seed: seed * 1000 + UInt64(2 * i + 1)))
            t[m] = LoRATensorEntry(a: a, b: b)
        }
        return ExpertManifest(name: name, version: version, language: language, base: base,
                              lora: LoRAConfig(rank: rank, alpha: Double(2 * rank), targetModules: ["q_proj", "v_proj"]), tensors: t,
                              provenance: Provenance(hyperparameters: ["seed": .number(Double(seed))], toolVersion: "glossa-test", created: created),
                              metrics: ["wer": 0.25], license: "MIT", description: "test expert")
    }

    /// Stores and publishes an expert; returns its digest.
    @discardableResult
    public static func publishExpert(_ r: LocalRegistry, base: Digest, name: String, version: String, language: String = "de",
                                     seed: UInt64) throws -> Digest {
        try r.publish(try expert(r, base: base, name: name, version: version, language: language, seed: seed))
    }
}
