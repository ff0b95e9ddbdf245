import Foundation
import XCTest
@testable import Glossa

/// A bundle travels through a real OCI distribution registry (Debian's docker-registry) with
/// skopeo, oras pulls it from there, and skopeo brings it back byte-identical: same OCI
/// manifest digest, same bundle digest, the signature still good.
final class BundleRegistryCopyTests: XCTestCase {
    var tmp: URL!
    override func setUpWithError() throws {
        tmp = FileManager.default.temporaryDirectory.appendingPathComponent("glossa-bundle-copy-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: tmp) }

    func registryScript(_ args: [String]) throws -> String { try runRegistryScript(args, scratch: tmp) }

    func testSkopeoCopiesABundleThroughADockerRegistry() throws {
        let skopeo = try BundleTestSupport.requireTool("/usr/bin/skopeo")
        _ = try BundleTestSupport.requireTool("/usr/bin/docker-registry")
        let reg = try BundleTestSupport.registry(in: tmp)
        let (secret, pub, _) = try Signing.generateKeyPair(out: tmp.appendingPathComponent("k").path, force: false)
        let path = tmp.appendingPathComponent("b").path
        let r = try reg.exportBundle(BundleExportRequest(adapters: ["fr-tiny", "de-tiny"], signingKey: try Signing.secretKey(secret.path)), to: path)

        let dir = tmp.appendingPathComponent("oci").path
        let host = try registryScript(["start", dir])
        defer { _ = try? registryScript(["stop", dir]) }
        let ref = "docker://\(host)/glossa/fr-de:1.0.0"
        let push = try BundleTestSupport.run(skopeo, ["copy", "--dest-tls-verify=false", "oci:\(path):1.0.0", ref])
        XCTAssertEqual(push.status, 0, push.stderr)
        let remote = try BundleTestSupport.run(skopeo, ["inspect", "--tls-verify=false", ref])
        XCTAssertEqual(remote.status, 0, remote.stderr)
        XCTAssertEqual((try JSONSerialization.jsonObject(with: Data(remote.stdout.utf8)) as? [String: Any])?["Digest"] as? String, r.ociDigest)

        // oras (the Python client) pulls it too: the manifest skopeo pushed, then the config
        // and every layer, each checked against its digest.
        let script = """
        import hashlib, oras.client, sys
        host, repo = sys.argv[1], "glossa/fr-de"
        c = oras.client.OrasClient(hostname=host, insecure=True)
        m = c.get_manifest(f"{host}/{repo}:1.0.0")
        for d in [m["config"]] + m["layers"]:
            data = c.get_blob(f"{host}/{repo}", d["digest"]).content
            assert "sha256:" + hashlib.sha256(data).hexdigest() == d["digest"] and len(data) == d["size"], d
        print(len(m["layers"]), sorted({l["mediaType"] for l in m["layers"]}))
        """
        let oras = try BundleTestSupport.run(try Peer.python(importing: ["oras"]).path, ["-c", script, host])
        XCTAssertEqual(oras.status, 0, oras.stderr)
        let ociManifest = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path)
            .appendingPathComponent("blobs/sha256/" + r.ociDigest.dropFirst("sha256:".count)))) as? [String: Any]
        let layerCount = (ociManifest?["layers"] as? [Any])?.count ?? -1
        XCTAssertTrue(oras.stdout.hasPrefix("\(layerCount) "), "oras saw \(oras.stdout), the layout has \(layerCount) layers")
        XCTAssertTrue(oras.stdout.contains(BundleLayout.manifestMediaType), oras.stdout)

        let back = tmp.appendingPathComponent("back").path
        let pull = try BundleTestSupport.run(skopeo, ["copy", "--src-tls-verify=false", ref, "oci:\(back):1.0.0"])
        XCTAssertEqual(pull.status, 0, pull.stderr)
        let report = try Bundles.verify(path: back, keyPath: pub.path)
        XCTAssertEqual(report.status, "clean", "\(report.problems)")
        XCTAssertEqual(report.digest, r.digest)
        XCTAssertEqual(try BundleReader(path: back).ociDigest.description, r.ociDigest)
    }
}

