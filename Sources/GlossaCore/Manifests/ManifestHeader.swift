/// Keys every manifest kind starts with (`schema_version`, `kind`); each kind's `CodingKeys`
/// conforms, its enum cases witnessing the two requirements.
protocol ManifestCodingKeys: CodingKey, CaseIterable {
    static var schemaVersion: Self { get }
    static var kind: Self { get }
}

extension Manifest {
    /// The opening every manifest's `init(from:)` shares: refuses keys `K` does not define
    /// (`rejectUnknownKeys`), refuses a `kind` other than `Self.kind`, and returns the keyed
    /// container with the document's `schema_version`. That version is range-checked by
    /// `validate()` once the other fields are read, so each error names its own field.
    static func decodeHeader<K: ManifestCodingKeys>(_ decoder: Decoder, _: K.Type) throws
        -> (container: KeyedDecodingContainer<K>, schemaVersion: Int) {
        try rejectUnknownKeys(decoder, K.self)
        let c = try decoder.container(keyedBy: K.self)
        let version = try c.decode(Int.self, forKey: .schemaVersion)
        let found = try c.decode(String.self, forKey: .kind)
        try validating(decoder) { () throws(ManifestError) in try Check.kind(found, Self.kind) }
        return (c, version)
    }

    /// The first checks of `validate()` for the named kinds: `schema_version` is one this
    /// build reads, then `name` and `version` are well formed.
    func checkHeader(name: String, version: String) throws(ManifestError) {
        try Check.schema(schemaVersion, Self.kind, Self.currentSchemaVersion)
        try Check.name(name, "name")
        try Check.version(version, "version")
    }
}
