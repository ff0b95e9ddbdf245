import GlossaCore
import Whisper

/// Which LoRA experts apply to an utterance.
///
/// - `.all`: every loaded expert applies to every utterance (one expert, or a fixed mix).
/// - `.language`: the utterance's language picks its expert. The language is the one the
///   caller gives (language-aware) or, when none is given, the one the base model detects
///   (language-agnostic). An utterance whose language has no expert runs on the base.
public enum Routing: String, Sendable, Codable, CaseIterable {
    case all
    case language
}

/// A loaded expert: its registry identity and its weights.
public struct LoadedExpert: Sendable {
    public var name: String
    /// Whisper language code, or "mul" for a multilingual adapter.
    public var language: String
    /// Languages it serves when routed by language: `[language]`, or a multilingual
    /// adapter's training languages.
    public var languages: [String]
    /// Manifest digest (or folder path for adapters loaded from disk).
    public var id: String
    public var weights: LoRAWeights
    /// Mixing weight when several experts apply together.
    public var mix: Double

    public init(name: String, language: String, languages: [String]? = nil, id: String, weights: LoRAWeights, mix: Double = 1) {
        self.name = name; self.language = language; self.languages = languages ?? [language]
        self.id = id; self.weights = weights; self.mix = mix
    }

    /// True when any adapted module sits in the encoder (so the encoder output depends on it).
    public var touchesEncoder: Bool { weights.modules.keys.contains { $0.hasPrefix("model.encoder.") } }
}

/// Prepares the unmerged adapters for each routing decision once, so switching experts per
/// utterance costs no weight copies: the base stays shared and immutable.
public struct ExpertRouter: Sendable {
    public let routing: Routing
    public let experts: [LoadedExpert]
    /// Adapters of all experts together (routing `.all`).
    let combined: ActiveAdapters
    /// Language code -> that language's expert adapters (routing `.language`).
    let byLanguage: [String: (expert: LoadedExpert, adapters: ActiveAdapters)]

    public static let none = ExpertRouter(routing: .all, experts: [], combined: .none, byLanguage: [:])

    init(routing: Routing, experts: [LoadedExpert], combined: ActiveAdapters,
         byLanguage: [String: (expert: LoadedExpert, adapters: ActiveAdapters)]) {
        self.routing = routing; self.experts = experts; self.combined = combined; self.byLanguage = byLanguage
    }

    public init(experts: [LoadedExpert], routing: Routing, model: WhisperModel) throws(GlossaError) {
        self.routing = routing
        self.experts = experts
        func adapters(_ list: [LoadedExpert]) throws(GlossaError) -> ActiveAdapters {
            do { return try ActiveAdapters(list.map { ($0.weights, $0.mix) }, for: model) } catch {
                throw GlossaError(.invalidInput, "Expert \(list.map(\.name).joined(separator: ", ")) does not fit the base model: \(error)")
            }
        }
        switch routing {
        case .all:
            combined = experts.isEmpty ? .none : try adapters(experts)
            byLanguage = [:]
        case .language:
            combined = .none
            var map: [String: (expert: LoadedExpert, adapters: ActiveAdapters)] = [:]
            for e in experts {
                let a = try adapters([e])
                for l in e.languages {
                    if let other = map[l] {
                        throw GlossaError(.invalidInput, "Two experts for language '\(l)' (\(other.expert.name) and \(e.name)); with --route language give one expert per language")
                    }
                    map[l] = (e, a)
                }
            }
            byLanguage = map
        }
    }

    /// The expert chosen for `language` (nil: run the base).
    public func expert(for language: String?) -> (expert: LoadedExpert?, adapters: ActiveAdapters) {
        switch routing {
        case .all: return (experts.count == 1 ? experts[0] : nil, combined)
        case .language:
            guard let language, let e = byLanguage[language] else { return (nil, .none) }
            return (e.expert, e.adapters)
        }
    }

    /// True when the language must be known before encoding (route by language with an
    /// expert that adapts the encoder).
    public var needsLanguageBeforeEncoding: Bool { routing == .language && experts.contains(where: \.touchesEncoder) }
}
