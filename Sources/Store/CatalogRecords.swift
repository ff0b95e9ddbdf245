import GlossaCore

/// One artifact as the catalog lists it (a row of `glossa list`).
public struct ArtifactSummary: Sendable, Equatable, Codable {
    /// Manifest digest: the artifact's identity.
    public var digest: Digest
    public var kind: ManifestKind
    /// Name and version (nil for eval reports).
    public var name: String?
    public var version: String?
    /// Whisper codes served (empty for base models and eval reports).
    public var languages: [String]
    /// Manifest digest of the base model (experts, composites, bundles).
    public var base: Digest?
    /// RFC 3339 creation time from the manifest.
    public var created: String
    /// Tags pointing at this artifact (`name:tag`), sorted.
    public var tags: [String]

    public init(digest: Digest, kind: ManifestKind, name: String?, version: String?, languages: [String], base: Digest?, created: String, tags: [String]) {
        self.digest = digest; self.kind = kind; self.name = name; self.version = version
        self.languages = languages; self.base = base; self.created = created; self.tags = tags
    }

    /// `name:version` or the short digest.
    public var displayName: String { name.map { "\($0):\(version ?? "?")" } ?? digest.short }
}

/// Everything the catalog knows about one artifact (`glossa show`), plus its manifest.
public struct ArtifactDetail: Sendable, Equatable {
    public var summary: ArtifactSummary
    /// The validated manifest, read from its blob.
    public var manifest: AnyManifest
    /// Metrics (eval reports: the summary).
    public var metrics: [String: Double]
    /// Outgoing lineage edges (base, parents, inputs, subject ...).
    public var lineage: [ArtifactEdge]
    /// Artifacts whose lineage points at this one, as summaries.
    public var dependents: [ArtifactSummary]
    /// Blobs the manifest references, with their stored sizes (nil = missing).
    public var blobs: [BlobUsage]
    /// Size of the canonical manifest bytes.
    public var manifestSize: Int
}

/// A referenced blob and its stored (compressed) size; nil when it is missing.
public struct BlobUsage: Sendable, Equatable, Codable {
    public var digest: Digest
    public var storedSize: Int?
}

/// Filters for `list`; nil means any.
public struct ArtifactFilter: Sendable, Equatable {
    public var kind: ManifestKind?
    public var language: String?
    public var base: Digest?
    public var name: String?
    public init(kind: ManifestKind? = nil, language: String? = nil, base: Digest? = nil, name: String? = nil) {
        self.kind = kind; self.language = language; self.base = base; self.name = name
    }
}
