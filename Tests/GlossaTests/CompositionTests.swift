import Foundation
import GlossaCore
import Store
import Tensor
import TensorIO
import Whisper
import XCTest
import Eval
@testable import Glossa
import WhisperTesting

/// `glossa compose`'s job on a tiny random base: composites publish, load wherever an expert
/// does, give the logits their definition says, reproduce, and refuse bad input untouched.
final class CompositionTests: XCTestCase {
    var tmp: URL!
    let compute = Compute(blas: try! BLASLibrary.load(threads: 2), threads: 2)
    static let modules = ["model.encoder.layers.0.self_attn.q_proj", "model.encoder.layers.0.fc2",
                          "model.decoder.layers.0.encoder_attn.v_proj", "model.decoder.layers.0.fc1", "model.decoder.layers.0.self_attn.k_proj"]

    override func setUpWithError() throws {
        tmp = FileManager.default.temporaryDirectory.appendingPathComponent("glossa-compose-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: tmp) }

    /// A registry with a tiny base (d=32, one layer each side) carrying whisper-base's tokenizer.
    func registry(_ name: String = "registry", baseSeed: UInt64 = 3) throws -> (Registry, WhisperCheckpoint) {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let dir = root.appendingPathComponent("models/whisper-base-ct2")
        let tok = try Data(contentsOf: dir.appendingPathComponent("tokenizer.json"))   // make test fetches it first
        let ckpt = TinyWhisper.make(seed: baseSeed, dimensions: .init(dModel: 32, encoderLayers: 1, decoderLayers: 1, heads: 2, ffnDim: 64),
                                    tokenizerJSON: Array(tok))
        let folder = tmp.appendingPathComponent("base-\(baseSeed)")
        if !FileManager.default.fileExists(atPath: folder.path) { try HuggingFaceWhisper.write(ckpt, to: folder) }
        let reg = try Registry(root: tmp.appendingPathComponent(name), create: true)
        _ = try reg.importBase(folder: folder, name: "tiny\(baseSeed)", version: "1.0.0")
        return (reg, ckpt)
    }

    /// Publishes a random expert (B non-zero, so it changes the logits) and returns its ref.
    @discardableResult
    func expert(_ reg: Registry, _ lang: String, seed: UInt64, rank: Int = 2, base: String = "tiny3", devWER: Double? = nil,
                modules: [String] = CompositionTests.modules, name: String? = nil) throws -> String {
        var rng = SeededGenerator(seed: seed)
        var tensors: [String: LoRATensorEntry] = [:]
        for m in modules {
            let (o, i) = m.hasSuffix("fc1") ? (64, 32) : m.hasSuffix("fc2") ? (32, 64) : (32, 32)
            let a = (0..<(rank * i)).map { _ in rng.uniform(-0.3, 0.3) }, b = (0..<(o * rank)).map { _ in rng.uniform(-0.3, 0.3) }
            tensors[m] = LoRATensorEntry(a: try reg.store.putTensor(HalfConversion.f32Data(a, shape: [rank, i])),
                                         b: try reg.store.putTensor(HalfConversion.f32Data(b, shape: [o, rank])))
        }
        let n = name ?? "\(lang)-x"
        let m = ExpertManifest(name: n, version: "1.0.0", language: lang, base: try reg.resolve(base),
                               lora: LoRAConfig(rank: rank, alpha: Double(2 * rank), targetModules: modules),
                               tensors: tensors, provenance: Provenance(toolVersion: "test", created: "2026-11-0\(seed % 9 + 1)T00:00:00Z"),
                               metrics: devWER.map { ["dev_wer": $0] } ?? [:], license: "MIT")
        try reg.store.publish(m)
        return "\(n):1.0.0"
    }

    func compose(_ reg: Registry, _ refs: [String], _ method: CompositionMethod, name: String = "mix", version: String = "1.0.0",
                 configure: (inout Composition) -> Void = { _ in }) throws -> Composition.Outcome {
        var job = Composition(experts: try reg.selectExperts(refs: refs), method: method, name: name, version: version)
        configure(&job)
        return try job.run(registry: reg, compute: compute, log: { _ in })
    }

    /// Logits [4, vocab] of the prompt SOT, <|fr|>, transcribe, notimestamps on a fixed mel.
    func logits(_ model: WhisperModel, _ adapters: ActiveAdapters) throws -> [Float] {
        var rng = SeededGenerator(seed: 42)
        let mel = (0..<(80 * 3000)).map { _ in rng.uniform(-1, 1) }
        let enc = try model.encode(features: mel, compute: compute, adapters: adapters)
        var dec = WhisperStepDecoder(model: model, state: model.makeDecoderState(encoderOutput: enc, compute: compute, adapters: adapters),
                                     compute: compute, adapters: adapters)
        return try dec.prefill([50258, 50265, 50359, 50363])
    }

    func adapters(_ reg: Registry, _ refs: [String], _ model: WhisperModel, mix: [Double]? = nil) throws -> ActiveAdapters {
        let loaded = try refs.flatMap { try reg.loadAdapters($0).adapters }
        return try ActiveAdapters(loaded.enumerated().map { ($1.weights, mix?[$0] ?? 1) }, for: model)
    }

    func maxRelDiff(_ a: [Float], _ b: [Float]) -> Float {
        let scale = max(b.map(abs).max() ?? 1, 1e-12)
        return zip(a, b).map { abs($0 - $1) }.max()! / scale
    }

    func testCatWithUnitWeightsEqualsBothExpertsUnmerged() throws {
        let (reg, ckpt) = try registry()
        let fr = try expert(reg, "fr", seed: 1), de = try expert(reg, "de", seed: 2, rank: 3)
        let out = try compose(reg, [fr, de], .cat) { $0.weights = [1, 1] }
        XCTAssertEqual(out.manifest.lora?.rank, 5)
        XCTAssertEqual(out.manifest.languages, ["de", "fr"])
        XCTAssertEqual(out.manifest.inputs, [try reg.resolve(fr), try reg.resolve(de)])
        let model = try WhisperModel(checkpoint: ckpt)
        let together = try logits(model, adapters(reg, [fr, de], model))
        let composite = try logits(model, adapters(reg, ["mix"], model))
        XCTAssertLessThanOrEqual(maxRelDiff(composite, together), 1e-5)
        XCTAssertGreaterThan(maxRelDiff(together, try logits(model, .none)), 1e-3, "the experts change the logits")
        // linear at full rank (2 + 3) is the same delta, so the same logits.
        let linear = try compose(reg, [fr, de], .linear, name: "lin") { $0.weights = [1, 1]; $0.rank = 5 }
        XCTAssertLessThan(linear.manifest.metrics["truncation_error_max"]!, 1e-3)
        XCTAssertLessThanOrEqual(maxRelDiff(try logits(model, adapters(reg, ["lin"], model)), together), 1e-4)
    }

    func testSameRecipeGivesSameDigestAndRerunIsANoOp() throws {
        let (reg, _) = try registry()
        let fr = try expert(reg, "fr", seed: 1), de = try expert(reg, "de", seed: 2)
        let first = try compose(reg, [fr, de], .dare) { $0.rank = 3; $0.density = 0.5; $0.seed = 9 }
        XCTAssertFalse(first.reused)
        let again = try compose(reg, [fr, de], .dare) { $0.rank = 3; $0.density = 0.5; $0.seed = 9 }
        XCTAssertTrue(again.reused)
        XCTAssertEqual(again.digest, first.digest)
        _ = try reg.remove("mix:1.0.0")
        let recomputed = try compose(reg, [fr, de], .dare) { $0.rank = 3; $0.density = 0.5; $0.seed = 9 }
        XCTAssertFalse(recomputed.reused)
        XCTAssertEqual(recomputed.digest, first.digest, "same inputs, recipe and seed: same bytes")
        // Another seed under the same name:version is refused, naming the version.
        XCTAssertThrowsError(try compose(reg, [fr, de], .dare) { $0.rank = 3; $0.seed = 10 }) {
            XCTAssertTrue("\($0)".contains("mix:1.0.0 is already published"), "\($0)")
        }
        let show = try reg.show("mix")
        XCTAssertEqual(show.lineage.filter { $0.relation == "input" }.map(\.target), [try reg.resolve(fr), try reg.resolve(de)])
    }

    func testSharedRoutesResidualsByLanguage() throws {
        let (reg, ckpt) = try registry()
        let fr = try expert(reg, "fr", seed: 1), de = try expert(reg, "de", seed: 2)
        // Full ranks: shared (4) + residual (the expert's 2 + shared's 4 would be exact; 32 is)
        var job = Composition(experts: try reg.selectExperts(refs: [fr, de]), method: .shared, name: "split", version: "1.0.0")
        job.rank = 4
        let out = try job.run(registry: reg, compute: compute, log: { _ in })
        XCTAssertEqual(out.manifest.routes.keys.sorted(), ["de", "fr"])
        let loaded = try reg.loadAdapters("split").adapters
        XCTAssertEqual(loaded.map(\.role), [.shared, .languageResidual, .languageResidual])
        let model = try WhisperModel(checkpoint: ckpt)
        let router = try ExpertRouter(experts: loaded, routing: .all, model: model)
        XCTAssertEqual(router.select(language: "fr").label, "split:1.0.0/shared+split:1.0.0/fr")
        XCTAssertEqual(router.select(language: nil).label, "split:1.0.0/shared")
        // Shared at rank 4 is the whole mean of two rank-2 deltas; each residual dW_e - S has
        // rank <= 6 but is kept at the expert's rank 2, so S + R_e is close to, not equal to, dW_e.
        let frLogits = try logits(model, router.select(language: "fr").adapters)
        let expertLogits = try logits(model, adapters(reg, [fr], model))
        let baseLogits = try logits(model, .none)
        XCTAssertLessThan(maxRelDiff(frLogits, expertLogits), maxRelDiff(baseLogits, expertLogits),
                          "shared + fr residual is closer to the fr expert than the base is")
        XCTAssertThrowsError(try reg.exportPEFT("split", to: tmp.appendingPathComponent("peft"))) {
            XCTAssertTrue("\($0)".contains("routed by language"), "\($0)")
        }
    }

    func testSoftRoutingMixesByPosterior() throws {
        let (reg, ckpt) = try registry()
        let fr = try expert(reg, "fr", seed: 1), de = try expert(reg, "de", seed: 2)
        let model = try WhisperModel(checkpoint: ckpt)
        let loaded = try [fr, de].flatMap { try reg.loadAdapters($0).adapters }
        let router = try ExpertRouter(experts: loaded, routing: .soft, model: model)
        // Top-3 are fr 0.6, en 0.3 (no expert), de 0.2: renormalised over fr and de -> 0.75 / 0.25.
        let soft = router.select(posterior: [("fr", 0.6), ("en", 0.3), ("de", 0.2), ("nl", 0.1)])
        XCTAssertEqual(soft.label, "fr-x:1.0.0*0.75+de-x:1.0.0*0.25")
        let want = try logits(model, adapters(reg, [fr, de], model, mix: [0.75, 0.25]))
        XCTAssertLessThanOrEqual(maxRelDiff(try logits(model, soft.adapters), want), 1e-5)
        XCTAssertNil(router.select(posterior: [("en", 0.9), ("ja", 0.1)]).label, "no covered language in the top 3: the base")
        XCTAssertEqual(router.select(language: "de").label, "de-x:1.0.0")
    }

    func testLanguagesPickStableThenBestDevWER() throws {
        let (reg, _) = try registry()
        try expert(reg, "fr", seed: 1, devWER: 0.30, name: "fr-a")
        try expert(reg, "fr", seed: 2, devWER: 0.20, name: "fr-b")
        try expert(reg, "de", seed: 3, devWER: 0.50, name: "de-a")
        try expert(reg, "de", seed: 4, devWER: 0.10, name: "de-b")
        _ = try reg.tag("de-a:1.0.0", as: "stable")
        let picked = try reg.selectExperts(languages: ["fr", "de"], base: nil)
        XCTAssertEqual(picked.map(\.ref), ["fr-b:1.0.0", "de-a:1.0.0"])
        XCTAssertEqual(picked.map(\.reason), ["best dev WER 20.0%", "tagged stable"])
        XCTAssertThrowsError(try reg.selectExperts(languages: ["fr", "nl", "pl"], base: nil)) {
            XCTAssertTrue("\($0)".contains("serves nl, pl"), "\($0)")
        }
    }

    func testBadInputIsRefusedAndNothingIsPublished() throws {
        let (reg, _) = try registry()
        let fr = try expert(reg, "fr", seed: 1), de = try expert(reg, "de", seed: 2), fr2 = try expert(reg, "fr", seed: 5, name: "fr-y")
        _ = try registry(baseSeed: 4)   // a second base in the same registry folder
        let other = try expert(reg, "nl", seed: 6, base: "tiny4")
        let before = try reg.list(ArtifactFilter()).count
        let blobsBefore = try FileManager.default.subpathsOfDirectory(atPath: reg.root.path).count
        func refused(_ refs: [String], _ method: CompositionMethod, _ needle: String, configure: (inout Composition) -> Void = { _ in }) {
            XCTAssertThrowsError(try compose(reg, refs, method, configure: configure), needle) {
                XCTAssertTrue("\($0)".contains(needle), "expected '\(needle)' in: \($0)")
            }
        }
        refused([fr, other], .linear, "compose experts of one base")
        refused([fr, de], .linear, "--weights lists 1 values for 2 experts") { $0.weights = [1] }
        refused([fr, de], .ties, "--density 0.0 is outside (0, 1]") { $0.density = 0 }
        refused([fr, de], .dare, "--density 1.5 is outside (0, 1]") { $0.density = 1.5 }
        refused([fr, fr2], .shared, "both serve 'fr'")
        refused([fr, de], .cat, "--name 'Bad Name'") { $0.name = "Bad Name" }
        refused([fr, fr], .cat, "name the same expert")
        XCTAssertEqual(try reg.list(ArtifactFilter()).count, before)
        XCTAssertEqual(try FileManager.default.subpathsOfDirectory(atPath: reg.root.path).count, blobsBefore, "no blob written")
    }

    func testPlainCompositeExportsAsPEFT() throws {
        let (reg, ckpt) = try registry()
        let fr = try expert(reg, "fr", seed: 1), de = try expert(reg, "de", seed: 2)
        _ = try compose(reg, [fr, de], .ties) { $0.rank = 4; $0.density = 0.6 }
        let folder = tmp.appendingPathComponent("peft")
        try reg.exportPEFT("mix", to: folder)
        let back = try PEFTAdapter.load(folder: folder)
        let model = try WhisperModel(checkpoint: ckpt)
        let viaPEFT = try logits(model, ActiveAdapters([(back.weights, 1)], for: model))
        XCTAssertLessThanOrEqual(maxRelDiff(viaPEFT, try logits(model, adapters(reg, ["mix"], model))), 1e-6)
    }

    func audioManifest(_ name: String, _ langs: [String], n: Int = 2, unlabeled: Int = 0) throws -> String {
        try writeToneManifest(in: tmp, name, langs, n: n, unlabeled: unlabeled)
    }

    func testDistillPublishesAStudentThatLoadsAndReproduces() throws {
        let (reg, ckpt) = try registry()
        let fr = try expert(reg, "fr", seed: 1), de = try expert(reg, "de", seed: 2)
        let train = try audioManifest("train", ["fr", "de"], unlabeled: 1), dev = try audioManifest("dev", ["fr"], n: 1)
        func distill() throws -> Composition.Outcome {
            try compose(reg, [fr, de], .distill, name: "student") {
                $0.rank = 3; $0.seed = 4
                var t = CompositionTraining(manifest: train)
                t.dev = dev; t.steps = 3; t.batchSize = 2
                $0.training = t
            }
        }
        let out = try distill()
        XCTAssertEqual(out.manifest.recipe.method, "distill")
        XCTAssertEqual(out.manifest.recipe.seed, 4)
        XCTAssertEqual(out.manifest.recipe.params["manifest"], .string(try Evaluation.readManifest(train).digest.description))
        XCTAssertEqual(out.manifest.provenance.dataDigest, try Evaluation.readManifest(train).digest)
        XCTAssertEqual(out.manifest.lora?.rank, 3)
        XCTAssertEqual(out.manifest.metrics["steps"], 3)
        XCTAssertNotNil(out.manifest.metrics["dev_loss"])
        XCTAssertTrue(out.manifest.routes.isEmpty, "a student is one plain LoRA")
        let model = try WhisperModel(checkpoint: ckpt)
        XCTAssertGreaterThan(maxRelDiff(try logits(model, adapters(reg, ["student"], model)), try logits(model, .none)), 1e-4)
        XCTAssertTrue(try distill().reused, "same recipe and data: nothing to do")
        _ = try reg.remove("student:1.0.0")
        XCTAssertEqual(try distill().digest, out.digest, "same data and seed: the same student, bit for bit")
    }

    func testLearnedFusionPublishesWeightsAndRefusesUncoveredLanguages() throws {
        let (reg, _) = try registry()
        let fr = try expert(reg, "fr", seed: 1), de = try expert(reg, "de", seed: 2)
        let train = try audioManifest("cal", ["fr", "de"])
        let out = try compose(reg, [fr, de], .learned, name: "fused") {
            var t = CompositionTraining(manifest: train)
            t.steps = 2; t.batchSize = 2; t.granularity = .expert
            $0.training = t
        }
        XCTAssertEqual(out.manifest.lora?.rank, 4, "the cat of two rank-2 experts")
        XCTAssertNotNil(out.manifest.metrics["fusion_weight/all/\(fr)"])
        XCTAssertNotEqual(out.manifest.metrics["fusion_weight/all/\(fr)"], 0.5, "moved from 1/E")
        let nl = try audioManifest("nl", ["fr", "nl"])
        XCTAssertThrowsError(try compose(reg, [fr, de], .learned, name: "fused2") { $0.training = CompositionTraining(manifest: nl) }) {
            XCTAssertTrue("\($0)".contains("utterances in nl, which no expert serves"), "\($0)")
        }
        XCTAssertThrowsError(try compose(reg, [fr, de], .learned, name: "fused3") { $0.training = CompositionTraining(manifest: try! self.audioManifest("u", ["fr"], unlabeled: 1)) }) {
            XCTAssertTrue("\($0)".contains("only --method distill labels audio"), "\($0)")
        }
        XCTAssertThrowsError(try compose(reg, [fr, de], .distill, name: "fused4")) { XCTAssertTrue("\($0)".contains("give --manifest"), "\($0)") }
    }

    func testMergedHuggingFaceExportEqualsTheAdapterUnmerged() throws {
        let (reg, ckpt) = try registry()
        let fr = try expert(reg, "fr", seed: 1), de = try expert(reg, "de", seed: 2)
        let out = tmp.appendingPathComponent("fr-hf").path
        try reg.exportMerged(fr, format: .hf, to: out, dtype: .f32, force: false, compute: compute)
        let merged = try WhisperModel(checkpoint: try SpeechModel.loadCheckpoint(folder: URL(fileURLWithPath: out)))
        let base = try WhisperModel(checkpoint: ckpt)
        XCTAssertLessThanOrEqual(maxRelDiff(try logits(merged, .none), try logits(base, adapters(reg, [fr], base))), 1e-4)
        XCTAssertThrowsError(try reg.exportMerged(fr, format: .hf, to: out, dtype: .f32, force: false, compute: compute)) {
            XCTAssertTrue("\($0)".contains("already exists"), "\($0)")
        }
        var job = Composition(experts: try reg.selectExperts(refs: [fr, de]), method: .shared, name: "split", version: "1.0.0")
        job.rank = 2
        _ = try job.run(registry: reg, compute: compute, log: { _ in })
        let refused = tmp.appendingPathComponent("split-hf").path
        XCTAssertThrowsError(try reg.exportMerged("split", format: .hf, to: refused, dtype: .f16, force: false, compute: compute)) {
            XCTAssertTrue("\($0)".contains("routed by language"), "\($0)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: refused))
    }
}
