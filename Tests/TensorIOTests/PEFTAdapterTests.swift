import Foundation
import XCTest
import GlossaCore
@testable import TensorIO
import WhisperTesting

final class PEFTAdapterTests: XCTestCase {
    private struct Meta: Decodable {
        struct Base: Decodable { var model_safetensors_sha256: String; var seed: UInt64 }
        var base: Base
        var scales: [String: Double]
    }

    private func meta() throws -> Meta {
        try JSONDecoder().decode(Meta.self, from: Data(contentsOf: TestPaths.golden("peft_tiny.json")))
    }

    /// The adapter PEFT wrote, rebuilt from its record (no weights are committed).
    private var golden: URL { get throws { try TinyPEFTAdapter.folder() } }

    /// Every module of the PEFT-written adapter loads with the scale PEFT itself resolved
    /// (rank_pattern / alpha_pattern included).
    func testGoldenAdapterLoadsWithPEFTsScales() throws {
        let adapter = try PEFTAdapter.load(folder: golden)
        let m = try meta()
        XCTAssertEqual(Set(adapter.weights.modules.keys), Set(m.scales.keys))
        for (module, scale) in m.scales {
            XCTAssertEqual(adapter.weights.modules[module]?.scale, scale, module)
        }
        let c = adapter.weights.config
        XCTAssertEqual(c.rank, 4)
        XCTAssertEqual(c.alpha, 8)
        XCTAssertEqual(Set(c.targetModules), ["q_proj", "v_proj", "fc1"])
        XCTAssertEqual(c.rankPattern, ["fc1": 2, "model.encoder.layers.1.self_attn.v_proj": 3])
        XCTAssertEqual(adapter.weights.modules["model.encoder.layers.1.self_attn.v_proj"]?.rank, 3)
        XCTAssertEqual(adapter.weights.modules["model.decoder.layers.0.fc1"]?.a.shape, [2, 64])
        XCTAssertEqual(adapter.weights.modules["model.decoder.layers.0.fc1"]?.b.shape, [256, 2])
        XCTAssertEqual(adapter.baseModelNameOrPath, "glossa-tiny-whisper-seed0")
        XCTAssertEqual(adapter.extraConfigFields["peft_type"], .string("LORA"))
        XCTAssertNil(adapter.extraConfigFields["r"])
        XCTAssertEqual(adapter.tensorMetadata, ["format": "pt"])
    }

    /// Export after import: identical tensor bytes (the whole safetensors file, even) and
    /// an equivalent adapter_config.json.
    func testRoundTripIsBitIdentical() throws {
        let adapter = try PEFTAdapter.load(folder: golden)
        let out = try TestPaths.tempDir(self).appendingPathComponent("exported")
        try adapter.write(to: out)
        XCTAssertEqual(try Data(contentsOf: out.appendingPathComponent("adapter_model.safetensors")),
                       try Data(contentsOf: golden.appendingPathComponent("adapter_model.safetensors")))
        let original = try JSONValue.parse(Data(contentsOf: golden.appendingPathComponent("adapter_config.json")))
        let exported = try JSONValue.parse(Data(contentsOf: out.appendingPathComponent("adapter_config.json")))
        XCTAssertEqual(exported, original)
        XCTAssertEqual(try PEFTAdapter.load(folder: out), adapter)
    }

    /// The tiny base the golden adapter was made on is exactly TinyWhisper.make(seed: 0)
    /// written by our HF writer (digest recorded by scripts/golden/peft_check.py).
    func testGoldenBaseIsOurTinyWhisper() throws {
        let m = try meta()
        let base = TinyWhisper.make(seed: m.base.seed)
        let dir = try TestPaths.tempDir(self)
        try HuggingFaceWhisper.write(base, to: dir)
        XCTAssertEqual(Digest(of: try Data(contentsOf: dir.appendingPathComponent("model.safetensors"))).hex,
                       m.base.model_safetensors_sha256)
        let adapter = try PEFTAdapter.load(folder: golden)
        XCTAssertNoThrow(try adapter.validate(against: base))
        XCTAssertNoThrow(try adapter.validate(against: base.config))
    }

