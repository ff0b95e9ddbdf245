import Foundation
import GlossaCore
import Store
import TensorIO
import XCTest
@testable import Glossa
import WhisperTesting

/// The user's registry journey on a tiny random base: import base, import a real PEFT adapter
/// (written by Python peft, committed as a golden), list/show/tag/verify, export it back.
final class RegistryFlowTests: XCTestCase {
    /// The golden PEFT adapter folder (rebuilt from its record, TinyPEFTAdapter; no weights are committed).
    static var golden: URL { get throws { try TinyPEFTAdapter.folder() } }

    var tmp: URL!

    override func setUpWithError() throws {
        tmp = FileManager.default.temporaryDirectory.appendingPathComponent("glossa-flow-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: tmp) }

    /// Writes the tiny base (the one the golden PEFT adapter was made for) as an HF folder.
    func tinyBaseFolder(dims: TinyWhisper.Dimensions = .init(), name: String = "tiny") throws -> URL {
        let tokenizer = try minimalTokenizer()
        let ckpt = TinyWhisper.make(seed: 0, dimensions: dims, tokenizerJSON: tokenizer)
        let folder = tmp.appendingPathComponent(name)
        try HuggingFaceWhisper.write(ckpt, to: folder)
        return folder
    }

    func minimalTokenizer() throws -> [UInt8] {
        Array(#"{"model":{"type":"BPE","vocab":{"a":0},"merges":[]},"added_tokens":[]}"#.utf8)
    }

    /// A folder named like a registry REF does not shadow it; as a path (./name) it is the folder.
    func testBareNamePrefersTheRegistryOverAFolder() throws {
        let reg = try Registry(root: tmp.appendingPathComponent("registry"), create: true)
        let (digest, _) = try reg.importBase(folder: try tinyBaseFolder(), name: "tiny", version: "1.0.0")
        _ = try tinyBaseFolder(dims: .init(dModel: 32, encoderLayers: 1, decoderLayers: 1, heads: 2, ffnDim: 64), name: "other")
        try FileManager.default.moveItem(at: tmp.appendingPathComponent("other"), to: tmp.appendingPathComponent("shadow"))
        let cwd = FileManager.default.currentDirectoryPath
        defer { FileManager.default.changeCurrentDirectoryPath(cwd) }
        FileManager.default.changeCurrentDirectoryPath(tmp.path)
        try FileManager.default.copyItem(at: tmp.appendingPathComponent("shadow"), to: tmp.appendingPathComponent("tiny-copy"))
        try FileManager.default.moveItem(at: tmp.appendingPathComponent("tiny"), to: tmp.appendingPathComponent("tiny-src"))
        try FileManager.default.moveItem(at: tmp.appendingPathComponent("tiny-copy"), to: tmp.appendingPathComponent("tiny"))
        let resolver = ModelSourceResolver(registryPath: reg.root)
        // ./tiny is now a different (d=32) model; the bare name still means the registry's tiny.
        XCTAssertEqual(try resolver.checkpoint("tiny").1, digest.description)
        XCTAssertEqual(try resolver.checkpoint("./tiny").0.config.dModel, 32)
        XCTAssertEqual(try resolver.checkpoint("shadow").0.config.dModel, 32, "no registry entry: the folder")
    }

    /// Without --license the adapter's card decides, else NOASSERTION: never a made-up MIT.
    func testLicenseIsRecordedOnlyWhenKnown() throws {
        let golden = try Self.golden
        let reg = try Registry(root: tmp.appendingPathComponent("registry"), create: true)
        _ = try reg.importBase(folder: try tinyBaseFolder(), name: "tiny", version: "1.0.0")
        let unknown = try reg.importPEFT(folder: golden, languages: ["fr"], name: "a", version: "1.0.0", base: nil, license: nil, description: "")
        XCTAssertEqual(unknown.1.license, "NOASSERTION")
        let carded = tmp.appendingPathComponent("carded")
        try FileManager.default.copyItem(at: golden, to: carded)
        try "---\nbase_model: openai/whisper-base\nlicense: apache-2.0\nlibrary_name: peft\n---\n# An adapter\n"
            .write(to: carded.appendingPathComponent("README.md"), atomically: true, encoding: .utf8)
        XCTAssertEqual(try reg.importPEFT(folder: carded, languages: ["fr"], name: "b", version: "1.0.0", base: nil, license: nil,
                                          description: "").1.license, "apache-2.0")
        XCTAssertEqual(try reg.importPEFT(folder: carded, languages: ["fr"], name: "c", version: "1.0.0", base: nil, license: "MIT",
                                          description: "").1.license, "MIT", "the flag wins")
    }

    func testImportPEFTExportsBitIdenticalAndEquivalentConfig() throws {
        let golden = try Self.golden
        let reg = try Registry(root: tmp.appendingPathComponent("registry"), create: true)
        let (baseDigest, _) = try reg.importBase(folder: try tinyBaseFolder(), name: "tiny", version: "1.0.0")
        let (expertDigest, m) = try reg.importPEFT(folder: golden, languages: ["fr"], name: "fr-tiny", version: "1.0.0",
                                                   base: nil, license: "MIT", description: "golden")
        XCTAssertEqual(m.base, baseDigest)
        XCTAssertEqual(m.tensors.count, 16)

        // list / show / tag / resolve
        XCTAssertEqual(try reg.list(ArtifactFilter(language: "fr")).map(\.digest), [expertDigest])
        XCTAssertEqual(try reg.list(ArtifactFilter(language: "de")).count, 0)
        _ = try reg.tag("fr-tiny:1.0.0", as: "stable")
        XCTAssertEqual(try reg.resolve("fr-tiny:stable"), expertDigest)
        XCTAssertEqual(try reg.resolve(String(expertDigest.description.prefix(16))), expertDigest)
        XCTAssertEqual(try reg.show("fr-tiny").summary.tags, ["fr-tiny:stable"])

        // export: tensors bit-identical, config equivalent (same JSON object)
        let out = tmp.appendingPathComponent("export")
        try reg.exportPEFT("fr-tiny", to: out)
        let a = try SafeTensors.read(golden.appendingPathComponent("adapter_model.safetensors"))
        let b = try SafeTensors.read(out.appendingPathComponent("adapter_model.safetensors"))
        XCTAssertEqual(Set(a.tensors.keys), Set(b.tensors.keys))
        for (k, t) in a.tensors { XCTAssertEqual(t, b.tensors[k], k) }
        let ca = try JSONSerialization.jsonObject(with: Data(contentsOf: golden.appendingPathComponent("adapter_config.json"))) as! NSDictionary
        let cb = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("adapter_config.json"))) as! NSDictionary
        XCTAssertEqual(ca, cb)

        // The exported folder loads and validates against the base like the original.
        let reloaded = try PEFTAdapter.load(folder: out)
        XCTAssertEqual(reloaded.weights, try PEFTAdapter.load(folder: golden).weights)

        XCTAssertEqual(try reg.verify(repair: false).status, .clean)
    }

    func testAdapterForAnotherBaseIsRefusedAndNothingWritten() throws {
        let golden = try Self.golden
        let reg = try Registry(root: tmp.appendingPathComponent("registry"), create: true)
        var dims = TinyWhisper.Dimensions()
        dims.dModel = 32
        dims.ffnDim = 64
        _ = try reg.importBase(folder: try tinyBaseFolder(dims: dims, name: "narrow"), name: "narrow", version: "1.0.0")
        let before = try reg.list(ArtifactFilter()).count
        XCTAssertThrowsError(try reg.importPEFT(folder: golden, languages: ["fr"], name: "fr-tiny", version: "1.0.0",
                                                base: "narrow", license: "MIT", description: "")) { error in
            let e = error as! GlossaError
            XCTAssertEqual(e.category, .invalidInput)
            XCTAssertTrue(e.message.contains("model."), "message names the module: \(e.message)")
        }
        XCTAssertEqual(try reg.list(ArtifactFilter()).count, before)
        XCTAssertThrowsError(try reg.resolve("fr-tiny"))
    }

    func testBadRefsAndNamesAreClearErrors() throws {
        let golden = try Self.golden
        let reg = try Registry(root: tmp.appendingPathComponent("registry"), create: true)
        _ = try reg.importBase(folder: try tinyBaseFolder(), name: "tiny", version: "1.0.0")
        for bad in ["nope", "tiny:9.9.9", "sha256:ffff"] {
            XCTAssertThrowsError(try reg.resolve(bad)) { XCTAssertEqual(($0 as! GlossaError).category, .notFound, bad) }
        }
        XCTAssertThrowsError(try reg.importPEFT(folder: golden, languages: ["fr"], name: "../evil", version: "1.0.0",
                                                base: nil, license: "MIT", description: ""))
        XCTAssertThrowsError(try reg.importPEFT(folder: golden, languages: ["xx"], name: "ok", version: "1.0.0",
                                                base: nil, license: "MIT", description: ""))
        XCTAssertThrowsError(try reg.importPEFT(folder: golden, languages: ["fr"], name: "ok", version: "one",
                                                base: nil, license: "MIT", description: ""))
        XCTAssertThrowsError(try reg.importPEFT(folder: golden, languages: [], name: "ok", version: "1.0.0",
                                                base: nil, license: "MIT", description: ""))
        XCTAssertEqual(try reg.list(ArtifactFilter(kind: .expert)).count, 0)
        // Several languages: one multilingual ("mul") adapter that lists them.
        let (_, m) = try reg.importPEFT(folder: golden, languages: ["fr", "de"], name: "multi", version: "1.0.0",
                                        base: nil, license: "MIT", description: "")
        XCTAssertEqual(m.language, "mul")
        XCTAssertEqual(m.languages, ["de", "fr"])
    }

    func testExpertFromRegistryRunsOnItsBase() throws {
        let golden = try Self.golden
        let reg = try Registry(root: tmp.appendingPathComponent("registry"), create: true)
        let (baseDigest, _) = try reg.importBase(folder: try tinyBaseFolder(), name: "tiny", version: "1.0.0")
        _ = try reg.importPEFT(folder: golden, languages: ["fr"], name: "fr-tiny", version: "1.0.0",
                               base: nil, license: "MIT", description: "")
        let resolver = ModelSourceResolver(registryPath: reg.root)
        let (ckpt, origin) = try resolver.checkpoint("tiny")
        XCTAssertEqual(origin, baseDigest.description)
        let e = try XCTUnwrap(resolver.experts("fr-tiny", base: ckpt, baseOrigin: origin).first)
        XCTAssertEqual(e.language, "fr")
        // Scales resolved with the stored pattern order equal PEFT's (peft_tiny.json records them).
        let goldenWeights = try PEFTAdapter.load(folder: golden).weights
        for (k, p) in goldenWeights.modules { XCTAssertEqual(e.weights.modules[k]?.scale, p.scale, k) }
        // An expert for another base is refused.
        XCTAssertThrowsError(try resolver.experts("fr-tiny", base: ckpt, baseOrigin: "sha256:" + String(repeating: "0", count: 64)))
    }
}
