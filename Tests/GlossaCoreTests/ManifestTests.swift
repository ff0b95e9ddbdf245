import Foundation
import XCTest
@testable import GlossaCore

final class ManifestTests: XCTestCase {
    typealias E = ManifestExamples

    func testEveryKindRoundTripsThroughCanonicalBytes() throws {
        for m in E.all {
            let bytes = try ManifestCoding.canonicalBytes(m)
            let back = try ManifestCoding.decode(from: bytes)
            XCTAssertEqual(back, m, "\(m.kind)")
            // Canonical: re-encoding gives the same bytes, hence the same digest.
            XCTAssertEqual(try ManifestCoding.canonicalBytes(back), bytes, "\(m.kind)")
            let text = String(decoding: bytes, as: UTF8.self)
            XCTAssertFalse(text.contains("\n") || text.contains(": ") || text.contains(", "), "no whitespace: \(text.prefix(80))")
            XCTAssertTrue(text.hasPrefix("{"))
        }
    }

    func testCanonicalKeysAreSortedAtEveryLevel() throws {
        let bytes = try ManifestCoding.canonicalBytes(E.expert)
        let text = String(decoding: bytes, as: UTF8.self)
        // Top level: base < description < kind < language < license < lora < metrics < name ...
        let order = ["\"base\"", "\"description\"", "\"kind\"", "\"language\"", "\"license\"", "\"lora\"", "\"metrics\"", "\"name\"",
                     "\"parents\"", "\"provenance\"", "\"schema_version\"", "\"tensors\"", "\"version\""]
        let positions = order.map { text.range(of: $0)!.lowerBound }
        XCTAssertEqual(positions, positions.sorted())
        XCTAssertTrue(text.contains("\"alpha\":8,\"alpha_pattern\":{},\"rank\":4"), text)
    }

    func testDigestIsSHA256OfCanonicalBytes() throws {
        let bytes = try ManifestCoding.canonicalBytes(E.bundle)
        XCTAssertEqual(try ManifestCoding.digest(of: E.bundle), Digest(of: bytes))
        var other = E.bundle
        other.description = "changed"
        XCTAssertNotEqual(try ManifestCoding.digest(of: other), Digest(of: bytes))
    }

    func testReferencesAndLineage() {
        XCTAssertEqual(E.expert.blobReferences, [E.d("5"), E.d("6")])
        XCTAssertEqual(E.expert.lineage, [ArtifactEdge(relation: "base", target: E.d("a")), ArtifactEdge(relation: "parent", target: E.d("b"))])
        XCTAssertEqual(E.base.blobReferences, [E.d("1"), E.d("2"), E.d("3")])
        XCTAssertEqual(E.bundle.blobReferences, [E.d("1"), E.d("3"), E.d("5"), E.d("6"), E.d("8")])
        XCTAssertEqual(E.evalReport.blobReferences, [E.d("9")])
        XCTAssertEqual(AnyManifest.expert(E.expert).languages, ["de"])
    }

    /// Mutates the JSON of a valid manifest and checks the decoder refuses it, naming `field`.
    private func assertRejected(_ m: AnyManifest, field: String, file: StaticString = #filePath, line: UInt = #line,
                                _ mutate: (inout [String: Any]) -> Void) throws {
        var obj = try JSONSerialization.jsonObject(with: Data(try ManifestCoding.canonicalBytes(m))) as! [String: Any]
        mutate(&obj)
        let bytes = try JSONSerialization.data(withJSONObject: obj)
        XCTAssertThrowsError(try ManifestCoding.decode(from: bytes), file: file, line: line) { error in
            guard let e = error as? ManifestError else { return XCTFail("not a ManifestError: \(error)", file: file, line: line) }
            XCTAssertEqual(e.field, field, "\(e)", file: file, line: line)
            XCTAssertTrue(e.description.contains("'\(field)'"), e.description, file: file, line: line)
        }
    }

