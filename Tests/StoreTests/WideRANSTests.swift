import XCTest
import CXXHash
import GlossaCore
@testable import Store

/// The 64-state rANS layout (plane mode 3), its AVX2 decoder, and plane frames decoded a
/// chunk at a time: every path must give the encoder's bytes back, agree with the plain
/// loop, and refuse damage; frames written before mode 3 existed must still decode.
final class WideRANSTests: XCTestCase {
    typealias RNG = BlobCodecTests.RNG

    /// Skewed bytes like an exponent plane: a few symbols carry most of the mass.
    static func skewed(_ n: Int, _ rng: inout RNG) -> [UInt8] {
        (0..<n).map { _ in UInt8(truncatingIfNeeded: 120 + (rng.next() % 9) * (rng.next() % 4) / 2) }
    }

    /// Decodes `payload` in pieces of `pieces` symbols (the last piece takes the rest).
    static func decode(_ payload: [UInt8], count n: Int, lanes: Int, vectorized: Bool, pieces: Int? = nil) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: n)
        try payload.withUnsafeBytes { src in
            var d = try RANSDecoder(src, lanes: lanes, vectorized: vectorized)
            try out.withUnsafeMutableBufferPointer { dst in
                var at = 0
                while at < n {
                    let m = min(pieces ?? n, n - at)
                    d.decode(into: dst.baseAddress! + at, count: m)
                    at += m
                }
                try d.finish()
            }
        }
        return out
    }

    func testWideRoundTripAroundGroupAndChunkSizes() throws {
        var rng = RNG(state: 41)
        for n in [1, 63, 64, 65, 127, 128, 4113, 65_536, 65_537, 200_003] {
            let src = Self.skewed(n, &rng)
            // Tiny planes do not pay for a 256-byte state block: the encoder declines them.
            guard let payload = src.withUnsafeBufferPointer({ RANSCoder.encode($0, lanes: RANSCoder.wide) }) else {
                XCTAssertLessThan(n, 1000, "n=\(n) should encode smaller than itself")
                continue
            }
            XCTAssertEqual(try Self.decode(payload, count: n, lanes: RANSCoder.wide, vectorized: true), src, "vectorized n=\(n)")
            XCTAssertEqual(try Self.decode(payload, count: n, lanes: RANSCoder.wide, vectorized: false), src, "scalar n=\(n)")
            // Pieces that are and are not whole groups: the states carry over either way.
            XCTAssertEqual(try Self.decode(payload, count: n, lanes: RANSCoder.wide, vectorized: true, pieces: 64 * 7), src, "n=\(n) in groups")
            XCTAssertEqual(try Self.decode(payload, count: n, lanes: RANSCoder.wide, vectorized: true, pieces: 1000), src, "n=\(n) in 1000s")
        }
    }

    /// The same symbols on 4 and 64 states code to the same size within the state block.
    func testWideCostsOnlyItsStateBlock() throws {
        var rng = RNG(state: 42)
        let src = Self.skewed(100_000, &rng)
        let narrow = try XCTUnwrap(src.withUnsafeBufferPointer { RANSCoder.encode($0, lanes: RANSCoder.narrow) })
        let wide = try XCTUnwrap(src.withUnsafeBufferPointer { RANSCoder.encode($0, lanes: RANSCoder.wide) })
        XCTAssertLessThan(abs(wide.count - narrow.count), 4 * (RANSCoder.wide - RANSCoder.narrow) + 64)
    }

    /// Truncated or altered streams: both decoders give the same bytes and the same refusal.
    func testDamageIsRefusedAlikeByBothPaths() throws {
        var rng = RNG(state: 43)
        let n = 70_001
        let src = Self.skewed(n, &rng)
        let payload = try XCTUnwrap(src.withUnsafeBufferPointer { RANSCoder.encode($0, lanes: RANSCoder.wide) })
        var damaged: [[UInt8]] = [Array(payload.dropLast(2)), Array(payload.dropLast(64)), payload + [0, 0]]
        for at in [payload.count / 2, payload.count - 3] {
            var p = payload
            p[at] ^= 0x5a
            damaged.append(p)
        }
        for (i, p) in damaged.enumerated() {
            var results: [String] = []
            for vectorized in [true, false] {
                do {
                    _ = try Self.decode(p, count: n, lanes: RANSCoder.wide, vectorized: vectorized)
                    results.append("decoded")
                } catch {
                    results.append("\(error)")
                }
            }
            XCTAssertNotEqual(results[0], "decoded", "damage \(i) was not refused")
            XCTAssertEqual(results[0], results[1], "damage \(i)")
        }
    }

    /// Real-looking tensors large enough for several chunks and a tail: mode 3 is chosen for
    /// the exponent plane, and every dtype decodes exactly across chunk boundaries.
    func testLargeTensorsUseWidePlanesAndDecodeAcrossChunks() throws {
        var rng = RNG(state: 44)
        let n = 2 * BlobCodec.planeChunk + 777
        for dtype in [DType.f16, .bf16, .f32] {
            var raw = BlobCodecTests.tensorBytes(dtype, count: n, rng: &rng)
            raw += [1, 2, 3].prefix(dtype.size - 1)  // a tail that is not a whole element
            let frame = BlobCodec().encode(raw, as: .tensor(dtype))
            let body = Array(frame[BlobFrameHeader.size...])
            // f16's first plane (5 exponent and 3 mantissa bits) may go to zstd when that is
            // within BlobCodec.fasterPlaneSlack of rANS; bf16 and f32 exponents never are.
            if dtype == .f16 {
                XCTAssertTrue([1, 3].contains(body[1]), "f16: plane 0 should be wide rANS or zstd, is \(body[1])")
            } else {
                XCTAssertEqual(body[1], 3, "\(dtype): plane 0 should be wide rANS")
            }
            XCTAssertEqual(try BlobCodec.decode(frame), raw, "\(dtype)")
        }
    }

    /// A large decoded tensor asks for huge pages over its whole 2 MiB pages (the kernel
    /// records the advice as VmFlags `hg` of that mapping in /proc/self/smaps, whatever the
    /// machine's THP mode), and still decodes exactly; a small one is left alone. For the
    /// small one the test checks the decision, not the kernel's flags: a small buffer comes
    /// from malloc's heap, where an earlier test's advised (and since freed) tensor may have
    /// left an `hg` region that malloc reuses, so its flags depend on what ran before.
    func testLargeDecodedTensorsAdviseHugePages() throws {
        var rng = RNG(state: 45)
        let raw = BlobCodecTests.tensorBytes(.f32, count: 3 * HugePages.size / 4 + 1000, rng: &rng)   // ~6 MB
        let decoded = try BlobCodec.decode(BlobCodec().encode(raw, as: .tensor(.f32)))
        XCTAssertEqual(decoded, raw)
        XCTAssertTrue(try decoded.withUnsafeBytes { try MemoryMaps.hugePagesAdvised($0) })
        let small = try BlobCodec.decode(BlobCodec().encode(Array(raw.prefix(4096)), as: .tensor(.f32)))
        XCTAssertEqual(small, Array(raw.prefix(4096)))
        XCTAssertNil(small.withUnsafeBytes { HugePages.wholePages(in: $0) }, "a 4 KiB tensor holds no whole huge page to advise")
    }

    /// A frame as encoders before plane mode 3 and frame version 2 wrote it (version 1 with
    /// its serial body hash, a large exponent plane in 4-state rANS, the others stored) still
    /// decodes, chunk by chunk; a changed body byte is still refused by the version 1 hash.
    func testFramesWithNarrowLargePlanesStillDecode() throws {
        var rng = RNG(state: 45)
        let n = BlobCodec.planeChunk + 4321
        let raw = BlobCodecTests.tensorBytes(.f32, count: n, rng: &rng)
        let planes = raw.withUnsafeBytes { BlobCodec().split($0, count: n, elementSize: 4, transform: .exponentPlanes) }
        let exponent = try XCTUnwrap(planes[0..<n].withUnsafeBufferPointer { RANSCoder.encode($0, lanes: RANSCoder.narrow) })
        var table: [UInt8] = [4]
        var payloads: [UInt8] = []
        for k in 0..<4 {
            let payload = k == 0 ? exponent : Array(planes[(k * n)..<((k + 1) * n)])
            table.append(k == 0 ? 2 : 0)
            withUnsafeBytes(of: UInt64(payload.count).littleEndian) { table += $0 }
            payloads += payload
        }
        table.append(0)  // no tail
        let body = table + payloads
        let header = BlobFrameHeader(codec: .planes, elementType: .tensor(.f32), transform: .exponentPlanes, rawLength: UInt64(raw.count),
                                     bodyHash: body.withUnsafeBytes { BlobCodec.bodyHash($0, version: 1) }, version: 1)
        let frame = header.encoded() + body
        XCTAssertEqual(frame[4], 1)
        XCTAssertEqual(try BlobCodec.decode(frame), raw)
        var damaged = frame
        damaged[frame.count - 5] ^= 1
        XCTAssertThrowsError(try BlobCodec.decode(damaged)) { XCTAssertEqual($0 as? BlobCodecError, .bodyChecksum) }
    }

    /// New frames are version 2 (XXH3 body hash); a version this build does not know is
    /// refused by name before anything else is read.
    func testFramesAreVersion2AndUnknownVersionsAreRefused() throws {
        var rng = RNG(state: 46)
        let raw = BlobCodecTests.tensorBytes(.f16, count: 5000, rng: &rng)
        let frame = BlobCodec().encode(raw, as: .tensor(.f16))
        XCTAssertEqual(frame[4], 2)
        let xxh3 = frame.withUnsafeBytes { XXH3_64bits($0.baseAddress! + BlobFrameHeader.size, $0.count - BlobFrameHeader.size) }
        XCTAssertEqual(try BlobCodec.header(of: frame).bodyHash, xxh3)
        var v3 = frame
        v3[4] = 3
        XCTAssertThrowsError(try BlobCodec.decode(BlobCodec.resealed(v3))) { XCTAssertEqual($0 as? BlobCodecError, .unsupportedVersion(3)) }
    }

    /// The build has the AVX2 kernel exactly when it targets a CPU with AVX2 (GLOSSA_CPU=haswell,
    /// as make and CI build here); the baseline build decodes every layout in the plain loop.
    /// Either way one of the two assertions runs, so the vectorised tests above cannot silently
    /// test the scalar path in the build CI runs.
    func testAVX2KernelIsBuiltWhereTheCPUTargetHasIt() {
        let cpu = ProcessInfo.processInfo.environment["GLOSSA_CPU"] ?? ""
        if cpu == "haswell" {
            XCTAssertTrue(RANSDecoder.hasVectorKernel, "GLOSSA_CPU=haswell but Store was built without the AVX2 kernel")
        } else {
            XCTAssertFalse(RANSDecoder.hasVectorKernel && cpu.isEmpty, "a baseline build has no AVX2 kernel")
        }
    }
}
