/// What ships: a base model's weights, LoRA adapters kept unmerged, the routing table that
/// picks adapters per utterance, the tokenizer and any extra files, each pinned by digest.
/// A bundle needs nothing from a registry to run.
///
///     {"adapters":[{"digest":"sha256:<expert manifest>","kind":"expert","languages":["fr"],
///        "lineage":[{"relation":"base","target":"sha256:..."}],"lora":{...},"name":"fr-espeak",
///        "scales":{"model.decoder.layers.0.self_attn.q_proj":2},"tensors":{...},"version":"1.0.0"}],
///      "base":"sha256:<base manifest>","created":"...","description":"","files":{},"kind":"bundle",
///      "languages":["fr"],"model":{"config":{...},"tensors":{"model.encoder.conv1.weight":{...}},
///      "tokenizer":"sha256:..."},"name":"fr-bundle","routing":{"languages":{"fr":"sha256:..."},
///      "mode":"language"},"schema_version":1,"version":"1.0.0"}
///
/// Adapter entries are generic: an expert and a composite (a fused LoRA, or one member of a
/// router) look the same to the runtime, and each records its own lineage.
public struct BundleManifest: Manifest {
    public static let kind = ManifestKind.bundle
    public static let currentSchemaVersion = 1

    public var schemaVersion: Int
    public private(set) var kind: ManifestKind = .bundle
    public var name: String
    public var version: String
    /// Whisper codes served: the union of the adapters' languages, sorted, unique.
    public var languages: [String]
    /// Manifest digest of the registry base model the weights were exported from.
    public var base: Digest
    /// The base weights as shipped (possibly converted to f16), tokenizer and config.
    public var model: Model
    /// LoRA adapters, unmerged, in the order they mix under routing `all`.
    public var adapters: [Adapter]
    public var routing: Routing
    /// Relative path inside the bundle -> blob (e.g. an eval report, a README).
    public var files: [String: FileEntry]
    /// RFC 3339 export time.
    public var created: String
    public var description: String

    /// The base weights: canonical tensor name (see `WhisperCheckpoint`) -> raw little-endian
    /// blob. Digests equal the registry base's when the dtype was kept.
    public struct Model: Codable, Sendable, Equatable {
        public var config: WhisperConfig
        public var tensors: [String: TensorEntry]
        /// Digest of the Hugging Face `tokenizer.json` bytes.
        public var tokenizer: Digest
        public init(config: WhisperConfig, tensors: [String: TensorEntry], tokenizer: Digest) {
            self.config = config; self.tensors = tensors; self.tokenizer = tokenizer
        }
    }

    /// One LoRA adapter: an expert, or a composite made from experts.
    public struct Adapter: Codable, Sendable, Equatable {
        /// Manifest digest of the registry artifact it came from; identifies it in `routing`.
        public var digest: Digest
        /// `expert` or `composite`.
        public var kind: ManifestKind
        public var name: String
        public var version: String
        /// Languages it serves, sorted, unique (a multilingual adapter lists several).
        public var languages: [String]
        public var lora: LoRAConfig
        /// Module -> resolved scale (alpha/r, or alpha/sqrt(r) with rsLoRA, after rank and
        /// alpha patterns), so the runtime needs no pattern matching.
        public var scales: [String: Double]
        /// Module -> A [r, in] and B [out, r] factors, bit-identical to the registry's.
        public var tensors: [String: LoRATensorEntry]
        /// The artifact's own edges (base, parents, composite inputs).
        public var lineage: [ArtifactEdge]
        /// A composite's recipe method (`cat`, `linear`, `ties`, `dare`, `distill`, ...).
        public var recipe: String?

        public init(digest: Digest, kind: ManifestKind, name: String, version: String, languages: [String], lora: LoRAConfig,
                    scales: [String: Double], tensors: [String: LoRATensorEntry], lineage: [ArtifactEdge], recipe: String? = nil) {
            self.digest = digest; self.kind = kind; self.name = name; self.version = version; self.languages = languages
            self.lora = lora; self.scales = scales; self.tensors = tensors; self.lineage = lineage; self.recipe = recipe
        }
    }

    /// How the runtime picks adapters. `all`: every adapter applies to every utterance
    /// (`languages` is empty). `language`: the utterance's language (given by the caller, or
    /// detected by the base) picks the adapter `languages[code]` names by digest.
    public struct Routing: Codable, Sendable, Equatable {
        public var mode: String
        public var languages: [String: Digest]
        public init(mode: String, languages: [String: Digest] = [:]) { self.mode = mode; self.languages = languages }
        public static let modes: Set<String> = ["all", "language"]
    }

    /// One extra file: its blob digest, byte size and media type.
    public struct FileEntry: Codable, Sendable, Equatable {
        public var digest: Digest
        public var size: Int
        public var mediaType: String
        public init(digest: Digest, size: Int, mediaType: String) { self.digest = digest; self.size = size; self.mediaType = mediaType }
        enum CodingKeys: String, CodingKey { case digest, size, mediaType = "media_type" }
    }

