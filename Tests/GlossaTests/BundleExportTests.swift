import Foundation
import GlossaCore
import OCI
import TensorIO
import XCTest
@testable import Glossa
import WhisperTesting

/// `glossa export` on a tiny registry: the OCI layout, atomic writes and refusals, damage
/// named by blob, signatures over the manifest, and real OCI clients (skopeo) reading it.
final class BundleExportTests: XCTestCase {
    var tmp: URL!
    var reg: Registry!
    override func setUpWithError() throws {
        tmp = FileManager.default.temporaryDirectory.appendingPathComponent("glossa-bundle-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: tmp.appendingPathComponent("out"), withIntermediateDirectories: true)
        reg = try BundleTestSupport.registry(in: tmp)
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: tmp) }

    func out(_ name: String) -> String { tmp.appendingPathComponent("out/" + name).path }

    func testFolderLayoutPinsRegistryTensorsAndVerifiesClean() throws {
        let r = try reg.exportBundle(BundleExportRequest(adapters: ["fr-tiny", "de-tiny"]), to: out("b"))
        XCTAssertEqual(r.languages, ["de", "fr"])
        XCTAssertEqual(r.routing, "language")
        let fm = FileManager.default
        XCTAssertEqual(try String(contentsOfFile: out("b/oci-layout")), BundleLayout.layoutJSON)
        XCTAssertTrue(fm.fileExists(atPath: out("b/index.json")))
        let reader = try BundleReader(path: out("b"))
        XCTAssertEqual(reader.manifestDigest.description, r.digest)
        XCTAssertEqual(reader.ociDigest.description, r.ociDigest)
        let m = reader.manifest
        // Adapters ship bit-identical to the registry: same tensor digests, same scales.
        let (fr, frWeights, frDigest) = try reg.loadExpert("fr-tiny")
        let a = try XCTUnwrap(m.adapters.first { $0.name == "fr-tiny" })
        XCTAssertEqual(a.digest, frDigest)
        XCTAssertEqual(a.tensors, fr.tensors)
        XCTAssertEqual(a.kind, .expert)
        XCTAssertEqual(a.lineage.first, ArtifactEdge(relation: "base", target: fr.base))
        for (module, pair) in frWeights.modules { XCTAssertEqual(a.scales[module], pair.scale, module) }
        XCTAssertEqual(m.routing.languages, ["fr": frDigest, "de": try reg.resolve("de-tiny")])
        // f16 by default: every float base tensor halved.
        XCTAssertEqual(Set(m.model.tensors.values.map(\.dtype)), [.f16])
        XCTAssertEqual(m.base, try reg.resolve("tiny"))
        // Every blob the manifest names is a layer of the OCI manifest, and the manifest is layer 0.
        XCTAssertTrue(Set(m.blobReferences).isSubset(of: Set(reader.ociManifest.layers.map(\.digest))))
        XCTAssertEqual(reader.ociManifest.layers[0].mediaType, BundleLayout.manifestMediaType)
        let report = try Bundles.verify(path: out("b"), keyPath: nil)
        XCTAssertEqual(report.status, "clean", "\(report.problems)")
        XCTAssertEqual(report.signature, "unsigned")
        try BundleTestSupport.assertMatchesSchema(out("b"))
        // No staging folders are left beside the bundle.
        XCTAssertEqual(BundleTestSupport.entries(tmp.appendingPathComponent("out")), ["b"])
        // inspect: languages, routing, sizes and lineage.
        let i = try Bundles.inspect(path: out("b"))
        XCTAssertEqual(i.routes, ["de": "de-tiny:1.0.0", "fr": "fr-tiny:1.0.0"])
        XCTAssertEqual(i.adapters.map(\.name).sorted(), ["de-tiny", "fr-tiny"])
        XCTAssertGreaterThan(i.baseBytes, 0)
        XCTAssertEqual(i.baseDTypes, ["F16"])
        XCTAssertNil(i.signature)
    }

    func testLanguagesRoutingAllAndDTypeChoices() throws {
        let r = try reg.exportBundle(BundleExportRequest(adapters: ["fr-tiny", "de-tiny"], routing: .all, dtype: .f32, languages: ["fr"]),
                                     to: out("fr"))
        XCTAssertEqual(r.languages, ["fr"])
        XCTAssertEqual(r.adapters, ["fr-tiny:1.0.0"])
        let m = try BundleReader(path: out("fr")).manifest
        XCTAssertEqual(m.routing, .init(mode: "all"))
        // f32 kept: the base tensors are the registry's own blobs.
        guard case .base(let base) = try reg.manifest(try reg.resolve("tiny")) else { return XCTFail() }
        XCTAssertEqual(m.model.tensors, base.tensors)
        XCTAssertEqual(m.model.tokenizer, base.tokenizer)
    }

