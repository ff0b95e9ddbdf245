import Foundation
import GlossaCore
import Tensor
import TensorIO
import Whisper
import XCTest
@testable import Glossa

/// A bundle runs with no registry and decodes exactly like the same base + experts loaded
/// from the registry: same weights bit for bit (f32 export), same tokens in both routing
/// scenarios (language given, language detected).
final class BundleRuntimeTests: XCTestCase {
    var tmp: URL!
    override func setUpWithError() throws {
        tmp = FileManager.default.temporaryDirectory.appendingPathComponent("glossa-bundle-run-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: tmp) }

    /// Two seconds of a two-tone signal, 16 kHz mono.
    func clip() throws -> String {
        let path = tmp.appendingPathComponent("clip.wav").path
        let samples = (0 ..< 32_000).map { i -> Float in
            let t = Float(i) / 16_000
            return 0.3 * sin(2 * Float.pi * 330 * t) + 0.2 * sin(2 * Float.pi * 870 * t)
        }
        try WAVWriter.write(path: path, samples: samples)
        return path
    }

    func testBundleDecodesLikeTheRegistry() throws {
        let reg = try BundleTestSupport.registry(in: tmp)
        let path = tmp.appendingPathComponent("fr-de.tar").path
        _ = try reg.exportBundle(BundleExportRequest(adapters: ["fr-tiny", "de-tiny"], routing: .language, dtype: .f32), to: path)
        let bundle = try LoadedBundle(path: path)
        XCTAssertEqual(bundle.routing, .language)

        // Same weights bit for bit.
        let resolver = ModelSourceResolver(registryPath: reg.root)
        let (ckpt, origin) = try resolver.checkpoint("tiny")
        XCTAssertEqual(bundle.checkpoint.tensors, ckpt.tensors)
        XCTAssertEqual(bundle.checkpoint.tokenizerJSON, ckpt.tokenizerJSON)
        XCTAssertEqual(bundle.checkpoint.config, ckpt.config)
        let experts = try ["fr-tiny", "de-tiny"].flatMap { try resolver.experts($0, base: ckpt, baseOrigin: origin) }
        for e in experts {
            let b = try XCTUnwrap(bundle.experts.first { $0.name == e.name })
            XCTAssertEqual(b.weights, e.weights, e.name)
            XCTAssertEqual(b.languages, e.languages)
            XCTAssertEqual(b.id, e.id)
        }

        // Same tokens, with the language given and detected.
        let compute = Compute(blas: try BLASLibrary.load(threads: 1), threads: 1)
        let fromBundle = try SpeechModel(checkpoint: bundle.checkpoint, compute: compute, origin: bundle.origin)
        let fromRegistry = try SpeechModel(checkpoint: ckpt, compute: compute, origin: origin)
        let bundleRouter = try ExpertRouter(experts: bundle.experts, routing: bundle.routing, model: fromBundle.model)
        let registryRouter = try ExpertRouter(experts: experts, routing: .language, model: fromRegistry.model)
        let audio = try clip()
        var sawExpert = false
        for language in ["fr", "de", nil] as [String?] {
            var s = TranscribeSettings(language: language, beamSize: 1)
            s.temperatures = [0]
            let a = try fromBundle.transcribe(file: audio, settings: s, router: bundleRouter)
            let b = try fromRegistry.transcribe(file: audio, settings: s, router: registryRouter)
            XCTAssertEqual(a.windows.map(\.tokens), b.windows.map(\.tokens), "language \(language ?? "detected")")
            XCTAssertEqual(a.windows.map(\.expert), b.windows.map(\.expert))
            XCTAssertEqual(a.windows.map(\.avgLogProb), b.windows.map(\.avgLogProb))
            if language != nil { XCTAssertEqual(a.windows.first?.expert, "\(language!)-tiny:1.0.0"); sawExpert = true }
        }
        XCTAssertTrue(sawExpert)
        // The experts change the output: fr and de decode differently from each other.
        var s = TranscribeSettings(language: "fr", beamSize: 1)
        s.temperatures = [0]
        let fr = try fromBundle.transcribe(file: audio, settings: s, router: bundleRouter).windows.map(\.avgLogProb)
        s.language = "de"
        XCTAssertNotEqual(fr, try fromBundle.transcribe(file: audio, settings: s, router: bundleRouter).windows.map(\.avgLogProb))
    }

    /// A routed composite (shared part + per-language residuals) decodes from the bundle like
    /// `--expert COMPOSITE` from the registry, language given or detected, routing language or soft.
    func testRoutedCompositeDecodesLikeTheRegistry() throws {
        let reg = try BundleTestSupport.registry(in: tmp)
        let (fr, _, frDigest) = try reg.loadExpert("fr-tiny")
        let (de, _, deDigest) = try reg.loadExpert("de-tiny")
        let shared = CompositeManifest(name: "fr-de-shared", version: "1.0.0", languages: ["de", "fr"], base: fr.base,
                                       recipe: .init(method: "shared"), inputs: [frDigest, deDigest], lora: de.lora, tensors: de.tensors,
                                       routes: ["fr": .init(lora: fr.lora, tensors: fr.tensors)],
                                       provenance: Provenance(toolVersion: "glossa test", created: "2026-11-29T00:00:00Z"))
        _ = try reg.store.publish(shared)
        let resolver = ModelSourceResolver(registryPath: reg.root)
        let (ckpt, origin) = try resolver.checkpoint("tiny")
        let fromRegistryExperts = try resolver.experts("fr-de-shared", base: ckpt, baseOrigin: origin)
        let compute = Compute(blas: try BLASLibrary.load(threads: 1), threads: 1)
        let fromRegistry = try SpeechModel(checkpoint: ckpt, compute: compute, origin: origin)
        let audio = try clip()
        for routing in [Routing.language, .soft] {
            let path = tmp.appendingPathComponent("shared-\(routing.rawValue).tar").path
            _ = try reg.exportBundle(BundleExportRequest(adapters: ["fr-de-shared"], routing: routing, dtype: .f32), to: path)
            let bundle = try LoadedBundle(path: path)
            XCTAssertEqual(bundle.routing, routing)
            XCTAssertEqual(bundle.experts.map(\.name), fromRegistryExperts.map(\.name))
            XCTAssertEqual(bundle.experts.map(\.role), fromRegistryExperts.map(\.role))
            for (a, b) in zip(bundle.experts, fromRegistryExperts) { XCTAssertEqual(a.weights, b.weights, a.name) }
            let fromBundle = try SpeechModel(checkpoint: bundle.checkpoint, compute: compute, origin: bundle.origin)
            let bundleRouter = try ExpertRouter(experts: bundle.experts, routing: bundle.routing, model: fromBundle.model)
            let registryRouter = try ExpertRouter(experts: fromRegistryExperts, routing: routing, model: fromRegistry.model)
            for language in ["fr", "de", nil] as [String?] {
                var s = TranscribeSettings(language: language, beamSize: 1)
                s.temperatures = [0]
                let a = try fromBundle.transcribe(file: audio, settings: s, router: bundleRouter)
                let b = try fromRegistry.transcribe(file: audio, settings: s, router: registryRouter)
                XCTAssertEqual(a.windows.map(\.tokens), b.windows.map(\.tokens), "\(routing) \(language ?? "detected")")
                XCTAssertEqual(a.windows.map(\.expert), b.windows.map(\.expert))
                XCTAssertEqual(a.windows.map(\.avgLogProb), b.windows.map(\.avgLogProb))
            }
        }
    }

    /// The default f16 export: tensors are the registry's rounded to nearest-even half.
    func testHalfPrecisionBaseIsTheRoundedRegistryBase() throws {
        let reg = try BundleTestSupport.registry(in: tmp)
        let path = tmp.appendingPathComponent("fr").path
        _ = try reg.exportBundle(BundleExportRequest(adapters: ["fr-tiny"]), to: path)
        let bundle = try LoadedBundle(path: path)
        let (ckpt, _) = try ModelSourceResolver(registryPath: reg.root).checkpoint("tiny")
        for (name, t) in ckpt.tensors {
            let b = try XCTUnwrap(bundle.checkpoint.tensors[name])
            XCTAssertEqual(b.dtype, .f16, name)
            XCTAssertEqual(b.shape, t.shape)
            let half = try HalfConversion.floats(from: b), full = try HalfConversion.floats(from: t)
            for i in stride(from: 0, to: full.count, by: max(1, full.count / 64)) { XCTAssertEqual(half[i], Float(Float16(full[i])), name) }
        }
        // And it runs.
        let compute = Compute(blas: try BLASLibrary.load(threads: 1), threads: 1)
        let speech = try SpeechModel(checkpoint: bundle.checkpoint, compute: compute, origin: bundle.origin)
        var s = TranscribeSettings(language: "fr", beamSize: 1)
        s.temperatures = [0]
        let r = try speech.transcribe(file: try clip(), settings: s, router: try ExpertRouter(experts: bundle.experts, routing: bundle.routing, model: speech.model))
        XCTAssertEqual(r.windows.first?.expert, "fr-tiny:1.0.0")
    }
}