    /// PEFT loads the folder we export and computes the same logits as the adapter it made,
    /// shown without torch: the export of an adapter re-created from weights + extra config
    /// fields (as a registry exports it) holds the very tensors and config PEFT wrote for the
    /// golden adapter (testRebuiltAdapterIsTheFilePEFTWrote).
    /// `scripts/golden/peft_check.py --check DIR` runs PEFT itself on a folder
    /// (`scripts/setup.sh --bench` installs torch and peft into .venv).
    func testPEFTLoadsOurExportWithSameLogits() throws {
        let adapter = try PEFTAdapter.load(folder: golden)
        let out = try TestPaths.tempDir(self).appendingPathComponent("exported")
        // Re-create from weights + extra fields only, as a registry would on export.
        let rebuilt = PEFTAdapter(weights: adapter.weights, rawConfig: adapter.rawConfig, patternOrder: adapter.patternOrder)
        try rebuilt.write(to: out)
        let ours = try SafeTensors.read(out.appendingPathComponent("adapter_model.safetensors"))
        let peft = try SafeTensors.read(golden.appendingPathComponent("adapter_model.safetensors"))
        XCTAssertEqual(ours.tensors, peft.tensors)
        XCTAssertEqual(try JSONValue.parse(Data(contentsOf: out.appendingPathComponent("adapter_config.json"))),
                       try JSONValue.parse(Data(contentsOf: golden.appendingPathComponent("adapter_config.json"))))
    }

    /// The folder the tests use is the one PEFT's save_pretrained wrote, byte for byte:
    /// rebuilt into a fresh cache, its adapter_model.safetensors has the sha256 PEFT's had,
    /// and its config is PEFT's. A change to the value draw, to SafeTensors.write or to the
    /// record fails here first.
    func testRebuiltAdapterIsTheFilePEFTWrote() throws {
        struct Record: Decodable {
            struct Adapter: Decodable { var adapter_model_safetensors_sha256: String; var tensors: [String: [Int]] }
            var adapter: Adapter
        }
        let record = try JSONDecoder().decode(Record.self, from: Data(contentsOf: TestPaths.golden("peft_tiny.json")))
        let folder = try TinyPEFTAdapter.folder(cache: try TestPaths.tempDir(self))
        let bytes = try Data(contentsOf: folder.appendingPathComponent("adapter_model.safetensors"))
        XCTAssertEqual(Digest(of: bytes).hex, record.adapter.adapter_model_safetensors_sha256)
        let file = try SafeTensors.read(folder.appendingPathComponent("adapter_model.safetensors"))
        XCTAssertEqual(Dictionary(uniqueKeysWithValues: file.names.map { ($0, file[$0]!.shape) }), record.adapter.tensors)
        XCTAssertEqual(record.adapter.tensors.count, 32)
        XCTAssertEqual(try Data(contentsOf: folder.appendingPathComponent("adapter_config.json")),
                       try Data(contentsOf: TestPaths.golden("peft_tiny_adapter_config.json")))
    }

    // MARK: Config semantics

    func testPatternResolutionFollowsPEFT() {
        let c = LoRAConfig(rank: 8, alpha: 16, targetModules: ["q_proj"],
                           rankPattern: ["q_proj": 4, "layers.1.self_attn.q_proj": 2], alphaPattern: ["encoder.*q_proj": 32])
        // First key in file order wins, even if a later one is more specific.
        XCTAssertEqual(c.resolved(forModule: "model.encoder.layers.1.self_attn.q_proj", patternOrder: ["q_proj", "layers.1.self_attn.q_proj"]).rank, 4)
        XCTAssertEqual(c.resolved(forModule: "model.encoder.layers.1.self_attn.q_proj", patternOrder: ["layers.1.self_attn.q_proj", "q_proj"]).rank, 2)
        // Keys match whole dotted components at the end: "q_proj" does not match "xq_proj".
        XCTAssertEqual(c.resolved(forModule: "model.decoder.layers.0.xq_proj").rank, 8)
        // Regex keys.
        let r = c.resolved(forModule: "model.encoder.layers.0.self_attn.q_proj", patternOrder: ["q_proj"])
        XCTAssertEqual(r.alpha, 32)
        XCTAssertEqual(r.scale, 8)
        XCTAssertEqual(c.resolved(forModule: "model.decoder.layers.0.self_attn.q_proj").scale, 16.0 / 4)
        var rs = c
        rs.useRSLoRA = true
        XCTAssertEqual(rs.resolved(forModule: "model.decoder.layers.0.fc1").scale, 16 / 8.0.squareRoot())
    }

