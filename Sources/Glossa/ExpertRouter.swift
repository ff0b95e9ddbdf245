import GlossaCore
import Whisper

/// Which LoRA experts apply to an utterance.
///
/// - `.all`: every loaded expert applies to every utterance (one expert, or a fixed mix).
/// - `.language`: the utterance's language picks its expert. The language is the one the
///   caller gives (language-aware) or, when none is given, the one the base model detects
///   (language-agnostic). An utterance whose language has no expert runs on the base.
/// - `.soft`: like `.language` when the language is given; when it is detected, the experts
///   of the base's top-3 languages are mixed by their language-ID probabilities
///   (renormalised over the languages that have an expert) instead of trusting the arg-max.
public enum Routing: String, Sendable, Codable, CaseIterable {
    case all
    case language
    case soft
}

/// A loaded expert: its registry identity and its weights.
public struct LoadedExpert: Sendable {
    /// How an adapter takes part in routing.
    public enum Role: String, Sendable {
        /// Follows `--route`: always with `.all`, by language otherwise.
        case expert
        /// Always applies, whatever the routing (a routed composite's shared part).
        case shared
        /// Applies by language even with `.all` (a routed composite's per-language residual).
        case languageResidual
    }

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
    public var role: Role

    public init(name: String, language: String, languages: [String]? = nil, id: String, weights: LoRAWeights, mix: Double = 1,
                role: Role = .expert) {
        self.name = name; self.language = language; self.languages = languages ?? [language]
        self.id = id; self.weights = weights; self.mix = mix; self.role = role
    }

    /// True when any adapted module sits in the encoder (so the encoder output depends on it).
    public var touchesEncoder: Bool { weights.modules.keys.contains { $0.hasPrefix("model.encoder.") } }
}

/// What applies to one utterance: the adapters and a label for reports.
public struct RoutedAdapters: Sendable {
    /// Names of the experts applied ("fr-expert" or "de-expert*0.62+nl-expert*0.38"); nil: base only.
    public var label: String?
    public var adapters: ActiveAdapters
}

/// Prepares the unmerged adapters of every expert once, so switching or mixing experts per
/// utterance costs no weight copies: the base stays shared and immutable.
public struct ExpertRouter: Sendable {
    public let routing: Routing
    public let experts: [LoadedExpert]
    /// Adapters of each expert (with its `mix`), in `experts` order.
    let resolved: [ActiveAdapters]
    /// Experts applied to every utterance.
    let always: [Int]
    /// Language code -> experts applied for that language (on top of `always`).
    let byLanguage: [String: [Int]]

    public static let none = ExpertRouter(routing: .all, experts: [], resolved: [], always: [], byLanguage: [:])

    init(routing: Routing, experts: [LoadedExpert], resolved: [ActiveAdapters], always: [Int], byLanguage: [String: [Int]]) {
        self.routing = routing; self.experts = experts; self.resolved = resolved; self.always = always; self.byLanguage = byLanguage
    }

    public init(experts: [LoadedExpert], routing: Routing, model: WhisperModel) throws(GlossaError) {
        self.routing = routing
        self.experts = experts
        var resolved: [ActiveAdapters] = []
        for e in experts {
            do { resolved.append(try ActiveAdapters([(e.weights, e.mix)], for: model)) } catch {
                throw GlossaError(.invalidInput, "Expert \(e.name) does not fit the base model: \(error)")
            }
        }
        self.resolved = resolved
        var always: [Int] = [], table: [String: [Int]] = [:]
        var owner: [String: Int] = [:]   // language -> the routed expert that serves it
        for (i, e) in experts.enumerated() {
            switch (e.role, routing) {
            case (.shared, _), (.expert, .all): always.append(i)
            case (.expert, _), (.languageResidual, _):
                for l in e.languages {
                    if let j = owner[l] {
                        throw GlossaError(.invalidInput, "Two experts for language '\(l)' (\(experts[j].name) and \(e.name)); when routing by language give one expert per language")
                    }
                    owner[l] = i
                    table[l, default: []].append(i)
                }
            }
        }
        self.always = always
        self.byLanguage = table
    }

    /// Languages that have their own routed expert.
    public var routedLanguages: [String] { byLanguage.keys.sorted() }

    /// True when the utterance's language decides what applies (some expert is routed).
    public var routesByLanguage: Bool { !byLanguage.isEmpty }

    /// The adapters for an utterance in `language` (nil: unknown, only what always applies).
    public func select(language: String?) -> RoutedAdapters {
        let chosen = always + (language.flatMap { byLanguage[$0] } ?? [])
        return combine(chosen.map { ($0, 1.0) })
    }

    /// Soft routing: the experts of the `top` most likely languages (of `posterior`, most likely
    /// first), mixed by their probabilities renormalised over the languages that have an
    /// expert. Falls back to `select(language: nil)` when none of them has one.
    public func select(posterior: [(code: String, probability: Double)], top: Int = 3) -> RoutedAdapters {
        let candidates = posterior.prefix(top).filter { byLanguage[$0.code] != nil && $0.probability > 0 }
        let total = candidates.reduce(0) { $0 + $1.probability }
        guard total > 0 else { return select(language: nil) }
        var parts = always.map { ($0, 1.0) }
        for c in candidates { parts += byLanguage[c.code]!.map { ($0, c.probability / total) } }
        return combine(parts)
    }

    func combine(_ parts: [(Int, Double)]) -> RoutedAdapters {
        if parts.isEmpty { return RoutedAdapters(label: nil, adapters: .none) }
        let label = parts.map { i, w in w == 1 ? experts[i].name : experts[i].name + "*" + String(format: "%.2f", w) }.joined(separator: "+")
        if parts.count == 1 && parts[0].1 == 1 { return RoutedAdapters(label: label, adapters: resolved[parts[0].0]) }
        return RoutedAdapters(label: label, adapters: .combining(parts.map { (resolved[$0.0], $0.1) }))
    }

    /// True when the language must be known before encoding (an expert routed by language
    /// adapts the encoder).
    public var needsLanguageBeforeEncoding: Bool {
        byLanguage.values.contains { $0.contains { experts[$0].touchesEncoder } }
    }
}
