import XCTest
import GlossaCore
@testable import Store

/// Property tests: decode(encode(x)) == x for random tensors of every dtype and odd
/// lengths, and damaged frames are refused.
final class BlobCodecTests: XCTestCase {
    /// Deterministic generator (SplitMix64) so failures reproduce.
    struct RNG: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E3779B97F4A7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9; z = (z ^ (z >> 27)) &* 0x94D049BB133111EB
            return z ^ (z >> 31)
        }
    }

    /// Bytes that look like a tensor of `dtype`: Gaussian-ish floats (so planes compress),
    /// random integers otherwise.
    static func tensorBytes(_ dtype: DType, count: Int, rng: inout RNG) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(count * dtype.size)
        for _ in 0..<count {
            let g = (Double(rng.next() % 10_000) / 10_000 - 0.5) * 0.04 * Double(1 + rng.next() % 3)
            switch dtype {
            case .f32: withUnsafeBytes(of: Float(g).bitPattern.littleEndian) { out += $0 }
            case .f64: withUnsafeBytes(of: g.bitPattern.littleEndian) { out += $0 }
            case .f16:
                #if arch(arm64) || arch(x86_64)
                withUnsafeBytes(of: Float16(g).bitPattern.littleEndian) { out += $0 }
                #endif
            case .bf16: withUnsafeBytes(of: UInt16(truncatingIfNeeded: Float(g).bitPattern >> 16).littleEndian) { out += $0 }
            default: for _ in 0..<dtype.size { out.append(UInt8(truncatingIfNeeded: rng.next())) }
            }
        }
        return out
    }

    func testRoundTripEveryDTypeAndOddLengths() throws {
        var rng = RNG(state: 1)
        let codec = BlobCodec()
        for dtype in DType.allCases {
            for count in [0, 1, 3, 63, 64, 65, 1000, 4097, 70_001] {
                var raw = Self.tensorBytes(dtype, count: count, rng: &rng)
                // Odd lengths: drop or add a few bytes so the length is not a multiple of the element size.
                for extra in [0, 1, dtype.size + 1] {
                    if extra == 1 && !raw.isEmpty { raw.removeLast() } else if extra > 1 { raw += [7, 8] }
                    let frame = codec.encode(raw, as: .tensor(dtype))
                    XCTAssertEqual(try BlobCodec.decode(frame), raw, "\(dtype) count \(count) len \(raw.count)")
                    XCTAssertEqual(try BlobCodec.header(of: frame).rawLength, UInt64(raw.count))
                }
            }
        }
        for n in [0, 1, 5, 100_000] {
            let raw = (0..<n).map { _ in UInt8(truncatingIfNeeded: rng.next() % 7) }
            XCTAssertEqual(try BlobCodec.decode(codec.encode(raw, as: .opaque)), raw)
        }
    }

    func testSpecialPlanes() throws {
        // Constant, all-zero, all-distinct and alternating-sign data exercise the
        // stored / zstd / rANS choices, including a one-symbol rANS plane.
        let codec = BlobCodec()
        let cases: [(DType, [UInt8])] = [
            (.f32, [UInt8](repeating: 0, count: 4 * 100_000)),
            (.f16, (0..<200_000).map { UInt8($0 % 2 == 0 ? 0x3c : 0x00) }),
            (.bf16, (0..<131_072).map { UInt8(truncatingIfNeeded: $0 &* 97) }),
            (.f32, (0..<40_000).flatMap { i -> [UInt8] in withUnsafeBytes(of: Float(i % 2 == 0 ? 1.5 : -1.5).bitPattern.littleEndian) { Array($0) } }),
        ]
        for (d, raw) in cases {
            let frame = codec.encode(raw, as: .tensor(d))
            XCTAssertEqual(try BlobCodec.decode(frame), raw, "\(d)")
        }
    }

    func testFloatPlanesCompressBetterThanOpaque() throws {
        var rng = RNG(state: 9)
        let raw = Self.tensorBytes(.f32, count: 100_000, rng: &rng)
        let planes = BlobCodec().encode(raw, as: .tensor(.f32)).count
        let opaque = BlobCodec().encode(raw, as: .opaque).count
        XCTAssertLessThan(planes, opaque)
        XCTAssertLessThan(Double(planes), 0.9 * Double(raw.count))
    }

    /// Each plane takes the fastest-decoding coding (stored, then zstd, then rANS) whose
    /// payload is within `fasterPlaneSlack` (0.4%) of the smallest, not always the smallest.
    func testPlaneCodingPrefersFasterDecodeWithinSlack() {
        func pick(_ sizes: [(UInt8, Int)]) -> UInt8 {
            BlobCodec.choosePlaneCoding(sizes.map { ($0.0, [UInt8](repeating: 0, count: $0.1)) }).mode
        }
        XCTAssertEqual(pick([(0, 10_000), (1, 9_960), (3, 9_940)]), 1, "zstd 0.2% above rANS: zstd")
        XCTAssertEqual(pick([(0, 10_000), (1, 9_990), (3, 9_900)]), 3, "zstd 0.9% above rANS: rANS")
        XCTAssertEqual(pick([(0, 10_000), (1, 10_100), (3, 9_980)]), 0, "stored 0.2% above rANS: stored")
        XCTAssertEqual(pick([(0, 10_000), (1, 5_000), (3, 4_000)]), 3, "a compressible plane: the smallest")
    }

    /// On a weight-like f32 tensor the exponent plane stays rANS (much smaller there) and the
    /// near-uniform sign+mantissa plane goes to zstd, which decodes it faster at about the
    /// same size; the frame still round-trips.
    func testMantissaPlaneGoesToZstdExponentToRANS() throws {
        // Values whose top mantissa bits are skewed as in trained weights: plane 1 (sign and
        // those bits) carries about 7.8 bits a byte, like whisper-base's 7.77, where uniform
        // values leave it flat at 8 bits (stored wins). mantissa = u^1.6, binades 2^-8 ... 2^-5.
        var rng = RNG(state: 10)
        var raw: [UInt8] = []
        for _ in 0..<200_000 {
            let u = Double(rng.next() % 1_000_000) / 1_000_000
            let binade = Double(Int(rng.next() % 4) - 8), sign: Double = rng.next() % 2 == 0 ? 1 : -1
            let g = Float(sign * (1 + pow(u, 1.6)) * pow(2, binade))
            withUnsafeBytes(of: g.bitPattern.littleEndian) { raw += $0 }
        }
        let frame = BlobCodec().encode(raw, as: .tensor(.f32))
        let body = Array(frame[BlobFrameHeader.size...])
        let modes = (0..<4).map { body[1 + 9 * $0] }
        XCTAssertEqual(modes[0], 3, "exponent plane: wide rANS; modes \(modes)")
        XCTAssertEqual(modes[1], 1, "sign and top mantissa bits: zstd; modes \(modes)")
        XCTAssertEqual(try BlobCodec.decode(frame), raw)
    }

    func testRANSDirectly() throws {
        var rng = RNG(state: 3)
        for n in [1, 2, 3, 4, 5, 7, 8, 1000, 65_537] {
            let src = (0..<n).map { _ in UInt8(truncatingIfNeeded: (rng.next() % 16) * (rng.next() % 3)) }
            guard let enc = src.withUnsafeBufferPointer({ RANSCoder.encode($0) }) else { continue }
            var out = [UInt8](repeating: 0, count: n)
            try enc.withUnsafeBytes { e in try out.withUnsafeMutableBufferPointer { try RANSCoder.decode(e, into: $0.baseAddress!, count: n) } }
            XCTAssertEqual(out, src, "n=\(n)")
        }
    }

    func testDamagedFramesAreRefused() throws {
        var rng = RNG(state: 5)
        let codec = BlobCodec()
        for dtype in [DType.f16, .bf16, .f32, .i8] {
            let raw = Self.tensorBytes(dtype, count: 20_000, rng: &rng)
            let frame = codec.encode(raw, as: .tensor(dtype))
            // Every single-byte change in the header is refused (magic, version, checksum).
            for i in 0..<BlobFrameHeader.size {
                var bad = frame; bad[i] ^= 0x40
                XCTAssertThrowsError(try BlobCodec.decode(bad), "\(dtype) header byte \(i)")
            }
            // Every truncation is refused.
            for cut in [1, 2, 17, frame.count / 2, frame.count - 29] {
                XCTAssertThrowsError(try BlobCodec.decode(Array(frame.dropLast(cut))), "\(dtype) cut \(cut)")
            }
            XCTAssertThrowsError(try BlobCodec.decode(frame + [0]))
            // Any flipped body bit is refused (body hash).
            for _ in 0..<200 {
                var bad = frame
                let i = BlobFrameHeader.size + Int(rng.next() % UInt64(frame.count - BlobFrameHeader.size))
                bad[i] ^= UInt8(1 << (rng.next() % 8))
                XCTAssertThrowsError(try BlobCodec.decode(bad), "\(dtype) flip at \(i) went unnoticed")
            }
        }
        XCTAssertThrowsError(try BlobCodec.decode([UInt8]("not a frame at all, just text".utf8)))
    }
}
