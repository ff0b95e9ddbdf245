import Foundation
import GlossaCore

/// What produced an adapter, for the registry's lineage record.
public struct TrainingProvenance: Codable, Sendable, Equatable {
    public var config: TrainingConfig
    /// Optimizer steps actually taken.
    public var steps: Int
    public var epochsCompleted: Double
    public var seed: UInt64
    /// Digest of the training examples as used (ids, language, tokens, feature bytes, in order).
    public var dataDigest: Digest
    public var devDataDigest: Digest?
    /// Train tokens seen.
    public var tokensSeen: Int
    public var finalTrainLoss: Double?
    public var bestDevLoss: Double?
    /// Step whose weights were kept (the best dev loss, or the last step without dev data).
    public var keptStep: Int
    public var stoppedEarly: Bool
}

/// sha256 over examples in order: id, language token, transcript tokens and feature bytes,
/// each length-prefixed so different splits cannot collide.
public func examplesDigest(_ examples: [TrainingExample]) -> Digest {
    var h = DigestHasher()
    func u64(_ v: Int) { var x = UInt64(truncatingIfNeeded: v).littleEndian; withUnsafeBytes(of: &x) { h.update($0) } }
    for e in examples {
        let id = Array(e.id.utf8)
        u64(id.count); h.update(id)
        u64(e.languageToken)
        u64(e.transcript.count); for t in e.transcript { u64(t) }
        u64(e.features.count)
        e.features.withUnsafeBytes { h.update($0) }
    }
    return h.finalize()
}
