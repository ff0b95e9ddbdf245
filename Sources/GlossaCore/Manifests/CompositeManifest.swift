/// The result of fusing or distilling experts: the recipe that made it, its inputs and
/// the resulting LoRA tensors.
///
/// `tensors` always apply. A composite routed by language (the `shared` method) also has
/// `routes`: for an utterance in language L, `routes[L]` applies on top of `tensors`; with the
/// language unknown, only `tensors` do (or a soft mix of the routes, by the base's
/// language-ID posterior).
public struct CompositeManifest: Manifest {
    public static let kind = ManifestKind.composite
    public static let currentSchemaVersion = 1

    public var schemaVersion: Int
    public private(set) var kind: ManifestKind = .composite
    public var name: String
    public var version: String
    /// Whisper codes of the languages it serves, sorted, unique.
    public var languages: [String]
    /// Manifest digest of the base model (in the registry it was made in).
    public var base: Digest
    /// `BaseManifest.weightsDigest` of that base: the base by content, so the composite
    /// attaches to any registry's copy of the same weights. Nil in manifests written
    /// before it existed.
    public var baseWeights: Digest?
    public var recipe: Recipe
    /// Manifest digests of the experts it was made from.
    public var inputs: [Digest]
    /// LoRA config of the result; nil for a router without own tensors.
    public var lora: LoRAConfig?
    /// Result tensors: canonical module path -> A/B factors.
    public var tensors: [String: LoRATensorEntry]
    /// Language code -> an adapter applied, on top of `tensors`, to utterances in that
    /// language. Empty for a composite that is one plain LoRA.
    public var routes: [String: RoutedAdapter]
    public var provenance: Provenance
    public var metrics: [String: Double]
    public var description: String

    /// How a composite was made: `method` is `cat`, `linear`, `ties`, `dare`, `learned`,
    /// `distill` or `router`; `params` its parameters (weights, density, target rank ...).
    public struct Recipe: Codable, Sendable, Equatable {
        public var method: String
        public var params: [String: ScalarValue]
        /// RNG seed, when the method draws random numbers.
        public var seed: UInt64?
        public init(method: String, params: [String: ScalarValue] = [:], seed: UInt64? = nil) {
            self.method = method; self.params = params; self.seed = seed
        }
    }

    /// One language's adapter in a routed composite.
    public struct RoutedAdapter: Codable, Sendable, Equatable {
        public var lora: LoRAConfig
        public var tensors: [String: LoRATensorEntry]
        public init(lora: LoRAConfig, tensors: [String: LoRATensorEntry]) { self.lora = lora; self.tensors = tensors }
    }

    public init(name: String, version: String, languages: [String], base: Digest, recipe: Recipe, inputs: [Digest],
                lora: LoRAConfig?, tensors: [String: LoRATensorEntry], routes: [String: RoutedAdapter] = [:], provenance: Provenance,
                metrics: [String: Double] = [:], description: String = "", baseWeights: Digest? = nil) {
        self.schemaVersion = Self.currentSchemaVersion
        self.name = name; self.version = version; self.languages = languages; self.base = base; self.recipe = recipe
        self.inputs = inputs; self.lora = lora; self.tensors = tensors; self.routes = routes; self.provenance = provenance
        self.metrics = metrics; self.description = description; self.baseWeights = baseWeights
    }

    enum CodingKeys: String, ManifestCodingKeys {
        case schemaVersion = "schema_version", kind, name, version, languages, base, recipe, inputs, lora, tensors, routes, provenance
        case metrics, description, baseWeights = "base_weights"
    }

    public init(from decoder: Decoder) throws {
        let (c, schema) = try Self.decodeHeader(decoder, CodingKeys.self)
        schemaVersion = schema
        name = try c.decode(String.self, forKey: .name)
        version = try c.decode(String.self, forKey: .version)
        languages = try c.decode([String].self, forKey: .languages)
        base = try c.decode(Digest.self, forKey: .base)
        baseWeights = try c.decodeIfPresent(Digest.self, forKey: .baseWeights)
        recipe = try c.decode(Recipe.self, forKey: .recipe)
        inputs = try c.decode([Digest].self, forKey: .inputs)
        lora = try c.decodeIfPresent(LoRAConfig.self, forKey: .lora)
        tensors = try c.decode([String: LoRATensorEntry].self, forKey: .tensors)
        routes = try c.decodeIfPresent([String: RoutedAdapter].self, forKey: .routes) ?? [:]
        provenance = try c.decode(Provenance.self, forKey: .provenance)
        metrics = try c.decode([String: Double].self, forKey: .metrics)
        description = try c.decode(String.self, forKey: .description)
        try validating(decoder, validate)
    }

    public func validate() throws(ManifestError) {
        try checkHeader(name: name, version: version)
        if languages.isEmpty { throw .invalidField(field: "languages", reason: "must list at least one language") }
        for (i, l) in languages.enumerated() { try Check.language(l, "languages.\(i)") }
        if languages != Array(Set(languages)).sorted() { throw .invalidField(field: "languages", reason: "must be sorted and unique") }
        if recipe.method.isEmpty { throw .invalidField(field: "recipe.method", reason: "must not be empty") }
        for (k, v) in recipe.params { if case .number(let d) = v, !d.isFinite { throw .invalidField(field: "recipe.params." + k, reason: "must be finite") } }
        if inputs.isEmpty { throw .invalidField(field: "inputs", reason: "must list at least one input artifact") }
        if Set(inputs).count != inputs.count { throw .invalidField(field: "inputs", reason: "lists a digest twice") }
        if let lora { try Check.lora(lora, "lora") }
        if lora == nil && !tensors.isEmpty { throw .invalidField(field: "lora", reason: "required when tensors are present") }
        try Check.loraTensors(tensors, "tensors", allowEmpty: !routes.isEmpty)
        for (l, r) in routes.sorted(by: { $0.key < $1.key }) {
            try Check.language(l, "routes")
            if !languages.contains(l) { throw .invalidField(field: "routes." + l, reason: "routes a language the composite does not list in languages") }
            try Check.lora(r.lora, "routes.\(l).lora")
            try Check.loraTensors(r.tensors, "routes.\(l).tensors", allowEmpty: false)
        }
        try provenance.validate(at: "provenance")
        try Check.metrics(metrics, "metrics")
    }

    public var blobReferences: [Digest] {
        let all = tensors.values + routes.values.flatMap(\.tensors.values)
        return Array(Set(all.flatMap { [$0.a.digest, $0.b.digest] })).sorted()
    }
    public var lineage: [ArtifactEdge] {
        [ArtifactEdge(relation: "base", target: base)] + inputs.map { ArtifactEdge(relation: "input", target: $0) }
    }
}
