/// Why a manifest was refused. Every case names the offending field as a dotted path
/// (`lora.rank`, `tensors.model.encoder.conv1.weight.shape`) so the user can fix the
/// document.
public enum ManifestError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A field is present but its value breaks a rule.
    case invalidField(field: String, reason: String)
    /// A required field is absent.
    case missingField(field: String)
    /// The bytes are not JSON, or not an object.
    case notJSON(reason: String)
    /// `kind` names no manifest kind we know, or a different kind than expected.
    case wrongKind(found: String, expected: String)
    /// `schema_version` is newer than this build understands.
    case unsupportedSchemaVersion(kind: String, found: Int, supported: Int)

    public var description: String {
        switch self {
        case let .invalidField(field, reason):
            return "manifest field '\(field)': \(reason)"
        case let .missingField(field):
            return "manifest field '\(field)' is required but missing"
        case let .notJSON(reason):
            return "manifest is not a JSON object: \(reason)"
        case let .wrongKind(found, expected):
            return "manifest field 'kind': found '\(found)', expected \(expected)"
        case let .unsupportedSchemaVersion(kind, found, supported):
            return "manifest field 'schema_version': \(kind) manifest has schema version \(found); this Glossa reads up to \(supported); upgrade Glossa"
        }
    }

    /// The dotted path of the offending field, when there is one.
    public var field: String? {
        switch self {
        case let .invalidField(f, _), let .missingField(f): return f
        case .wrongKind: return "kind"
        case .unsupportedSchemaVersion: return "schema_version"
        case .notJSON: return nil
        }
    }
}
