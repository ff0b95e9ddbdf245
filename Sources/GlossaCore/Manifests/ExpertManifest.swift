/// A LoRA language expert: one adapter for one language on one base model.
///
/// A *multilingual* adapter (the "standard multilingual LoRA" experts are compared with) has
/// `language` "mul" (ISO 639-2: multiple languages) and lists what it was trained on in
/// `languages`; a single-language expert has no `languages` field.
///
///     {"base":"sha256:...","base_weights":"sha256:...","created":...,"description":"...","kind":"expert","language":"de",
///      "license":"MIT","lora":{"alpha":32,"alpha_pattern":{},"rank":16,"rank_pattern":{},
///      "target_modules":["q_proj","v_proj"],"use_rslora":false},"metrics":{"wer":0.21},
///      "name":"de-base","parents":[],"provenance":{...},"schema_version":1,
///      "tensors":{"model.decoder.layers.0.self_attn.q_proj":{"a":{...},"b":{...}},...},
///      "version":"1.0.0"}
public struct ExpertManifest: Manifest {
    public static let kind = ManifestKind.expert
    public static let currentSchemaVersion = 1

    public var schemaVersion: Int
    public private(set) var kind: ManifestKind = .expert
    public var name: String
    /// Semantic version.
    public var version: String
    /// Whisper language code (`WhisperLanguage`), or "mul" for a multilingual adapter.
    public var language: String
    /// The Whisper language codes a multilingual ("mul") adapter was trained on, sorted;
    /// nil for a single-language expert.
    public var languages: [String]?
    /// Manifest digest of the base model it adapts (in the registry it was made in).
    public var base: Digest
    /// `BaseManifest.weightsDigest` of that base: the base by content, so the artifact
    /// attaches to any registry's copy of the same weights (see `LocalRegistry.attachedBase`).
    /// Nil in manifests written before it existed; computable from `base` then.
    public var baseWeights: Digest?
    public var lora: LoRAConfig
    /// Canonical module path (e.g. `model.decoder.layers.3.encoder_attn.q_proj`) -> A/B factors.
    public var tensors: [String: LoRATensorEntry]
    public var provenance: Provenance
    /// Named scores, e.g. `wer`, `cer` on a held-out set (fractions, not percent).
    public var metrics: [String: Double]
    /// SPDX identifier or free text.
    public var license: String
    public var description: String
    /// Manifest digests of experts this one was fine-tuned from.
    public var parents: [Digest]
    /// Blob holding the original PEFT `adapter_config.json` (imports only), so an export
    /// reproduces the fields `LoRAConfig` does not model.
    public var adapterConfig: Digest?

    public init(name: String, version: String, language: String, base: Digest, lora: LoRAConfig,
                tensors: [String: LoRATensorEntry], provenance: Provenance, metrics: [String: Double] = [:],
                license: String, description: String = "", parents: [Digest] = [], adapterConfig: Digest? = nil,
                languages: [String]? = nil, baseWeights: Digest? = nil) {
        self.schemaVersion = Self.currentSchemaVersion
        self.name = name; self.version = version; self.language = language; self.base = base; self.lora = lora
        self.tensors = tensors; self.provenance = provenance; self.metrics = metrics; self.license = license
        self.description = description; self.parents = parents; self.adapterConfig = adapterConfig
        self.languages = languages; self.baseWeights = baseWeights
    }

    enum CodingKeys: String, ManifestCodingKeys {
        case schemaVersion = "schema_version", kind, name, version, language, languages, base, lora, tensors, provenance, metrics, license, description, parents
        case adapterConfig = "adapter_config", baseWeights = "base_weights"
    }

    public init(from decoder: Decoder) throws {
        let (c, schema) = try Self.decodeHeader(decoder, CodingKeys.self)
        schemaVersion = schema
        name = try c.decode(String.self, forKey: .name)
        version = try c.decode(String.self, forKey: .version)
        language = try c.decode(String.self, forKey: .language)
        languages = try c.decodeIfPresent([String].self, forKey: .languages)
        base = try c.decode(Digest.self, forKey: .base)
        baseWeights = try c.decodeIfPresent(Digest.self, forKey: .baseWeights)
        lora = try c.decode(LoRAConfig.self, forKey: .lora)
        tensors = try c.decode([String: LoRATensorEntry].self, forKey: .tensors)
        provenance = try c.decode(Provenance.self, forKey: .provenance)
        metrics = try c.decode([String: Double].self, forKey: .metrics)
        license = try c.decode(String.self, forKey: .license)
        description = try c.decode(String.self, forKey: .description)
        parents = try c.decode([Digest].self, forKey: .parents)
        adapterConfig = try c.decodeIfPresent(Digest.self, forKey: .adapterConfig)
        try validating(decoder, validate)
    }

    public func validate() throws(ManifestError) {
        try checkHeader(name: name, version: version)
        if language == WhisperLanguage.multiple {
            guard let languages, languages.count >= 2 else {
                throw .invalidField(field: "languages", reason: "a multilingual ('mul') adapter must list the 2 or more languages it was trained on")
            }
            for (i, l) in languages.enumerated() { try Check.language(l, "languages[\(i)]") }
            if languages != Array(Set(languages)).sorted() { throw .invalidField(field: "languages", reason: "must be sorted and list each language once") }
        } else {
            try Check.language(language, "language")
            if languages != nil { throw .invalidField(field: "languages", reason: "only a multilingual adapter (language 'mul') lists languages") }
        }
        try Check.lora(lora, "lora")
        try Check.loraTensors(tensors, "tensors", allowEmpty: false)
        try provenance.validate(at: "provenance")
        try Check.metrics(metrics, "metrics")
        if license.isEmpty { throw .invalidField(field: "license", reason: "must not be empty (use an SPDX id such as MIT, or 'proprietary')") }
        if Set(parents).count != parents.count { throw .invalidField(field: "parents", reason: "lists a digest twice") }
    }

    public var blobReferences: [Digest] {
        Array(Set(tensors.values.flatMap { [$0.a.digest, $0.b.digest] } + (adapterConfig.map { [$0] } ?? []))).sorted()
    }
    /// The `language` and `languages` fields for an adapter trained on `codes`: one code is a
    /// language expert (no `languages`); several make a multilingual "mul" adapter listing them
    /// sorted and once each. Empty `codes` give an empty language, which `validate` rejects.
    public static func languageFields(covering codes: [String]) -> (language: String, languages: [String]?) {
        let sorted = Array(Set(codes)).sorted()
        return sorted.count > 1 ? (WhisperLanguage.multiple, sorted) : (sorted.first ?? "", nil)
    }

    /// The languages this adapter covers: `languages` for a multilingual one, else `[language]`.
    public var coveredLanguages: [String] { languages ?? [language] }

    public var lineage: [ArtifactEdge] {
        [ArtifactEdge(relation: "base", target: base)] + parents.map { ArtifactEdge(relation: "parent", target: $0) }
    }
}
