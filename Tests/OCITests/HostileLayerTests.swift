import Foundation
import GlossaCore
@testable import Store
import StoreTesting
import XCTest
@testable import OCI

/// A registry serving a hostile layer: a pull refuses it from the frame header, before
/// allocating what the header claims, and leaves no `.partial` file in the store.
final class HostileLayerTests: XCTestCase {
    /// The adversarial report's case: a 45-byte layer whose frame declares 64 GiB for a
    /// tensor the manifest says is a few hundred bytes. Before the fix this aborted the
    /// pull (failed allocation, signal 6) and left `tmp/*.partial` behind.
    func testLayerDeclaring64GiBIsRefusedAndLeavesNothing() async throws {
        let reg = try TestRegistry()
        defer { reg.destroy() }
        let aDir = try temporaryDirectory("bomb-a")
        defer { try? FileManager.default.removeItem(at: aDir) }
        let a = try LocalRegistry(root: aDir.path)
        let base = try RegistryFixtures.publishBase(a)
        let expert = try RegistryFixtures.publishExpert(a, base: base, name: "de-expert", version: "1.0.0", seed: 7)
        let target = try OCIReference(parsing: "oci://\(reg.address)/glossa/x:v1")
        let pusher = try RemoteRegistry(local: a, registry: reg.address)
        _ = try await pusher.push("de-expert:1.0.0", to: target)

        // Swap the layer of one LoRA factor for the bomb, keeping its content annotation.
        guard case .expert(let m) = try a.manifest(expert), let factor = m.tensors.values.first?.a else { return XCTFail("fixture is not an expert") }
        XCTAssertLessThan(factor.byteCount, 1 << 20)
        let client = pusher.client
        var oci = try JSONDecoder().decode(OCIImageManifest.self, from: try await client.getManifest(repository: "glossa/x", reference: "v1").data)
        let bomb = Self.zstdBomb(declaring: 64 << 30)
        let (bombDigest, _) = try await client.pushBlob(repository: "glossa/x", data: Data(bomb))
        guard let i = oci.layers.firstIndex(where: { $0.annotations?[GlossaOCI.Annotation.contentDigest] == factor.digest.description }) else {
            return XCTFail("no layer carries \(factor.digest)")
        }
        oci.layers[i] = OCIDescriptor(mediaType: GlossaOCI.blobFrameMediaType, digest: bombDigest, size: Int64(bomb.count),
                                      annotations: [GlossaOCI.Annotation.contentDigest: factor.digest.description])
        try await client.putManifest(try GlossaOCI.encode(oci), repository: "glossa/x", reference: "bomb")

        let bDir = try temporaryDirectory("bomb-b")
        defer { try? FileManager.default.removeItem(at: bDir) }
        let b = try LocalRegistry(root: bDir.path)
        do {
            _ = try await RemoteRegistry(local: b, registry: reg.address).pull(try OCIReference(parsing: "oci://\(reg.address)/glossa/x:bomb"))
            XCTFail("a layer declaring 64 GiB must be refused")
        } catch {
            XCTAssertTrue("\(error)".contains("refused") && "\(error)".contains("\(factor.byteCount)"), "\(error)")
        }
        let partials = try FileManager.default.contentsOfDirectory(atPath: bDir.appendingPathComponent("tmp").path).filter { $0.hasSuffix(".partial") }
        XCTAssertEqual(partials, [], "a refused layer must leave no partial write")
        XCTAssertFalse(try b.list().contains { $0.name == "de-expert" }, "the expert must not be imported")
    }

    /// An expert with NaN in a LoRA factor is refused at pull, naming the tensor, and
    /// nothing is imported (before: it was imported, and transcription crashed on it).
    func testNaNTensorIsRefusedAtPullNamingIt() async throws {
        let reg = try TestRegistry()
        defer { reg.destroy() }
        let aDir = try temporaryDirectory("nan-a")
        defer { try? FileManager.default.removeItem(at: aDir) }
        let a = try LocalRegistry(root: aDir.path)
        let base = try RegistryFixtures.publishBase(a)
        var m = try RegistryFixtures.expert(a, base: base, name: "nan-expert", version: "1.0.0", seed: 9)
        let module = m.tensors.keys.sorted()[0]
        let shape = m.tensors[module]!.a.shape
        var values = [Float](repeating: 0.125, count: shape.reduce(1, *))
        values[5] = .nan
        m.tensors[module]!.a = try a.putTensor(TensorData(dtype: .f32, shape: shape, bytes: values.withUnsafeBytes { Data($0) }))
        try a.publish(AnyManifest(m))
        let target = try OCIReference(parsing: "oci://\(reg.address)/glossa/nan:v1")
        _ = try await RemoteRegistry(local: a, registry: reg.address).push("nan-expert:1.0.0", to: target)

        let bDir = try temporaryDirectory("nan-b")
        defer { try? FileManager.default.removeItem(at: bDir) }
        let b = try LocalRegistry(root: bDir.path)
        do {
            _ = try await RemoteRegistry(local: b, registry: reg.address).pull(target)
            XCTFail("an expert with a NaN weight must be refused")
        } catch {
            XCTAssertTrue("\(error)".contains("\(module).lora_A") && "\(error)".contains("NaN value at element 5"), "\(error)")
        }
        XCTAssertFalse(try b.list().contains { $0.name == "nan-expert" }, "the expert must not be imported")
    }

    /// A sealed `zstd` frame for an f32 tensor whose header and zstd frame both declare
    /// `size` bytes, with one 1-byte RLE block as the whole payload (45 bytes in all).
    static func zstdBomb(declaring size: UInt64) -> [UInt8] {
        var z: [UInt8] = [0x28, 0xB5, 0x2F, 0xFD, 0xE0]   // zstd magic; single segment, 8-byte content size
        withUnsafeBytes(of: size.littleEndian) { z += $0 }
        z += [0x03, 0x00, 0x00, 0x00]                      // last block, RLE, 0 repeats; the byte
        let h = BlobFrameHeader(codec: .zstd, elementType: .tensor(.f32), transform: .none, rawLength: size,
                                bodyHash: z.withUnsafeBytes { BlobCodec.bodyHash($0) })
        return h.encoded() + z
    }
}
