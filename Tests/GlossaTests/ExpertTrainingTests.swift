import Foundation
import GlossaCore
import Store
import Tensor
import TensorIO
import Training
import Whisper
import XCTest
@testable import Glossa
import WhisperTesting

/// `glossa train`'s job on a tiny random base with the real Whisper tokenizer: manifests with
/// audio -> trained adapter -> registry entry with provenance; language checks; the
/// multilingual ("mul") baseline; same data + seed => same weights.
final class ExpertTrainingTests: XCTestCase {
    var tmp: URL!
    override func setUpWithError() throws {
        tmp = FileManager.default.temporaryDirectory.appendingPathComponent("glossa-train-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: tmp.appendingPathComponent("audio"), withIntermediateDirectories: true)
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: tmp) }

    /// A registry holding a tiny base (d=32, one layer each side) that carries whisper-base's tokenizer.
    func registryWithTinyBase(root name: String = "registry", tokenizer edit: ([UInt8]) throws -> [UInt8] = { $0 }) throws -> Registry {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let dir = ProcessInfo.processInfo.environment["GLOSSA_TEST_MODEL_DIR"].map { URL(fileURLWithPath: $0) }
            ?? root.appendingPathComponent("models/whisper-base-ct2")
        guard let tok = try? Data(contentsOf: dir.appendingPathComponent("tokenizer.json")) else {
            throw Peer.missing("whisper-base tokenizer not found at \(dir.path); run scripts/fetch-whisper-base.sh")
        }
        let ckpt = TinyWhisper.make(seed: 3, dimensions: .init(dModel: 32, encoderLayers: 1, decoderLayers: 1, heads: 2, ffnDim: 64),
                                    tokenizerJSON: try edit(Array(tok)))
        let folder = tmp.appendingPathComponent("tiny-base-\(name)")
        try HuggingFaceWhisper.write(ckpt, to: folder)
        let reg = try Registry(root: tmp.appendingPathComponent(name), create: true)
        _ = try reg.importBase(folder: folder, name: "tiny", version: "1.0.0")
        return reg
    }

    func manifest(_ name: String, _ langs: [String], n: Int = 2) throws -> String { try writeToneManifest(in: tmp, name, langs, n: n) }

    func job(_ langs: [String], _ train: String, dev: String? = nil, name: String) -> ExpertTraining {
        var c = TrainingConfig()
        c.rank = 2; c.alpha = 4; c.maxSteps = 2; c.batchSize = 2; c.warmupSteps = 1; c.seed = 5
        return ExpertTraining(base: "tiny", languages: langs, trainManifest: train, devManifest: dev, config: c, name: name, version: "1.0.0")
    }

    func run(_ j: ExpertTraining, _ reg: Registry) throws -> ExpertTraining.Outcome {
        let compute = Compute(blas: try BLASLibrary.load(threads: 2), threads: 2)
        return try j.run(registry: reg, compute: compute, log: { _ in }, progress: { _ in .proceed })
    }