    func testAdapterMadeInGlossaGetsAFullPEFTConfig() throws {
        var g = SeededGenerator(seed: 8)
        func t(_ shape: [Int]) -> TensorData { .f32(shape, (0 ..< shape.reduce(1, *)).map { _ in Float.random(in: -1 ... 1, using: &g) }) }
        let config = LoRAConfig(rank: 2, alpha: 3, targetModules: ["q_proj"], useRSLoRA: true)
        let weights = LoRAWeights(config: config, modules: [
            "model.decoder.layers.0.self_attn.q_proj": LoRAPair(a: t([2, 64]), b: t([64, 2]), scale: 3 / 2.0.squareRoot()),
        ])
        let out = try TestPaths.tempDir(self)
        try PEFTAdapter(weights: weights).write(to: out)
        let back = try PEFTAdapter.load(folder: out)
        XCTAssertEqual(back.weights, weights)
        XCTAssertEqual(back.rawConfig["peft_type"], .string("LORA"))
        XCTAssertEqual(back.rawConfig["r"], .int(2))
        XCTAssertEqual(back.rawConfig["lora_alpha"], .int(3))
        XCTAssertEqual(back.rawConfig["use_rslora"], .bool(true))
        XCTAssertEqual(back.rawConfig["bias"], .string("none"))
    }

    // MARK: Refusals

    /// A copy of the golden adapter with `edit` applied to its tensors and config.
    private func variant(tensors edit: (inout [String: TensorData]) -> Void = { _ in },
                         config editConfig: (inout [String: JSONValue]) -> Void = { _ in }) throws -> URL {
        var tensors = try SafeTensors.read(golden.appendingPathComponent("adapter_model.safetensors")).tensors
        var config = try JSONValue.parse(Data(contentsOf: golden.appendingPathComponent("adapter_config.json"))).object!
        edit(&tensors)
        editConfig(&config)
        let dir = try TestPaths.tempDir(self)
        try SafeTensors.write(tensors, metadata: ["format": "pt"], to: dir.appendingPathComponent("adapter_model.safetensors"))
        try JSONValue.object(config).encoded().write(to: dir.appendingPathComponent("adapter_config.json"))
        return dir
    }

    private func loadError(_ dir: URL) -> TensorIOError? {
        do { _ = try PEFTAdapter.load(folder: dir); return nil } catch { return error }
    }

    private let qA = "base_model.model.model.decoder.layers.1.self_attn.q_proj.lora_A.weight"
    private let qB = "base_model.model.model.decoder.layers.1.self_attn.q_proj.lora_B.weight"

    func testUnsupportedKeysAndFeaturesAreRefusedByName() throws {
        let cases: [(URL, String)] = [
            (try variant(tensors: { $0["base_model.model.model.decoder.embed_tokens.lora_embedding_A"] = .f32([4, 3], .init(repeating: 0, count: 12)) }),
             "base_model.model.model.decoder.embed_tokens.lora_embedding_A"),
            (try variant(tensors: { $0["base_model.model.model.decoder.layers.1.self_attn.q_proj.lora_magnitude_vector"] = .f32([64], .init(repeating: 1, count: 64)) }),
             "base_model.model.model.decoder.layers.1.self_attn.q_proj.lora_magnitude_vector"),
            (try variant(tensors: { $0["base_model.model.model.decoder.layers.1.self_attn.q_proj.bias"] = .f32([64], .init(repeating: 1, count: 64)) }),
             "base_model.model.model.decoder.layers.1.self_attn.q_proj.bias"),
            (try variant(tensors: { $0["decoder.layers.1.self_attn.q_proj.lora_A.weight"] = $0[self.qA] }), "decoder.layers.1.self_attn.q_proj.lora_A.weight"),
            (try variant(config: { $0["use_dora"] = .bool(true) }), "use_dora"),
            (try variant(config: { $0["peft_type"] = .string("IA3") }), "peft_type"),
            (try variant(config: { $0["modules_to_save"] = .array([.string("proj_out")]) }), "modules_to_save"),
            (try variant(config: { $0["bias"] = .string("all") }), "bias"),
            (try variant(config: { $0["r"] = nil }), "r"),
        ]
        for (dir, key) in cases {
            guard case .adapter(_, let k, _)? = loadError(dir) else { XCTFail("\(key): \(String(describing: loadError(dir)))"); continue }
            XCTAssertEqual(k, key)
        }
    }

