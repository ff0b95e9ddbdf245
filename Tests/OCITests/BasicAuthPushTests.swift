import Foundation
import GlossaCore
import Store
import StoreTesting
import XCTest
@testable import OCI

/// Push and pull through docker-registry with htpasswd Basic auth, the way `glossa push`
/// starts: a fresh client whose first requests go out in parallel (one per layer), before
/// any of them has learned that the registry wants Basic.
final class BasicAuthPushTests: XCTestCase {
    func testPushAndPullWithBasicAuthAndParallelFirstRequests() async throws {
        let reg = try TestRegistry(auth: ("alice", "correct horse"))
        defer { reg.destroy() }
        let creds = StaticCredentials(RegistryCredentials(username: "alice", password: "correct horse"))
        let aDir = try temporaryDirectory("basic-a")
        defer { try? FileManager.default.removeItem(at: aDir) }
        let a = try LocalRegistry(root: aDir.path)
        let base = try RegistryFixtures.publishBase(a)
        let expert = try RegistryFixtures.publishExpert(a, base: base, name: "de-expert", version: "1.0.0", seed: 7)
        let target = try OCIReference(parsing: "oci://\(reg.address)/glossa/basic:v1")
        let pushed = try await RemoteRegistry(local: a, registry: reg.address, credentials: creds).push("de-expert:1.0.0", to: target)
        XCTAssertEqual(pushed.artifactDigest, expert)

        let bDir = try temporaryDirectory("basic-b")
        defer { try? FileManager.default.removeItem(at: bDir) }
        let b = try LocalRegistry(root: bDir.path)
        let pulled = try await RemoteRegistry(local: b, registry: reg.address, credentials: creds).pull(target)
        XCTAssertEqual(pulled.artifactDigest, expert)

        // Parallel first requests of a fresh client all succeed, and wrong credentials
        // are still reported as wrong (not retried forever).
        let fresh = try RegistryClient(registry: reg.address, credentials: creds)
        let sizes = try await withThrowingTaskGroup(of: Int64?.self) { group in
            for _ in 0..<8 { group.addTask { try await fresh.blobSize(repository: "glossa/basic", digest: expert) } }
            return try await group.reduce(into: [Int64?]()) { $0.append($1) }
        }
        XCTAssertEqual(sizes.count, 8)
        XCTAssertTrue(sizes.allSatisfy { $0 != nil }, "the config blob is there")
        let wrong = try RegistryClient(registry: reg.address, credentials: StaticCredentials(RegistryCredentials(username: "alice", password: "nope")))
        let outcome = await Result(catching: { () async throws(OCIError) in try await wrong.blobSize(repository: "glossa/basic", digest: expert) })
        guard case .failure(.unauthorized(_, _, true)) = outcome else { return XCTFail("wrong password must be reported: \(outcome)") }
    }
}
