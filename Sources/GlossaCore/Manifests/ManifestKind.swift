/// The kinds of artifact manifests; raw values are the `kind` field on disk and the
/// schema file names (`schemas/<kind>.schema.json`).
public enum ManifestKind: String, Codable, Sendable, CaseIterable, Comparable {
    case base
    case expert
    case composite
    case bundle
    case evalReport = "eval-report"

    public static func < (a: ManifestKind, b: ManifestKind) -> Bool { a.rawValue < b.rawValue }
}

/// What every manifest type shares: a kind, a schema version, and the digests it
/// points at (for garbage collection, lineage and verification).
public protocol Manifest: Codable, Sendable, Equatable {
    /// The `kind` field this type reads and writes.
    static var kind: ManifestKind { get }
    /// Newest `schema_version` this build reads (and the one it writes).
    static var currentSchemaVersion: Int { get }
    /// `schema_version` of this document.
    var schemaVersion: Int { get }
    /// Content blobs this manifest needs (tensors, tokenizer, report files), each once,
    /// sorted. Publishing refuses a manifest whose blobs are not all stored.
    var blobReferences: [Digest] { get }
    /// Other artifacts (by manifest digest) this one derives from or contains: base,
    /// parents, inputs, subject. These are the lineage edges in the catalog.
    var lineage: [ArtifactEdge] { get }
    /// Checks every rule the JSON Schema states (and a few it cannot, such as semver
    /// ordering or tensor byte counts). Throws naming the first offending field.
    func validate() throws(ManifestError)
}

/// A lineage edge from the manifest that holds it to another artifact.
public struct ArtifactEdge: Hashable, Sendable, Codable {
    /// How the target relates: `base`, `parent`, `input`, `composite`, `expert`, `subject`.
    public var relation: String
    public var target: Digest
    public init(relation: String, target: Digest) { self.relation = relation; self.target = target }
}
