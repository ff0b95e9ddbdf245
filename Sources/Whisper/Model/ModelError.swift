import GlossaCore
import Tensor

/// Why a model or adapter could not be built or run.
public enum WhisperModelError: Error, CustomStringConvertible, Equatable {
    /// A checkpoint tensor is missing.
    case missingTensor(String)
    /// A tensor (or adapter factor) has the wrong shape.
    case badShape(String, expected: [Int], got: [Int])
    /// A tensor could not be converted to f32.
    case conversion(String, TensorError)
    /// An adapter module path names no linear layer Glossa can adapt.
    case unknownAdapterModule(String)
    /// Input features have the wrong shape.
    case badFeatures(expected: [Int], got: [Int])
    /// The decoder would exceed its 448 learned positions.
    case sequenceTooLong(length: Int, max: Int)

    public var description: String {
        switch self {
        case .missingTensor(let n): return "checkpoint lacks tensor \(n); re-import the model (is it a Whisper checkpoint?)"
        case .badShape(let n, let e, let g): return "tensor \(n) has shape \(g), expected \(e); the checkpoint or adapter does not fit this model"
        case .conversion(let n, let e): return "tensor \(n): \(e)"
        case .unknownAdapterModule(let m):
            return "adapter module \(m) is not an adaptable linear (q/k/v/out_proj of self_attn or encoder_attn, fc1, fc2 in model.{encoder,decoder}.layers.N)"
        case .badFeatures(let e, let g): return "log-mel features have shape \(g), expected \(e) (n_mels x 3000 frames, one 30 s window)"
        case .sequenceTooLong(let l, let m): return "decoder sequence of \(l) tokens exceeds the model's \(m) positions"
        }
    }
}
