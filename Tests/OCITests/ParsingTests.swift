import Foundation
import GlossaCore
import XCTest
@testable import OCI

final class ParsingTests: XCTestCase {
    func testReferenceForms() throws {
        let a = try OCIReference(parsing: "oci://127.0.0.1:5000/glossa/experts:fr-1.0")
        XCTAssertEqual(a.registry, "127.0.0.1:5000")
        XCTAssertEqual(a.repository, "glossa/experts")
        XCTAssertEqual(a.tag, "fr-1.0")
        XCTAssertNil(a.digest)
        XCTAssertTrue(a.isLoopback)
        let hex = String(repeating: "ab", count: 32)
        let b = try OCIReference(parsing: "ghcr.io/org/repo@sha256:\(hex)")
        XCTAssertEqual(b.registry, "ghcr.io")
        XCTAssertEqual(b.digest?.hex, hex)
        XCTAssertNil(b.tag)
        XCTAssertFalse(b.isLoopback)
        XCTAssertEqual(b.manifestReference, "sha256:\(hex)")
        let c = try OCIReference(parsing: "oci://localhost:5000/x")
        XCTAssertNil(c.tag)
        XCTAssertEqual(c.manifestReference, "latest")
        XCTAssertEqual(c.description, "oci://localhost:5000/x")
        for bad in ["oci://host", "oci://host/UPPER", "oci://host/a//b", "oci://host/a:bad tag", "oci://host/a@sha256:12"] {
            XCTAssertThrowsError(try OCIReference(parsing: bad), bad)
        }
    }

    /// Plain HTTP is allowed by default only where it cannot leave the machine, decided
    /// from the literal host: a DNS name that merely starts with "127." is not loopback.
    func testLoopbackIsDecidedFromLiteralAddressesOnly() throws {
        let loopback = ["127.0.0.1:5000", "127.1.2.3", "localhost:5000", "LOCALHOST", "localhost.", "[::1]:5000", "[::ffff:127.0.0.1]:80"]
        let remote = ["127.attacker.invalid", "127.0.0.1.nip.io:5000", "localhost.attacker.invalid", "128.0.0.1", "[::2]:5000",
                      "127evil.example", "10.0.0.1:5000", "[::ffff:10.0.0.1]"]
        for host in loopback {
            XCTAssertTrue(try OCIReference(parsing: "oci://\(host)/x").isLoopback, host)
        }
        for host in remote {
            let ref = try OCIReference(parsing: "oci://\(host)/x")
            XCTAssertFalse(ref.isLoopback, host)
            let client = try RegistryClient(registry: ref.registry)
            XCTAssertEqual(client.baseURL.scheme, "https", "\(host) must not be fetched over plain HTTP without --insecure")
        }
        XCTAssertEqual(try RegistryClient(registry: "127.0.0.1:5000").baseURL.scheme, "http")
    }

    func testChallengeParsing() throws {
        let c = try XCTUnwrap(AuthChallenge(header: #"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/ubuntu:pull,push""#))
        XCTAssertEqual(c.scheme, .bearer)
        XCTAssertEqual(c.realm, "https://auth.docker.io/token")
        XCTAssertEqual(c.service, "registry.docker.io")
        XCTAssertEqual(c.scope, "repository:library/ubuntu:pull,push")
        let b = try XCTUnwrap(AuthChallenge(header: #"Basic realm="glossa-test""#))
        XCTAssertEqual(b.scheme, .basic)
        XCTAssertEqual(b.realm, "glossa-test")
        let u = try XCTUnwrap(AuthChallenge(header: "Bearer realm=https://x/token, service=reg"))
        XCTAssertEqual(u.realm, "https://x/token")
        XCTAssertEqual(u.service, "reg")
        XCTAssertNil(AuthChallenge(header: ""))
    }

    func testDockerConfig() throws {
        let json = """
        {"auths": {"https://registry.example.com/v1/": {"auth": "\(Data("alice:pa:ss".utf8).base64EncodedString())"},
                   "127.0.0.1:5000": {"username": "bob", "password": "pw"},
                   "helper.example": {}},
         "credsStore": "desktop"}
        """
        let cfg = try DockerConfigCredentials(data: Data(json.utf8))
        XCTAssertEqual(cfg.credentials(forRegistry: "registry.example.com"), RegistryCredentials(username: "alice", password: "pa:ss"))
        XCTAssertEqual(cfg.credentials(forRegistry: "127.0.0.1:5000"), RegistryCredentials(username: "bob", password: "pw"))
        XCTAssertNil(cfg.credentials(forRegistry: "helper.example"))
        XCTAssertNil(cfg.credentials(forRegistry: "other"))
        XCTAssertThrowsError(try DockerConfigCredentials(data: Data(#"{"auths":{"h":{"auth":"!!"}}}"#.utf8)))
        let missing = try DockerConfigCredentials(contentsOf: URL(fileURLWithPath: "/nonexistent/config.json"))
        XCTAssertTrue(missing.entries.isEmpty)
        let chain = ChainedCredentials([StaticCredentials(RegistryCredentials(username: "env", password: "e"), registry: "a:1"), cfg])
        XCTAssertEqual(chain.credentials(forRegistry: "a:1")?.username, "env")
        XCTAssertEqual(chain.credentials(forRegistry: "127.0.0.1:5000")?.username, "bob")
    }

    func testLinkAndRangeHeaders() {
        XCTAssertEqual(RegistryClient.nextLink(#"</v2/a/tags/list?last=b&n=2>; rel="next""#), "/v2/a/tags/list?last=b&n=2")
        XCTAssertNil(RegistryClient.nextLink(#"</x>; rel="prev""#))
        XCTAssertEqual(RegistryClient.rangeEnd("0-1048575"), 1048575)
        XCTAssertEqual(RegistryClient.rangeEnd("bytes=0-9"), 9)
    }

    func testManifestValidation() throws {
        let d = Digest(of: Data("x".utf8))
        let m = OCIImageManifest(artifactType: "application/vnd.glossa.expert.v1+json",
                                 config: OCIDescriptor(mediaType: "application/vnd.glossa.manifest.v1+json", digest: d, size: 1),
                                 layers: [OCIDescriptor(mediaType: "application/vnd.glossa.tensor.v1+zstd", digest: d, size: 1, annotations: ["k": "v"])])
        let data = try JSONEncoder().encode(m)
        XCTAssertEqual(try JSONDecoder().decode(OCIImageManifest.self, from: data), m)
        let bad = String(decoding: data, as: UTF8.self).replacingOccurrences(of: "\"schemaVersion\":2", with: "\"schemaVersion\":1")
        XCTAssertThrowsError(try JSONDecoder().decode(OCIImageManifest.self, from: Data(bad.utf8)))
    }
}