    func testBadDocumentsAreRejectedNamingTheField() throws {
        let ex = AnyManifest.expert(E.expert)
        try assertRejected(ex, field: "name") { $0["name"] = "../etc" }
        try assertRejected(ex, field: "name") { $0["name"] = "De" }
        try assertRejected(ex, field: "version") { $0["version"] = "1.0" }
        try assertRejected(ex, field: "version") { $0["version"] = "01.0.0" }
        try assertRejected(ex, field: "language") { $0["language"] = "xx" }
        try assertRejected(ex, field: "language") { $0.removeValue(forKey: "language") }
        try assertRejected(ex, field: "base") { $0["base"] = "sha256:abc" }
        try assertRejected(ex, field: "lora.rank") { var l = $0["lora"] as! [String: Any]; l["rank"] = 0; $0["lora"] = l }
        try assertRejected(ex, field: "provenance.created") { var p = $0["provenance"] as! [String: Any]; p["created"] = "yesterday"; $0["provenance"] = p }
        try assertRejected(ex, field: "tensors.model.decoder.layers.0.self_attn.q_proj.b.shape") {
            var t = $0["tensors"] as! [String: Any]
            var pair = t["model.decoder.layers.0.self_attn.q_proj"] as! [String: Any]
            var b = pair["b"] as! [String: Any]; b["shape"] = [8, 5]; pair["b"] = b
            t["model.decoder.layers.0.self_attn.q_proj"] = pair; $0["tensors"] = t
        }
        try assertRejected(ex, field: "schema_version") { $0["schema_version"] = 99 }
        try assertRejected(ex, field: "kind") { $0["kind"] = "widget" }
        try assertRejected(ex, field: "licence") { $0["licence"] = "MIT" }
        let mul = AnyManifest.expert(E.multilingual)
        try assertRejected(mul, field: "languages") { $0.removeValue(forKey: "languages") }
        try assertRejected(mul, field: "languages") { $0["languages"] = ["fr"] }
        try assertRejected(mul, field: "languages") { $0["languages"] = ["fr", "de"] }
        try assertRejected(mul, field: "languages[1]") { $0["languages"] = ["de", "xx"] }
        try assertRejected(ex, field: "languages") { $0["languages"] = ["de", "fr"] }
        XCTAssertEqual(AnyManifest.expert(E.multilingual).languages, ["mul", "de", "fr", "nl", "pl"])
        XCTAssertEqual(E.multilingual.coveredLanguages, ["de", "fr", "nl", "pl"])
        XCTAssertEqual(E.expert.coveredLanguages, ["de"])
        try assertRejected(.bundle(E.bundle), field: "files") { $0["files"] = ["../x": ["digest": E.d("8").description, "size": 1, "media_type": "a/b"]] }
        try assertRejected(.bundle(E.bundle), field: "routing.mode") { $0["routing"] = ["mode": "random", "languages": [:]] }
        try assertRejected(.bundle(E.bundle), field: "routing.languages") { $0["routing"] = ["mode": "language", "languages": ["de": E.d("c").description]] }
        try assertRejected(.bundle(E.bundle), field: "routing.languages.fr") {
            $0["routing"] = ["mode": "language", "languages": ["de": E.d("c").description, "fr": E.d("c").description]]
        }
        try assertRejected(.bundle(E.bundle), field: "languages") { $0["languages"] = ["de", "fr", "nl"] }
        try assertRejected(.composite(E.composite), field: "languages") { $0["languages"] = ["fr", "de"] }
        try assertRejected(.base(E.base), field: "config.d_model") { var c = $0["config"] as! [String: Any]; c["d_model"] = 0; $0["config"] = c }
        try assertRejected(.evalReport(E.evalReport), field: "summary") { $0["summary"] = "good" }
        XCTAssertThrowsError(try ManifestCoding.decode(from: Array("[1]".utf8)))
        XCTAssertThrowsError(try ManifestCoding.decode(ExpertManifest.self, from: try ManifestCoding.canonicalBytes(E.bundle)))
    }

