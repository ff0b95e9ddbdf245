import Foundation
import GlossaCore
import XCTest
@testable import OCI

/// The distribution client against a real docker-registry on loopback.
final class RegistryClientTests: XCTestCase {
    func testBlobRoundTripSmallAndChunkedOnlyMissingSent() async throws {
        let reg = try TestRegistry()
        defer { reg.destroy() }
        let work = try temporaryDirectory("blobs")
        defer { try? FileManager.default.removeItem(at: work) }
        var opts = RegistryClientOptions()
        opts.monolithicLimit = 1 << 20
        opts.chunkSize = 1 << 20
        let client = try RegistryClient(registry: reg.address, options: opts)
        try await client.ping()

        let (small, smallData) = try makeBlobFile(size: 1000, seed: 1, in: work)
        let (large, largeData) = try makeBlobFile(size: 3 * (1 << 20) + 123, seed: 2, in: work)
        let ds = Digest(of: smallData), dl = Digest(of: largeData)
        let r1 = try await client.pushBlob(repository: "t/blobs", file: small, digest: ds, size: 1000)
        XCTAssertEqual(r1, .uploaded(bytesSent: 1000))
        let r2 = try await client.pushBlob(repository: "t/blobs", file: large, digest: dl, size: Int64(largeData.count))
        XCTAssertEqual(r2, .uploaded(bytesSent: Int64(largeData.count)))
        var stats = await client.stats
        XCTAssertEqual(stats.count("PATCH"), 4, "3 MiB + 123 B in 1 MiB chunks is 4 PATCHes")
        XCTAssertEqual(reg.accessLogCount(method: "PATCH", atLeast: 4), 4, "the server saw the same 4 PATCHes")

        // Second push: HEAD only, nothing sent.
        await client.resetStats()
        let r3 = try await client.pushBlob(repository: "t/blobs", file: large, digest: dl, size: Int64(largeData.count))
        XCTAssertEqual(r3, .existed)
        stats = await client.stats
        XCTAssertEqual(stats.totalRequests, 1)
        XCTAssertEqual(stats.count("HEAD"), 1)
        XCTAssertEqual(stats.bytesUploaded, 0)

        // Cross-repository mount: no bytes sent.
        await client.resetStats()
        let r4 = try await client.pushBlob(repository: "t/other", file: large, digest: dl, size: Int64(largeData.count), mountFrom: ["t/blobs"])
        XCTAssertEqual(r4, .mounted(from: "t/blobs"))
        stats = await client.stats
        XCTAssertEqual(stats.bytesUploaded, 0)

        // Pull back, verified.
        let out = work.appendingPathComponent("out")
        let n = try await client.pullBlob(repository: "t/other", digest: dl, expectedSize: Int64(largeData.count), to: out)
        XCTAssertEqual(n, Int64(largeData.count))
        XCTAssertEqual(try Data(contentsOf: out), largeData)
        let sizeSeen = try await client.blobSize(repository: "t/blobs", digest: ds)
        XCTAssertEqual(sizeSeen, 1000)
        let absent = try await client.blobSize(repository: "t/blobs", digest: Digest(of: Data("nope".utf8)))
        XCTAssertNil(absent)
    }

