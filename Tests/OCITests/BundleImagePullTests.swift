import Foundation
import GlossaCore
import Store
import StoreTesting
import XCTest
@testable import OCI

/// Pulling a bundle image (the OCI image `glossa export` writes, as skopeo copies it):
/// it lands in an empty registry under its own digests, and whatever the remote lies about
/// (a layer's length, a NaN weight, a blob it does not carry, a non-canonical manifest) is
/// refused before anything is imported.
final class BundleImagePullTests: XCTestCase {
    enum FixtureError: Error { case notABase(Digest) }

    /// A bundle manifest over the fixtures' tiny base and one expert, its blobs stored in `a`.
    func bundle(_ a: LocalRegistry) throws -> BundleManifest {
        let base = try RegistryFixtures.publishBase(a)
        guard case .base(let b) = try a.manifest(base) else { throw FixtureError.notABase(base) }
        let e = try RegistryFixtures.expert(a, base: base, name: "de-expert", version: "1.0.0", seed: 3)
        let adapter = BundleManifest.Adapter(
            digest: Digest(of: try ManifestCoding.canonicalBytes(e)), kind: .expert, name: e.name, version: e.version, languages: ["de"],
            lora: e.lora, scales: Dictionary(uniqueKeysWithValues: e.tensors.keys.map { ($0, 2.0) }), tensors: e.tensors, lineage: e.lineage)
        return BundleManifest(name: "de-bundle", version: "1.0.0", languages: ["de"], base: base,
                              model: .init(config: b.config, tensors: b.tensors, tokenizer: b.tokenizer), adapters: [adapter],
                              routing: .init(mode: "language", languages: ["de": adapter.digest]), created: RegistryFixtures.created)
    }

