import Foundation

/// The result of evaluating one model or bundle on one data set; JSON schema:
/// `schemas/eval-report.schema.json` (keys in snake_case, `schema_version` 1).
public struct EvalReport: Codable, Sendable, Equatable {
    public static let currentSchemaVersion = 1

    /// What was measured.
    public struct Model: Codable, Sendable, Equatable {
        /// Human name, e.g. "whisper-base" or "bundle de+fr (fuse:ties)".
        public var name: String
        /// Digest of the base model, bundle or composite manifest ("sha256:<64 hex>"), if known.
        public var digest: String?
        public init(name: String, digest: String? = nil) { self.name = name; self.digest = digest }
    }

    /// How it was measured.
    public struct Settings: Codable, Sendable, Equatable {
        /// "language-aware" (the language is given) or "language-agnostic" (detected).
        public var mode: String
        public var beamSize: Int
        public var normalizer: String
        /// Anything else that changes results (temperature schedule, device, threads...).
        public var extra: [String: String]
        public init(mode: String, beamSize: Int, normalizer: String = "whisper-basic", extra: [String: String] = [:]) {
            self.mode = mode; self.beamSize = beamSize; self.normalizer = normalizer; self.extra = extra
        }
        enum CodingKeys: String, CodingKey { case mode, beamSize = "beam_size", normalizer, extra }
    }

    /// Scores of one language (or of all of them, in `overall`).
    public struct Score: Codable, Sendable, Equatable {
        public var utterances: Int
        public var unit: ScoringUnit
        public var counts: EditCounts
        /// (S + D + I) / N in `unit`: WER for words, CER for characters.
        public var errorRate: Double
        /// Utterances whose detected language equals the reference language, when detection ran.
        public var lidCorrect: Int?
        public var lidAccuracy: Double?

        public init(utterances: Int, unit: ScoringUnit, counts: EditCounts, lidCorrect: Int? = nil) {
            self.utterances = utterances
            self.unit = unit
            self.counts = counts
            self.errorRate = counts.errorRate
            self.lidCorrect = lidCorrect
            self.lidAccuracy = lidCorrect.map { utterances == 0 ? 0 : Double($0) / Double(utterances) }
        }
        enum CodingKeys: String, CodingKey {
            case utterances, unit, counts, errorRate = "error_rate", lidCorrect = "lid_correct", lidAccuracy = "lid_accuracy"
        }
    }

    public struct LanguageScore: Codable, Sendable, Equatable {
        public var language: String
        public var score: Score
        enum CodingKeys: String, CodingKey { case language, score }
    }

    /// Corpus-level totals: word counts pooled over word-scored languages, character
    /// counts over character-scored ones, and the unweighted mean of per-language rates.
    public struct Overall: Codable, Sendable, Equatable {
        public var utterances: Int
        public var word: EditCounts?
        public var wer: Double?
        public var character: EditCounts?
        public var cer: Double?
        public var macroErrorRate: Double
        public var lidAccuracy: Double?
        enum CodingKeys: String, CodingKey {
            case utterances, word, wer, character, cer, macroErrorRate = "macro_error_rate", lidAccuracy = "lid_accuracy"
        }
    }

    public struct Timing: Codable, Sendable, Equatable {
        /// Total audio duration, seconds.
        public var audioSeconds: Double
        /// Wall time spent transcribing, seconds.
        public var processingSeconds: Double
        /// Real-time factor: processing / audio (below 1 is faster than real time).
        public var rtf: Double
        public init(audioSeconds: Double, processingSeconds: Double) {
            self.audioSeconds = audioSeconds
            self.processingSeconds = processingSeconds
            self.rtf = audioSeconds > 0 ? processingSeconds / audioSeconds : 0
        }
        enum CodingKeys: String, CodingKey { case audioSeconds = "audio_seconds", processingSeconds = "processing_seconds", rtf }
    }

    /// One utterance's outcome, kept when the caller asks for details.
    public struct Utterance: Codable, Sendable, Equatable {
        public var id: String
        public var language: String
        public var detectedLanguage: String?
        public var reference: String
        public var hypothesis: String
        public var counts: EditCounts
        enum CodingKeys: String, CodingKey {
            case id, language, detectedLanguage = "detected_language", reference, hypothesis, counts
        }
    }

    public var schemaVersion: Int
    public var model: Model
    /// The data set, e.g. the manifest path, and its digest if known.
    public var dataset: String
    public var datasetDigest: String?
    public var settings: Settings
    public var languages: [LanguageScore]
    public var overall: Overall
    public var timing: Timing?
    /// ISO 8601 UTC, supplied by the caller (this module reads no clock).
    public var createdAt: String?
    public var toolVersion: String?
    public var utterances: [Utterance]?

    enum CodingKeys: String, CodingKey {
        case schemaVersion = "schema_version", model, dataset, datasetDigest = "dataset_digest", settings, languages,
             overall, timing, createdAt = "created_at", toolVersion = "tool_version", utterances
    }