    func testNamesVersionsLanguages() {
        for good in ["de", "whisper-base", "de.v2_final", "0a"] { XCTAssertTrue(ArtifactName.isValid(good), good) }
        for bad in ["", "..", "a..b", "a/b", "De", "-x", ".x", "a b", "é", String(repeating: "a", count: 129)] {
            XCTAssertFalse(ArtifactName.isValid(bad), bad)
        }
        XCTAssertNil(ArtifactName.problem(withRelativePath: "weights/base.safetensors"))
        for bad in ["/abs", "a/../b", "..", "a//b", "a\\b", ""] { XCTAssertNotNil(ArtifactName.problem(withRelativePath: bad), bad) }

        // semver.org precedence example, in order.
        let chain = ["1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "1.0.1", "1.2.0", "2.0.0", "10.0.0"]
        let parsed = chain.map { SemanticVersion($0)! }
        XCTAssertEqual(parsed.shuffled().sorted().map(\.description), chain)
        for bad in ["1", "1.0", "1.0.0.0", "01.0.0", "1.0.0-", "1.0.0-01", "v1.0.0", "1.0.0+", "a.b.c"] { XCTAssertNil(SemanticVersion(bad), bad) }

        XCTAssertEqual(WhisperLanguage.codes.count, 100)
        XCTAssertEqual(WhisperLanguage.all.count, 100)
        for l in ["en", "de", "haw", "yue", "jw"] { XCTAssertTrue(WhisperLanguage.isValid(l)) }
        for l in ["EN", "xx", "en-US", ""] { XCTAssertFalse(WhisperLanguage.isValid(l)) }

        XCTAssertNil(RFC3339.problem(with: "2026-11-28T02:00:00.123+01:00"))
        for bad in ["2026-11-28", "2026-13-28T02:00:00Z", "2026-11-28T02:00:00", "2026-11-28T02:00:00Zjunk"] { XCTAssertNotNil(RFC3339.problem(with: bad), bad) }
    }

    /// The language list must match the language tokens of the real tokenizer, when present.
    func testLanguagesMatchWhisperBaseTokenizer() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let dir = ProcessInfo.processInfo.environment["GLOSSA_TEST_MODEL_DIR"].map { URL(fileURLWithPath: $0) }
            ?? root.appendingPathComponent("models/whisper-base-ct2")
        guard let data = try? Data(contentsOf: dir.appendingPathComponent("tokenizer.json")) else {
            throw Peer.missing("whisper-base not found at \(dir.path); run scripts/fetch-whisper-base.sh")
        }
        let obj = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        let added = (obj["added_tokens"] as! [[String: Any]]).compactMap { $0["content"] as? String }
        let langs = added.filter { $0.hasPrefix("<|") && $0.hasSuffix("|>") }.map { String($0.dropFirst(2).dropLast(2)) }
            .filter { WhisperLanguage.isValid($0) || ($0.count <= 3 && $0.allSatisfy(\.isLowercase)) }
        XCTAssertEqual(langs, Array(WhisperLanguage.codes.prefix(99)))
    }

    /// Every example validates against its JSON Schema with Python `jsonschema`, and a
    /// broken one does not (so the schemas are not vacuous).
    func testExamplesValidateAgainstJSONSchemasWithPython() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("glossa-schema-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        var cases: [[String]] = []
        for (i, m) in E.all.enumerated() {
            let good = dir.appendingPathComponent("good\(i).json")
            try Data(try ManifestCoding.canonicalBytes(m)).write(to: good)
            var obj = try JSONSerialization.jsonObject(with: Data(try ManifestCoding.canonicalBytes(m))) as! [String: Any]
            obj["schema_version"] = "one"
            let bad = dir.appendingPathComponent("bad\(i).json")
            try JSONSerialization.data(withJSONObject: obj).write(to: bad)
            let schema = root.appendingPathComponent("schemas/" + E.schemaFile(m.kind)).path
            cases.append([schema, good.path, "1"]); cases.append([schema, bad.path, "0"])
        }
        let script = """
        import json, sys, jsonschema
        ok = True
        for schema, doc, expect in json.load(open(sys.argv[1])):
            s = json.load(open(schema)); jsonschema.Draft202012Validator.check_schema(s)
            errs = list(jsonschema.Draft202012Validator(s).iter_errors(json.load(open(doc))))
            if (not errs) != (expect == "1"):
                ok = False; print("MISMATCH", schema, doc, [e.message for e in errs])
        print("OK" if ok else "FAIL")
        """
        let casesFile = dir.appendingPathComponent("cases.json")
        try JSONSerialization.data(withJSONObject: cases).write(to: casesFile)
        let p = Process()
        p.executableURL = try Peer.python(importing: ["jsonschema"])
        p.arguments = ["-c", script, casesFile.path]
        let out = Pipe(); p.standardOutput = out; p.standardError = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertTrue(text.hasSuffix("OK\n"), text)
    }
}

