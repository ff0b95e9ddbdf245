import Foundation

extension DType {
    /// The first element of `bytes` (little-endian elements of this type) that is NaN or
    /// ±infinity, with which of them it is; nil when all are finite or the type is not a
    /// float. Decided on the exponent bits (all ones), so it costs one pass of integer
    /// compares and reads no value as a float.
    public func firstNonFinite(in bytes: UnsafeRawBufferPointer) -> (index: Int, value: String)? {
        func scan<T: FixedWidthInteger>(_: T.Type, exponent: T, mantissa: T) -> (Int, String)? {
            let n = bytes.count / MemoryLayout<T>.size
            for i in 0..<n {
                let v = T(littleEndian: bytes.loadUnaligned(fromByteOffset: i * MemoryLayout<T>.size, as: T.self))
                if v & exponent == exponent { return (i, v & mantissa != 0 ? "NaN" : "infinite") }
            }
            return nil
        }
        switch self {
        case .f32: return scan(UInt32.self, exponent: 0x7F80_0000, mantissa: 0x007F_FFFF)
        case .f16: return scan(UInt16.self, exponent: 0x7C00, mantissa: 0x03FF)
        case .bf16: return scan(UInt16.self, exponent: 0x7F80, mantissa: 0x007F)
        case .f64: return scan(UInt64.self, exponent: 0x7FF0_0000_0000_0000, mantissa: 0x000F_FFFF_FFFF_FFFF)
        default: return nil
        }
    }
}

extension TensorData {
    /// See `DType.firstNonFinite(in:)`.
    public var firstNonFinite: (index: Int, value: String)? {
        bytes.withUnsafeBytes { dtype.firstNonFinite(in: $0) }
    }
}
