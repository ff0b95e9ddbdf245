import Foundation
import GlossaCore

/// IEEE binary16 and bfloat16 to f32, exact (every f16/bf16 value is representable in f32).
public enum HalfConversion {
    /// f16 bits -> f32 (subnormals, infinities and NaN preserved).
    @inline(__always)
    public static func float(fromHalf h: UInt16) -> Float {
        let sign = UInt32(h & 0x8000) << 16
        let exp = UInt32(h >> 10) & 0x1F
        var mant = UInt32(h & 0x3FF)
        if exp == 0 {
            if mant == 0 { return Float(bitPattern: sign) }
            // Subnormal: normalise. value = mant * 2^-24.
            var e: UInt32 = 127 - 15 + 1
            while mant & 0x400 == 0 { mant <<= 1; e -= 1 }
            mant &= 0x3FF
            return Float(bitPattern: sign | (e << 23) | (mant << 13))
        }
        if exp == 31 { return Float(bitPattern: sign | 0x7F80_0000 | (mant << 13)) }
        return Float(bitPattern: sign | ((exp + 112) << 23) | (mant << 13))
    }

    /// bf16 bits -> f32: the upper half of an f32.
    @inline(__always)
    public static func float(fromBFloat16 b: UInt16) -> Float { Float(bitPattern: UInt32(b) << 16) }

    /// All elements of `stored` as f32.
    public static func floats(from stored: TensorData) throws(TensorError) -> [Float] {
        let n = stored.count
        switch stored.dtype {
        case .f32:
            return [Float](unsafeUninitializedCapacity: n) { out, done in
                stored.bytes.withUnsafeBytes { raw in
                    for i in 0..<n { out[i] = Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self))) }
                }
                done = n
            }
        case .f16, .bf16:
            let half = stored.dtype == .f16
            return [Float](unsafeUninitializedCapacity: n) { out, done in
                stored.bytes.withUnsafeBytes { raw in
                    for i in 0..<n {
                        let bits = UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
                        out[i] = half ? float(fromHalf: bits) : float(fromBFloat16: bits)
                    }
                }
                done = n
            }
        default:
            throw .unsupportedDType(stored.dtype)
        }
    }

    /// f32 little-endian `TensorData` of `values` with `shape` (the inverse of `floats(from:)`).
    public static func f32Data(_ values: [Float], shape: [Int]) -> TensorData {
        precondition(values.count == shape.reduce(1, *), "f32Data: \(values.count) values for shape \(shape)")
        // x86-64 and arm64 are little-endian: the in-memory floats are the stored bytes.
        let bytes = values.withUnsafeBufferPointer { vp in vp.isEmpty ? Data() : Data(buffer: vp) }
        return TensorData(dtype: .f32, shape: shape, bytes: bytes)
    }
}
