import Foundation
import Tensor

/// Options for transcribing one window, with faster-whisper's defaults.
public struct TranscriptionOptions: Sendable {
    /// Language code ("de"); nil: detect from the language-token distribution.
    public var language: String?
    public var task: SpecialTokens.Task = .transcribe
    public var beamSize: Int = 5
    public var patience: Double = 1
    public var lengthPenalty: Double = 1
    /// Tried in order until the output passes the thresholds (temperature fallback).
    public var temperatures: [Double] = [0, 0.2, 0.4, 0.6, 0.8, 1.0]
    public var bestOf: Int = 5
    /// Fallback when zlib compression ratio of the text exceeds this (looping output).
    public var compressionRatioThreshold: Double? = 2.4
    /// Fallback when the average log-probability is below this.
    public var logProbThreshold: Double? = -1
    /// With avg log-prob below `logProbThreshold`, a no-speech probability above this
    /// means silence: no fallback, empty text.
    public var noSpeechThreshold: Double? = 0.6
    public var suppressBlank: Bool = true
    /// nil: the model config's suppress ids (CTranslate2's `[-1]`).
    public var suppressTokens: [Int]? = nil
    /// Total decoder length limit (prompt included), 448 for Whisper.
    public var maxLength: Int = 448
    public var seed: UInt64 = 0
    /// How many detected languages to report.
    public var topLanguages: Int = 3

    public init(language: String? = nil, beamSize: Int = 5) { self.language = language; self.beamSize = beamSize }
}

/// Result of one 30 s window.
public struct WindowTranscription: Sendable {
    public var tokens: [Int]
    public var text: String
    /// Language used (given or detected) and its detection probability (nil when given).
    public var language: String
    public var languageProbability: Double?
    /// Best detected languages with probabilities (empty when the language was given).
    public var detectedLanguages: [(code: String, probability: Double)]
    /// faster-whisper's avg_logprob: sum log p (EOS incl.) / (tokens + 1).
    public var avgLogProb: Double
    public var compressionRatio: Double
    /// Temperature of the accepted attempt.
    public var temperature: Double
    public var noSpeechProbability: Double
    /// True when judged silence (no-speech rule): `text` and `tokens` are empty.
    public var isSilence: Bool
    public var timings: Timings

    public struct Timings: Sendable {
        public var encoder: Double = 0
        public var decoder: Double = 0
        public var attempts: Int = 0
    }
}

/// Transcribes log-mel windows with one immutable model. Language detection, prompt,
/// search, temperature fallback and the no-speech rule follow faster-whisper on
/// CTranslate2.
public struct Transcriber: Sendable {
    public let model: WhisperModel
    public let compute: Compute
    public let specials: SpecialTokens
    public let zlib: Zlib

    public init(model: WhisperModel, compute: Compute, specials: SpecialTokens) throws(DecodingError) {
        guard let z = Zlib() else { throw .invalidOption("libz.so.1 not found (needed for the compression-ratio check)") }
        self.model = model; self.compute = compute; self.specials = specials; self.zlib = z
    }

    /// Language probabilities from the logits after SOT (softmax over language tokens only),
    /// best first.
    public func languageProbabilities(sotLogits: ArraySlice<Float>) -> [(code: String, probability: Double)] {
        let base = sotLogits.startIndex
        let scores = specials.languages.map { Double(sotLogits[base + specials.languageIDs[$0]!]) }
        let m = scores.max() ?? 0
        let e = scores.map { Foundation.exp($0 - m) }
        let z = e.reduce(0, +)
        return zip(specials.languages, e).map { ($0, $1 / z) }.sorted { $0.1 > $1.1 }
    }

    /// Language identification only: one decoder step on SOT. Returns languages best first
    /// with probabilities (softmax over the language tokens) and the no-speech probability.
    public func detectLanguage(encoded: EncoderOutput, adapters: ActiveAdapters = .none)
        throws(DecodingError) -> (languages: [(code: String, probability: Double)], noSpeechProbability: Double) {
        guard specials.isMultilingual else { throw .invalidOption("language detection needs a multilingual model") }
        var dec = WhisperStepDecoder(model: model, state: model.makeDecoderState(encoderOutput: encoded, compute: compute, adapters: adapters),
                                     compute: compute, adapters: adapters)
        let logits = try dec.prefill([specials.sot])
        return (languageProbabilities(sotLogits: logits[0..<model.vocabSize]),
                Self.softmaxProbability(logits[0..<model.vocabSize], id: specials.noSpeech))
    }

    /// Encodes and decodes one window. `features` [n_mels, 3000]; `adapters` unmerged LoRA for this call.
    public func transcribe(window features: [Float], options: TranscriptionOptions, text: any TokenTextDecoding,
                           adapters: ActiveAdapters = .none) throws(DecodingError) -> WindowTranscription {
        var timings = WindowTranscription.Timings()
        let t0 = DispatchTime.now().uptimeNanoseconds
        let encoded: EncoderOutput
        do { encoded = try model.encode(features: features, compute: compute, adapters: adapters) } catch { throw .model(error) }
        let t1 = DispatchTime.now().uptimeNanoseconds
        timings.encoder = Double(t1 - t0) / 1e9
        var result = try decode(encoded: encoded, options: options, text: text, adapters: adapters)
        result.timings.encoder = timings.encoder
        return result
    }

