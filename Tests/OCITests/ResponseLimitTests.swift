import Foundation
import GlossaCore
import XCTest
@testable import OCI

/// Bodies are bounded while they arrive: manifests and token replies at 4 MiB (as
/// registries bound manifests), layers at their descriptor's size, error bodies cut.
/// Served by the loopback `OriginPair` in mode "open" / "bigtoken".
final class ResponseLimitTests: XCTestCase {
    func testManifestOver4MiBIsRefused() async throws {
        let pair = try OriginPair(mode: "open")
        defer { pair.stop() }
        let client = try RegistryClient(registry: pair.registry)
        // Asked for by its true digest, so only the size can make it fail.
        let body = Data(#"{"schemaVersion":2,"pad":""#.utf8) + Data(repeating: UInt8(ascii: "a"), count: 5 << 20) + Data(#""}"#.utf8)
        let outcome = await Result(catching: { () async throws(OCIError) in
            try await client.getManifest(repository: "t/big", reference: Digest(of: body).description)
        })
        guard case .failure(.responseTooLarge(let what, _, let limit)) = outcome else { return XCTFail("a 5 MiB manifest must be refused: \(outcome)") }
        XCTAssertEqual(limit, 4 << 20)
        XCTAssertTrue(what.contains("manifest"), what)
    }

    func testLayerLongerThanItsDescriptorIsStoppedWhileStreaming() async throws {
        let pair = try OriginPair(mode: "open")
        defer { pair.stop() }
        let client = try RegistryClient(registry: pair.registry)
        let work = try temporaryDirectory("limits")
        defer { try? FileManager.default.removeItem(at: work) }
        let dest = work.appendingPathComponent("layer")
        // t/big declares its 8 MiB in Content-Length; t/chunked does not, so it is counted.
        for repository in ["t/big", "t/chunked"] {
            let outcome = await Result(catching: { () async throws(OCIError) in
                try await client.pullBlob(repository: repository, digest: Digest(of: Data("small".utf8)), expectedSize: 1024, to: dest)
            })
            guard case .failure(.responseTooLarge(_, _, 1024)) = outcome else {
                return XCTFail("\(repository): an 8 MiB body for a 1 KiB descriptor must be stopped at 1 KiB: \(outcome)")
            }
            XCTAssertFalse(FileManager.default.fileExists(atPath: dest.path))
        }
        let stats = await client.stats
        XCTAssertEqual(stats.bytesDownloaded, 0)
    }

    func testTokenReplyOver4MiBIsRefused() async throws {
        let pair = try OriginPair(mode: "bigtoken")
        defer { pair.stop() }
        let client = try RegistryClient(registry: pair.registry)
        let outcome = await Result(catching: { () async throws(OCIError) in try await client.ping() })
        guard case .failure(.responseTooLarge(let what, _, _)) = outcome else { return XCTFail("a 5 MiB token reply must be refused: \(outcome)") }
        XCTAssertTrue(what.contains("token"), what)
    }

    func testHugeErrorBodyIsCutNotBuffered() async throws {
        let pair = try OriginPair(mode: "open")
        defer { pair.stop() }
        let client = try RegistryClient(registry: pair.registry)
        let outcome = await Result(catching: { () async throws(OCIError) in try await client.listTags(repository: "t/big") })
        guard case .failure(.notFound) = outcome else { return XCTFail("the 404 must still be reported as such: \(outcome)") }
    }
}
