/// Levenshtein alignment counts between a reference and a hypothesis sequence.
/// Sums over utterances give corpus-level counts, as jiwer aggregates lists.
public struct EditCounts: Codable, Sendable, Equatable, Hashable {
    public var hits: Int
    public var substitutions: Int
    public var deletions: Int
    public var insertions: Int

    public init(hits: Int = 0, substitutions: Int = 0, deletions: Int = 0, insertions: Int = 0) {
        self.hits = hits
        self.substitutions = substitutions
        self.deletions = deletions
        self.insertions = insertions
    }

    /// Reference length N = H + S + D.
    public var referenceLength: Int { hits + substitutions + deletions }
    /// Hypothesis length H + S + I.
    public var hypothesisLength: Int { hits + substitutions + insertions }
    /// S + D + I.
    public var errors: Int { substitutions + deletions + insertions }

    /// (S + D + I) / N. With an empty reference this is the insertion count, exactly as
    /// jiwer reports it (0 for an empty hypothesis), so our numbers equal jiwer's.
    public var errorRate: Double {
        referenceLength == 0 ? Double(insertions) : Double(errors) / Double(referenceLength)
    }

    public static func + (a: EditCounts, b: EditCounts) -> EditCounts {
        EditCounts(hits: a.hits + b.hits, substitutions: a.substitutions + b.substitutions,
                   deletions: a.deletions + b.deletions, insertions: a.insertions + b.insertions)
    }

    public static func += (a: inout EditCounts, b: EditCounts) { a = a + b }

    enum CodingKeys: String, CodingKey { case hits, substitutions, deletions, insertions }
}
