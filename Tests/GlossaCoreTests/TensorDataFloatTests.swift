import Foundation
import GlossaCore
import XCTest

/// f32 <-> f16 / bf16: widening checked bit for bit against a plain decoder of the formats,
/// narrowing against hand-worked round-to-nearest-even cases (ties, carries, overflow,
/// subnormals, NaN), and round trips over every f16 pattern.
final class TensorDataFloatTests: XCTestCase {
    func halves(_ bits: [UInt16], dtype: DType = .f16) -> TensorData {
        var d = Data()
        for b in bits { withUnsafeBytes(of: b.littleEndian) { d.append(contentsOf: $0) } }
        return TensorData(dtype: dtype, shape: [bits.count], bytes: d)
    }

    func bits16(_ t: TensorData) -> [UInt16] {
        t.bytes.withUnsafeBytes { raw in (0 ..< t.count).map { UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * $0, as: UInt16.self)) } }
    }

    /// IEEE binary16 decoded field by field: the reference the Float16 path is checked against.
    func referenceHalf(_ h: UInt16) -> Float {
        let sign: Float = h & 0x8000 == 0 ? 1 : -1
        let exp = Int(h >> 10) & 0x1F, mant = Float(h & 0x3FF)
        switch exp {
        case 0: return sign * mant * 0x1p-24                       // zero and subnormals
        case 31: return mant == 0 ? sign * .infinity : .nan
        default: return sign * (1 + mant / 1024) * Float(sign: .plus, exponent: exp - 15, significand: 1)
        }
    }

    func testEveryHalfWidensExactlyAndNarrowsBackToItsOwnBits() {
        let all = (0 ... UInt16.max).map { $0 }
        let wide = halves(all).floats()
        for (h, f) in zip(all, wide) {
            let ref = referenceHalf(h)
            if ref.isNaN { XCTAssertTrue(f.isNaN, String(h, radix: 16)) } else { XCTAssertEqual(f.bitPattern, ref.bitPattern, String(h, radix: 16)) }
        }
        let back = bits16(halves(all).converted(to: .f32).converted(to: .f16))
        for (h, b) in zip(all, back) {
            if referenceHalf(h).isNaN { XCTAssertEqual(b & 0x7C00, 0x7C00); XCTAssertNotEqual(b & 0x3FF, 0, "NaN stays NaN") }
            else { XCTAssertEqual(b, h, String(h, radix: 16)) }
        }
    }

    func testF32ToF16RoundsToNearestEven() {
        let cases: [(Float, UInt16)] = [
            (1 + 0x1p-11, 0x3C00),          // exactly half an ulp above 1: tie, to even (down)
            (1 + 3 * 0x1p-11, 0x3C02),      // tie between 0x3C01 and 0x3C02: to even (up)
            (1 + 0x1p-11 + 0x1p-20, 0x3C01),// just above the tie: up
            (65504, 0x7BFF), (65519, 0x7BFF), // largest finite, and the last value that rounds to it
            (65520, 0x7C00),                // the first that overflows to +inf
            (0x1p-24, 0x0001),              // smallest subnormal
            (0x1p-25, 0x0000),              // half of it: tie, to even (zero)
            (3 * 0x1p-26, 0x0001),          // above the tie: up to the subnormal
            (-0.0, 0x8000), (.infinity, 0x7C00), (-.infinity, 0xFC00),
        ]
        let t = TensorData.float32(shape: [cases.count], cases.map(\.0)).converted(to: .f16)
        XCTAssertEqual(t.dtype, .f16)
        XCTAssertEqual(bits16(t).map { String($0, radix: 16) }, cases.map { String($0.1, radix: 16) })
        XCTAssertTrue(TensorData.float32(shape: [1], [.nan]).converted(to: .f16).floats()[0].isNaN)
    }

    func testF32ToBF16RoundsToNearestEvenAndKeepsNaN() {
        let cases: [(UInt32, UInt16)] = [
            (0x3F80_8000, 0x3F80),          // 1 + 2^-8: tie, to even (down)
            (0x3F81_8000, 0x3F82),          // tie between 0x3F81 and 0x3F82: to even (up)
            (0x3F80_8001, 0x3F81),          // just above the tie: up
            (0x3F80_7FFF, 0x3F80),          // just below: down
            (0x3FFF_FFFF, 0x4000),          // the carry out of the mantissa bumps the exponent
            (0x7F7F_FFFF, 0x7F80),          // largest finite f32 rounds to +inf
            (0x0001_8000, 0x0002),          // subnormal tie, odd: up
            (0x8000_0000, 0x8000), (0x7F80_0000, 0x7F80), (0xFF80_0000, 0xFF80),
            (0x7F80_0001, 0x7FC0),          // signalling NaN: truncation would make it +inf; kept a (quiet) NaN
            (0xFFC0_0000, 0xFFC0),          // negative quiet NaN keeps its sign
        ]
        let t = TensorData.float32(shape: [cases.count], cases.map { Float(bitPattern: $0.0) }).converted(to: .bf16)
        XCTAssertEqual(t.dtype, .bf16)
        XCTAssertEqual(bits16(t).map { String($0, radix: 16) }, cases.map { String($0.1, radix: 16) })
    }

    /// f32 -> bf16 -> f32 is within half a bf16 ulp (7 stored mantissa bits: 2^(e-8) for x in
    /// [2^e, 2^(e+1))) and widening is exact.
    func testBF16RoundTripIsWithinHalfAnUlp() {
        var rng = SeededGenerator(seed: 7)
        let xs = (0 ..< 4096).map { _ in Float.random(in: -1000 ... 1000, using: &rng) }
        let back = TensorData.float32(shape: [xs.count], xs).converted(to: .bf16).converted(to: .f32).floats()
        for (x, y) in zip(xs, back) {
            XCTAssertLessThanOrEqual(abs(x - y), Float(sign: .plus, exponent: x.exponent - 8, significand: 1), "\(x)")
        }
        let bf = TensorData.float32(shape: [xs.count], xs).converted(to: .bf16)
        XCTAssertEqual(bf.floats().map(\.bitPattern), bits16(bf).map { UInt32($0) << 16 })
    }

    func testF16AndBF16ConvertThroughF32() {
        let h = halves([0x3C00, 0x3555, 0x0001, 0x7C00])   // 1, 0.333251953125, 2^-24, inf
        let b = h.converted(to: .bf16)
        // 0.333251953125 is f32 0x3EAA_A000: the dropped 0xA000 is above the tie, so bf16 rounds up.
        XCTAssertEqual(bits16(b), [0x3F80, 0x3EAB, 0x3380, 0x7F80])
        XCTAssertEqual(b.converted(to: .f16).floats(), [1, 0.333984375, 0x1p-24, .infinity], "bf16 keeps 8 bits of mantissa")
    }

    func testOtherTypesWidenAndAreNotConverted() {
        func data<T>(_ dtype: DType, _ xs: [T]) -> TensorData {
            TensorData(dtype: dtype, shape: [xs.count], bytes: xs.withUnsafeBytes { Data($0) })
        }
        XCTAssertEqual(data(.i8, [Int8(-128), 127]).floats(), [-128, 127])
        XCTAssertEqual(data(.u8, [UInt8(0), 255]).floats(), [0, 255])
        XCTAssertEqual(data(.bool, [UInt8(0), 1]).floats(), [0, 1])
        XCTAssertEqual(data(.i16, [Int16(-32768), 7]).floats(), [-32768, 7])
        XCTAssertEqual(data(.i32, [Int32(16_777_217)]).floats(), [16_777_216], "rounds to the nearest f32")
        XCTAssertEqual(data(.i64, [Int64(-3)]).floats(), [-3])
        XCTAssertEqual(data(.f64, [0.1, 1e300]).floats(), [0.1, .infinity])
        let ints = data(.i32, [Int32(1)])
        XCTAssertEqual(ints.converted(to: .f16), ints, "not a float weight: returned as is")
        XCTAssertEqual(TensorData.float32(shape: [1], [2]).converted(to: .i8).dtype, .f32)
    }

    /// Bytes that start at an odd address (a view into a mapped file) read the same.
    func testUnalignedBytes() {
        let raw = Data([0xAA]) + halves([0x3C00, 0xC000]).bytes
        let t = TensorData(dtype: .f16, shape: [2], bytes: raw.dropFirst())
        XCTAssertEqual(t.floats(), [1, -2])
        XCTAssertEqual(bits16(t.converted(to: .f32).converted(to: .f16)), [0x3C00, 0xC000])
    }

    /// Widening a large tensor (a model's weights at load) asks for huge pages on the new
    /// array (VmFlags `hg` in /proc/self/smaps, whatever the THP mode), values unchanged.
    func testWideningALargeTensorAdvisesHugePages() throws {
        let n = 3 << 20   // 6 MB of f16, 12 MB of f32
        let bits = (0 ..< n).map { UInt16(truncatingIfNeeded: 0x3C00 &+ $0 % 977) }
        let wide = halves(bits).floats()
        XCTAssertEqual(wide[976], Float(Float16(bitPattern: 0x3C00 + 976)))
        XCTAssertTrue(try wide.withUnsafeBytes { try MemoryMaps.hugePagesAdvised($0) })
    }
}
