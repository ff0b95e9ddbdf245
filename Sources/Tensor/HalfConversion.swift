import GlossaCore

/// Stored tensors as the f32 arrays `Tensor` computes on. The conversion itself is
/// GlossaCore's (`TensorData.floats()`, `TensorData.float32`); this adds Tensor's rule that
/// only float weights (f32, f16, bf16) may become f32 values, with `TensorError`.
public enum HalfConversion {
    /// All elements of `stored` as f32 (exact: every f16/bf16 value is an f32).
    public static func floats(from stored: TensorData) throws(TensorError) -> [Float] {
        guard [.f32, .f16, .bf16].contains(stored.dtype) else { throw .unsupportedDType(stored.dtype) }
        return stored.floats()
    }

    /// f32 little-endian `TensorData` of `values` with `shape` (the inverse of `floats(from:)`).
    public static func f32Data(_ values: [Float], shape: [Int]) -> TensorData { .float32(shape: shape, values) }
}
