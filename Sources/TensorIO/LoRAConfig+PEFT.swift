import Foundation
import GlossaCore

extension LoRAConfig {
    /// Rank, alpha and scale PEFT uses for `module` (a canonical path such as
    /// `model.decoder.layers.3.encoder_attn.q_proj`).
    ///
    /// Like PEFT's `get_pattern_key`, the first key of `rank_pattern` (resp.
    /// `alpha_pattern`) whose regex `(.*\.)?(key)$` matches the whole module path wins;
    /// `patternOrder` gives that order (JSON file order; dictionary keys are unordered),
    /// and keys missing from it are tried afterwards in sorted order. The scale is
    /// alpha / r, or alpha / sqrt(r) with rsLoRA.
    public func resolved(forModule module: String, patternOrder: [String] = []) -> (rank: Int, alpha: Double, scale: Double) {
        let rank = Self.firstMatch(module, in: rankPattern, order: patternOrder).map { rankPattern[$0]! } ?? self.rank
        let alpha = Self.firstMatch(module, in: alphaPattern, order: patternOrder).map { alphaPattern[$0]! } ?? self.alpha
        let scale = useRSLoRA ? alpha / Double(rank).squareRoot() : alpha / Double(rank)
        return (rank, alpha, scale)
    }

    static func firstMatch<V>(_ module: String, in pattern: [String: V], order: [String]) -> String? {
        let keys = order.filter { pattern[$0] != nil } + pattern.keys.filter { !order.contains($0) }.sorted()
        return keys.first { patternMatches($0, module) }
    }

    /// Python `re.match(rf"(.*\.)?({key})$", module)`.
    static func patternMatches(_ key: String, _ module: String) -> Bool {
        guard let re = try? NSRegularExpression(pattern: "^(.*\\.)?(\(key))$") else { return false }
        let range = NSRange(module.startIndex ..< module.endIndex, in: module)
        return re.firstMatch(in: module, range: range) != nil
    }
}
