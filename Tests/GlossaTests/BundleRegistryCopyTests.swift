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
