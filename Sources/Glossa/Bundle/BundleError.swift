/// Why a bundle could not be written, read or trusted. The facade turns each into a
/// `GlossaError` once (`glossa(_:)`), and `bundle verify` lists them as damage.
public enum BundleError: Error, Equatable, CustomStringConvertible, Sendable {
    /// The output path exists and --force was not given.
    case exists(path: String)
    /// No file or folder at the bundle path.
    case missing(path: String)
    /// Not an OCI layout or not a Glossa bundle.
    case notABundle(path: String, reason: String)
    /// The layout or archive is damaged (truncated tar, bad index).
    case damaged(path: String, reason: String)
    /// A blob the manifests name is absent; `role` says what it holds.
    case blobMissing(digest: String, role: String)
    /// A blob's bytes do not hash to its digest.
    case blobAltered(digest: String, role: String, actual: String)
    /// A blob's size differs from its descriptor or tensor shape.
    case blobSize(digest: String, role: String, expected: Int, actual: Int)
    /// The bundle manifest does not validate.
    case invalidManifest(path: String, reason: String)
    /// A signature problem (wrong key, altered manifest, unsigned when a key was given).
    case signature(SignatureError)
    case io(path: String, message: String)

    public var description: String {
        switch self {
        case let .exists(path): return "\(path) already exists; choose another --out, or pass --force to replace it"
        case let .missing(path): return "no bundle at \(path) (no such file or folder); export one with `glossa export`"
        case let .notABundle(path, reason): return "\(path) is not a Glossa bundle: \(reason)"
        case let .damaged(path, reason): return "bundle \(path) is damaged: \(reason)"
        case let .blobMissing(d, role): return "blob \(d) (\(role)) is missing; re-export the bundle or copy it again"
        case let .blobAltered(d, role, actual):
            return "blob \(d) (\(role)) is altered: its bytes hash to \(actual); re-export the bundle or copy it again"
        case let .blobSize(d, role, expected, actual): return "blob \(d) (\(role)) holds \(actual) bytes, expected \(expected)"
        case let .invalidManifest(path, reason): return "the bundle manifest in \(path) is invalid: \(reason)"
        case let .signature(e): return e.description
        case let .io(path, message): return "\(path): \(message)"
        }
    }

    /// True for damage to the bundle's content (exit 4 in `bundle verify`), as opposed to a
    /// usage problem.
    public var isDamage: Bool {
        switch self {
        case .damaged, .blobMissing, .blobAltered, .blobSize, .invalidManifest, .signature: return true
        case .exists, .missing, .notABundle, .io: return false
        }
    }

    func glossa(_ context: String) -> GlossaError {
        let category: GlossaError.Category
        switch self {
        case .exists, .damaged, .blobAltered, .blobSize, .invalidManifest, .notABundle, .signature: category = .invalidInput
        case .blobMissing, .missing: category = .notFound
        case .io: category = .failure
        }
        return GlossaError(category, "\(context): \(description)")
    }
}
