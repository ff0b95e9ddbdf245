/// A Whisper base model in canonical form: its config, every tensor by canonical
/// Hugging Face name (see `WhisperCheckpoint`), the tokenizer blob and where it came from.
///
/// Two identities: the manifest digest (everything below, name and description included)
/// and `weightsDigest` (config, tensor table and tokenizer only). Importing the same files
/// under the same name, version and description gives the same manifest digest (an import
/// records no wall-clock time; `created` is only read from manifests written before that),
/// and the same files under any name give the same `weightsDigest`, which is what experts
/// and composites pin (`base_weights`) so they attach to any registry's copy of their base.
///
///     {"config":{...WhisperConfig...},"kind":"base",
///      "name":"whisper-base","schema_version":1,
///      "source":{"digest":"sha256:d01c...","format":"ctranslate2"},
///      "tensors":{"model.encoder.conv1.weight":{"digest":"sha256:...","dtype":"F16","shape":[512,80,3]},...},
///      "tokenizer":"sha256:...","version":"1.0.0"}
public struct BaseManifest: Manifest {
    public static let kind = ManifestKind.base
    public static let currentSchemaVersion = 1

    public var schemaVersion: Int
    public private(set) var kind: ManifestKind = .base
    /// Artifact name, e.g. `whisper-base` (see `ArtifactName`).
    public var name: String
    /// Semantic version, e.g. `1.0.0`.
    public var version: String
    public var config: WhisperConfig
    /// Canonical tensor name -> stored tensor.
    public var tensors: [String: TensorEntry]
    /// Digest of the Hugging Face `tokenizer.json` bytes.
    public var tokenizer: Digest
    /// The files it was imported from.
    public var source: Source
    /// RFC 3339 import time: only in manifests written before imports became deterministic
    /// (a wall-clock time made two imports of the same files two different artifacts).
    public var created: String?
    public var description: String?

    /// Where a base model came from: `format` is `ctranslate2` or `huggingface` (or
    /// another importer's name); `digest` is the sha256 of the source weights file.
    public struct Source: Codable, Sendable, Equatable {
        public var format: String
        public var digest: Digest
        public init(format: String, digest: Digest) { self.format = format; self.digest = digest }
    }

    public init(name: String, version: String, config: WhisperConfig, tensors: [String: TensorEntry], tokenizer: Digest,
                source: Source, created: String? = nil, description: String? = nil) {
        self.schemaVersion = Self.currentSchemaVersion
        self.name = name; self.version = version; self.config = config; self.tensors = tensors
        self.tokenizer = tokenizer; self.source = source; self.created = created; self.description = description
    }

    enum CodingKeys: String, ManifestCodingKeys {
        case schemaVersion = "schema_version", kind, name, version, config, tensors, tokenizer, source, created, description
    }

    public init(from decoder: Decoder) throws {
        let (c, schema) = try Self.decodeHeader(decoder, CodingKeys.self)
        schemaVersion = schema
        name = try c.decode(String.self, forKey: .name)
        version = try c.decode(String.self, forKey: .version)
        config = try c.decode(WhisperConfig.self, forKey: .config)
        tensors = try c.decode([String: TensorEntry].self, forKey: .tensors)
        tokenizer = try c.decode(Digest.self, forKey: .tokenizer)
        source = try c.decode(Source.self, forKey: .source)
        created = try c.decodeIfPresent(String.self, forKey: .created)
        description = try c.decodeIfPresent(String.self, forKey: .description)
        try validating(decoder, validate)
    }

    public func validate() throws(ManifestError) {
        try checkHeader(name: name, version: version)
        let dims: [(String, Int)] = [("num_mel_bins", config.numMelBins), ("d_model", config.dModel), ("encoder_layers", config.encoderLayers),
                                     ("encoder_attention_heads", config.encoderAttentionHeads), ("encoder_ffn_dim", config.encoderFFNDim),
                                     ("decoder_layers", config.decoderLayers), ("decoder_attention_heads", config.decoderAttentionHeads),
                                     ("decoder_ffn_dim", config.decoderFFNDim), ("vocab_size", config.vocabSize),
                                     ("max_source_positions", config.maxSourcePositions), ("max_target_positions", config.maxTargetPositions)]
        for (k, v) in dims where v < 1 { throw .invalidField(field: "config." + k, reason: "must be >= 1, got \(v)") }
        if tensors.isEmpty { throw .invalidField(field: "tensors", reason: "a base model must hold at least one tensor") }
        for (n, t) in tensors.sorted(by: { $0.key < $1.key }) {
            if n.isEmpty { throw .invalidField(field: "tensors", reason: "tensor names must not be empty") }
            try t.validate(at: "tensors." + n)
        }
        if source.format.isEmpty { throw .invalidField(field: "source.format", reason: "must not be empty") }
        if let created, let p = RFC3339.problem(with: created) { throw .invalidField(field: "created", reason: p) }
    }

    public var blobReferences: [Digest] { Array(Set(tensors.values.map(\.digest) + [tokenizer])).sorted() }

    /// The base's identity by content: sha256 of the canonical JSON of
    /// `{"config":…,"identity":"glossa-base-weights/1","tensors":{name:{digest,dtype,shape}},"tokenizer":…}`.
    /// Name, version, description, source and creation time are left out, so two
    /// registries that imported the same weights (at different times, under other names)
    /// agree on it, and it is computable from any base manifest, old ones included. It
    /// pins every tensor and the tokenizer by digest, so equal weights digests mean
    /// bit-identical models. The `identity` tag keeps it distinct from any manifest digest.
    public var weightsDigest: Digest {
        // Only integers, strings and digests: canonical encoding cannot fail.
        let bytes = try! ManifestCoding.canonicalJSON(WeightsIdentity(config: config, tensors: tensors, tokenizer: tokenizer))
        return Digest(of: bytes)
    }

    private struct WeightsIdentity: Encodable {
        var identity = "glossa-base-weights/1"
        var config: WhisperConfig
        var tensors: [String: TensorEntry]
        var tokenizer: Digest
    }
    public var lineage: [ArtifactEdge] { [] }
}
