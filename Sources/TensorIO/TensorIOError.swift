import GlossaCore

/// Everything that can go wrong reading or writing tensor files.
///
/// Each case names the file (or adapter module) and, where there is one, the offending
/// key, so a caller can print `description` as is.
public enum TensorIOError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file system refused an operation (open, map, write, rename...).
    case fileSystem(path: String, operation: String, message: String)
    /// A safetensors file is malformed; `key` is the tensor (or `__metadata__`) at fault.
    case safeTensors(path: String, key: String?, problem: SafeTensorsProblem)
    /// A CTranslate2 `model.bin` is malformed or is not a Whisper model we understand.
    case cTranslate2(path: String, variable: String?, message: String)
    /// A Whisper checkpoint (folder, config or tensor set) is incomplete or inconsistent.
    case checkpoint(path: String, key: String?, message: String)
    /// A PEFT adapter folder is malformed or uses a feature Glossa does not support.
    case adapter(path: String, key: String?, message: String)
    /// A LoRA adapter does not fit its base model; `module` is the first misfit found.
    case adapterMismatch(module: String, message: String)

    public var description: String {
        switch self {
        case let .fileSystem(path, operation, message):
            return "\(path): cannot \(operation): \(message)"
        case let .safeTensors(path, key, problem):
            return "\(path): invalid safetensors\(key.map { " at key '\($0)'" } ?? ""): \(problem)"
        case let .cTranslate2(path, variable, message):
            return "\(path): invalid CTranslate2 model\(variable.map { " at variable '\($0)'" } ?? ""): \(message)"
        case let .checkpoint(path, key, message):
            return "\(path): invalid Whisper checkpoint\(key.map { " at '\($0)'" } ?? ""): \(message)"
        case let .adapter(path, key, message):
            return "\(path): invalid PEFT adapter\(key.map { " at '\($0)'" } ?? ""): \(message)"
        case let .adapterMismatch(module, message):
            return "adapter does not fit the base model at module '\(module)': \(message)"
        }
    }
}

/// What is wrong with a safetensors file, precisely enough for tests to tell apart.
public enum SafeTensorsProblem: Sendable, Equatable, CustomStringConvertible {
    /// The file is shorter than its header says (`needed` bytes, `have` bytes).
    case truncated(needed: UInt64, have: UInt64)
    /// The header length exceeds the limit this reader accepts.
    case headerTooLarge(length: UInt64, limit: UInt64)
    /// The header is not valid UTF-8 JSON.
    case headerNotJSON(String)
    /// The header is JSON but not an object of tensor entries.
    case headerNotObject
    /// A tensor entry lacks `dtype`, `shape` or `data_offsets`, or has the wrong types.
    case malformedEntry(String)
    /// A dtype this reader does not know.
    case unknownDType(String)
    /// A negative dimension, or a shape whose element count overflows.
    case invalidShape([Int])
    /// `data_offsets` span `actual` bytes but dtype and shape need `expected`.
    case sizeMismatch(expected: UInt64, actual: UInt64)
    /// `data_offsets` are reversed or extend past the data section (`dataLength` bytes).
    case offsetsOutOfBounds(begin: UInt64, end: UInt64, dataLength: UInt64)
    /// Two tensors claim overlapping bytes.
    case overlapping(with: String)
    /// Bytes between (or after) tensors that belong to no tensor.
    case gap(at: UInt64)
    /// `__metadata__` is not a map from strings to strings.
    case metadataNotStringMap
    /// A writer refused the input (e.g. a name that is reserved).
    case invalidInput(String)

    public var description: String {
        switch self {
        case let .truncated(needed, have): return "file truncated: needs \(needed) bytes, has \(have)"
        case let .headerTooLarge(length, limit): return "header length \(length) exceeds the limit of \(limit) bytes"
        case let .headerNotJSON(why): return "header is not UTF-8 JSON (\(why))"
        case .headerNotObject: return "header is not a JSON object"
        case let .malformedEntry(why): return "malformed tensor entry: \(why)"
        case let .unknownDType(d): return "unknown dtype '\(d)' (known: \(DTypeNames.all))"
        case let .invalidShape(s): return "invalid shape \(s)"
        case let .sizeMismatch(e, a): return "data_offsets span \(a) bytes but dtype and shape need \(e)"
        case let .offsetsOutOfBounds(b, e, n): return "data_offsets [\(b), \(e)] outside the data section of \(n) bytes"
        case let .overlapping(other): return "bytes overlap tensor '\(other)'"
        case let .gap(at): return "data section has bytes at offset \(at) that belong to no tensor"
        case .metadataNotStringMap: return "__metadata__ must map strings to strings"
        case let .invalidInput(why): return why
        }
    }
}


enum DTypeNames {
    static let all = DType.allCases.map(\.rawValue).joined(separator: ", ")
}