    /// An adapter with NaN (or inf) in a factor used to import with exit 0 and crash
    /// transcription later; now load refuses it, naming the tensor and the element.
    func testNonFiniteFactorsAreRefusedNamingTheTensor() throws {
        for (bits, word) in [(UInt32(0x7FC0_0000), "NaN"), (UInt32(0xFF80_0000), "infinite")] {
            var adapter = try PEFTAdapter.load(folder: golden)
            let module = adapter.weights.modules.keys.sorted()[0]
            var a = adapter.weights.modules[module]!.a
            XCTAssertEqual(a.dtype, .f32)
            withUnsafeBytes(of: bits.littleEndian) { a.bytes.replaceSubrange(12..<16, with: $0) }
            adapter.weights.modules[module]!.a = a
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("glossa-peft-nan-\(UUID().uuidString.prefix(8))")
            defer { try? FileManager.default.removeItem(at: dir) }
            try adapter.write(to: dir)
            XCTAssertThrowsError(try PEFTAdapter.load(folder: dir)) { e in
                guard case .adapter(_, let key, let message) = e as? TensorIOError else { return XCTFail("\(e)") }
                XCTAssertEqual(key, "base_model.model.\(module).lora_A.weight")
                XCTAssertTrue(message.contains("element 3 is \(word)"), message)
            }
        }
    }

    func testBrokenPairsAreRefused() throws {
        let missingB = try variant(tensors: { $0[self.qB] = nil })
        guard case .adapter(_, self.qB, _)? = loadError(missingB) else { return XCTFail("\(String(describing: loadError(missingB)))") }
        let rankMismatch = try variant(tensors: { $0[self.qB] = .f32([64, 3], .init(repeating: 0, count: 192)) })
        guard case .adapter(_, let k, let m)? = loadError(rankMismatch), m.contains("rank mismatch") else { return XCTFail() }
        XCTAssertEqual(k, "base_model.model.model.decoder.layers.1.self_attn.q_proj")
        // Factors of rank 4 where the config's rank_pattern says 2.
        let patternMismatch = try variant(config: {
            $0["rank_pattern"] = .object(["fc1": .int(2), "model.encoder.layers.1.self_attn.v_proj": .int(3), "self_attn.q_proj": .int(2)])
        })
        guard case .adapter(_, "base_model.model.model.decoder.layers.0.self_attn.q_proj", let m2)? = loadError(patternMismatch), m2.contains("r = 2") else { return XCTFail("\(String(describing: loadError(patternMismatch)))") }
    }

    func testValidationNamesTheFirstMisfit() throws {
        let adapter = try PEFTAdapter.load(folder: golden)
        let base = TinyWhisper.make(seed: 0, dimensions: .init(dModel: 64, encoderLayers: 2, decoderLayers: 1, heads: 4, ffnDim: 256,
                                                               vocabSize: 100, maxSourcePositions: 20, maxTargetPositions: 10))
        XCTAssertThrowsError(try adapter.validate(against: base)) { e in
            XCTAssertEqual(e as? TensorIOError, .adapterMismatch(module: "model.decoder.layers.1.encoder_attn.q_proj",
                                                                 message: "the base model has no linear layer of that name (expected e.g. model.decoder.layers.0.encoder_attn.q_proj)"))
        }
        let narrow = TinyWhisper.config(.init(dModel: 32))
        XCTAssertThrowsError(try adapter.validate(against: narrow)) { e in
            guard case .adapterMismatch("model.decoder.layers.0.encoder_attn.q_proj", let m)? = e as? TensorIOError else { return XCTFail("\(e)") }
            XCTAssertTrue(m.contains("32 inputs"), m)
        }
        let wideFFN = TinyWhisper.config(.init(ffnDim: 128))
        XCTAssertThrowsError(try adapter.validate(against: wideFFN)) { e in
            guard case .adapterMismatch("model.decoder.layers.0.fc1", let m)? = e as? TensorIOError else { return XCTFail("\(e)") }
            XCTAssertTrue(m.contains("128 outputs"), m)
        }
    }
}