    func testManifestAndTagsWithPagination() async throws {
        let reg = try TestRegistry()
        defer { reg.destroy() }
        let client = try RegistryClient(registry: reg.address)
        let (cfgDigest, _) = try await client.pushBlob(repository: "t/m", data: Data(#"{"kind":"expert"}"#.utf8))
        let m = OCIImageManifest(artifactType: "application/vnd.glossa.expert.v1+json",
                                 config: OCIDescriptor(mediaType: "application/vnd.glossa.manifest.v1+json", digest: cfgDigest, size: 17),
                                 layers: [], annotations: ["org.opencontainers.image.title": "fr"])
        let body = try JSONEncoder().encode(m)
        var tags = [String]()
        for i in 0..<7 {
            let tag = "v\(i)"
            tags.append(tag)
            let d = try await client.putManifest(body, repository: "t/m", reference: tag)
            XCTAssertEqual(d, Digest(of: body))
        }
        let listed = try await client.listTags(repository: "t/m", pageSize: 3)
        XCTAssertEqual(listed.sorted(), tags.sorted())
        let got = try await client.getManifest(repository: "t/m", reference: "v3")
        XCTAssertEqual(got.data, body, "the registry must serve the exact bytes we pushed")
        XCTAssertEqual(got.mediaType, OCIMediaType.imageManifest)
        let decoded = try JSONDecoder().decode(OCIImageManifest.self, from: got.data)
        XCTAssertEqual(decoded.artifactType, "application/vnd.glossa.expert.v1+json")
        let resolved = try await client.resolveManifest(repository: "t/m", reference: "v0")
        XCTAssertEqual(resolved, Digest(of: body))
        do {
            _ = try await client.getManifest(repository: "t/m", reference: "missing")
            XCTFail("expected notFound")
        } catch let e as OCIError {
            guard case .notFound = e else { return XCTFail("\(e)") }
        }
        // A manifest naming a blob the registry lacks is refused.
        let dangling = OCIImageManifest(artifactType: nil, config: OCIDescriptor(mediaType: "application/json", digest: Digest(of: Data("zz".utf8)), size: 2), layers: [])
        do {
            try await client.putManifest(try JSONEncoder().encode(dangling), repository: "t/m", reference: "bad")
            XCTFail("expected a refusal")
        } catch let e as OCIError {
            XCTAssertTrue("\(e)".contains("not found") || "\(e)".contains("BLOB_UNKNOWN") || "\(e)".contains("MANIFEST"), "\(e)")
        }
    }

    func testBasicAuthGoodWrongAndMissing() async throws {
        let reg = try TestRegistry(auth: ("alice", "correct horse"))
        defer { reg.destroy() }
        let good = try RegistryClient(registry: reg.address, credentials: StaticCredentials(RegistryCredentials(username: "alice", password: "correct horse")))
        try await good.ping()
        let (d, r) = try await good.pushBlob(repository: "t/auth", data: Data("hello".utf8))
        XCTAssertEqual(r, .uploaded(bytesSent: 5))
        let stats = await good.stats
        // One 401 to learn the scheme, then every request carries Basic: ping, ping retry, HEAD, POST, PUT.
        XCTAssertEqual(stats.totalRequests, 5)

        let wrong = try RegistryClient(registry: reg.address, credentials: StaticCredentials(RegistryCredentials(username: "alice", password: "wrong")))
        do {
            _ = try await wrong.blobSize(repository: "t/auth", digest: d)
            XCTFail("expected unauthorized")
        } catch let e as OCIError {
            XCTAssertEqual(e, .unauthorized(registry: reg.address, scope: "repository:t/auth:pull", hadCredentials: true))
            XCTAssertTrue(e.description.contains("wrong"), e.description)
        }
        let none = try RegistryClient(registry: reg.address)
        do {
            try await none.ping()
            XCTFail("expected unauthorized")
        } catch let e as OCIError {
            guard case .unauthorized(_, _, false) = e else { return XCTFail("\(e)") }
            XCTAssertTrue(e.description.contains("no credentials"), e.description)
        }
    }

    /// Docker's token flow against docker-registry configured with `auth: token` and a
    /// token service issuing RS256 JWTs: tokens are fetched once per scope and reused.
    func testBearerTokenFlow() async throws {
        let reg = try TestRegistry(auth: ("bob", "s3cret"), bearer: true)
        defer { reg.destroy() }
        let work = try temporaryDirectory("bearer")
        defer { try? FileManager.default.removeItem(at: work) }
        let creds = StaticCredentials(RegistryCredentials(username: "bob", password: "s3cret"))
        let client = try RegistryClient(registry: reg.address, credentials: creds)
        try await client.ping()
        var digests: [Digest] = []
        for i in 0..<3 {
            let (f, data) = try makeBlobFile(size: 2000 + i, seed: UInt64(20 + i), in: work)
            let d = Digest(of: data)
            digests.append(d)
            let r = try await client.pushBlob(repository: "t/bearer", file: f, digest: d, size: Int64(data.count))
            XCTAssertEqual(r, .uploaded(bytesSent: Int64(data.count)))
        }
        let issued = reg.tokensIssued()
        // ping (no scope), pull (HEAD), pull+push (POST/PUT): one token each, reused for 3 blobs.
        XCTAssertEqual(issued.count, 3, issued.joined(separator: "\n"))
        XCTAssertTrue(issued.allSatisfy { $0.contains("\"bob\"") })

        // Anonymous: pull allowed by the token service, push refused.
        let anon = try RegistryClient(registry: reg.address)
        let size = try await anon.blobSize(repository: "t/bearer", digest: digests[0])
        XCTAssertEqual(size, 2000)
        let refused = await Result(catching: { () async throws(OCIError) in try await anon.pushBlob(repository: "t/bearer", data: Data("x".utf8)) })
        guard case .failure(.unauthorized(_, _, false)) = refused else { return XCTFail("anonymous push must be refused: \(refused)") }

        let wrong = try RegistryClient(registry: reg.address, credentials: StaticCredentials(RegistryCredentials(username: "bob", password: "nope")))
        let denied = await Result(catching: { () async throws(OCIError) in try await wrong.blobSize(repository: "t/bearer", digest: digests[0]) })
        guard case .failure(.unauthorized(_, _, true)) = denied else { return XCTFail("wrong password must be reported: \(denied)") }
    }

    func testNetworkErrorWhenRegistryDown() async throws {
        let reg = try TestRegistry()
        let address = reg.address
        reg.destroy()
        let client = try RegistryClient(registry: address, options: { var o = RegistryClientOptions(); o.requestTimeout = 5; return o }())
        do {
            try await client.ping()
            XCTFail("expected a network error")
        } catch let e as OCIError {
            guard case .network = e else { return XCTFail("\(e)") }
            XCTAssertTrue(e.description.contains("re-run"), e.description)
        }
    }

    /// The registry is killed between two PATCH chunks; after a restart a new client
    /// (a re-run of the command) resumes from the upload journal and sends only the rest.
    func testRegistryStoppedMidUploadThenRerunResumes() async throws {
        let reg = try TestRegistry()
        defer { reg.destroy() }
        let work = try temporaryDirectory("resume")
        defer { try? FileManager.default.removeItem(at: work) }
        let (file, data) = try makeBlobFile(size: 5 << 20, seed: 9, in: work)
        let digest = Digest(of: data)
        let chunks = LockedCounter()
        var opts = RegistryClientOptions()
        opts.monolithicLimit = 1 << 20
        opts.chunkSize = 1 << 20
        opts.requestTimeout = 5
        opts.uploadJournal = work.appendingPathComponent("journal")
        var failing = opts
        failing.onEvent = stopRegistry(reg, afterChunks: 2, counter: chunks)
        let first = try RegistryClient(registry: reg.address, options: failing)
        let outcome = await Result(catching: { () async throws(OCIError) in
            try await first.pushBlob(repository: "t/resume", file: file, digest: digest, size: Int64(data.count))
        })
        guard case .failure(.network) = outcome else { return XCTFail("push should fail with a network error while the registry is down: \(outcome)") }
        try reg.start()
        let second = try RegistryClient(registry: reg.address, options: opts)
        let result = try await second.pushBlob(repository: "t/resume", file: file, digest: digest, size: Int64(data.count))
        XCTAssertEqual(result, .uploaded(bytesSent: 3 << 20), "2 of 5 MiB were already on the server")
        let stats = await second.stats
        XCTAssertEqual(stats.uploadsResumed, 1)
        let out = work.appendingPathComponent("back")
        try await second.pullBlob(repository: "t/resume", digest: digest, to: out)
        XCTAssertEqual(try Data(contentsOf: out), data)
        let left = try FileManager.default.contentsOfDirectory(atPath: opts.uploadJournal!.path)
        XCTAssertEqual(left, [], "the journal forgets finished uploads")
    }

    func testAlteredBlobOnServerFailsCleanly() async throws {
        let reg = try TestRegistry()
        defer { reg.destroy() }
        let work = try temporaryDirectory("alter")
        defer { try? FileManager.default.removeItem(at: work) }
        let (file, data) = try makeBlobFile(size: 4096, seed: 3, in: work)
        let digest = Digest(of: data)
        let client = try RegistryClient(registry: reg.address)
        _ = try await client.pushBlob(repository: "t/alter", file: file, digest: digest, size: 4096)
        var damaged = data
        damaged[100] ^= 0xFF
        try damaged.write(to: reg.blobDataPath(digest.hex))
        let out = work.appendingPathComponent("pulled")
        do {
            try await client.pullBlob(repository: "t/alter", digest: digest, to: out)
            XCTFail("expected a digest mismatch")
        } catch let e as OCIError {
            guard case .digestMismatch(_, let expected, let actual) = e else { return XCTFail("\(e)") }
            XCTAssertEqual(expected, digest)
            XCTAssertEqual(actual, Digest(of: damaged))
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.path), "nothing is left where the blob would go")
    }
}

/// An event handler that stops `reg` right after the `n`th uploaded chunk.
func stopRegistry(_ reg: TestRegistry, afterChunks n: Int, counter: LockedCounter) -> @Sendable (TransferEvent) -> Void {
    return { event in
        if case .chunkUploaded = event, counter.increment() == n { reg.stop() }
    }
}

extension Result where Failure == OCIError {
    init(catching body: () async throws(OCIError) -> Success) async {
        do { self = .success(try await body()) } catch { self = .failure(error) }
    }
}

/// A thread-safe counter for event callbacks.
final class LockedCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    func increment() -> Int { lock.lock(); defer { lock.unlock() }; value += 1; return value }
}
