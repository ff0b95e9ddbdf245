import GlossaCore

/// Outcome of `verify`: clean (no problem), repaired (problems found and all fixed
/// without losing data), damaged (corrupt or missing blobs remain, or rows had to be
/// dropped because their blobs are gone). The CLI maps these to exit codes 0, 3, 4.
public enum VerifyStatus: String, Sendable, Codable { case clean, repaired, damaged }

/// One problem verify found.
public struct VerifyProblem: Sendable, Equatable, Codable {
    public enum Kind: String, Sendable, Codable {
        /// A stored blob does not decode, or decodes to bytes with another digest.
        case corruptBlob = "corrupt-blob"
        /// A blob a catalog artifact needs is absent.
        case missingBlob = "missing-blob"
        /// A manifest in the index is not in the catalog (an interrupted publish).
        case uncataloguedManifest = "uncatalogued-manifest"
        /// A catalog artifact is not in the manifest index.
        case unindexedArtifact = "unindexed-artifact"
        /// A catalog row could not be kept because its blobs are gone (dropped on repair).
        case droppedArtifact = "dropped-artifact"
        /// A tag in the catalog disagrees with the stored tags, or points at nothing.
        case tagMismatch = "tag-mismatch"
        /// A temporary file of a write interrupted long ago (`tmp/*.partial`).
        case staleTemporary = "stale-temporary"
        /// A catalog artifact's lineage edge (not `parent`) points at an artifact not in the
        /// catalog: left in registries older than the lineage foreign keys by an rm that
        /// raced a publish. The artifact is reported, `digest`; the detail names the edge.
        case danglingLineage = "dangling-lineage"
    }
    public var kind: Kind
    /// The blob or artifact digest concerned; nil for a stale temporary (see `location`).
    public var digest: Digest?
    /// Where it lives (path), when known.
    public var location: String?
    /// Artifacts that use the blob (`kind name:version@short-digest`).
    public var usedBy: [String]
    /// Human-readable detail.
    public var detail: String
    /// True when repair fixed it.
    public var repaired: Bool
}

public struct VerifyReport: Sendable, Equatable, Codable {
    public var status: VerifyStatus
    public var blobsChecked: Int
    public var artifactsChecked: Int
    public var problems: [VerifyProblem]
}

/// Outcome of `gc`.
public struct GCReport: Sendable, Equatable, Codable {
    public var dryRun: Bool
    /// Blobs reachable from the catalog, tags and in-flight manifests.
    public var reachable: Int
    /// Unreferenced blobs older than the grace period (removed unless dry run).
    public var removedBlobs: [Digest]
    public var removedBytes: Int
    /// Unreferenced blobs kept because they are younger than the grace period.
    public var keptYoung: Int
    /// Leftover temporaries of interrupted writes (removed unless dry run).
    public var removedTemporaries: [String]
    /// Signature folders (`signatures/sha256/<hex>`) of artifacts no longer in the catalog,
    /// by artifact digest. Signatures belong to the layer above the store (Glossa's
    /// `Registry`), which fills this in; the store leaves it empty.
    public var removedSignatures: [Digest] = []
}

/// Outcome of `reindex`.
public struct ReindexReport: Sendable, Equatable, Codable {
    public var artifacts: Int
    public var tags: Int
    /// Index entries skipped (manifest blob missing, damaged or invalid), with reasons.
    public var skipped: [String]
}

/// Outcome of `tag`: the previous target when the tag moved.
public struct TagChange: Sendable, Equatable, Codable {
    public var tag: TagRecord
    public var previous: Digest?
}
