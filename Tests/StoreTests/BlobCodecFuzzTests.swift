import XCTest
import GlossaCore
@testable import Store

/// Decoding untrusted frames (a pull) must never trap or allocate what the header
/// claims without bounds: only `BlobCodecError`s come out. Deterministic property tests,
/// not a libFuzzer target: seeds from the real encoder, mutated, then *re-sealed* (body
/// hash and header checksum recomputed) so the mutations reach the plane, zstd and rANS
/// decoders instead of stopping at the checksums.
final class BlobCodecFuzzTests: XCTestCase {
    typealias RNG = BlobCodecTests.RNG

    /// Recomputes the body hash and header checksum of a (mutated) frame.
    static func reseal(_ f: inout [UInt8]) {
        guard f.count >= BlobFrameHeader.size else { return }
        let bh = f.withUnsafeBytes { BlobCodec.bodyHash(UnsafeRawBufferPointer(rebasing: $0[BlobFrameHeader.size...])) }
        withUnsafeBytes(of: bh.littleEndian) { for k in 0..<8 { f[16 + k] = $0[k] } }
        let c = fnv1a32(Array(f[0..<24]))
        withUnsafeBytes(of: c.littleEndian) { for k in 0..<4 { f[24 + k] = $0[k] } }
    }

    static func setRawLength(_ f: inout [UInt8], _ n: UInt64) {
        withUnsafeBytes(of: n.littleEndian) { for k in 0..<8 { f[8 + k] = $0[k] } }
    }

    /// Frames of every codec path: planes with rANS/zstd/stored planes, one zstd frame,
    /// stored bytes, tiny tensors.
    static func seeds() -> [[UInt8]] {
        var rng = RNG(state: 11)
        let codec = BlobCodec()
        var out: [[UInt8]] = []
        for dtype in [DType.f32, .f16, .bf16, .f64, .i32] {
            for count in [64, 300, 1000] {
                out.append(codec.encode(BlobCodecTests.tensorBytes(dtype, count: count, rng: &rng), as: .tensor(dtype)))
            }
        }
        out.append(codec.encode([UInt8](repeating: 0, count: 4096), as: .tensor(.f32)))   // one-symbol rANS/zstd planes
        out.append(codec.encode(Array("a tokenizer-like text, repeated. ".utf8) + Array(repeating: 65, count: 900), as: .opaque))
        out.append(codec.encode([1, 2, 3], as: .opaque))   // stored
        out.append(codec.encode([], as: .opaque))
        return out
    }

    /// One decode under both kinds of limits: it may succeed (then with the declared
    /// length) or throw; any trap fails the whole test run.
    func decodeSurvives(_ frame: [UInt8], _ label: @autoclosure () -> String) {
        for limits in [BlobDecodeLimits.untrusted(expectedLength: nil), .untrusted(expectedLength: 4000)] {
            do {
                let out = try BlobCodec.decode(frame, limits: limits)
                XCTAssertEqual(UInt64(out.count), try BlobCodec.header(of: frame).rawLength, label())
            } catch {
                XCTAssertFalse(error.description.isEmpty)
            }
        }
    }

