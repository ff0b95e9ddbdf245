import Foundation
import XCTest
@testable import Glossa

/// A bundle travels through a real OCI distribution registry (Debian's docker-registry) with
/// skopeo and comes back byte-identical: same OCI manifest digest, same bundle digest, the
/// signature still good.
final class BundleRegistryCopyTests: XCTestCase {
    var tmp: URL!
    override func setUpWithError() throws {
        tmp = FileManager.default.temporaryDirectory.appendingPathComponent("glossa-bundle-copy-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: tmp) }

    /// Runs scripts/oci-test-registry.sh. It leaves docker-registry running, so it runs with
    /// posix_spawn + waitpid and output in a file (a pipe would stay open while the registry runs).
    func registryScript(_ args: [String]) throws -> String {
        let script = BundleTestSupport.root.appendingPathComponent("scripts/oci-test-registry.sh").path
        let outURL = tmp.appendingPathComponent("script-\(UUID().uuidString).out")
        let argv = ["/bin/bash", "-c", "\"$@\" > \"$0\" 2>/dev/null", outURL.path, "/bin/bash", script] + args
        let cArgs = argv.map { strdup($0) } + [nil]
        defer { cArgs.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, "/bin/bash", nil, nil, cArgs, environ)
        guard spawned == 0 else { XCTFail("cannot start /bin/bash: posix_spawn error \(spawned)"); throw CocoaError(.executableLoad) }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        XCTAssertEqual(status, 0, "oci-test-registry.sh \(args)")
        return String(decoding: (try? Data(contentsOf: outURL)) ?? Data(), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

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

        let back = tmp.appendingPathComponent("back").path
        let pull = try BundleTestSupport.run(skopeo, ["copy", "--src-tls-verify=false", ref, "oci:\(back):1.0.0"])
        XCTAssertEqual(pull.status, 0, pull.stderr)
        let report = try Bundles.verify(path: back, keyPath: pub.path)
        XCTAssertEqual(report.status, "clean", "\(report.problems)")
        XCTAssertEqual(report.digest, r.digest)
        XCTAssertEqual(try BundleReader(path: back).ociDigest.description, r.ociDigest)
    }
}