    /// whisper-base's tokenizer with four special tokens moved: <|endoftext|> and
    /// <|startoftranscript|> trade ids, and so do <|transcribe|> and <|notimestamps|>.
    static func movingSpecialTokens(_ json: [UInt8]) throws -> [UInt8] {
        let swaps = ["<|endoftext|>": "<|startoftranscript|>", "<|startoftranscript|>": "<|endoftext|>",
                     "<|transcribe|>": "<|notimestamps|>", "<|notimestamps|>": "<|transcribe|>"]
        var root = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json)) as? [String: Any])
        var added = try XCTUnwrap(root["added_tokens"] as? [[String: Any]])
        let idOf = Dictionary(uniqueKeysWithValues: added.compactMap { t in (t["content"] as? String).map { ($0, t["id"]!) } })
        for i in added.indices { if let c = added[i]["content"] as? String, let other = swaps[c] { added[i]["id"] = idOf[other] } }
        root["added_tokens"] = added
        if var model = root["model"] as? [String: Any], var vocab = model["vocab"] as? [String: Any] {
            for (c, other) in swaps where vocab[c] != nil { vocab[c] = idOf[other] }
            model["vocab"] = vocab; root["model"] = model
        }
        return Array(try JSONSerialization.data(withJSONObject: root))
    }

    /// Issue 11 item 20: the decoder prompt of training comes from the base's tokenizer.
    /// With the special ids moved, the prompt tokens change, so the same job trains other
    /// weights; with hard-coded whisper-base ids both bases would train identical ones.
    func testTrainingPromptUsesTheBaseTokenizersSpecialIDs() throws {
        let plain = try registryWithTinyBase()
        let moved = try registryWithTinyBase(root: "moved", tokenizer: Self.movingSpecialTokens)
        let ckpt = try moved.loadBase("tiny").0
        let speech = try SpeechModel(checkpoint: ckpt, compute: Compute(blas: try BLASLibrary.load(threads: 1), threads: 1), origin: "moved")
        let s = speech.trainingSpecials
        XCTAssertEqual([s.startOfTranscript, s.endOfText, s.transcribe, s.noTimestamps], [50257, 50258, 50363, 50359])
        let train = try manifest("fr-train", ["fr"])
        _ = try run(job(["fr"], train, name: "fr-tiny"), plain)
        _ = try run(job(["fr"], train, name: "fr-tiny"), moved)
        let a = try plain.loadExpert("fr-tiny").0, b = try moved.loadExpert("fr-tiny").0
        XCTAssertEqual(Set(a.tensors.keys), Set(b.tensors.keys))
        XCTAssertFalse(a.tensors == b.tensors, "the moved prompt ids must change what is trained")
    }

    func testTrainsPublishesAndReproduces() throws {
        let reg = try registryWithTinyBase()
        let train = try manifest("fr-train", ["fr"]), dev = try manifest("fr-dev", ["fr"], n: 1)
        let out = try run(job(["fr"], train, dev: dev, name: "fr-tiny"), reg)
        XCTAssertFalse(out.interrupted)
        XCTAssertEqual(out.provenance.steps, 2)
        let (m, w, _) = try reg.loadExpert("fr-tiny")
        XCTAssertEqual(m.language, "fr")
        XCTAssertNil(m.languages)
        XCTAssertEqual(m.lora.rank, 2)
        XCTAssertEqual(m.provenance.hyperparameters["steps"], .number(2))
        XCTAssertEqual(m.provenance.hyperparameters["seed"], .string("5"))
        XCTAssertNotNil(m.metrics["dev_loss"]); XCTAssertNotNil(m.metrics["dev_wer"])
        XCTAssertEqual(w.modules.count, m.tensors.count)
        // Same data and seed: the same weights, so the same tensor digests.
        _ = try run(job(["fr"], train, dev: dev, name: "fr-tiny-again"), reg)
        let again = try reg.loadExpert("fr-tiny-again").0
        XCTAssertEqual(again.tensors, m.tensors)
        // A taken name:version or a bad name is refused before training, not after it.
        let clock = ContinuousClock(), t0 = clock.now
        XCTAssertThrowsError(try run(job(["fr"], train, name: "fr-tiny"), reg)) { XCTAssertTrue("\($0)".contains("fr-tiny"), "\($0)") }
        XCTAssertThrowsError(try run(job(["fr"], train, name: "Bad Name"), reg)) { XCTAssertTrue("\($0)".contains("--name"), "\($0)") }
        XCTAssertLessThan(clock.now - t0, .seconds(3), "refused without loading features or training")
    }

    func testMultilingualBaselineAndLanguageChecks() throws {
        let reg = try registryWithTinyBase()
        let mixed = try manifest("mixed", ["de", "fr"])
        // One language but the manifest mixes two: refused before any training, nothing published.
        XCTAssertThrowsError(try run(job(["fr"], mixed, name: "fr-bad"), reg)) { e in
            XCTAssertTrue("\(e)".contains("is in 'de', not in --lang fr"), "\(e)")
        }
        XCTAssertThrowsError(try run(job(["de", "fr", "nl"], mixed, name: "bad"), reg)) { e in
            XCTAssertTrue("\(e)".contains("no utterance in nl"), "\(e)")
        }
        XCTAssertThrowsError(try run(job(["fr", "xx"], mixed, name: "bad"), reg))
        XCTAssertTrue(try reg.list(ArtifactFilter(kind: .expert)).isEmpty)

        _ = try run(job(["fr", "de"], mixed, name: "multi"), reg)
        let (m, _, _) = try reg.loadExpert("multi")
        XCTAssertEqual(m.language, "mul")
        XCTAssertEqual(m.languages, ["de", "fr"])
        XCTAssertEqual(try reg.list(ArtifactFilter(language: "de")).map(\.name), ["multi"])
        // Routed by language, the multilingual adapter serves each language it covers.
        let resolver = ModelSourceResolver(registryPath: reg.root)
        let (ckpt, origin) = try resolver.checkpoint("tiny")
        let loaded = try XCTUnwrap(resolver.experts("multi", base: ckpt, baseOrigin: origin).first)
        XCTAssertEqual(loaded.languages, ["de", "fr"])
        let router = try ExpertRouter(experts: [loaded], routing: .language, model: try WhisperModel(checkpoint: ckpt))
        XCTAssertEqual(router.select(language: "fr").label, "multi:1.0.0")
        XCTAssertEqual(router.select(language: "de").label, "multi:1.0.0")
        XCTAssertNil(router.select(language: "nl").label)
    }
}