    func testMutatedAndRandomFramesOnlyThrowTypedErrors() {
        var rng = RNG(state: 2026)
        let interesting: [UInt64] = [0, 1, 2, 3, 7, 63, 64, 255, 4000, 65_536, 1 << 24, (1 << 24) + 1, 1 << 30, 64 << 30, (1 << 40) - 1]
        for (s, seed) in Self.seeds().enumerated() {
            decodeSurvives(seed, "seed \(s)")
            for iteration in 0..<1500 {
                var f = seed
                let body = f.count - BlobFrameHeader.size
                switch iteration % 6 {
                case 0:   // bit flips in the body
                    for _ in 0..<(1 + Int(rng.next() % 4)) where body > 0 {
                        f[BlobFrameHeader.size + Int(rng.next() % UInt64(body))] ^= UInt8(1 << (rng.next() % 8))
                    }
                case 1:   // another raw length
                    Self.setRawLength(&f, interesting[Int(rng.next() % UInt64(interesting.count))] &+ (rng.next() % 3))
                case 2:   // another codec, element type or transform
                    f[5 + Int(rng.next() % 3)] = UInt8(rng.next() % 12)
                case 3:   // random bytes over the plane table / payload start
                    for k in 0..<min(body, 1 + Int(rng.next() % 40)) { f[BlobFrameHeader.size + k] = UInt8(truncatingIfNeeded: rng.next()) }
                case 4:   // truncated or extended body
                    if rng.next() % 2 == 0, body > 0 { f.removeLast(1 + Int(rng.next() % UInt64(body))) } else {
                        f += (0..<(1 + rng.next() % 64)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
                    }
                default:  // raw length and body bytes at once
                    Self.setRawLength(&f, rng.next() % 100_000)
                    if body > 0 { f[BlobFrameHeader.size + Int(rng.next() % UInt64(body))] = UInt8(truncatingIfNeeded: rng.next()) }
                }
                Self.reseal(&f)
                decodeSurvives(f, "seed \(s) iteration \(iteration)")
            }
        }
        // Random bodies behind valid, sealed headers of every codec and element type.
        for i in 0..<3000 {
            var f = BlobFrameHeader.magic + [BlobFrameHeader.version, UInt8(rng.next() % 3), UInt8(rng.next() % 11), UInt8(rng.next() % 3)]
            f += [UInt8](repeating: 0, count: 20)
            Self.setRawLength(&f, interesting[i % interesting.count] % 70_000)
            f += (0..<(rng.next() % 300)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            Self.reseal(&f)
            decodeSurvives(f, "random frame \(i)")
        }
    }

    func testRANSDecodeOfRandomPayloadsOnlyThrows() {
        var rng = RNG(state: 77)
        var out = [UInt8](repeating: 0, count: 5000)
        for i in 0..<5000 {
            var payload = (0..<(rng.next() % 600)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            if i % 2 == 0, payload.count >= 3 { payload[0] = UInt8(8 + rng.next() % 5); payload[1] = 0; payload[2] = UInt8(rng.next() % 4) }
            let n = Int(rng.next() % 5000)
            out.withUnsafeMutableBufferPointer { dst in
                // Both layouts; the 64-state one through the AVX2 kernel where the build has it.
                let lanes = i % 3 == 0 ? RANSCoder.wide : RANSCoder.narrow
                payload.withUnsafeBytes { src in _ = try? RANSCoder.decode(src, into: dst.baseAddress!, count: n, lanes: lanes) }
            }
        }
    }

    /// The declared length is checked before anything is allocated: against the
    /// manifest's dtype x shape, then against the expansion cap. An all-zero 64 MiB f32
    /// tensor really encodes to a few KiB; from a remote it is refused, locally it decodes.
    func testDeclaredLengthIsBoundedByManifestAndExpansion() throws {
        let zeros = [UInt8](repeating: 0, count: 64 << 20)
        let frame = BlobCodec().encode(zeros, as: .tensor(.f32))
        XCTAssertLessThan(frame.count, 64 << 10)
        XCTAssertThrowsError(try BlobCodec.decode(frame, limits: .untrusted(expectedLength: zeros.count))) { e in
            guard case .exceedsLimit = e as? BlobCodecError else { return XCTFail("\(e)") }
        }
        XCTAssertThrowsError(try BlobCodec.decode(frame, limits: .untrusted(expectedLength: 1024))) { e in
            XCTAssertEqual(e as? BlobCodecError, .unexpectedLength(declared: UInt64(zeros.count), expected: 1024))
        }
        XCTAssertEqual(try BlobCodec.decode(frame, limits: .local).count, zeros.count)
        // A real tensor passes the untrusted limits.
        var rng = RNG(state: 3)
        let raw = BlobCodecTests.tensorBytes(.f32, count: 100_000, rng: &rng)
        XCTAssertEqual(try BlobCodec.decode(BlobCodec().encode(raw, as: .tensor(.f32)), limits: .untrusted(expectedLength: raw.count)), raw)
    }

    /// The frame of the adversarial report: 45 bytes declaring 64 GiB (a zstd frame whose
    /// content size says the same). Refused from the header, under every limit.
    func testSmallFrameDeclaring64GiBIsRefusedBeforeAllocating() throws {
        let frame = Self.zstdBomb(declaring: 64 << 30)
        XCTAssertEqual(frame.count, 45)
        for limits in [BlobDecodeLimits.local, .untrusted(expectedLength: nil), .untrusted(expectedLength: 4096)] {
            XCTAssertThrowsError(try BlobCodec.decode(frame, limits: limits))
        }
    }

    /// A sealed `zstd` frame for an f32 tensor whose header and zstd frame both declare
    /// `size` bytes, with one 1-byte RLE block as the whole payload.
    static func zstdBomb(declaring size: UInt64) -> [UInt8] {
        var z: [UInt8] = [0x28, 0xB5, 0x2F, 0xFD, 0xE0]   // magic; single segment, 8-byte content size
        withUnsafeBytes(of: size.littleEndian) { z += $0 }
        z += [0x03, 0x00, 0x00, 0x00]                      // last block, RLE, size 0; the byte
        let h = BlobFrameHeader(codec: .zstd, elementType: .tensor(.f32), transform: .none, rawLength: size,
                                bodyHash: z.withUnsafeBytes { BlobCodec.bodyHash($0) })
        return h.encoded() + z
    }
}
