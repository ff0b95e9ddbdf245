/// Element types of stored tensors. Raw values are the safetensors spellings.
public enum DType: String, Codable, Sendable, CaseIterable {
    case f32 = "F32"
    case f16 = "F16"
    case bf16 = "BF16"
    case i8 = "I8"
    case i16 = "I16"
    case i32 = "I32"
    case i64 = "I64"
    case u8 = "U8"
    case bool = "BOOL"
    case f64 = "F64"

    /// Bytes per element.
    public var size: Int {
        switch self {
        case .f64, .i64: return 8
        case .f32, .i32: return 4
        case .f16, .bf16, .i16: return 2
        case .i8, .u8, .bool: return 1
        }
    }

    public var isFloat: Bool { self == .f32 || self == .f16 || self == .bf16 || self == .f64 }
}
