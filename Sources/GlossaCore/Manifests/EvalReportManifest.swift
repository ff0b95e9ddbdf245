/// An evaluation of one artifact on one data set: the full report is a blob (JSON per
/// the eval-report schema); the summary metrics are copied here for the catalog.
public struct EvalReportManifest: Manifest {
    public static let kind = ManifestKind.evalReport
    public static let currentSchemaVersion = 1

    public var schemaVersion: Int
    public private(set) var kind: ManifestKind = .evalReport
    /// Manifest digest of the artifact measured (expert, composite, bundle or base).
    public var subject: Digest
    /// Digest of the full report blob.
    public var report: Digest
    /// Digest of the evaluation data set manifest, when known.
    public var dataset: Digest?
    /// Summary, e.g. `wer.de`, `cer.ja`, `lid_accuracy`, `rtf` (fractions, not percent).
    public var summary: [String: Double]
    public var created: String
    public var toolVersion: String

    public init(subject: Digest, report: Digest, dataset: Digest? = nil, summary: [String: Double], created: String, toolVersion: String) {
        self.schemaVersion = Self.currentSchemaVersion
        self.subject = subject; self.report = report; self.dataset = dataset; self.summary = summary
        self.created = created; self.toolVersion = toolVersion
    }

    enum CodingKeys: String, ManifestCodingKeys {
        case schemaVersion = "schema_version", kind, subject, report, dataset, summary, created, toolVersion = "tool_version"
    }

    public init(from decoder: Decoder) throws {
        let (c, schema) = try Self.decodeHeader(decoder, CodingKeys.self)
        schemaVersion = schema
        subject = try c.decode(Digest.self, forKey: .subject)
        report = try c.decode(Digest.self, forKey: .report)
        dataset = try c.decodeIfPresent(Digest.self, forKey: .dataset)
        summary = try c.decode([String: Double].self, forKey: .summary)
        created = try c.decode(String.self, forKey: .created)
        toolVersion = try c.decode(String.self, forKey: .toolVersion)
        try validating(decoder, validate)
    }

    public func validate() throws(ManifestError) {
        try Check.schema(schemaVersion, Self.kind, Self.currentSchemaVersion)
        try Check.metrics(summary, "summary")
        if let p = RFC3339.problem(with: created) { throw .invalidField(field: "created", reason: p) }
        if toolVersion.isEmpty { throw .invalidField(field: "tool_version", reason: "must not be empty") }
    }

    public var blobReferences: [Digest] { [report] }
    public var lineage: [ArtifactEdge] { [ArtifactEdge(relation: "subject", target: subject)] }
}