    public init(name: String, version: String, languages: [String], base: Digest, model: Model, adapters: [Adapter],
                routing: Routing, files: [String: FileEntry] = [:], created: String, description: String = "") {
        self.schemaVersion = Self.currentSchemaVersion
        self.name = name; self.version = version; self.languages = languages; self.base = base; self.model = model
        self.adapters = adapters; self.routing = routing; self.files = files; self.created = created; self.description = description
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case schemaVersion = "schema_version", kind, name, version, languages, base, model, adapters, routing, files, created, description
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
        model = try c.decode(Model.self, forKey: .model)
        adapters = try c.decode([Adapter].self, forKey: .adapters)
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
        try Check.sortedLanguages(languages, "languages")
        if model.tensors.isEmpty { throw .invalidField(field: "model.tensors", reason: "a bundle must ship the base weights") }
        for (n, t) in model.tensors.sorted(by: { $0.key < $1.key }) {
            if n.isEmpty { throw .invalidField(field: "model.tensors", reason: "tensor names must not be empty") }
            try t.validate(at: "model.tensors." + n)
        }
        if model.config.dModel < 1 || model.config.vocabSize < 1 || model.config.numMelBins < 1 {
            throw .invalidField(field: "model.config", reason: "d_model, vocab_size and num_mel_bins must be >= 1")
        }
        if adapters.isEmpty { throw .invalidField(field: "adapters", reason: "a bundle needs at least one adapter (expert or composite)") }
        var covered = Set<String>()
        for (i, a) in adapters.enumerated() {
            try a.validate(at: "adapters.\(i)")
            covered.formUnion(a.languages)
        }
        if Set(adapters.map(\.digest)).count != adapters.count { throw .invalidField(field: "adapters", reason: "lists an artifact twice") }
        if Set(languages) != covered {
            throw .invalidField(field: "languages", reason: "must be the languages the adapters serve: \(covered.sorted().joined(separator: ","))")
        }
        try validateRouting()
        for (path, f) in files.sorted(by: { $0.key < $1.key }) {
            if let p = ArtifactName.problem(withRelativePath: path) { throw .invalidField(field: "files", reason: p) }
            if f.size < 0 { throw .invalidField(field: "files." + path + ".size", reason: "must be >= 0") }
            if f.mediaType.isEmpty { throw .invalidField(field: "files." + path + ".media_type", reason: "must not be empty") }
        }
        if let p = RFC3339.problem(with: created) { throw .invalidField(field: "created", reason: p) }
    }

    private func validateRouting() throws(ManifestError) {
        guard Routing.modes.contains(routing.mode) else {
            throw .invalidField(field: "routing.mode", reason: "'\(routing.mode)' is not one of \(Routing.modes.sorted().joined(separator: ", "))")
        }
        if routing.mode == "all" {
            if !routing.languages.isEmpty { throw .invalidField(field: "routing.languages", reason: "must be empty when mode is 'all'") }
            return
        }
        for (lang, d) in routing.languages.sorted(by: { $0.key < $1.key }) {
            try Check.language(lang, "routing.languages." + lang)
            guard let a = adapters.first(where: { $0.digest == d }) else {
                throw .invalidField(field: "routing.languages." + lang, reason: "\(d.short) is not one of the bundle's adapters")
            }
            if !a.languages.contains(lang) {
                throw .invalidField(field: "routing.languages." + lang, reason: "adapter \(a.name) does not serve '\(lang)'")
            }
        }
        if Set(routing.languages.keys) != Set(languages) {
            throw .invalidField(field: "routing.languages", reason: "must route every language of the bundle (\(languages.joined(separator: ",")))")
        }
    }

    /// Every blob the bundle needs: base tensors, tokenizer, adapter factors, files.
    public var blobReferences: [Digest] {
        var s = Set(model.tensors.values.map(\.digest))
        s.insert(model.tokenizer)
        for a in adapters { for t in a.tensors.values { s.insert(t.a.digest); s.insert(t.b.digest) } }
        s.formUnion(files.values.map(\.digest))
        return s.sorted()
    }

    public var lineage: [ArtifactEdge] {
        [ArtifactEdge(relation: "base", target: base)] + adapters.map { ArtifactEdge(relation: $0.kind.rawValue, target: $0.digest) }
    }
}

extension BundleManifest.Adapter {
    func validate(at path: String) throws(ManifestError) {
        guard kind == .expert || kind == .composite else {
            throw .invalidField(field: path + ".kind", reason: "must be expert or composite, got \(kind.rawValue)")
        }
        try Check.name(name, path + ".name")
        try Check.version(version, path + ".version")
        try Check.sortedLanguages(languages, path + ".languages")
        try Check.lora(lora, path + ".lora")
        try Check.loraTensors(tensors, path + ".tensors", allowEmpty: false)
        if Set(scales.keys) != Set(tensors.keys) { throw .invalidField(field: path + ".scales", reason: "must give one scale per module in tensors") }
        for (m, s) in scales where !s.isFinite { throw .invalidField(field: path + ".scales." + m, reason: "must be finite") }
        if let recipe, recipe.isEmpty { throw .invalidField(field: path + ".recipe", reason: "must not be empty when present") }
    }
}

extension Check {
    /// At least one Whisper code, sorted and unique.
    static func sortedLanguages(_ l: [String], _ field: String) throws(ManifestError) {
        if l.isEmpty { throw .invalidField(field: field, reason: "must list at least one language") }
        for (i, x) in l.enumerated() { try Check.language(x, "\(field).\(i)") }
        if l != Array(Set(l)).sorted() { throw .invalidField(field: field, reason: "must be sorted and unique") }
    }
}
