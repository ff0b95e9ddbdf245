import Foundation

/// One stored tensor: the digest of its raw little-endian bytes, its dtype and shape.
public struct TensorEntry: Codable, Sendable, Equatable, Hashable {
    public var digest: Digest
    public var dtype: DType
    /// Row-major shape; `[]` is a scalar.
    public var shape: [Int]

    public init(digest: Digest, dtype: DType, shape: [Int]) { self.digest = digest; self.dtype = dtype; self.shape = shape }

    /// Raw byte count: product(shape) * dtype.size.
    public var byteCount: Int { shape.reduce(1, *) * dtype.size }

    func validate(at path: String) throws(ManifestError) {
        if let bad = shape.first(where: { $0 < 0 }) {
            throw .invalidField(field: path + ".shape", reason: "dimension \(bad) is negative")
        }
        var n = 1
        for d in shape {
            let (m, o) = n.multipliedReportingOverflow(by: d)
            if o || m > (1 << 40) { throw .invalidField(field: path + ".shape", reason: "\(shape) has more than 2^40 elements") }
            n = m
        }
    }
}

/// The two factors of one LoRA-adapted linear layer: A [r, in] and B [out, r].
public struct LoRATensorEntry: Codable, Sendable, Equatable, Hashable {
    public var a: TensorEntry
    public var b: TensorEntry
    public init(a: TensorEntry, b: TensorEntry) { self.a = a; self.b = b }

    func validate(at path: String) throws(ManifestError) {
        try a.validate(at: path + ".a")
        try b.validate(at: path + ".b")
        guard a.shape.count == 2 else { throw .invalidField(field: path + ".a.shape", reason: "lora_A must be 2-D [r, in], got \(a.shape)") }
        guard b.shape.count == 2 else { throw .invalidField(field: path + ".b.shape", reason: "lora_B must be 2-D [out, r], got \(b.shape)") }
        guard a.shape[0] == b.shape[1], a.shape[0] > 0 else {
            throw .invalidField(field: path + ".b.shape", reason: "rank mismatch: lora_A is \(a.shape), lora_B is \(b.shape) (expected A [r, in], B [out, r])")
        }
        guard a.dtype.isFloat, b.dtype.isFloat else { throw .invalidField(field: path, reason: "LoRA factors must be float tensors") }
    }
}

/// A JSON scalar in a free-form map (hyperparameters, recipe parameters).
/// Numbers are doubles: integers above 2^53 lose precision, so store such values
/// (e.g. large seeds) as strings.
public enum ScalarValue: Codable, Sendable, Equatable, Hashable, CustomStringConvertible {
    case string(String)
    case number(Double)
    case bool(Bool)

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let b = try? c.decode(Bool.self) { self = .bool(b); return }
        if let d = try? c.decode(Double.self) { self = .number(d); return }
        if let s = try? c.decode(String.self) { self = .string(s); return }
        throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "must be a string, number or boolean"))
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .string(let s): try c.encode(s)
        case .number(let d): try c.encode(d)
        case .bool(let b): try c.encode(b)
        }
    }

    public var description: String {
        switch self {
        case .string(let s): return s
        case .number(let d): return d == d.rounded() && abs(d) < 1e15 ? String(Int64(d)) : String(d)
        case .bool(let b): return String(b)
        }
    }
}

/// Where an artifact came from: enough to reproduce or audit it.
public struct Provenance: Codable, Sendable, Equatable {
    /// Digest of the training data (e.g. of its JSONL manifest); nil when unknown (imports).
    public var dataDigest: Digest?
    /// Training hyperparameters (learning rate, epochs, batch size, seed ...).
    public var hyperparameters: [String: ScalarValue]
    /// The tool that produced it, e.g. `glossa 0.1.0` or `peft 0.13.2`.
    public var toolVersion: String
    /// Creation time, RFC 3339 (`2026-11-28T02:00:00Z`).
    public var created: String