    /// A composite is one more adapter entry with its recipe and lineage; a routed composite
    /// ships its shared part and per-language residuals as entries with roles.
    func testCompositesBecomeAdapterEntriesWithLineage() throws {
        let (fr, _, frDigest) = try reg.loadExpert("fr-tiny")
        let (de, _, deDigest) = try reg.loadExpert("de-tiny")
        let provenance = Provenance(toolVersion: "glossa test", created: "2026-11-29T00:00:00Z")
        let fused = CompositeManifest(name: "fr-de-cat", version: "1.0.0", languages: ["de", "fr"], base: fr.base,
                                      recipe: .init(method: "cat"), inputs: [frDigest, deDigest], lora: fr.lora, tensors: fr.tensors,
                                      provenance: provenance)
        let fusedDigest = try reg.store.publish(fused)
        let routed = CompositeManifest(name: "fr-de-shared", version: "1.0.0", languages: ["de", "fr"], base: fr.base,
                                       recipe: .init(method: "shared"), inputs: [frDigest, deDigest], lora: fr.lora, tensors: fr.tensors,
                                       routes: ["de": .init(lora: de.lora, tensors: de.tensors), "fr": .init(lora: fr.lora, tensors: fr.tensors)],
                                       provenance: provenance)
        let routedDigest = try reg.store.publish(routed)

        _ = try reg.exportBundle(BundleExportRequest(adapters: ["fr-de-cat"]), to: out("fused"))
        let m = try BundleReader(path: out("fused")).manifest
        XCTAssertEqual(m.adapters.count, 1)
        let a = m.adapters[0]
        XCTAssertEqual(a.kind, .composite)
        XCTAssertEqual(a.role, "expert")
        XCTAssertEqual(a.recipe, "cat")
        XCTAssertEqual(a.digest, fusedDigest)
        XCTAssertEqual(a.lineage, [ArtifactEdge(relation: "base", target: fr.base), ArtifactEdge(relation: "input", target: frDigest),
                                   ArtifactEdge(relation: "input", target: deDigest)])
        XCTAssertEqual(m.routing.languages, ["de": fusedDigest, "fr": fusedDigest])
        XCTAssertEqual(m.lineage.map(\.relation), ["base", "composite"])
        let loaded = try LoadedBundle(path: out("fused"))
        XCTAssertEqual(loaded.experts.map(\.language), ["mul"])
        XCTAssertEqual(loaded.experts.map(\.languages), [["de", "fr"]])

        // Routed by language or not, the residuals route by language and the shared part always applies.
        _ = try reg.exportBundle(BundleExportRequest(adapters: ["fr-de-shared"], routing: .all), to: out("routed"))
        let r = try BundleReader(path: out("routed")).manifest
        XCTAssertEqual(r.adapters.map(\.role), ["shared", "residual", "residual"])
        XCTAssertEqual(r.adapters.map(\.label), ["fr-de-shared:1.0.0/shared", "fr-de-shared:1.0.0/de", "fr-de-shared:1.0.0/fr"])
        XCTAssertEqual(Set(r.adapters.map(\.digest)), [routedDigest])
        XCTAssertEqual(r.routing, .init(mode: "all", languages: ["de": routedDigest, "fr": routedDigest]))
        XCTAssertEqual(r.routedAdapter(for: "fr")?.tensors, fr.tensors)
        XCTAssertEqual(try Bundles.inspect(path: out("routed")).routes, ["de": "fr-de-shared:1.0.0/de", "fr": "fr-de-shared:1.0.0/fr"])
        XCTAssertEqual(try LoadedBundle(path: out("routed")).experts.map(\.role), [.shared, .languageResidual, .languageResidual])
        try BundleTestSupport.assertMatchesSchema(out("routed"))
        try BundleTestSupport.assertMatchesSchema(out("fused"))
        // --languages keeps the shared part and only that language's residual.
        _ = try reg.exportBundle(BundleExportRequest(adapters: ["fr-de-shared"], languages: ["fr"]), to: out("routed-fr"))
        XCTAssertEqual(try BundleReader(path: out("routed-fr")).manifest.adapters.map(\.label), ["fr-de-shared:1.0.0/shared", "fr-de-shared:1.0.0/fr"])

        // A fused composite and an expert both serving fr cannot be routed by language.
        XCTAssertThrowsError(try reg.exportBundle(BundleExportRequest(adapters: ["fr-de-cat", "fr-tiny"]), to: out("x"))) { e in
            XCTAssertTrue("\(e)".contains("two adapters serve"), "\(e)")
        }
        // ... but they can all apply together.
        XCTAssertNoThrow(try reg.exportBundle(BundleExportRequest(adapters: ["fr-de-cat", "fr-tiny"], routing: .all), to: out("x")))
    }

