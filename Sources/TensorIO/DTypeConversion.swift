import Foundation
import GlossaCore

extension TensorData {
    /// Elements widened to Float (f32, f16, bf16, f64 and integer types).
    func floats() -> [Float] {
        bytes.withUnsafeBytes { raw -> [Float] in
            let n = count
            var out = [Float](repeating: 0, count: n)
            switch dtype {
            case .f32: for i in 0 ..< n { out[i] = Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self))) }
            case .f16: for i in 0 ..< n { out[i] = Float(Float16(bitPattern: UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))) }
            case .bf16: for i in 0 ..< n { out[i] = Float(bitPattern: UInt32(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) << 16) }
            case .f64: for i in 0 ..< n { out[i] = Float(Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self)))) }
            case .i8: for i in 0 ..< n { out[i] = Float(raw.loadUnaligned(fromByteOffset: i, as: Int8.self)) }
            case .u8, .bool: for i in 0 ..< n { out[i] = Float(raw[i]) }
            case .i16: for i in 0 ..< n { out[i] = Float(Int16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * i, as: Int16.self))) }
            case .i32: for i in 0 ..< n { out[i] = Float(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self))) }
            case .i64: for i in 0 ..< n { out[i] = Float(Int64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self))) }
            }
            return out
        }
    }

    /// An f32 tensor holding `values`.
    static func float32(shape: [Int], _ values: [Float]) -> TensorData {
        TensorData(dtype: .f32, shape: shape, bytes: values.withUnsafeBytes { Data($0) })
    }

    /// Rows `rows` of a tensor whose first dimension indexes rows, copied into fresh
    /// storage (so `bytes.startIndex` is 0 like every other TensorData).
    func rows(_ rows: Range<Int>) -> TensorData {
        precondition(!shape.isEmpty && rows.lowerBound >= 0 && rows.upperBound <= shape[0])
        let rowBytes = shape.dropFirst().reduce(1, *) * dtype.size
        let lo = bytes.startIndex + rows.lowerBound * rowBytes
        var s = shape
        s[0] = rows.count
        return TensorData(dtype: dtype, shape: s, bytes: bytes.subdata(in: lo ..< lo + rows.count * rowBytes))
    }

    /// True when every byte is zero (so every element is +0 for float types).
    var isAllZeroBytes: Bool { bytes.allSatisfy { $0 == 0 } }
}
