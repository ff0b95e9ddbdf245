import Foundation
import GlossaCore
import Tensor
import TensorIO
import Whisper

/// A Whisper base ready to transcribe: immutable weights, tokenizer, special tokens and the
/// compute backend. Per-utterance state (KV caches) is created per call, so one loaded
/// `SpeechModel` serves many utterances and may switch LoRA experts between them.
public struct SpeechModel: Sendable {
    public let config: WhisperConfig
    public let transcriber: Transcriber
    public let tokenizer: BPETokenizer
    public let features: LogMelSpectrogram
    /// Where the weights came from (folder path or registry digest), for reports.
    public let origin: String

    public var compute: Compute { transcriber.compute }
    public var specials: SpecialTokens { transcriber.specials }
    public var model: WhisperModel { transcriber.model }

    /// `precision`: `.halfWhereExact` to transcribe (the f16 decoder weights stay f16: half
    /// the memory and the bytes per step); `.float32` to train (the graph reads f32 only).
    public init(checkpoint: WhisperCheckpoint, compute: Compute, origin: String,
                precision: WeightPrecision = .halfWhereExact) throws(GlossaError) {
        let model: WhisperModel
        do { model = try WhisperModel(checkpoint: checkpoint, precision: precision) } catch {
            throw GlossaError(.invalidInput, "Cannot build the Whisper model from \(origin): \(error)")
        }
        let specials: SpecialTokens
        do { specials = try SpecialTokens(tokenizerJSON: checkpoint.tokenizerJSON) } catch {
            throw GlossaError(.invalidInput, "Cannot read special tokens of \(origin)'s tokenizer.json: \(error)")
        }
        do { transcriber = try Transcriber(model: model, compute: compute, specials: specials) } catch {
            throw GlossaError(.invalidInput, "The tokenizer of \(origin) does not fit its model: \(error)")
        }
        do { tokenizer = try BPETokenizer(json: Data(checkpoint.tokenizerJSON), path: origin + "/tokenizer.json") } catch {
            throw GlossaError(.invalidInput, "Cannot read \(origin)'s tokenizer.json: \(error)")
        }
        config = checkpoint.config
        features = LogMelSpectrogram(melBins: checkpoint.config.numMelBins)
        self.origin = origin
    }

    /// Loads a model folder: CTranslate2 (`model.bin`) or Hugging Face (`model.safetensors`).
    public static func loadCheckpoint(folder: URL) throws(GlossaError) -> WhisperCheckpoint {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: folder.path, isDirectory: &isDir), isDir.boolValue else {
            throw GlossaError(.notFound, "Model folder \(folder.path) does not exist")
        }
        do {
            if fm.fileExists(atPath: folder.appendingPathComponent("model.bin").path) {
                return try CTranslate2Whisper.load(folder: folder)
            }
            return try HuggingFaceWhisper.load(folder: folder)
        } catch {
            throw GlossaError(.invalidInput, "Cannot load Whisper model folder \(folder.path): \(error)")
        }
    }
}