    /// Pushes `m` as a bundle image tagged `tag`, its blobs raw from `a` (plus `extra` blobs
    /// by digest, and with `sizes` overriding what a layer descriptor claims).
    func pushImage(_ m: BundleManifest, from a: LocalRegistry, extra: [Digest: [UInt8]] = [:], drop: Digest? = nil,
                   manifestBytes: [UInt8]? = nil, to client: RegistryClient, tag: String) async throws -> Digest {
        let bytes = try manifestBytes ?? ManifestCoding.canonicalBytes(m)
        let (md, _) = try await client.pushBlob(repository: "glossa/b", data: Data(bytes))
        var layers = [OCIDescriptor(mediaType: GlossaOCI.bundleManifestMediaType, digest: md, size: Int64(bytes.count))]
        for d in m.blobReferences where d != drop {
            let data = try extra[d] ?? a.blob(d)
            _ = try await client.pushBlob(repository: "glossa/b", data: Data(data))
            layers.append(OCIDescriptor(mediaType: "application/vnd.glossa.tensor.v1", digest: d, size: Int64(data.count)))
        }
        let config = Data(#"{"architecture":"unknown","os":"unknown","rootfs":{"diff_ids":[],"type":"layers"}}"#.utf8)
        let (cd, _) = try await client.pushBlob(repository: "glossa/b", data: config)
        let oci = OCIImageManifest(artifactType: GlossaOCI.bundleArtifactType,
                                   config: OCIDescriptor(mediaType: GlossaOCI.imageConfigMediaType, digest: cd, size: Int64(config.count)),
                                   layers: layers)
        try await client.putManifest(try GlossaOCI.encode(oci), repository: "glossa/b", reference: tag)
        return Digest(of: bytes)
    }

    func testBundleImageIsPulledIntoAnEmptyRegistryUnderItsDigests() async throws {
        let reg = try TestRegistry()
        defer { reg.destroy() }
        let aDir = try temporaryDirectory("bundle-a"), bDir = try temporaryDirectory("bundle-b")
        defer { try? FileManager.default.removeItem(at: aDir); try? FileManager.default.removeItem(at: bDir) }
        let a = try LocalRegistry(root: aDir.path)
        let m = try bundle(a)
        let pusher = try RemoteRegistry(local: a, registry: reg.address)
        let digest = try await pushImage(m, from: a, to: pusher.client, tag: "good")

        let b = try LocalRegistry(root: bDir.path)
        let report = try await RemoteRegistry(local: b, registry: reg.address).pull(try OCIReference(parsing: "oci://\(reg.address)/glossa/b:good"))
        XCTAssertEqual(report.artifactDigest, digest)
        XCTAssertEqual(report.kind, .bundle)
        XCTAssertEqual(try b.list().map(\.displayName), ["de-bundle:1.0.0"], "the bundle alone: neither its base nor its expert")
        for d in m.blobReferences { XCTAssertEqual(try b.blob(d), try a.blob(d), "blob \(d.short) kept its bytes") }
        XCTAssertEqual(try b.verify().problems.map(\.detail), [], "a bundle without its base is a consistent registry")
        XCTAssertNil(try b.summary("de-bundle:1.0.0").base, "a bundle is recorded on no base")
    }

    func testLyingBundleImagesAreRefusedAndImportNothing() async throws {
        let reg = try TestRegistry()
        defer { reg.destroy() }
        let aDir = try temporaryDirectory("lying-a")
        defer { try? FileManager.default.removeItem(at: aDir) }
        let a = try LocalRegistry(root: aDir.path)
        let m = try bundle(a)
        let client = try RemoteRegistry(local: a, registry: reg.address).client
        let (name, entry) = try XCTUnwrap(m.model.tensors.first { $0.value.dtype == .f16 })

        // A layer shorter than the manifest says (its own digest, so the transfer checks pass).
        var short = m
        let shortBytes = Array(try a.blob(entry.digest).dropLast(2))
        short.model.tensors[name] = TensorEntry(digest: Digest(of: shortBytes), dtype: entry.dtype, shape: entry.shape)
        _ = try await pushImage(short, from: a, extra: [Digest(of: shortBytes): shortBytes], to: client, tag: "short")
        // A NaN weight (f16 0x7E00), of the right length.
        var nan = m
        var nanBytes = try a.blob(entry.digest)
        nanBytes[2] = 0x00; nanBytes[3] = 0x7E
        nan.model.tensors[name] = TensorEntry(digest: Digest(of: nanBytes), dtype: entry.dtype, shape: entry.shape)
        _ = try await pushImage(nan, from: a, extra: [Digest(of: nanBytes): nanBytes], to: client, tag: "nan")
        // A blob the manifest references but no layer carries.
        _ = try await pushImage(m, from: a, drop: m.model.tokenizer, to: client, tag: "missing")
        // The manifest layer re-encoded with a space: same manifest, another digest.
        var spaced = try ManifestCoding.canonicalBytes(m)
        spaced.insert(UInt8(ascii: " "), at: 1)
        _ = try await pushImage(m, from: a, manifestBytes: spaced, to: client, tag: "spaced")

        for (tag, words) in [("short", "bytes, but the bundle manifest says"), ("nan", "tensor \(name) has a NaN"),
                             ("missing", "no layer carries blob \(m.model.tokenizer.short)"), ("spaced", "canonical")] {
            let dir = try temporaryDirectory("lying-\(tag)")
            defer { try? FileManager.default.removeItem(at: dir) }
            let b = try LocalRegistry(root: dir.path)
            do {
                _ = try await RemoteRegistry(local: b, registry: reg.address).pull(try OCIReference(parsing: "oci://\(reg.address)/glossa/b:\(tag)"))
                XCTFail("\(tag): must be refused")
            } catch {
                XCTAssertTrue("\(error)".contains(words), "\(tag): \(error)")
            }
            XCTAssertEqual(try b.list().map(\.displayName), [], "\(tag): nothing may be imported")
            XCTAssertEqual(try b.driver.indexedManifests(), [], "\(tag): no manifest indexed")
        }
    }
}