    public init(dataDigest: Digest? = nil, hyperparameters: [String: ScalarValue] = [:], toolVersion: String, created: String) {
        self.dataDigest = dataDigest; self.hyperparameters = hyperparameters; self.toolVersion = toolVersion; self.created = created
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case dataDigest = "data_digest", hyperparameters, toolVersion = "tool_version", created
    }

    public init(from decoder: Decoder) throws {
        try rejectUnknownKeys(decoder, CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        dataDigest = try c.decodeIfPresent(Digest.self, forKey: .dataDigest)
        hyperparameters = try c.decode([String: ScalarValue].self, forKey: .hyperparameters)
        toolVersion = try c.decode(String.self, forKey: .toolVersion)
        created = try c.decode(String.self, forKey: .created)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encodeIfPresent(dataDigest, forKey: .dataDigest)
        try c.encode(hyperparameters, forKey: .hyperparameters)
        try c.encode(toolVersion, forKey: .toolVersion)
        try c.encode(created, forKey: .created)
    }

    func validate(at path: String) throws(ManifestError) {
        if toolVersion.isEmpty { throw .invalidField(field: path + ".tool_version", reason: "must not be empty") }
        if let p = RFC3339.problem(with: created) { throw .invalidField(field: path + ".created", reason: p) }
        for (k, v) in hyperparameters { if case .number(let d) = v, !d.isFinite { throw .invalidField(field: path + ".hyperparameters." + k, reason: "must be finite") } }
    }
}

/// RFC 3339 timestamps (`YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)`).
public enum RFC3339 {
    /// Returns nil when `text` is an RFC 3339 date-time, else the reason it is not.
    public static func problem(with text: String) -> String? {
        let u = Array(text.utf8)
        func digits(_ r: Range<Int>) -> Int? {
            guard r.upperBound <= u.count else { return nil }
            var v = 0
            for i in r { guard u[i] >= 48 && u[i] <= 57 else { return nil }; v = v * 10 + Int(u[i] - 48) }
            return v
        }
        let bad = "'\(text)' is not an RFC 3339 date-time such as 2026-11-28T02:00:00Z"
        guard u.count >= 20, let y = digits(0..<4), u[4] == 45, let mo = digits(5..<7), u[7] == 45, let d = digits(8..<10),
              u[10] == 84 || u[10] == 116, let h = digits(11..<13), u[13] == 58, let mi = digits(14..<16), u[16] == 58,
              let s = digits(17..<19) else { return bad }
        _ = y
        guard (1...12).contains(mo), (1...31).contains(d), h < 24, mi < 60, s <= 60 else { return bad }
        var i = 19
        if u[i] == 46 {
            i += 1
            let start = i
            while i < u.count, u[i] >= 48, u[i] <= 57 { i += 1 }
            guard i > start else { return bad }
        }
        guard i < u.count else { return bad }
        if u[i] == 90 || u[i] == 122 { return i + 1 == u.count ? nil : bad }
        guard u[i] == 43 || u[i] == 45, i + 6 == u.count, let oh = digits(i + 1..<i + 3), u[i + 3] == 58, let om = digits(i + 4..<i + 6),
              oh < 24, om < 60 else { return bad }
        return nil
    }

    /// Formats `date` as `YYYY-MM-DDTHH:MM:SSZ` (UTC, whole seconds).
    public static func string(from date: Date) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        f.timeZone = TimeZone(identifier: "UTC")
        return f.string(from: date)
    }

    /// Parses an RFC 3339 string (with or without fractional seconds).
    public static func date(from text: String) -> Date? {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        if let d = f.date(from: text) { return d }
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.date(from: text)
    }
}

