import Foundation
import GlossaCore
import Tensor
import Whisper

/// What `transcribe` returns for one audio file.
public struct FileTranscription: Codable, Sendable {
    public struct Window: Codable, Sendable {
        /// Window start in seconds.
        public var start: Double
        public var text: String
        public var tokens: [Int]
        public var language: String
        public var languageProbability: Double?
        /// Top detected languages (empty when the language was given).
        public var detectedLanguages: [LanguageProbability]
        public var avgLogProb: Double
        public var temperature: Double
        public var noSpeechProbability: Double
        public var expert: String?
        /// Seconds spent in the encoder and in decoding this window.
        public var encoderSeconds: Double
        public var decoderSeconds: Double
    }

    public var file: String
    public var text: String
    /// Language of the first window with speech (given or detected).
    public var language: String
    /// Probability of the detected language (nil when the language was given).
    public var languageProbability: Double?
    /// Top detected languages of the first window.
    public var detectedLanguages: [LanguageProbability]
    public var durationSeconds: Double
    public var processingSeconds: Double
    public var windows: [Window]

    public struct LanguageProbability: Codable, Sendable {
        public var language: String
        public var probability: Double
    }
}

/// Options of one transcription, independent of the source of audio.
public struct TranscribeSettings: Sendable {
    /// Language code; nil detects it per window.
    public var language: String?
    public var beamSize: Int = 5
    /// Temperature fallback ladder (Whisper's default).
    public var temperatures: [Double] = [0, 0.2, 0.4, 0.6, 0.8, 1.0]
    /// Pure greedy or beam search: temperature 0 only, no fallback thresholds and no
    /// no-speech rule, as peers decode when their outputs are compared token for token.
    public var noFallback = false

    public init(language: String? = nil, beamSize: Int = 5, noFallback: Bool = false) {
        self.language = language; self.beamSize = beamSize; self.noFallback = noFallback
    }

    var decoding: TranscriptionOptions {
        var o = TranscriptionOptions(language: language, beamSize: beamSize)
        o.temperatures = temperatures
        if noFallback {
            o.temperatures = [0]
            o.compressionRatioThreshold = nil; o.logProbThreshold = nil; o.noSpeechThreshold = nil
        }
        return o
    }
}

extension SpeechModel {
    /// Transcribes one audio file window by window (30 s each, bounded memory).
    /// `onWindow(windows done, seconds done, file duration in seconds)` follows progress.
    /// With `batcher`, the decoder steps run batched with the other threads of that group.
    public func transcribe(file path: String, settings: TranscribeSettings, router: ExpertRouter = .none, batcher: DecodeBatcher? = nil,
                           onWindow: (Int, Double, Double) -> Void = { _, _, _ in }) throws(GlossaError) -> FileTranscription {
        if let l = settings.language {
            guard specials.languageIDs[l.lowercased()] != nil else {
                throw GlossaError(.invalidInput, "Unknown language code '\(l)': use a Whisper code such as de, fr, nl (see `glossa transcribe --help`)")
            }
        }
        let start = DispatchTime.now().uptimeNanoseconds
        let reader: AudioReader
        do { reader = try AudioReader(path: path) } catch { throw GlossaError(Self.category(of: error), "\(error)") }
        var windows: [FileTranscription.Window] = []
        var index = 0
        var samplesSeen = 0
        while true {
            let chunk: [Float]?
            do { chunk = try reader.nextChunk() } catch { throw GlossaError(Self.category(of: error), "\(error)") }
            guard let chunk else { break }
            let offset = Double(samplesSeen) / Double(AudioReader.sampleRate)
            samplesSeen += chunk.count
            let mel = features.features(chunk)
            var w = try transcribeWindow(mel.values, settings: settings, router: router, batcher: batcher)
            w.start = offset
            windows.append(w)
            index += 1
            onWindow(index, Double(samplesSeen) / Double(AudioReader.sampleRate), reader.duration)
        }
        let total = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let first = windows.first { !$0.text.isEmpty } ?? windows.first
        let text = windows.map(\.text).filter { !$0.isEmpty }.joined(separator: " ")
        return FileTranscription(
            file: path, text: text, language: first?.language ?? settings.language ?? "",
            languageProbability: first?.languageProbability, detectedLanguages: first?.detectedLanguages ?? [],
            durationSeconds: Double(samplesSeen) / Double(AudioReader.sampleRate), processingSeconds: total, windows: windows)
    }

    /// Transcribes one window of features [n_mels, 3000], routing experts as asked.
    public func transcribeWindow(_ mel: [Float], settings: TranscribeSettings,
                                 router: ExpertRouter, batcher: DecodeBatcher? = nil) throws(GlossaError) -> FileTranscription.Window {
        var options = settings.decoding
        let text = TokenizerText(tokenizer: tokenizer)
        do {
            let t0 = DispatchTime.now().uptimeNanoseconds
            var language = settings.language?.lowercased()
            var langProb: Double? = nil
            var top: [(code: String, probability: Double)] = []
            var encoded: EncoderOutput
            var chosen = router.select(language: language)
            if router.routesByLanguage && language == nil {
                // Language-agnostic routing: the base detects the language; its arg-max picks the
                // expert (`.language`) or its top languages mix theirs (`.soft`).
                let baseEncoded = try model.encode(features: mel, compute: compute)
                let detected = try detectLanguage(baseEncoded)
                top = Array(detected.prefix(3))
                language = detected.first?.code
                langProb = detected.first?.probability
                options.language = language
                chosen = router.routing == .soft ? router.select(posterior: detected) : router.select(language: language)
                encoded = chosen.adapters.touchesEncoder
                    ? try model.encode(features: mel, compute: compute, adapters: chosen.adapters) : baseEncoded
            } else {
                encoded = try model.encode(features: mel, compute: compute, adapters: chosen.adapters)
            }
            let t1 = DispatchTime.now().uptimeNanoseconds
            // Encoding (above) stays outside the group, so it never holds up the others' steps.
            let r = try batcher.map { b throws(DecodingError) in
                try b.participate { () throws(DecodingError) in
                    try transcriber.decode(encoded: encoded, options: options, text: text, adapters: chosen.adapters, batcher: b)
                }
            } ?? transcriber.decode(encoded: encoded, options: options, text: text, adapters: chosen.adapters)
            return .init(start: 0, text: r.text, tokens: r.tokens, language: r.language,
                         languageProbability: langProb ?? r.languageProbability,
                         detectedLanguages: (top.isEmpty ? r.detectedLanguages : top).map { .init(language: $0.code, probability: $0.probability) },
                         avgLogProb: r.avgLogProb,
                         temperature: r.temperature, noSpeechProbability: r.noSpeechProbability,
                         expert: chosen.label, encoderSeconds: Double(t1 - t0) / 1e9,
                         decoderSeconds: r.timings.decoder)
        } catch let e as GlossaError {
            throw e
        } catch {
            throw GlossaError(.failure, "Transcription failed: \(error)")
        }
    }

    /// Language distribution after SOT on an encoded window, most likely first.
    public func detectLanguage(_ encoded: EncoderOutput) throws -> [(code: String, probability: Double)] {
        var dec = WhisperStepDecoder(model: model, state: model.makeDecoderState(encoderOutput: encoded, compute: compute),
                                     compute: compute)
        let logits = try dec.prefill([specials.sot])
        return transcriber.languageProbabilities(sotLogits: logits[0..<model.vocabSize])
    }

    static func category(of error: AudioError) -> GlossaError.Category {
        if case .fileNotFound = error { return .notFound }
        return .invalidInput
    }
}