    func testRefusalsLeaveNothingBehind() throws {
        let outDir = tmp.appendingPathComponent("out")
        func refused(_ req: BundleExportRequest, _ path: String, _ category: GlossaError.Category, _ text: String,
                     file: StaticString = #filePath, line: UInt = #line) {
            XCTAssertThrowsError(try reg.exportBundle(req, to: path), file: file, line: line) { e in
                let g = e as! GlossaError
                XCTAssertEqual(g.category, category, g.message, file: file, line: line)
                XCTAssertTrue(g.message.contains(text), g.message, file: file, line: line)
            }
        }
        refused(BundleExportRequest(adapters: ["nope"]), out("x"), .notFound, "nope")
        refused(BundleExportRequest(adapters: ["fr-tiny"], languages: ["fr", "nl"]), out("x"), .invalidInput, "no expert serves nl")
        refused(BundleExportRequest(adapters: ["tiny"]), out("x"), .invalidInput, "not an expert or composite")
        refused(BundleExportRequest(adapters: ["fr-tiny"], name: "Bad Name"), out("x"), .invalidInput, "--name")
        refused(BundleExportRequest(adapters: ["fr-tiny"], version: "1.0"), out("x"), .invalidInput, "semantic version")
        refused(BundleExportRequest(adapters: ["fr-tiny", "fr-tiny:1.0.0"]), out("x"), .invalidInput, "fr-tiny:1.0.0 twice")
        XCTAssertEqual(BundleTestSupport.entries(outDir), [])

        // An expert made for another base (same shapes, other weights).
        let otherBase = tmp.appendingPathComponent("other-base")
        try HuggingFaceWhisper.write(TinyWhisper.make(seed: 9, tokenizerJSON: try BundleTestSupport.realTokenizer()), to: otherBase)
        _ = try reg.importBase(folder: otherBase, name: "tiny-other", version: "1.0.0")
        refused(BundleExportRequest(adapters: ["fr-tiny"], base: "tiny-other"), out("x"), .invalidInput, "was made for base")

        // An existing output is refused, and left as it was; --force replaces it atomically.
        let first = try reg.exportBundle(BundleExportRequest(adapters: ["fr-tiny"]), to: out("b.tar"))
        let before = try Data(contentsOf: URL(fileURLWithPath: out("b.tar")))
        refused(BundleExportRequest(adapters: ["de-tiny"]), out("b.tar"), .invalidInput, "--force")
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: out("b.tar"))), before)
        let second = try reg.exportBundle(BundleExportRequest(adapters: ["de-tiny"], force: true), to: out("b.tar"))
        XCTAssertNotEqual(first.digest, second.digest)
        XCTAssertEqual(try BundleReader(path: out("b.tar")).manifest.languages, ["de"])
        _ = try reg.exportBundle(BundleExportRequest(adapters: ["fr-tiny"]), to: out("dir"))
        _ = try reg.exportBundle(BundleExportRequest(adapters: ["de-tiny"], force: true), to: out("dir"))
        XCTAssertEqual(try BundleReader(path: out("dir")).manifest.languages, ["de"])
        XCTAssertEqual(BundleTestSupport.entries(outDir), ["b.tar", "dir"])
    }

    func testDamageIsNamedByBlob() throws {
        let r = try reg.exportBundle(BundleExportRequest(adapters: ["fr-tiny"]), to: out("b"))
        let m = try BundleReader(path: out("b")).manifest
        let (module, pair) = m.adapters[0].tensors.min { $0.key < $1.key }!
        let victim = out("b/" + BundleLayout.blobPath(pair.a.digest))
        var bytes = try Data(contentsOf: URL(fileURLWithPath: victim))
        bytes[0] ^= 0x01
        try bytes.write(to: URL(fileURLWithPath: victim))
        let report = try Bundles.verify(path: out("b"), keyPath: nil)
        XCTAssertEqual(report.status, "damaged")
        XCTAssertEqual(report.problems.count, 1, "\(report.problems)")
        XCTAssertTrue(report.problems[0].contains(pair.a.digest.description) && report.problems[0].contains("\(module).lora_A"), report.problems[0])
        XCTAssertThrowsError(try LoadedBundle(path: out("b"))) { e in
            XCTAssertTrue("\(e)".contains(pair.a.digest.description) && "\(e)".contains("altered"), "\(e)")
        }
        // A missing base tensor is named too.
        let (name, t) = m.model.tensors.min { $0.key < $1.key }!
        try FileManager.default.removeItem(atPath: out("b/" + BundleLayout.blobPath(t.digest)))
        XCTAssertThrowsError(try LoadedBundle(path: out("b"))) { e in
            XCTAssertEqual((e as? GlossaError)?.category, .notFound)
            XCTAssertTrue("\(e)".contains(t.digest.description) && "\(e)".contains(name) && "\(e)".contains("missing"), "\(e)")
        }
        XCTAssertEqual(try Bundles.verify(path: out("b"), keyPath: nil).problems.count, 2)
        _ = r

        // A truncated .tar is damaged, not a crash.
        _ = try reg.exportBundle(BundleExportRequest(adapters: ["fr-tiny"]), to: out("t.tar"))
        let tar = try Data(contentsOf: URL(fileURLWithPath: out("t.tar")))
        try tar.prefix(tar.count / 2).write(to: URL(fileURLWithPath: out("cut.tar")))
        let cut = try Bundles.verify(path: out("cut.tar"), keyPath: nil)
        XCTAssertEqual(cut.status, "damaged")
        XCTAssertTrue(cut.problems[0].contains("truncated"), "\(cut.problems)")
        XCTAssertThrowsError(try LoadedBundle(path: out("cut.tar")))
    }

    func testSignedBundleVerifiesWithItsKeyOnly() throws {
        let (secret, pub, _) = try Signing.generateKeyPair(out: tmp.appendingPathComponent("k").path, force: false)
        let (_, otherPub, _) = try Signing.generateKeyPair(out: tmp.appendingPathComponent("other").path, force: false)
        let key = try Signing.secretKey(secret.path)
        let r = try reg.exportBundle(BundleExportRequest(adapters: ["fr-tiny"], signingKey: key), to: out("s.tar"))
        XCTAssertEqual(r.signedBy, key.publicKey.keyIDText)
        XCTAssertEqual(try Bundles.verify(path: out("s.tar"), keyPath: pub.path).signature, "good (key \(key.publicKey.keyIDText))")
        XCTAssertTrue(try Bundles.verify(path: out("s.tar"), keyPath: nil).signature.contains("not checked"))
        let wrong = try Bundles.verify(path: out("s.tar"), keyPath: otherPub.path)
        XCTAssertEqual(wrong.status, "damaged")
        XCTAssertTrue(wrong.problems.joined().contains("matching .pub"), "\(wrong.problems)")
        XCTAssertNoThrow(try LoadedBundle(path: out("s.tar"), key: try Signing.publicKey(pub.path)))
        XCTAssertThrowsError(try LoadedBundle(path: out("s.tar"), key: try Signing.publicKey(otherPub.path)))

        // Unsigned, then signed in place: the signature covers the same manifest digest.
        let u = try reg.exportBundle(BundleExportRequest(adapters: ["fr-tiny"]), to: out("u"))
        let unsigned = try Bundles.verify(path: out("u"), keyPath: pub.path)
        XCTAssertEqual(unsigned.status, "damaged")
        XCTAssertTrue(unsigned.problems.joined().contains("is not signed"), "\(unsigned.problems)")
        XCTAssertEqual(try Bundles.sign(path: out("u"), keyPath: secret.path).manifestDigest, u.digest)
        XCTAssertEqual(try Bundles.verify(path: out("u"), keyPath: pub.path).status, "clean")
        // Re-signing replaces the signature; the old OCI manifest blob is gone, nothing else changed.
        let blobsBefore = BundleTestSupport.entries(URL(fileURLWithPath: out("u/blobs/sha256")))
        _ = try Bundles.sign(path: out("u"), keyPath: secret.path)
        XCTAssertEqual(try Bundles.verify(path: out("u"), keyPath: pub.path).status, "clean")
        XCTAssertEqual(BundleTestSupport.entries(URL(fileURLWithPath: out("u/blobs/sha256"))).count, blobsBefore.count)

        // A manifest changed after signing no longer verifies, even with its digests rewritten.
        let reader = try BundleReader(path: out("u"))
        let sig = try XCTUnwrap(reader.signature)
        var tampered = reader.manifest
        tampered.description = "not what was signed"
        XCTAssertThrowsError(try sig.verify(try ManifestCoding.canonicalBytes(tampered), with: try Signing.publicKey(pub.path), subject: "m"))
    }

    /// Debian's minisign verifies the bundle signature over the manifest blob as it lies in the layout.
    func testMinisignVerifiesTheBundleSignature() throws {
        let minisign = try BundleTestSupport.requireTool("/usr/bin/minisign")
        let (secret, pub, _) = try Signing.generateKeyPair(out: tmp.appendingPathComponent("k").path, force: false)
        _ = try reg.exportBundle(BundleExportRequest(adapters: ["fr-tiny"], signingKey: try Signing.secretKey(secret.path)), to: out("s"))
        let reader = try BundleReader(path: out("s"))
        let sigLayer = try XCTUnwrap(reader.ociManifest.layers.first { $0.mediaType == BundleLayout.signatureMediaType })
        let v = try BundleTestSupport.run(minisign, ["-V", "-p", pub.path, "-m", out("s/" + BundleLayout.blobPath(reader.manifestDigest)),
                                                     "-x", out("s/" + BundleLayout.blobPath(sigLayer.digest))])
        XCTAssertEqual(v.status, 0, v.stdout + v.stderr)
    }

    /// skopeo reads both forms: `oci:` for the folder and `oci-archive:` for the .tar, and
    /// copies the folder to another layout with every blob intact.
    func testSkopeoInspectsAndCopiesTheLayout() throws {
        let skopeo = try BundleTestSupport.requireTool("/usr/bin/skopeo")
        let r = try reg.exportBundle(BundleExportRequest(adapters: ["fr-tiny", "de-tiny"]), to: out("b"))
        let i = try BundleTestSupport.run(skopeo, ["inspect", "oci:" + out("b")])
        XCTAssertEqual(i.status, 0, i.stderr)
        let json = try JSONSerialization.jsonObject(with: Data(i.stdout.utf8)) as! [String: Any]
        XCTAssertEqual(json["Digest"] as? String, r.ociDigest)
        XCTAssertEqual((json["Labels"] as? [String: String])?["org.glossa.artifact.digest"], r.digest)
        let raw = try BundleTestSupport.run(skopeo, ["inspect", "--raw", "oci:" + out("b") + ":1.0.0"])
        XCTAssertEqual(raw.status, 0, raw.stderr)
        XCTAssertTrue(raw.stdout.contains(BundleLayout.manifestMediaType), raw.stdout)

        let t = try reg.exportBundle(BundleExportRequest(adapters: ["fr-tiny"]), to: out("t.tar"))
        let a = try BundleTestSupport.run(skopeo, ["inspect", "oci-archive:" + out("t.tar")])
        XCTAssertEqual(a.status, 0, a.stderr)
        XCTAssertTrue(a.stdout.contains(t.ociDigest), a.stdout)

        let c = try BundleTestSupport.run(skopeo, ["copy", "oci:" + out("b") + ":1.0.0", "oci:" + out("copy") + ":1.0.0"])
        XCTAssertEqual(c.status, 0, c.stderr)
        XCTAssertEqual(try Bundles.verify(path: out("copy"), keyPath: nil).status, "clean")
        XCTAssertEqual(try BundleReader(path: out("copy")).manifestDigest.description, r.digest)
        // A .tar written by skopeo (its own tar layout) loads and verifies too.
        let archived = try BundleTestSupport.run(skopeo, ["copy", "oci:" + out("b") + ":1.0.0", "oci-archive:" + out("skopeo.tar")])
        XCTAssertEqual(archived.status, 0, archived.stderr)
        XCTAssertEqual(try Bundles.verify(path: out("skopeo.tar"), keyPath: nil).status, "clean")
        XCTAssertEqual(try LoadedBundle(path: out("skopeo.tar")).reader.manifestDigest.description, r.digest)
    }
}