/// Refuses object keys the type does not define, so a misspelt field is an error rather
/// than silently ignored (the JSON Schemas say `additionalProperties: false` too).
func rejectUnknownKeys<K: CodingKey & CaseIterable>(_ decoder: Decoder, _: K.Type) throws {
    let c = try decoder.container(keyedBy: AnyKey.self)
    let known = Set(K.allCases.map(\.stringValue))
    if let extra = c.allKeys.map(\.stringValue).sorted().first(where: { !known.contains($0) }) {
        throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath + [AnyKey(stringValue: extra)],
                                                debugDescription: "unknown field (allowed: \(known.sorted().joined(separator: ", ")))"))
    }
}

struct AnyKey: CodingKey {
    var stringValue: String
    var intValue: Int?
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { self.stringValue = String(intValue); self.intValue = intValue }
}

/// Runs `validate` and rethrows a failure as a `DecodingError` that carries the
/// `ManifestError` (so `ManifestCoding` can report the field as the validator named it).
func validating(_ decoder: Decoder, _ validate: () throws(ManifestError) -> Void) throws {
    do { try validate() } catch {
        throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: error.description, underlyingError: error))
    }
}

/// Shared checks used by several manifest kinds.
enum Check {
    static func name(_ s: String, _ field: String) throws(ManifestError) {
        if let p = ArtifactName.problem(with: s) { throw .invalidField(field: field, reason: p) }
    }
    static func version(_ s: String, _ field: String) throws(ManifestError) {
        if SemanticVersion(s) == nil { throw .invalidField(field: field, reason: "'\(s)' is not a semantic version (MAJOR.MINOR.PATCH, e.g. 1.0.0)") }
    }
    static func language(_ s: String, _ field: String) throws(ManifestError) {
        if !WhisperLanguage.isValid(s) { throw .invalidField(field: field, reason: "'\(s)' is not a Whisper language code (e.g. en, de, fr, haw)") }
    }
    static func schema(_ v: Int, _ kind: ManifestKind, _ current: Int) throws(ManifestError) {
        if v < 1 { throw .invalidField(field: "schema_version", reason: "must be >= 1") }
        if v > current { throw .unsupportedSchemaVersion(kind: kind.rawValue, found: v, supported: current) }
    }
    static func metrics(_ m: [String: Double], _ field: String) throws(ManifestError) {
        for (k, v) in m where !v.isFinite { throw .invalidField(field: field + "." + k, reason: "must be a finite number") }
        for k in m.keys where k.isEmpty { throw .invalidField(field: field, reason: "metric names must not be empty") }
    }
    static func lora(_ c: LoRAConfig, _ field: String) throws(ManifestError) {
        if c.rank < 1 { throw .invalidField(field: field + ".rank", reason: "must be >= 1, got \(c.rank)") }
        if !c.alpha.isFinite || c.alpha <= 0 { throw .invalidField(field: field + ".alpha", reason: "must be a positive finite number") }
        if c.targetModules.isEmpty { throw .invalidField(field: field + ".target_modules", reason: "must name at least one module") }
        for (k, r) in c.rankPattern where r < 1 { throw .invalidField(field: field + ".rank_pattern." + k, reason: "must be >= 1") }
        for (k, a) in c.alphaPattern where !a.isFinite || a <= 0 { throw .invalidField(field: field + ".alpha_pattern." + k, reason: "must be a positive finite number") }
    }
    static func loraTensors(_ t: [String: LoRATensorEntry], _ field: String, allowEmpty: Bool) throws(ManifestError) {
        if t.isEmpty && !allowEmpty { throw .invalidField(field: field, reason: "must hold at least one module") }
        for (module, e) in t.sorted(by: { $0.key < $1.key }) {
            if module.isEmpty { throw .invalidField(field: field, reason: "module names must not be empty") }
            try e.validate(at: field + "." + module)
        }
    }
    static func kind(_ found: String, _ expected: ManifestKind) throws(ManifestError) {
        if found != expected.rawValue { throw .wrongKind(found: found, expected: "'\(expected.rawValue)'") }
    }
}
