import Foundation
import GlossaCore
import TensorIO

/// The golden PEFT adapter on `TinyWhisper.make(seed: 0)`, rebuilt from its record so that
/// no weights are committed (Tests/TensorIOTests/Golden: `peft_tiny.json`,
/// `peft_tiny_adapter_config.json`, both written by scripts/golden/peft_check.py).
///
/// PEFT made the adapter (LoRA r 4, alpha 8 on q_proj, v_proj and fc1, with rank and alpha
/// patterns: 16 modules, 32 tensors) and saved it with `save_pretrained`. Its factor values
/// are drawn like TinyWhisper's: tensor `key`, as PEFT names it in the file, holds
/// `value_scale * uniform(-1, 1)` from SplitMix64 seeded `value_seed ^ FNV-1a(key)`. So the
/// folder written here is the one PEFT wrote, byte for byte: `folder()` checks the sha256 of
/// adapter_model.safetensors against the digest PEFT's file had, and refuses a mismatch.
public enum TinyPEFTAdapter {
    /// Tests/TensorIOTests/Golden (this file is in Tests/WhisperTesting).
    public static let goldenRecords = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("TensorIOTests/Golden")

    struct Record: Decodable {
        struct Adapter: Decodable {
            var value_seed: UInt64
            var value_scale: Float
            var tensors: [String: [Int]]
            var adapter_model_safetensors_sha256: String
        }
        var adapter: Adapter
    }

    /// A folder holding adapter_config.json and adapter_model.safetensors, written once into
    /// `cache` (default: .build/peer-golden under the package root) and reused while the
    /// record is unchanged. Written under a temporary name and renamed into place.
    public static func folder(cache: URL? = nil) throws -> URL {
        let record = try JSONDecoder().decode(Record.self, from: Data(contentsOf: goldenRecords.appendingPathComponent("peft_tiny.json")))
        let root = cache ?? goldenRecords.deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent(".build/peer-golden")
        let folder = root.appendingPathComponent("peft_tiny-\(record.adapter.adapter_model_safetensors_sha256.prefix(16))")
        if FileManager.default.fileExists(atPath: folder.path) { return folder }
        let scratch = root.appendingPathComponent(".tmp-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: scratch) }
        try write(record, to: scratch)
        if (try? FileManager.default.moveItem(at: scratch, to: folder)) == nil,
           !FileManager.default.fileExists(atPath: folder.path) {
            try FileManager.default.moveItem(at: scratch, to: folder)
        }
        return folder
    }

    static func write(_ record: Record, to folder: URL) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var tensors = [String: TensorData]()
        for (key, shape) in record.adapter.tensors {
            tensors[key] = .float32(shape: shape, TinyWhisper.uniform(seed: record.adapter.value_seed, name: key,
                                                                      count: shape.reduce(1, *), scale: record.adapter.value_scale))
        }
        let model = folder.appendingPathComponent("adapter_model.safetensors")
        try SafeTensors.write(tensors, metadata: ["format": "pt"], to: model)
        try FileManager.default.copyItem(at: goldenRecords.appendingPathComponent("peft_tiny_adapter_config.json"),
                                         to: folder.appendingPathComponent("adapter_config.json"))
        let digest = Digest(of: try Data(contentsOf: model)).hex
        guard digest == record.adapter.adapter_model_safetensors_sha256 else {
            throw RebuildMismatch(digest: digest, expected: record.adapter.adapter_model_safetensors_sha256)
        }
    }

    /// The rebuilt adapter_model.safetensors is not the file PEFT wrote.
    public struct RebuildMismatch: Error, CustomStringConvertible {
        public let digest: String, expected: String
        public var description: String {
            "the rebuilt golden adapter has sha256 \(digest), but PEFT's file had \(expected): TinyPEFTAdapter, "
                + "SafeTensors.write or the record (scripts/golden/peft_check.py) changed"
        }
    }
}
