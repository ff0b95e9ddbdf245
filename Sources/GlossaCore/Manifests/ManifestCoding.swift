import Foundation

/// Canonical JSON encoding and validated decoding of manifests.
///
/// Canonical form: UTF-8 JSON, object keys sorted by code point, no insignificant
/// whitespace, `/` not escaped, numbers as Swift's shortest round-trip form. The
/// manifest digest is the sha256 of exactly these bytes, so encoding the same value
/// twice gives the same digest.
public enum ManifestCoding {
    /// Canonical bytes of `manifest`; validates it first.
    public static func canonicalBytes<M: Manifest>(_ manifest: M) throws(ManifestError) -> [UInt8] {
        try manifest.validate()
        return try encode(manifest)
    }

    /// Canonical bytes of any manifest; validates it first.
    public static func canonicalBytes(_ manifest: AnyManifest) throws(ManifestError) -> [UInt8] {
        try manifest.validate()
        switch manifest {
        case .base(let m): return try encode(m)
        case .expert(let m): return try encode(m)
        case .composite(let m): return try encode(m)
        case .bundle(let m): return try encode(m)
        case .evalReport(let m): return try encode(m)
        }
    }

    /// The manifest digest: sha256 of the canonical bytes.
    public static func digest<M: Manifest>(of manifest: M) throws(ManifestError) -> Digest {
        Digest(of: try canonicalBytes(manifest))
    }

    /// Canonical encoding of any Encodable value (used for manifests and for report blobs).
    public static func canonicalJSON<T: Encodable>(_ value: T) throws -> [UInt8] {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try e.encode(value))
    }

    private static func encode<T: Encodable>(_ value: T) throws(ManifestError) -> [UInt8] {
        do { return try canonicalJSON(value) } catch {
            throw .invalidField(field: "", reason: "cannot encode: \(error)")
        }
    }

    /// Decodes and validates a manifest of a known kind.
    public static func decode<M: Manifest>(_ type: M.Type, from bytes: some DataProtocol) throws(ManifestError) -> M {
        let data = Data(bytes)
        let kind = try peekKind(data)
        guard kind == M.kind.rawValue else { throw .wrongKind(found: kind, expected: "'\(M.kind.rawValue)'") }
        do { return try JSONDecoder().decode(M.self, from: data) } catch { throw map(error) }
    }

    /// Decodes and validates a manifest of any kind, dispatching on its `kind` field.
    public static func decode(from bytes: some DataProtocol) throws(ManifestError) -> AnyManifest {
        let data = Data(bytes)
        let kindText = try peekKind(data)
        guard let kind = ManifestKind(rawValue: kindText) else {
            throw .wrongKind(found: kindText, expected: "one of " + ManifestKind.allCases.map(\.rawValue).joined(separator: ", "))
        }
        do {
            let d = JSONDecoder()
            switch kind {
            case .base: return .base(try d.decode(BaseManifest.self, from: data))
            case .expert: return .expert(try d.decode(ExpertManifest.self, from: data))
            case .composite: return .composite(try d.decode(CompositeManifest.self, from: data))
            case .bundle: return .bundle(try d.decode(BundleManifest.self, from: data))
            case .evalReport: return .evalReport(try d.decode(EvalReportManifest.self, from: data))
            }
        } catch { throw map(error) }
    }

    private struct KindOnly: Decodable { var kind: String? }

    private static func peekKind(_ data: Data) throws(ManifestError) -> String {
        let k: KindOnly
        do { k = try JSONDecoder().decode(KindOnly.self, from: data) } catch {
            if case DecodingError.typeMismatch(_, let ctx) = error, ctx.codingPath.isEmpty { throw .notJSON(reason: "top level is not an object") }
            if case DecodingError.typeMismatch = error { throw .invalidField(field: "kind", reason: "must be a string") }
            throw .notJSON(reason: "\(error)")
        }
        guard let kind = k.kind else { throw .missingField(field: "kind") }
        return kind
    }

    /// Turns a DecodingError into a ManifestError naming the dotted field path.
    static func map(_ error: Error) -> ManifestError {
        func path(_ p: [CodingKey]) -> String { p.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".") }
        guard let e = error as? DecodingError else { return .notJSON(reason: "\(error)") }
        switch e {
        case let .keyNotFound(key, ctx):
            return .missingField(field: path(ctx.codingPath + [key]))
        case let .typeMismatch(type, ctx):
            return .invalidField(field: path(ctx.codingPath), reason: "expected \(typeName(type))")
        case let .valueNotFound(type, ctx):
            return .invalidField(field: path(ctx.codingPath), reason: "expected \(typeName(type)), found null")
        case let .dataCorrupted(ctx):
            if let m = ctx.underlyingError as? ManifestError {
                // Validator paths are relative to the manifest being decoded.
                let prefix = path(ctx.codingPath)
                if prefix.isEmpty { return m }
                switch m {
                case let .invalidField(f, r): return .invalidField(field: prefix + "." + f, reason: r)
                default: return m
                }
            }
            if ctx.codingPath.isEmpty { return .notJSON(reason: ctx.debugDescription) }
            return .invalidField(field: path(ctx.codingPath), reason: ctx.debugDescription)
        @unknown default:
            return .notJSON(reason: "\(e)")
        }
    }

    private static func typeName(_ t: Any.Type) -> String {
        switch t {
        case is String.Type: return "a string"
        case is Int.Type, is UInt64.Type: return "an integer"
        case is Double.Type: return "a number"
        case is Bool.Type: return "a boolean"
        default:
            let s = String(describing: t)
            if s.hasPrefix("Array") { return "an array" }
            if s.hasPrefix("Dictionary") { return "an object" }
            return s
        }
    }
}
