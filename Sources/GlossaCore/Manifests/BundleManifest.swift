/// What ships: a base, a composite and/or experts, the tokenizer, a routing table and
/// any extra files, each pinned by digest.
public struct BundleManifest: Manifest {
    public static let kind = ManifestKind.bundle
    public static let currentSchemaVersion = 1

    public var schemaVersion: Int
    public private(set) var kind: ManifestKind = .bundle
    public var name: String
    public var version: String
    /// Whisper codes served, sorted, unique.
    public var languages: [String]
    /// Manifest digest of the base model.
    public var base: Digest
    /// Manifest digest of a composite, when the bundle ships one.
    public var composite: Digest?
    /// Manifest digests of experts shipped unmerged.
    public var experts: [Digest]
    /// Digest of the tokenizer.json blob.
    public var tokenizer: Digest
    public var routing: Routing
    /// Relative path inside the bundle -> blob (e.g. quantised weights, a README).
    public var files: [String: FileEntry]
    public var created: String
    public var description: String

    /// How the runtime picks adapters: `mode` is `language-aware` (the caller names the
    /// language), `language-agnostic` (detect, then route) or `merged` (one adapter).
    /// `experts` maps a language to the manifest digest of the expert serving it.
    public struct Routing: Codable, Sendable, Equatable {
        public var mode: String
        public var experts: [String: Digest]
        public init(mode: String, experts: [String: Digest] = [:]) { self.mode = mode; self.experts = experts }
        public static let modes: Set<String> = ["language-aware", "language-agnostic", "merged"]
    }

    /// One extra file: its blob digest, byte size and media type.
    public struct FileEntry: Codable, Sendable, Equatable {
        public var digest: Digest
        public var size: Int
        public var mediaType: String
        public init(digest: Digest, size: Int, mediaType: String) { self.digest = digest; self.size = size; self.mediaType = mediaType }
        enum CodingKeys: String, CodingKey { case digest, size, mediaType = "media_type" }
    }

    public init(name: String, version: String, languages: [String], base: Digest, composite: Digest?, experts: [Digest],
                tokenizer: Digest, routing: Routing, files: [String: FileEntry] = [:], created: String, description: String = "") {
        self.schemaVersion = Self.currentSchemaVersion
        self.name = name; self.version = version; self.languages = languages; self.base = base; self.composite = composite
        self.experts = experts; self.tokenizer = tokenizer; self.routing = routing; self.files = files
        self.created = created; self.description = description
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case schemaVersion = "schema_version", kind, name, version, languages, base, composite, experts, tokenizer, routing, files, created, description
    }

    public init(from decoder: Decoder) throws {
        try rejectUnknownKeys(decoder, CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        schemaVersion = try c.decode(Int.self, forKey: .schemaVersion)
        let k = try c.decode(String.self, forKey: .kind)
        try validating(decoder) { () throws(ManifestError) in try Check.kind(k, Self.kind) }
        name = try c.decode(String.self, forKey: .name)
        version = try c.decode(String.self, forKey: .version)
        languages = try c.decode([String].self, forKey: .languages)
        base = try c.decode(Digest.self, forKey: .base)
        composite = try c.decodeIfPresent(Digest.self, forKey: .composite)
        experts = try c.decode([Digest].self, forKey: .experts)
        tokenizer = try c.decode(Digest.self, forKey: .tokenizer)
        routing = try c.decode(Routing.self, forKey: .routing)
        files = try c.decode([String: FileEntry].self, forKey: .files)
        created = try c.decode(String.self, forKey: .created)
        description = try c.decode(String.self, forKey: .description)
        try validating(decoder, validate)
    }

    public func validate() throws(ManifestError) {
        try Check.schema(schemaVersion, Self.kind, Self.currentSchemaVersion)
        try Check.name(name, "name")
        try Check.version(version, "version")
        if languages.isEmpty { throw .invalidField(field: "languages", reason: "must list at least one language") }
        for (i, l) in languages.enumerated() { try Check.language(l, "languages.\(i)") }
        if languages != Array(Set(languages)).sorted() { throw .invalidField(field: "languages", reason: "must be sorted and unique") }
        if composite == nil && experts.isEmpty { throw .invalidField(field: "experts", reason: "a bundle needs a composite or at least one expert") }
        if Set(experts).count != experts.count { throw .invalidField(field: "experts", reason: "lists a digest twice") }
        if !Routing.modes.contains(routing.mode) {
            throw .invalidField(field: "routing.mode", reason: "'\(routing.mode)' is not one of \(Routing.modes.sorted().joined(separator: ", "))")
        }
        for (lang, d) in routing.experts.sorted(by: { $0.key < $1.key }) {
            try Check.language(lang, "routing.experts." + lang)
            if !experts.contains(d) && d != composite {
                throw .invalidField(field: "routing.experts." + lang, reason: "\(d.short) is neither in 'experts' nor the composite")
            }
        }
        for (path, f) in files.sorted(by: { $0.key < $1.key }) {
            if let p = ArtifactName.problem(withRelativePath: path) { throw .invalidField(field: "files", reason: p) }
            if f.size < 0 { throw .invalidField(field: "files." + path + ".size", reason: "must be >= 0") }
            if f.mediaType.isEmpty { throw .invalidField(field: "files." + path + ".media_type", reason: "must not be empty") }
        }
        if let p = RFC3339.problem(with: created) { throw .invalidField(field: "created", reason: p) }
    }

    public var blobReferences: [Digest] { Array(Set(files.values.map(\.digest) + [tokenizer])).sorted() }
    public var lineage: [ArtifactEdge] {
        var e = [ArtifactEdge(relation: "base", target: base)]
        if let composite { e.append(ArtifactEdge(relation: "composite", target: composite)) }
        return e + experts.map { ArtifactEdge(relation: "expert", target: $0) }
    }
}