/// Portable bases (issue 11, item 16): a base's identity by content.
final class BaseWeightsDigestTests: XCTestCase {
    typealias E = ManifestExamples

    func testWeightsDigestIgnoresNameVersionDescriptionSourceAndTime() throws {
        var other = E.base
        other.name = "whisper-base-copy"; other.version = "2.0.0"; other.description = "our copy"; other.created = nil
        other.source = .init(format: "huggingface", digest: E.d("e"))
        XCTAssertNotEqual(try ManifestCoding.digest(of: other), try ManifestCoding.digest(of: E.base))
        XCTAssertEqual(other.weightsDigest, E.base.weightsDigest)
        // Not a manifest digest of anything: tagged, so it cannot collide with one.
        XCTAssertNotEqual(E.base.weightsDigest, try ManifestCoding.digest(of: E.base))
    }

    func testWeightsDigestCoversEveryTensorTheConfigAndTheTokenizer() {
        func changed(_ edit: (inout BaseManifest) -> Void) -> Digest { var b = E.base; edit(&b); return b.weightsDigest }
        let w = E.base.weightsDigest
        let name = E.base.tensors.keys.sorted()[0]
        XCTAssertNotEqual(changed { $0.tensors[name]!.digest = E.d("d") }, w)
        XCTAssertNotEqual(changed { $0.tensors[name]!.dtype = .f32 }, w)
        XCTAssertNotEqual(changed { $0.tensors[name]!.shape = [1] }, w)
        XCTAssertNotEqual(changed { $0.tensors["renamed"] = $0.tensors.removeValue(forKey: name) }, w)
        XCTAssertNotEqual(changed { $0.tokenizer = E.d("d") }, w)
        XCTAssertNotEqual(changed { $0.config.vocabSize += 1 }, w)
    }

    /// Manifests written before: a base with `created`, an expert without `base_weights`. They
    /// decode, keep their bytes (so their digests), and are told apart from new ones.
    func testOldManifestsDecodeWithTheirDigestsAndNewFieldsAreOptional() throws {
        let oldBase = try ManifestCoding.canonicalBytes(E.base)
        XCTAssertTrue(String(decoding: oldBase, as: UTF8.self).contains("\"created\""))
        guard case .base(let b) = try ManifestCoding.decode(from: oldBase) else { return XCTFail("not a base") }
        XCTAssertEqual(b.created, E.created)
        XCTAssertEqual(try ManifestCoding.canonicalBytes(b), oldBase)
        let newBase = String(decoding: try ManifestCoding.canonicalBytes(E.deterministicBase), as: UTF8.self)
        XCTAssertFalse(newBase.contains("\"created\""), newBase)

        let oldExpert = try ManifestCoding.canonicalBytes(E.expert)
        XCTAssertFalse(String(decoding: oldExpert, as: UTF8.self).contains("base_weights"))
        XCTAssertNil(AnyManifest.expert(try ManifestCoding.decode(ExpertManifest.self, from: oldExpert)).baseWeights)
        let pinned = try ManifestCoding.canonicalBytes(E.pinnedExpert)
        XCTAssertTrue(String(decoding: pinned, as: UTF8.self).contains("\"base_weights\":\"\(E.base.weightsDigest)\""))
        XCTAssertEqual(try ManifestCoding.decode(ExpertManifest.self, from: pinned).baseWeights, E.base.weightsDigest)
    }
}
