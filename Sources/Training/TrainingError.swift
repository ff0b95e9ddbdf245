import GlossaCore

/// Errors of the Training module: what failed, where, and what to do about it.
public enum TrainingError: Error, CustomStringConvertible, Equatable {
    /// An adapter tensor's dtype cannot be used as f32 arithmetic input.
    case unsupportedDType(name: String, dtype: DType)
    /// A LoRA target does not name any linear layer of this model.
    case unknownTarget(String, known: [String])
    /// An example cannot be trained on (e.g. too many tokens, wrong feature size).
    case badExample(id: String, reason: String)
    /// The training configuration is inconsistent.
    case badConfig(String)
    /// A checkpoint file could not be read or written.
    case checkpoint(path: String, reason: String)
    /// Loss became NaN/inf.
    case diverged(step: Int, loss: Double)

    public var description: String {
        switch self {
        case let .unsupportedDType(name, dtype):
            return "Adapter tensor \(name) has dtype \(dtype.rawValue); the trainer needs F32, F16 or BF16 weights"
        case let .unknownTarget(t, known):
            return "LoRA target '\(t)' matches no linear layer; use one of \(known.joined(separator: ", "))"
        case let .badExample(id, reason):
            return "Training example \(id): \(reason); fix or drop it from the manifest"
        case let .badConfig(msg):
            return "Training configuration: \(msg)"
        case let .checkpoint(path, reason):
            return "Training checkpoint \(path): \(reason); delete it to start over"
        case let .diverged(step, loss):
            return "Training diverged at step \(step) (loss \(loss)); lower --lr or raise warmup"
        }
    }
}
