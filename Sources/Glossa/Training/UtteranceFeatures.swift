import Eval
import Foundation
import Whisper

/// The inputs of one manifest line for training: its language token and the log-mel of its
/// first 30 s window. One place for both trainers (experts and composition), so they read
/// audio and report bad lines the same way.
struct UtteranceInput {
    var languageToken: Int
    /// Log-mel [n_mels, 3000].
    var features: [Float]

    /// Line `index` (0-based) of manifest `path`.
    init(_ e: ManifestEntry, index: Int, manifest path: String, tokenizer: BPETokenizer, mel: LogMelSpectrogram) throws(GlossaError) {
        guard let lang = tokenizer.id(of: "<|\(e.lang)|>") else {
            throw GlossaError(.invalidInput, "\(path):\(index + 1): utterance \(e.id) has language '\(e.lang)', which the tokenizer has no token for")
        }
        let samples: [Float]
        do {
            let reader = try AudioReader(path: e.audioPath(manifestPath: path))
            samples = try reader.nextChunk() ?? []
        } catch { throw GlossaError(.invalidInput, "\(path):\(index + 1): utterance \(e.id): \(error)") }
        languageToken = lang
        features = mel.features(samples).values
    }
}