/// `glossa pull` of a bundle that skopeo copied into a registry (issue 10): it lands in an
/// empty registry as a bundle artifact under the same digests, with its signature, and
/// `glossa export NAME:VERSION` writes the same bundle back out.
extension BundleRegistryCopyTests {
    func testGlossaPullsASkopeoCopiedBundleIntoAnEmptyRegistryWithTheSameDigests() throws {
        let skopeo = try BundleTestSupport.requireTool("/usr/bin/skopeo")
        _ = try BundleTestSupport.requireTool("/usr/bin/docker-registry")
        let reg = try BundleTestSupport.registry(in: tmp)
        let (secret, pub, _) = try Signing.generateKeyPair(out: tmp.appendingPathComponent("k").path, force: false)
        let (_, otherPub, _) = try Signing.generateKeyPair(out: tmp.appendingPathComponent("other").path, force: false)
        let path = tmp.appendingPathComponent("b").path
        let r = try reg.exportBundle(BundleExportRequest(adapters: ["fr-tiny", "de-tiny"], signingKey: try Signing.secretKey(secret.path)), to: path)
        let unsigned = tmp.appendingPathComponent("u").path
        _ = try reg.exportBundle(BundleExportRequest(adapters: ["fr-tiny"], name: "fr-only"), to: unsigned)

        let dir = tmp.appendingPathComponent("oci").path
        let host = try registryScript(["start", dir])
        defer { _ = try? registryScript(["stop", dir]) }
        for (layout, repo) in [(path, "glossa/fr-de"), (unsigned, "glossa/fr-only")] {
            let push = try BundleTestSupport.run(skopeo, ["copy", "--dest-tls-verify=false", "oci:\(layout):1.0.0", "docker://\(host)/\(repo):1.0.0"])
            XCTAssertEqual(push.status, 0, push.stderr)
        }
        func glossa(_ registry: String, _ args: [String]) throws -> GlossaBinary.Run {
            try GlossaBinary.run(args, registry: tmp.appendingPathComponent(registry).path)
        }
        func object(_ run: GlossaBinary.Run) throws -> [String: Any] {
            try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any], run.stdout + run.stderr)
        }
        func isEmpty(_ registry: String) throws -> Bool {
            let listed = try glossa(registry, ["list", "--json"])
            return (try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [Any])?.isEmpty ?? false
        }

        // Into an empty registry (no base, no experts), checked against the publisher's key.
        let pull = try glossa("empty", ["pull", "oci://\(host)/glossa/fr-de:1.0.0", "--verify-key", pub.path, "--json"])
        XCTAssertEqual(pull.status, 0, pull.stderr)
        let pulled = try object(pull)
        XCTAssertEqual(pulled["artifact"] as? String, r.digest, "the bundle keeps its digest")
        XCTAssertEqual(pulled["kind"] as? String, "bundle")
        XCTAssertEqual(pulled["signatures"] as? String, "1", "the signature layer is stored as the bundle's signature")
        XCTAssertFalse((pulled["verified_key"] as? String ?? "").isEmpty)
        let show = try glossa("empty", ["show", "\(r.name):1.0.0", "--json"])
        XCTAssertEqual(show.status, 0, show.stderr)
        XCTAssertTrue(show.stdout.contains(r.digest), show.stdout)
        XCTAssertEqual(try glossa("empty", ["verify"]).status, 0, "the registry is consistent with a bundle whose base is elsewhere")
        XCTAssertEqual(try glossa("empty", ["key", "verify", "\(r.name):1.0.0", "--key", pub.path]).status, 0)
        // Pulling again imports nothing.
        let again = try glossa("empty", ["pull", "oci://\(host)/glossa/fr-de:1.0.0", "--json"])
        XCTAssertEqual(try object(again)["already_present"] as? String, "true", again.stderr)

        // Written back out: the same bundle manifest, blobs and (same signature, same layer
        // order) OCI manifest; it verifies with the key and runs without any registry.
        let back = tmp.appendingPathComponent("back").path
        let export = try glossa("empty", ["export", "\(r.name):1.0.0", "--out", back, "--json"])
        XCTAssertEqual(export.status, 0, export.stderr)
        XCTAssertEqual(try object(export)["digest"] as? String, r.digest)
        XCTAssertEqual(try object(export)["oci_digest"] as? String, r.ociDigest)
        XCTAssertEqual(BundleTestSupport.entries(URL(fileURLWithPath: back).appendingPathComponent("blobs/sha256")),
                       BundleTestSupport.entries(URL(fileURLWithPath: path).appendingPathComponent("blobs/sha256")))
        let verified = try Bundles.verify(path: back, keyPath: pub.path)
        XCTAssertEqual(verified.status, "clean", "\(verified.problems)")

        // A bundle in a registry that also holds its sources does not pin them: the expert
        // it was made from can still be removed.
        let into = tmp.appendingPathComponent("registry").path
        let pullHome = try GlossaBinary.run(["pull", "oci://\(host)/glossa/fr-de:1.0.0"], registry: into)
        XCTAssertEqual(pullHome.status, 0, pullHome.stderr)
        XCTAssertEqual(try GlossaBinary.run(["rm", "fr-tiny:1.0.0"], registry: into).status, 0)

        // Refused, with nothing imported: another key; an unsigned bundle when a key is required.
        let wrong = try glossa("wrong", ["pull", "oci://\(host)/glossa/fr-de:1.0.0", "--verify-key", otherPub.path])
        XCTAssertEqual(wrong.status, 65, wrong.stderr)
        XCTAssertTrue(wrong.stderr.contains("nothing was imported"), wrong.stderr)
        XCTAssertTrue(try isEmpty("wrong"))
        let bare = try glossa("bare", ["pull", "oci://\(host)/glossa/fr-only:1.0.0", "--verify-key", pub.path])
        XCTAssertEqual(bare.status, 65, bare.stderr)
        XCTAssertTrue(bare.stderr.contains("is not signed"), bare.stderr)
        XCTAssertTrue(try isEmpty("bare"))
    }
}
