import Foundation
import GlossaCore

/// A dense, row-major f32 tensor: the compute module's value type.
///
/// Storage is a Swift array, so copies are copy-on-write and weights can be shared
/// between model instances (a merged-LoRA model shares every untouched matrix).
public struct Tensor: Sendable, Equatable {
    public var shape: [Int]
    public var data: [Float]

    public init(shape: [Int], data: [Float]) {
        precondition(shape.reduce(1, *) == data.count, "Tensor: shape \(shape) needs \(shape.reduce(1, *)) values, got \(data.count)")
        self.shape = shape; self.data = data
    }

    public init(zeros shape: [Int]) {
        self.shape = shape; self.data = [Float](repeating: 0, count: shape.reduce(1, *))
    }

    /// Converts stored f32/f16/bf16 little-endian bytes to f32.
    public init(_ stored: TensorData) throws(TensorError) {
        self.shape = stored.shape
        self.data = try HalfConversion.floats(from: stored)
    }

    public var count: Int { data.count }
}

public enum TensorError: Error, CustomStringConvertible, Equatable {
    case unsupportedDType(DType)
    case shapeMismatch(String, expected: [Int], got: [Int])

    public var description: String {
        switch self {
        case .unsupportedDType(let d): return "cannot convert \(d.rawValue) tensor to f32 (only F32, F16, BF16 are float weights)"
        case .shapeMismatch(let what, let e, let g): return "\(what): expected shape \(e), got \(g)"
        }
    }
}