    /// Decodes one encoded window (detect language if needed, then search with fallback).
    /// With `batcher`, every decoder step runs in that group's batched rounds (the caller
    /// must be inside `batcher.participate`).
    public func decode(encoded: EncoderOutput, options: TranscriptionOptions, text: any TokenTextDecoding,
                       adapters: ActiveAdapters = .none, batcher: DecodeBatcher? = nil) throws(DecodingError) -> WindowTranscription {
        let t0 = DispatchTime.now().uptimeNanoseconds
        let vocab = model.vocabSize
        var base = WhisperStepDecoder(model: model, state: model.makeDecoderState(encoderOutput: encoded, compute: compute, adapters: adapters),
                                      compute: compute, adapters: adapters, batcher: batcher)
        // Step 1: SOT alone -> language distribution and no-speech probability.
        let sotLogits = try base.prefill([specials.sot])
        var detected = [(code: String, probability: Double)]()
        let language: String
        if let l = options.language {
            _ = try specials.languageToken(l)
            language = l.lowercased()
        } else if specials.isMultilingual {
            detected = languageProbabilities(sotLogits: sotLogits[0..<vocab])
            language = detected[0].code
        } else {
            language = "en"
        }
        let noSpeech = Self.softmaxProbability(sotLogits[0..<vocab], id: specials.noSpeech)
        // Step 2: rest of the prompt (language, task, notimestamps) on the same cache.
        let prompt = try specials.prompt(language: specials.isMultilingual ? language : nil, task: options.task)
        let restLogits = try base.prefill(Array(prompt.dropFirst()))
        let firstLogits = Array(restLogits[((prompt.count - 2) * vocab)..<((prompt.count - 1) * vocab)])

        var search = SearchOptions()
        search.patience = options.patience
        search.lengthPenalty = options.lengthPenalty
        search.maxSteps = min(options.maxLength / 2, options.maxLength - (prompt.count - 1))
        search.suppressTokens = options.suppressTokens ?? model.config.suppressTokens
        search.suppressAtBegin = options.suppressBlank ? model.config.beginSuppressTokens : []
        search.bestOf = options.bestOf
        search.seed = options.seed

        struct Attempt { var hyp: Hypothesis; var avg: Double; var ratio: Double; var temperature: Double; var text: String }
        var attempts = [Attempt]()
        var accepted: Attempt?
        var silence = false
        for temperature in options.temperatures.isEmpty ? [0] : options.temperatures {
            search.temperature = temperature
            search.beamSize = temperature > 0 ? 1 : options.beamSize
            var dec = base
            let hyp = try Search.run(&dec, firstLogits: firstLogits, eot: specials.eot, options: search)
            let n = hyp.tokens.count
            let cum = hyp.score * Foundation.pow(Double(n), options.lengthPenalty)
            let avg = n == 0 && options.lengthPenalty != 0 ? hyp.sumLogProb : cum / Double(n + 1)
            let s = text.decodeText(hyp.tokens).trimmingCharacters(in: .whitespaces)
            let a = Attempt(hyp: hyp, avg: avg, ratio: zlib.compressionRatio(s), temperature: temperature, text: s)
            attempts.append(a)
            var fallback = false
            if let c = options.compressionRatioThreshold, a.ratio > c { fallback = true }
            if let l = options.logProbThreshold, avg < l { fallback = true }
            if let ns = options.noSpeechThreshold, let l = options.logProbThreshold, noSpeech > ns, avg < l {
                fallback = false; silence = true
            }
            if !fallback { accepted = a; break }
        }
        if accepted == nil {
            // Every attempt failed: best average log-prob among those under the ratio threshold.
            let limit = options.compressionRatioThreshold ?? .infinity
            let underRatio = attempts.filter { $0.ratio <= limit }
            accepted = (underRatio.isEmpty ? attempts : underRatio).max { $0.avg < $1.avg }
        }
        let a = accepted!
        let t1 = DispatchTime.now().uptimeNanoseconds
        return WindowTranscription(
            tokens: silence ? [] : a.hyp.tokens, text: silence ? "" : a.text, language: language,
            languageProbability: detected.first?.probability, detectedLanguages: Array(detected.prefix(options.topLanguages)),
            avgLogProb: a.avg, compressionRatio: a.ratio, temperature: a.temperature, noSpeechProbability: noSpeech,
            isSilence: silence, timings: .init(encoder: 0, decoder: Double(t1 - t0) / 1e9, attempts: attempts.count))
    }

    /// Transcribes a stream of windows one at a time (bounded memory): `nextWindow` returns
    /// the next [n_mels, 3000] features or nil at the end; `onWindow` receives each result.
    /// The language, when detected, is detected per window.
    public func transcribeWindows(options: TranscriptionOptions, text: any TokenTextDecoding, adapters: ActiveAdapters = .none,
                                  nextWindow: () throws -> [Float]?,
                                  onWindow: (Int, WindowTranscription) throws -> Void) throws {
        var index = 0
        while let features = try nextWindow() {
            try onWindow(index, try transcribe(window: features, options: options, text: text, adapters: adapters))
            index += 1
        }
    }

    static func softmaxProbability(_ logits: ArraySlice<Float>, id: Int) -> Double {
        var m = -Float.infinity
        for v in logits { m = max(m, v) }
        var z = 0.0
        for v in logits { z += Foundation.exp(Double(v - m)) }
        return Foundation.exp(Double(logits[logits.startIndex + id] - m)) / z
    }
}
