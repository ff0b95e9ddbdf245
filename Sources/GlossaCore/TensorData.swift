import Foundation

/// A named-free tensor as stored: element type, shape and little-endian bytes.
///
/// This is the interchange value between file formats (TensorIO), the store and the
/// compute module (Tensor), which converts it to f32 for arithmetic.
public struct TensorData: Sendable, Equatable {
    public var dtype: DType
    /// Row-major shape; `[]` is a scalar.
    public var shape: [Int]
    /// `shape.product * dtype.size` little-endian bytes.
    public var bytes: Data

    public init(dtype: DType, shape: [Int], bytes: Data) {
        precondition(shape.reduce(1, *) * dtype.size == bytes.count, "TensorData: \(shape) \(dtype) needs \(shape.reduce(1, *) * dtype.size) bytes, got \(bytes.count)")
        self.dtype = dtype
        self.shape = shape
        self.bytes = bytes
    }

    public var count: Int { shape.reduce(1, *) }
}
