/// A Whisper base model in canonical form: its config, every tensor by canonical
/// Hugging Face name (see `WhisperCheckpoint`), the tokenizer blob and where it came from.
///
///     {"config":{...WhisperConfig...},"created":"2026-11-28T02:00:00Z","kind":"base",
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
    /// RFC 3339 import time.
    public var created: String
    public var description: String?

    /// Where a base model came from: `format` is `ctranslate2` or `huggingface` (or
    /// another importer's name); `digest` is the sha256 of the source weights file.
    public struct Source: Codable, Sendable, Equatable {
        public var format: String
        public var digest: Digest
        public init(format: String, digest: Digest) { self.format = format; self.digest = digest }
    }

    public init(name: String, version: String, config: WhisperConfig, tensors: [String: TensorEntry], tokenizer: Digest,
                source: Source, created: String, description: String? = nil) {
        self.schemaVersion = Self.currentSchemaVersion
        self.name = name; self.version = version; self.config = config; self.tensors = tensors
        self.tokenizer = tokenizer; self.source = source; self.created = created; self.description = description
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case schemaVersion = "schema_version", kind, name, version, config, tensors, tokenizer, source, created, description
    }

    public init(from decoder: Decoder) throws {
        try rejectUnknownKeys(decoder, CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        schemaVersion = try c.decode(Int.self, forKey: .schemaVersion)
        let k = try c.decode(String.self, forKey: .kind)
        try validating(decoder) { () throws(ManifestError) in try Check.kind(k, Self.kind) }
        name = try c.decode(String.self, forKey: .name)
        version = try c.decode(String.self, forKey: .version)
        config = try c.decode(WhisperConfig.self, forKey: .config)
        tensors = try c.decode([String: TensorEntry].self, forKey: .tensors)
        tokenizer = try c.decode(Digest.self, forKey: .tokenizer)
        source = try c.decode(Source.self, forKey: .source)
        created = try c.decode(String.self, forKey: .created)
        description = try c.decodeIfPresent(String.self, forKey: .description)
        try validating(decoder, validate)
    }

    public func validate() throws(ManifestError) {
        try Check.schema(schemaVersion, Self.kind, Self.currentSchemaVersion)
        try Check.name(name, "name")
        try Check.version(version, "version")
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
        if let p = RFC3339.problem(with: created) { throw .invalidField(field: "created", reason: p) }
    }

    public var blobReferences: [Digest] { Array(Set(tensors.values.map(\.digest) + [tokenizer])).sorted() }
    public var lineage: [ArtifactEdge] { [] }
}
