import Foundation
import GlossaCore
import GRDB

/// Bases by content: how an expert, composite or bundle made in one registry attaches to
/// another registry's copy of the same base weights.
///
/// An artifact names its base by manifest digest (`base`), and newer ones also by
/// `BaseManifest.weightsDigest` (`base_weights`). Two registries that imported the same
/// weights may hold different base manifests (older imports recorded a wall-clock time;
/// names and descriptions may differ), so `base` can be absent here while an equal base is
/// present. The catalog then records the artifact on that local base (its `base` column
/// and its `base` lineage edge, so `list --base`, `rm` and gc see the dependency), and the
/// original base manifest is kept as a plain blob (not indexed, not catalogued; a blob
/// reference of the artifact, so gc keeps it and verify checks it), which is what lets a
/// later `reindex` attach it again and `push` send the artifact with the base it names.
///
///     artifact (base: sha256:A, base_weights: W) ──catalog base──▶ local base L (weights W)
///            └──blob_refs──▶ blob A (the original base manifest bytes; W(A) == W)
extension LocalRegistry {
    /// The catalogued bases whose `weightsDigest` is `weights`, sorted by digest.
    public func bases(withWeights weights: Digest) throws(StoreError) -> [Digest] {
        let all = try catalog.read { db in
            try String.fetchAll(db, sql: "SELECT digest FROM artifacts WHERE kind = 'base' ORDER BY digest")
        }
        return all.compactMap { try? Digest(parsing: $0) }.filter { storedWeights($0) == weights }
    }

    /// The weights digest of the base manifest stored under `digest` (catalogued or a kept
    /// original); nil when that blob is absent, damaged or not a base manifest.
    func storedWeights(_ digest: Digest) -> Digest? {
        guard (try? driver.stat(digest)) != nil else { return nil }
        if let w = BaseWeightsMemo.shared[digest] { return w }
        guard case .base(let m)? = try? manifest(digest) else { return nil }
        let w = m.weightsDigest
        BaseWeightsMemo.shared[digest] = w
        return w
    }

    /// The catalogued base `manifest` is attached to here (see the type comment): its
    /// `base` when catalogued, else the catalogued base with the weights of its stored
    /// original base manifest (lowest digest first). Nil for kinds without a base.
    /// Throws `missingArtifact` when no such base is here, `invalidManifest` when its
    /// `base_weights` contradicts the base manifest it names.
    func attachedBase(of manifest: AnyManifest, label: String, catalogued: (Digest) throws -> Bool,
                      candidates: () throws -> [Digest]) throws -> Digest? {
        guard let b = manifest.base, !manifest.isSelfContained else { return nil }
        let weights = storedWeights(b)
        if let declared = manifest.baseWeights, let weights, weights != declared {
            throw StoreError.invalidManifest(nil, .invalidField(
                field: "base_weights", reason: "\(label) declares base weights \(declared.short), but its base \(b.short) "
                    + "has weights \(weights.short); the artifact is inconsistent: rebuild it on its base"))
        }
        if try catalogued(b) { return b }
        guard let weights else { throw StoreError.missingArtifact(artifact: label, relation: "base", b) }
        for c in try candidates().sorted() where storedWeights(c) == weights { return c }
        throw StoreError.missingArtifact(artifact: label, relation: "base (weights \(weights.short))", b)
    }

    /// `attachedBase` against the catalog, inside a catalog transaction.
    func attachedBase(of manifest: AnyManifest, label: String, in db: Database) throws -> Digest? {
        try attachedBase(of: manifest, label: label, catalogued: { d in
            try Bool.fetchOne(db, sql: "SELECT 1 FROM artifacts WHERE digest = ? AND kind = 'base'", arguments: [d.description]) == true
        }, candidates: {
            try String.fetchAll(db, sql: "SELECT digest FROM artifacts WHERE kind = 'base'").compactMap { try? Digest(parsing: $0) }
        })
    }
}

/// Weights digests of base manifests by manifest digest. A manifest digest names its bytes,
/// so an entry can never go stale and one memo serves every registry in the process; it
/// saves re-reading whisper-base's manifest on every expert publish.
final class BaseWeightsMemo: @unchecked Sendable {
    static let shared = BaseWeightsMemo()
    private let lock = NSLock()
    private var known: [Digest: Digest] = [:]

    subscript(manifest: Digest) -> Digest? {
        get { lock.withLock { known[manifest] } }
        set { lock.withLock { known[manifest] = newValue } }
    }
}
