/// A manifest of any kind, as read from a blob whose kind is not known in advance.
public enum AnyManifest: Sendable, Equatable {
    case base(BaseManifest)
    case expert(ExpertManifest)
    case composite(CompositeManifest)
    case bundle(BundleManifest)
    case evalReport(EvalReportManifest)

    /// Wraps a concrete manifest.
    public init(_ m: any Manifest) {
        switch m {
        case let m as BaseManifest: self = .base(m)
        case let m as ExpertManifest: self = .expert(m)
        case let m as CompositeManifest: self = .composite(m)
        case let m as BundleManifest: self = .bundle(m)
        case let m as EvalReportManifest: self = .evalReport(m)
        default: preconditionFailure("unknown Manifest type \(type(of: m))")
        }
    }

    /// The wrapped value.
    public var manifest: any Manifest {
        switch self {
        case .base(let m): return m
        case .expert(let m): return m
        case .composite(let m): return m
        case .bundle(let m): return m
        case .evalReport(let m): return m
        }
    }

    public var kind: ManifestKind { type(of: manifest).kind }
    /// Name for named kinds (all but eval reports).
    public var name: String? {
        switch self {
        case .base(let m): return m.name
        case .expert(let m): return m.name
        case .composite(let m): return m.name
        case .bundle(let m): return m.name
        case .evalReport: return nil
        }
    }
    /// Semantic version for named kinds.
    public var version: String? {
        switch self {
        case .base(let m): return m.version
        case .expert(let m): return m.version
        case .composite(let m): return m.version
        case .bundle(let m): return m.version
        case .evalReport: return nil
        }
    }
    /// Languages served (empty for a base model or eval report).
    public var languages: [String] {
        switch self {
        case .expert(let m): return m.languages.map { [m.language] + $0 } ?? [m.language]   // "mul" + what it covers
        case .composite(let m): return m.languages
        case .bundle(let m): return m.languages
        case .base, .evalReport: return []
        }
    }
    /// Manifest digest of the base model, when it has one.
    public var base: Digest? {
        switch self {
        case .expert(let m): return m.base
        case .composite(let m): return m.base
        case .bundle(let m): return m.base
        case .base, .evalReport: return nil
        }
    }
    /// `BaseManifest.weightsDigest` of the base, where the manifest records it (experts
    /// and composites written since bases are pinned by content).
    public var baseWeights: Digest? {
        switch self {
        case .expert(let m): return m.baseWeights
        case .composite(let m): return m.baseWeights
        case .base, .bundle, .evalReport: return nil
        }
    }
    /// RFC 3339 creation time; nil for a base imported since imports are deterministic.
    public var created: String? {
        switch self {
        case .base(let m): return m.created
        case .expert(let m): return m.provenance.created
        case .composite(let m): return m.provenance.created
        case .bundle(let m): return m.created
        case .evalReport(let m): return m.created
        }
    }
    /// LoRA config of experts and composites.
    public var lora: LoRAConfig? {
        switch self {
        case .expert(let m): return m.lora
        case .composite(let m): return m.lora
        default: return nil
        }
    }
    /// Metrics (eval reports: their summary).
    public var metrics: [String: Double] {
        switch self {
        case .expert(let m): return m.metrics
        case .composite(let m): return m.metrics
        case .evalReport(let m): return m.summary
        case .base, .bundle: return [:]
        }
    }
    public var blobReferences: [Digest] { manifest.blobReferences }
    public var lineage: [ArtifactEdge] { manifest.lineage }
    /// A bundle carries everything it runs on (base weights, adapters, tokenizer), so in a
    /// registry its lineage is provenance only: it is stored without its base or sources
    /// (a bundle pulled into an empty registry), and it never keeps them from being removed.
    public var isSelfContained: Bool { kind == .bundle }
    /// The lineage edges whose targets must be in the registry for this artifact to be
    /// published there and must stay while it is: every edge but `parent` (a parent may live
    /// in another registry), none for a self-contained bundle.
    public var requiredEdges: [ArtifactEdge] { isSelfContained ? [] : lineage.filter { $0.relation != "parent" } }
    public func validate() throws(ManifestError) { try manifest.validate() }
}
