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
/// Adapter entries are generic: an expert and a composite (a fused LoRA, or the shared part and
/// per-language residuals of a routed composite) look the same to the runtime, and each
/// records its own lineage.
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

    /// One LoRA adapter: an expert, or (part of) a composite made from experts.
    public struct Adapter: Codable, Sendable, Equatable {
        /// Manifest digest of the registry artifact it came from; with the language, it
        /// identifies a routed adapter in `routing` (a routed composite's parts share it).
        public var digest: Digest
        /// `expert` or `composite`.
        public var kind: ManifestKind
        /// How it takes part in routing: `expert` follows the bundle's routing mode (always
        /// with `all`, by language otherwise); `shared` always applies (a routed composite's
        /// common part); `residual` applies by language whatever the mode (a routed
        /// composite's per-language part).
        public var role: String
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

        public static let roles: Set<String> = ["expert", "shared", "residual"]

        /// `name:version`, plus `/shared` or `/<language>` for a routed composite's parts (the
        /// names the registry runtime gives them, so reports match).
        public var label: String {
            switch role {
            case "shared": return "\(name):\(version)/shared"
            case "residual": return "\(name):\(version)/\(languages.first ?? "")"
            default: return "\(name):\(version)"
            }
        }

        public init(digest: Digest, kind: ManifestKind, role: String = "expert", name: String, version: String, languages: [String],
                    lora: LoRAConfig, scales: [String: Double], tensors: [String: LoRATensorEntry], lineage: [ArtifactEdge],
                    recipe: String? = nil) {
            self.digest = digest; self.kind = kind; self.role = role; self.name = name; self.version = version; self.languages = languages
            self.lora = lora; self.scales = scales; self.tensors = tensors; self.lineage = lineage; self.recipe = recipe
        }
    }

    /// How the runtime picks adapters (the modes of `glossa transcribe --route`). `all`: every
    /// `expert` adapter applies to every utterance. `language`: the utterance's language (given
    /// by the caller, or detected by the base) picks its adapter. `soft`: as `language` when
    /// the language is given; when detected, the adapters of the base's top-3 languages mix by
    /// their probabilities. `shared` adapters always apply and `residual` ones always route
    /// by language. `languages[code]` names, by digest, the adapter routed for that language
    /// (on top of those that always apply); it lists exactly the languages routed adapters serve.
    public struct Routing: Codable, Sendable, Equatable {
        public var mode: String
        public var languages: [String: Digest]
        public init(mode: String, languages: [String: Digest] = [:]) { self.mode = mode; self.languages = languages }
        public static let modes: Set<String> = ["all", "language", "soft"]
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

    enum CodingKeys: String, ManifestCodingKeys {
        case schemaVersion = "schema_version", kind, name, version, languages, base, model, adapters, routing, files, created, description
    }

    public init(from decoder: Decoder) throws {
        let (c, schema) = try Self.decodeHeader(decoder, CodingKeys.self)
        schemaVersion = schema
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
        try checkHeader(name: name, version: version)
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
        var identities = Set<String>()
        for a in adapters where !identities.insert("\(a.digest) \(a.role) \(a.languages)").inserted {
            throw .invalidField(field: "adapters", reason: "lists \(a.name):\(a.version) (\(a.role)) twice")
        }
        for a in adapters where a.kind == .expert && adapters.filter({ $0.digest == a.digest }).count > 1 {
            throw .invalidField(field: "adapters", reason: "lists expert \(a.name):\(a.version) twice")
        }
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
        for (lang, d) in routing.languages.sorted(by: { $0.key < $1.key }) {
            try Check.language(lang, "routing.languages." + lang)
            guard routedAdapter(for: lang) != nil else {
                throw .invalidField(field: "routing.languages." + lang, reason: "\(d.short) is not a routed adapter of the bundle serving '\(lang)'")
            }
        }
        let routed = Set(adapters.filter(isRouted).flatMap(\.languages))
        if Set(routing.languages.keys) != routed {
            throw .invalidField(field: "routing.languages",
                                reason: "must list the languages routed adapters serve (\(routed.sorted().joined(separator: ",")))")
        }
    }

    /// True when `a` applies by language under this bundle's routing mode.
    public func isRouted(_ a: Adapter) -> Bool { a.role == "residual" || (a.role == "expert" && routing.mode != "all") }

    /// The adapter routed for `language`: the one `routing.languages` names that serves it.
    public func routedAdapter(for language: String) -> Adapter? {
        guard let d = routing.languages[language] else { return nil }
        return adapters.first { $0.digest == d && isRouted($0) && $0.languages.contains(language) }
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
        guard Self.roles.contains(role) else {
            throw .invalidField(field: path + ".role", reason: "'\(role)' is not one of \(Self.roles.sorted().joined(separator: ", "))")
        }
        if role != "expert" && kind != .composite {
            throw .invalidField(field: path + ".role", reason: "only a composite has \(role) parts")
        }
        if role == "residual" && languages.count != 1 {
            throw .invalidField(field: path + ".languages", reason: "a residual serves exactly one language")
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
