import Foundation
import GlossaCore
import XCTest
@testable import OCI

/// Credentials go only to the registry's own origin (scheme, host, port): never to a
/// host a redirect, an upload `Location` or a `Link` page points at. Proved with two
/// loopback servers on different ports (`OriginPair`): a "registry" that demands auth
/// and a "storage" host that records every header it receives.
final class CredentialScopeTests: XCTestCase {
    func testBasicCredentialsNotForwardedToOtherOrigins() async throws {
        let pair = try OriginPair(mode: "basic")
        defer { pair.stop() }
        let client = try RegistryClient(registry: pair.registry,
                                        credentials: StaticCredentials(RegistryCredentials(username: "alice", password: "s3cret")))
        try await exerciseRedirects(client, pair)
        let storage = pair.requests(server: "storage")
        XCTAssertFalse(storage.isEmpty, "the storage host was never contacted: the test proves nothing")
        for r in storage { XCTAssertNil(r.authorization, "credentials leaked to another origin: \(r.method) \(r.path)") }
        XCTAssertTrue(pair.requests(server: "registry").contains { $0.authorization?.hasPrefix("Basic ") == true },
                      "the registry itself must receive the credentials")
    }

    /// Bearer flow whose token realm is on the other origin (as Docker Hub's is): the
    /// realm, on loopback, gets the password; the registry's token never leaves the registry.
    func testBearerTokenNotForwardedToOtherOrigins() async throws {
        let pair = try OriginPair(mode: "bearer")
        defer { pair.stop() }
        let client = try RegistryClient(registry: pair.registry,
                                        credentials: StaticCredentials(RegistryCredentials(username: "alice", password: "s3cret")))
        try await exerciseRedirects(client, pair)
        let storage = pair.requests(server: "storage")
        let token = storage.filter { $0.path.hasPrefix("/token") }
        XCTAssertFalse(token.isEmpty, "no token was requested")
        XCTAssertTrue(token.allSatisfy { $0.authorization?.hasPrefix("Basic ") == true }, "a loopback realm gets the password")
        for r in storage where !r.path.hasPrefix("/token") {
            XCTAssertNil(r.authorization, "the registry's token leaked to another origin: \(r.method) \(r.path)")
        }
    }

    /// Blob GET answered with 307 to the storage host, a tag list whose next page is
    /// there, and an upload session whose `Location` is there.
    private func exerciseRedirects(_ client: RegistryClient, _ pair: OriginPair) async throws {
        try await client.ping()
        let work = try temporaryDirectory("redirect")
        defer { try? FileManager.default.removeItem(at: work) }
        let out = work.appendingPathComponent("blob")
        let blob = Data("glossa redirect test blob\n".utf8)
        let n = try await client.pullBlob(repository: "t/r", digest: Digest(of: blob), expectedSize: Int64(blob.count), to: out)
        XCTAssertEqual(n, Int64(blob.count))
        XCTAssertEqual(try Data(contentsOf: out), blob)
        let tags = try await client.listTags(repository: "t/r")
        XCTAssertEqual(tags, ["a", "b"])
        let (_, pushed) = try await client.pushBlob(repository: "t/r", data: Data("uploaded elsewhere".utf8))
        XCTAssertEqual(pushed, .uploaded(bytesSent: 18))
    }

    func testPasswordGoesToTokenRealmOnlyOverHTTPSOrLoopback() throws {
        func origin(_ s: String) -> Origin { Origin(URL(string: s)!)! }
        XCTAssertTrue(RegistryClient.mayCarryPassword(to: origin("https://auth.example.com/token")))
        XCTAssertTrue(RegistryClient.mayCarryPassword(to: origin("http://127.0.0.1:5001/token")))
        XCTAssertTrue(RegistryClient.mayCarryPassword(to: origin("http://[::1]:5001/token")))
        XCTAssertFalse(RegistryClient.mayCarryPassword(to: origin("http://auth.example.com/token")))
        XCTAssertFalse(RegistryClient.mayCarryPassword(to: origin("http://127.attacker.invalid/token")))
    }

    func testEnvironmentCredentialsBelongToOneRegistry() {
        let env = ["GLOSSA_REGISTRY_USERNAME": "u", "GLOSSA_REGISTRY_PASSWORD": "p"]
        let forTarget = EnvironmentCredentials(environment: env, target: "registry.example:5000")
        XCTAssertEqual(forTarget?.credentials(forRegistry: "registry.example:5000")?.username, "u")
        XCTAssertNil(forTarget?.credentials(forRegistry: "other.example"), "env credentials must not go to another registry")
        XCTAssertNil(forTarget?.credentials(forRegistry: "registry.example:5001"), "another port is another registry")
        var pinned = env
        pinned["GLOSSA_REGISTRY_HOST"] = "ghcr.io"
        let host = EnvironmentCredentials(environment: pinned, target: "registry.example:5000")
        XCTAssertNil(host?.credentials(forRegistry: "registry.example:5000"), "GLOSSA_REGISTRY_HOST names the only registry")
        XCTAssertEqual(host?.credentials(forRegistry: "GHCR.io")?.password, "p")
        XCTAssertNil(EnvironmentCredentials(environment: ["GLOSSA_REGISTRY_USERNAME": "u"], target: "x"))
    }
}
