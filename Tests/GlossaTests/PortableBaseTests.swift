import Foundation
import GlossaCore
import Store
import TensorIO
import Whisper
import XCTest
@testable import Glossa
import WhisperTesting

/// Portable bases (issue 11, item 16): the same base imported into two registries is one
/// base by content, so an expert pushed from one registry pulls into the other and runs on
/// that registry's own copy of the base. Registries written before (bases with a `created`
/// time, experts without `base_weights`) keep working, and a different model under the same
/// name is still refused.
///
/// Only the CLI and APIs that predate the change are used here, so the same file builds
/// against the code before it (where these tests fail).
final class PortableBaseTests: XCTestCase {
    var tmp: URL!
    override func setUpWithError() throws {
        tmp = FileManager.default.temporaryDirectory.appendingPathComponent("glossa-portable-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: tmp) }

    func p(_ name: String) -> String { tmp.appendingPathComponent(name).path }

    /// Runs the `glossa` built beside the test bundle on the registry folder `registry`.
    func glossa(_ registry: String, _ args: [String]) throws -> BundleTestSupport.Run {
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0 ..< 3 {
            let candidate = dir.appendingPathComponent("glossa")
            if FileManager.default.isExecutableFile(atPath: candidate.path) {
                var env = ProcessInfo.processInfo.environment
                env["GLOSSA_REGISTRY"] = p(registry)
                return try BundleTestSupport.run(candidate.path, args, environment: env)
            }
            dir = dir.deletingLastPathComponent()
        }
        XCTFail("glossa binary not found next to \(CommandLine.arguments[0]); build with --build-tests")
        throw CocoaError(.fileNoSuchFile)
    }

    func ok(_ registry: String, _ args: [String], file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let r = try glossa(registry, args)
        XCTAssertEqual(r.status, 0, "glossa \(args.joined(separator: " ")) in \(registry): \(r.stderr)", file: file, line: line)
        return r.stdout
    }

    /// docker-registry on a free port, stopped by the returned closure.
    func ociRegistry() throws -> (host: String, stop: () -> Void) {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/docker-registry") else {
            throw Peer.missing("docker-registry not installed (scripts/setup.sh installs it)")
        }
        let dir = p("oci")
        let host = try runRegistryScript(["start", dir], scratch: tmp)
        return (host, { [tmp] in _ = try? runRegistryScript(["stop", dir], scratch: tmp!) })
    }

    /// A whisper-base-like tiny model folder (TinyWhisper `seed`, whisper-base's tokenizer);
    /// seed 0 is the base the golden PEFT adapter was made for.
    func tinyFolder(seed: UInt64 = 0) throws -> URL {
        let folder = tmp.appendingPathComponent("tiny-\(seed)")
        if !FileManager.default.fileExists(atPath: folder.path) {
            try HuggingFaceWhisper.write(TinyWhisper.make(seed: seed, tokenizerJSON: try BundleTestSupport.realTokenizer()), to: folder)
        }
        return folder
    }

    /// What an import by an older glossa left: the same tensors, and a base manifest that
    /// records its import time, so two such imports of one folder differ in digest.
    func legacyBase(_ registry: String, created: String, seed: UInt64 = 0) throws -> Digest {
        let store = try LocalRegistry(root: p(registry))
        let ckpt = try SpeechModel.loadCheckpoint(folder: try tinyFolder(seed: seed))
        var entries: [String: TensorEntry] = [:]
        for (n, t) in ckpt.tensors { entries[n] = try store.putTensor(t) }
        let m = BaseManifest(name: "tiny", version: "1.0.0", config: ckpt.config, tensors: entries,
                             tokenizer: try store.putBlob(Array(ckpt.tokenizerJSON)),
                             source: .init(format: "huggingface", digest: Digest(of: Array("model.safetensors \(seed)".utf8))),
                             created: created)
        return try store.publish(m)
    }

    /// An expert as an older glossa published it: the golden PEFT adapter on `base`, no
    /// `base_weights`.
    func legacyExpert(_ registry: String, name: String, language: String, base: Digest) throws -> Digest {
        let store = try LocalRegistry(root: p(registry))
        let adapter = try PEFTAdapter.load(folder: BundleTestSupport.goldenPEFT)
        var tensors: [String: LoRATensorEntry] = [:]
        for (module, pair) in adapter.weights.modules {
            tensors[module] = LoRATensorEntry(a: try store.putTensor(pair.a), b: try store.putTensor(pair.b))
        }
        let m = ExpertManifest(name: name, version: "1.0.0", language: language, base: base, lora: adapter.weights.config,
                               tensors: tensors, provenance: Provenance(toolVersion: "0.9.0", created: "2026-01-02T00:00:00Z"),
                               license: "MIT")
        return try store.publish(m)
    }

    /// One second of a tone, for transcription.
    func clip() throws -> String {
        let path = p("clip.wav")
        if !FileManager.default.fileExists(atPath: path) {
            try WAVWriter.write(path: path, samples: (0 ..< 16_000).map { 0.3 * sin(2 * Float.pi * 440 * Float($0) / 16_000) })
        }
        return path
    }

    /// Greedy decoding of the clip on base `tiny` with `expert` in `registry`, by the CLI
    /// (slow in debug builds: one call per test).
    func transcribes(_ registry: String, expert: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let out = try ok(registry, ["transcribe", "--model", "tiny", "--expert", expert, "--language", "fr", "--beam", "1", "--json",
                                    try clip()], file: file, line: line)
        let o = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any], out, file: file, line: line)
        XCTAssertEqual((o["windows"] as? [[String: Any]])?.first?["expert"] as? String, expert + ":1.0.0", out, file: file, line: line)
    }

    /// What `transcribe --model tiny --expert REF` loads in `registry` (the CLI's resolver,
    /// which checks the adapter against the base): every base tensor and LoRA factor, by name.
    func loaded(_ registry: String, expert: String) throws -> [String: Data] {
        let resolver = ModelSourceResolver(registryPath: tmp.appendingPathComponent(registry))
        let (base, origin) = try resolver.checkpoint("tiny")
        var out: [String: Data] = [:]
        for (n, t) in base.tensors { out["base " + n] = t.bytes }
        for e in try resolver.experts(expert, base: base, baseOrigin: origin) {
            for (m, pair) in e.weights.modules {
                out["\(e.language) \(m) A x\(pair.scale)"] = pair.a.bytes
                out["\(e.language) \(m) B"] = pair.b.bytes
            }
        }
        return out
    }

    func names(_ registry: String, _ args: [String]) throws -> [String] {
        let out = try ok(registry, ["list", "--json"] + args)
        let rows = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [[String: Any]], out)
        return rows.compactMap { $0["name"] as? String }.sorted()
    }

    // MARK: -

    /// Two teams import the same base files at different times; an expert made on one
    /// team's registry is pushed and pulled into the other's and runs there on its own base.
    func testExpertPulledIntoAnotherRegistryRunsOnItsOwnImportOfTheSameBase() throws {
        let (host, stop) = try ociRegistry()
        defer { stop() }
        let folder = try tinyFolder().path
        _ = try ok("a", ["base", "import", folder, "--name", "tiny", "--version", "1.0.0"])
        Thread.sleep(forTimeInterval: 1.1)   // a later import: another wall-clock second
        _ = try ok("b", ["base", "import", folder, "--name", "tiny", "--version", "1.0.0"])
        _ = try ok("a", ["expert", "import-peft", BundleTestSupport.goldenPEFT.path, "--lang", "fr", "--name", "fr-tiny",
                         "--version", "1.0.0", "--license", "MIT"])
        _ = try ok("a", ["push", "fr-tiny:1.0.0", "oci://\(host)/team-a/fr:1.0.0"])

        let pull = try glossa("b", ["pull", "oci://\(host)/team-a/fr:1.0.0"])
        XCTAssertEqual(pull.status, 0, pull.stderr)
        XCTAssertEqual(try names("b", ["--kind", "expert", "--base", "tiny"]), ["fr-tiny"])
        XCTAssertEqual(try names("b", ["--kind", "base"]), ["tiny"], "no second copy of the base")
        XCTAssertEqual(try loaded("b", expert: "fr-tiny"), try loaded("a", expert: "fr-tiny"))
        try transcribes("b", expert: "fr-tiny")
    }

    /// Registries written before bases were pinned by content: timestamped base manifests
    /// (a different digest in each registry) and an expert without `base_weights`. They still
    /// load; the old expert and a new one pull into the other registry, attach to its base,
    /// and survive rm, reindex, verify, gc and a push onward to a third registry.
    func testOldFormatRegistriesStillLoadAndPullOntoAnEqualBase() throws {
        let (host, stop) = try ociRegistry()
        defer { stop() }
        let baseA = try legacyBase("a", created: "2026-01-01T10:00:00Z")
        let baseB = try legacyBase("b", created: "2026-02-01T10:00:00Z")
        XCTAssertNotEqual(baseA, baseB)
        _ = try legacyExpert("a", name: "fr-old", language: "fr", base: baseA)
        let before = try loaded("a", expert: "fr-old")   // an old registry loads
        _ = try ok("a", ["expert", "import-peft", BundleTestSupport.goldenPEFT.path, "--lang", "de", "--name", "de-new",
                         "--version", "1.0.0", "--license", "MIT"])
        _ = try ok("a", ["push", "fr-old:1.0.0", "oci://\(host)/team-a/fr:1.0.0"])
        _ = try ok("a", ["push", "de-new:1.0.0", "oci://\(host)/team-a/de:1.0.0"])

        let pull = try glossa("b", ["pull", "oci://\(host)/team-a/fr:1.0.0"])
        XCTAssertEqual(pull.status, 0, pull.stderr)
        let again = try glossa("b", ["pull", "oci://\(host)/team-a/fr:1.0.0"])
        XCTAssertEqual(again.status, 0, again.stderr)
        _ = try ok("b", ["pull", "oci://\(host)/team-a/de:1.0.0"])
        XCTAssertEqual(try names("b", ["--kind", "expert", "--base", "tiny"]), ["de-new", "fr-old"])
        XCTAssertEqual(try names("b", ["--kind", "base"]), ["tiny"])

        // What was pulled composes and exports with an expert made here: they share one base.
        _ = try ok("b", ["expert", "import-peft", BundleTestSupport.goldenPEFT.path, "--lang", "nl", "--name", "nl-here",
                         "--version", "1.0.0", "--license", "MIT"])
        _ = try ok("b", ["compose", "--experts", "fr-old,nl-here", "--method", "cat", "--name", "mix", "--version", "1.0.0"])
        XCTAssertEqual(try names("b", ["--kind", "composite", "--base", "tiny"]), ["mix"])
        _ = try ok("b", ["export", "--expert", "fr-old", "--expert", "nl-here", "--out", p("fr-nl.tar")])

        // B's base is in use by what was pulled onto it; the catalog rebuilds the same way.
        let rm = try glossa("b", ["rm", "tiny:1.0.0"])
        XCTAssertEqual(rm.status, 65, rm.stderr)
        XCTAssertTrue(rm.stderr.contains("fr-old"), rm.stderr)
        _ = try ok("b", ["reindex"])
        XCTAssertEqual(try names("b", ["--kind", "expert", "--base", "tiny"]), ["de-new", "fr-old", "nl-here"])
        XCTAssertEqual(try names("b", ["--kind", "composite", "--base", "tiny"]), ["mix"])
        _ = try ok("b", ["verify"])
        Thread.sleep(forTimeInterval: 1.1)
        _ = try ok("b", ["gc", "--grace", "1"])
        _ = try ok("b", ["verify"])
        XCTAssertEqual(try loaded("b", expert: "fr-old"), before, "the pulled expert runs on B's own base")
        XCTAssertFalse(try loaded("b", expert: "de-new").isEmpty)

        // Onward: B pushes what it pulled; a fresh registry gets it with the base it names.
        _ = try ok("b", ["push", "fr-old:1.0.0", "oci://\(host)/team-b/fr:1.0.0"])
        _ = try ok("c", ["pull", "oci://\(host)/team-b/fr:1.0.0"])
        XCTAssertEqual(try loaded("c", expert: "fr-old"), before)
    }

    /// Two imports of the same files are one base: the same digest under the same name, and
    /// under another name and description still the same base by content (an expert made on
    /// one attaches to the other).
    func testTwoImportsOfTheSameFilesGiveOneBaseIdentity() throws {
        let (host, stop) = try ociRegistry()
        defer { stop() }
        let folder = try tinyFolder()
        func registry(_ name: String) throws -> Registry { try Registry(root: tmp.appendingPathComponent(name), create: true) }
        let first = try registry("a").importBase(folder: folder, name: "tiny", version: "1.0.0").0
        Thread.sleep(forTimeInterval: 1.1)
        let second = try registry("b").importBase(folder: folder, name: "tiny", version: "1.0.0").0
        XCTAssertEqual(first, second, "the same files, name and version must give the same base digest")

        _ = try registry("c").importBase(folder: folder, name: "tiny-copy", version: "2.0.0", description: "our copy")
        _ = try ok("a", ["expert", "import-peft", BundleTestSupport.goldenPEFT.path, "--lang", "fr", "--name", "fr-tiny",
                         "--version", "1.0.0", "--license", "MIT"])
        _ = try ok("a", ["push", "fr-tiny:1.0.0", "oci://\(host)/team-a/fr:1.0.0"])
        _ = try ok("c", ["pull", "oci://\(host)/team-a/fr:1.0.0"])
        XCTAssertEqual(try names("c", ["--kind", "expert", "--base", "tiny-copy"]), ["fr-tiny"])
        XCTAssertEqual(try names("c", ["--kind", "base"]), ["tiny-copy"])
        let resolver = ModelSourceResolver(registryPath: tmp.appendingPathComponent("c"))
        let (base, origin) = try resolver.checkpoint("tiny-copy")
        XCTAssertEqual(try resolver.experts("fr-tiny", base: base, baseOrigin: origin).count, 1)
    }

    /// Another model under the base's name is not the same base: refused, saying why and
    /// what to do, and nothing is imported.
    func testPullRefusesABaseWithOtherWeightsUnderTheSameName() throws {
        let (host, stop) = try ociRegistry()
        defer { stop() }
        _ = try ok("a", ["base", "import", try tinyFolder(seed: 0).path, "--name", "tiny", "--version", "1.0.0"])
        _ = try ok("b", ["base", "import", try tinyFolder(seed: 1).path, "--name", "tiny", "--version", "1.0.0"])
        _ = try ok("a", ["expert", "import-peft", BundleTestSupport.goldenPEFT.path, "--lang", "fr", "--name", "fr-tiny",
                         "--version", "1.0.0", "--license", "MIT"])
        _ = try ok("a", ["push", "fr-tiny:1.0.0", "oci://\(host)/team-a/fr:1.0.0"])
        let pull = try glossa("b", ["pull", "oci://\(host)/team-a/fr:1.0.0"])
        XCTAssertEqual(pull.status, 65, pull.stderr)
        XCTAssertTrue(pull.stderr.contains("tiny:1.0.0"), pull.stderr)
        XCTAssertTrue(pull.stderr.contains("other weights"), pull.stderr)
        XCTAssertTrue(pull.stderr.contains("Nothing was imported"), pull.stderr)
        XCTAssertTrue(pull.stderr.contains("glossa base import"), pull.stderr)
        XCTAssertEqual(try names("b", []), ["tiny"])
    }
}
