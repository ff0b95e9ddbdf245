import Foundation
import GlossaCore
import Store
import StoreTesting
import XCTest
@testable import OCI

/// Issue 11 items 8 and 9: a pull checks what the remote says before it imports anything.
final class PullConsistencyTests: XCTestCase {
    /// A registry with base tiny-base and expert de-expert:1.0.0 pushed as glossa/x:v1.
    func pushedExpert(_ reg: TestRegistry, _ label: String) async throws -> (LocalRegistry, URL, RemoteRegistry, OCIImageManifest) {
        let dir = try temporaryDirectory(label)
        let a = try LocalRegistry(root: dir.path)
        let base = try RegistryFixtures.publishBase(a)
        try RegistryFixtures.publishExpert(a, base: base, name: "de-expert", version: "1.0.0", seed: 7)
        let pusher = try RemoteRegistry(local: a, registry: reg.address)
        _ = try await pusher.push("de-expert:1.0.0", to: try OCIReference(parsing: "oci://\(reg.address)/glossa/x:v1"))
        let oci = try JSONDecoder().decode(OCIImageManifest.self,
                                           from: try await pusher.client.getManifest(repository: "glossa/x", reference: "v1").data)
        return (a, dir, pusher, oci)
    }

    /// Item 8: an artifact whose config is valid Glossa manifest JSON but not in canonical
    /// form. Pull used to publish it (under the canonical digest), then compare and report
    /// "nothing was imported", and every re-run failed the same way. Now it compares first
    /// and refuses, importing nothing.
    func testPullRefusesANonCanonicalConfigBeforeImportingAnything() async throws {
        let reg = try TestRegistry()
        defer { reg.destroy() }
        let (a, aDir, pusher, original) = try await pushedExpert(reg, "canon-a")
        defer { try? FileManager.default.removeItem(at: aDir) }
        var config = try a.blob(original.config.digest)
        XCTAssertEqual(config.first, UInt8(ascii: "{"))
        config.insert(UInt8(ascii: " "), at: 1)   // still the same manifest, no longer canonical
        XCTAssertNoThrow(try ManifestCoding.decode(from: config))
        let (configDigest, _) = try await pusher.client.pushBlob(repository: "glossa/x", data: Data(config))
        var oci = original
        oci.config = OCIDescriptor(mediaType: GlossaOCI.configMediaType, digest: configDigest, size: Int64(config.count))
        try await pusher.client.putManifest(try GlossaOCI.encode(oci), repository: "glossa/x", reference: "spaced")

        let bDir = try temporaryDirectory("canon-b")
        defer { try? FileManager.default.removeItem(at: bDir) }
        let b = try LocalRegistry(root: bDir.path)
        let puller = try RemoteRegistry(local: b, registry: reg.address)
        for attempt in 1...2 {
            do {
                _ = try await puller.pull(try OCIReference(parsing: "oci://\(reg.address)/glossa/x:spaced"))
                XCTFail("attempt \(attempt): a non-canonical config must be refused")
            } catch {
                XCTAssertTrue("\(error)".contains("canonical"), "attempt \(attempt): \(error)")
            }
            XCTAssertEqual(try b.list().map(\.displayName), [], "attempt \(attempt): nothing may be imported")
            XCTAssertEqual(try b.driver.indexedManifests(), [], "attempt \(attempt): no manifest indexed")
        }
    }

    /// Item 9: the `org.glossa.requires` annotation maps the expert's base to the OCI
    /// manifest of an unrelated artifact. Pull used to follow it and import that artifact.
    /// Now the manifest it leads to must hold the edge's target, else nothing is imported.
    func testPullRefusesARequiresAnnotationPointingAtTheWrongManifest() async throws {
        let reg = try TestRegistry()
        defer { reg.destroy() }
        let (a, aDir, pusher, original) = try await pushedExpert(reg, "requires-a")
        defer { try? FileManager.default.removeItem(at: aDir) }
        let other = try RegistryFixtures.publishBase(a, name: "other-base", seed: 2)
        let otherPush = try await pusher.push("other-base:1.0.0", to: try OCIReference(parsing: "oci://\(reg.address)/glossa/x:other"))
        let base = try a.resolve("tiny-base:1.0.0")
        var oci = original
        oci.annotations?[GlossaOCI.Annotation.requires] = "\(base)=\(otherPush.manifestDigest)"
        try await pusher.client.putManifest(try GlossaOCI.encode(oci), repository: "glossa/x", reference: "lying")

        let bDir = try temporaryDirectory("requires-b")
        defer { try? FileManager.default.removeItem(at: bDir) }
        let b = try LocalRegistry(root: bDir.path)
        do {
            _ = try await RemoteRegistry(local: b, registry: reg.address).pull(try OCIReference(parsing: "oci://\(reg.address)/glossa/x:lying"))
            XCTFail("a requires annotation leading to another artifact must be refused")
        } catch {
            let text = "\(error)"
            XCTAssertTrue(text.contains(base.short) && text.contains(other.short) && text.contains(GlossaOCI.Annotation.requires), text)
        }
        XCTAssertEqual(try b.list().map(\.displayName), [], "the unrelated artifact must not be imported")
    }
}