    public init(model: Model, dataset: String, datasetDigest: String? = nil, settings: Settings,
                languages: [LanguageScore], overall: Overall, timing: Timing? = nil,
                createdAt: String? = nil, toolVersion: String? = nil, utterances: [Utterance]? = nil) {
        self.schemaVersion = Self.currentSchemaVersion
        self.model = model; self.dataset = dataset; self.datasetDigest = datasetDigest; self.settings = settings
        self.languages = languages; self.overall = overall; self.timing = timing
        self.createdAt = createdAt; self.toolVersion = toolVersion; self.utterances = utterances
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        schemaVersion = try c.decode(Int.self, forKey: .schemaVersion)
        guard schemaVersion == Self.currentSchemaVersion else {
            throw DecodingError.dataCorruptedError(forKey: .schemaVersion, in: c,
                debugDescription: "eval report schema_version \(schemaVersion) is not supported (expected \(Self.currentSchemaVersion))")
        }
        model = try c.decode(Model.self, forKey: .model)
        dataset = try c.decode(String.self, forKey: .dataset)
        datasetDigest = try c.decodeIfPresent(String.self, forKey: .datasetDigest)
        settings = try c.decode(Settings.self, forKey: .settings)
        languages = try c.decode([LanguageScore].self, forKey: .languages)
        overall = try c.decode(Overall.self, forKey: .overall)
        timing = try c.decodeIfPresent(Timing.self, forKey: .timing)
        createdAt = try c.decodeIfPresent(String.self, forKey: .createdAt)
        toolVersion = try c.decodeIfPresent(String.self, forKey: .toolVersion)
        utterances = try c.decodeIfPresent([Utterance].self, forKey: .utterances)
        for l in languages where l.score.utterances < 0 || l.score.errorRate < 0 || !l.score.errorRate.isFinite {
            throw DecodingError.dataCorruptedError(forKey: .languages, in: c,
                debugDescription: "language \(l.language): negative or non-finite score")
        }
        if Set(languages.map(\.language)).count != languages.count {
            throw DecodingError.dataCorruptedError(forKey: .languages, in: c, debugDescription: "a language appears twice")
        }
    }

    /// Pretty, key-sorted JSON (stable for diffs and digests).
    public func jsonData() -> Data {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try! e.encode(self)  // only strings, numbers and finite doubles: cannot fail
    }
}

/// Builds an `EvalReport` from per-utterance results: normalises both texts, scores
/// each in its language's unit, and pools counts per language and overall.
public struct EvalAccumulator: Sendable {
    public var normalizer: BasicTextNormalizer
    public var keepUtterances: Bool
    private var perLanguage: [String: (unit: ScoringUnit, counts: EditCounts, n: Int, lidRuns: Int, lidCorrect: Int)] = [:]
    private var details: [EvalReport.Utterance] = []

    public init(normalizer: BasicTextNormalizer = BasicTextNormalizer(), keepUtterances: Bool = true) {
        self.normalizer = normalizer
        self.keepUtterances = keepUtterances
    }

    /// Adds one utterance. `detectedLanguage` is nil when the language was given, not detected.
    /// Returns its counts.
    @discardableResult
    public mutating func add(id: String, language: String, reference: String, hypothesis: String,
                             detectedLanguage: String? = nil) -> EditCounts {
        let unit = ScoringUnit.forLanguage(language)
        let r = normalizer(reference), h = normalizer(hypothesis)
        let counts = ErrorRate.counts(reference: r, hypothesis: h, unit: unit)
        var entry = perLanguage[language] ?? (unit, EditCounts(), 0, 0, 0)
        entry.counts += counts
        entry.n += 1
        if let detectedLanguage {
            entry.lidRuns += 1
            if detectedLanguage == language { entry.lidCorrect += 1 }
        }
        perLanguage[language] = entry
        if keepUtterances {
            details.append(.init(id: id, language: language, detectedLanguage: detectedLanguage,
                                 reference: r, hypothesis: h, counts: counts))
        }
        return counts
    }

    public func report(model: EvalReport.Model, dataset: String, datasetDigest: String? = nil,
                       settings: EvalReport.Settings, timing: EvalReport.Timing? = nil,
                       createdAt: String? = nil, toolVersion: String? = nil) -> EvalReport {
        var languages: [EvalReport.LanguageScore] = []
        var word = EditCounts(), character = EditCounts()
        var hasWord = false, hasChar = false
        var n = 0, lidRuns = 0, lidCorrect = 0
        for (lang, e) in perLanguage.sorted(by: { $0.key < $1.key }) {
            // LID accuracy only when every utterance of the language went through detection.
            let lid = e.lidRuns == e.n ? e.lidCorrect : nil
            languages.append(.init(language: lang, score: .init(utterances: e.n, unit: e.unit, counts: e.counts, lidCorrect: lid)))
            switch e.unit {
            case .word: word += e.counts; hasWord = true
            case .character: character += e.counts; hasChar = true
            }
            n += e.n; lidRuns += e.lidRuns; lidCorrect += e.lidCorrect
        }
        let macro = languages.isEmpty ? 0 : languages.map(\.score.errorRate).reduce(0, +) / Double(languages.count)
        let overall = EvalReport.Overall(
            utterances: n,
            word: hasWord ? word : nil, wer: hasWord ? word.errorRate : nil,
            character: hasChar ? character : nil, cer: hasChar ? character.errorRate : nil,
            macroErrorRate: macro,
            lidAccuracy: lidRuns == n && n > 0 ? Double(lidCorrect) / Double(n) : nil)
        return EvalReport(model: model, dataset: dataset, datasetDigest: datasetDigest, settings: settings,
                          languages: languages, overall: overall, timing: timing, createdAt: createdAt,
                          toolVersion: toolVersion, utterances: keepUtterances ? details : nil)
    }
}
