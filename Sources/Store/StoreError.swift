import GlossaCore

/// Errors of the Store module: every case says what failed, where (path, digest or ref)
/// and, where there is one, how to fix it. Lower errors (errno, SQLite, codec, manifest)
/// are wrapped here once.
public enum StoreError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A file-system call failed.
    case io(operation: String, path: String, errno: Int32)
    /// Written or read bytes do not hash to the digest they are stored under.
    case digestMismatch(expected: Digest, actual: Digest, location: String)
    /// A blob is absent. `usedBy` lists the artifacts (as `kind name:version@digest`) that need it.
    case blobMissing(Digest, usedBy: [String])
    /// A blob's stored frame is damaged (cannot be decoded, or decodes to other bytes).
    /// `usedBy` lists the artifacts that need it.
    case blobCorrupt(Digest, location: String, reason: String, usedBy: [String])
    /// A manifest failed validation (on publish, or when read back from the store).
    case invalidManifest(Digest?, ManifestError)
    /// Publishing refused: the manifest references blobs that are not stored. Importers
    /// store every blob before they publish, so for them this means a gc ran in between
    /// (with a grace period shorter than the import) and removed them: a lost race, and
    /// running the command again succeeds.
    case missingBlobs(artifact: String, [Digest])
    /// Publishing refused: an artifact the manifest points at (base, input, parent) is not in the catalog.
    case missingArtifact(artifact: String, relation: String, Digest)
    /// A ref names nothing; `candidates` are close matches (same name, or names with the prefix).
    case unknownRef(String, candidates: [String])
    /// A ref matches more than one artifact.
    case ambiguousRef(String, candidates: [String])
    /// A malformed ref or tag.
    case invalidRef(String, reason: String)
    /// `name:version` is already published with different content.
    case versionConflict(name: String, version: String, existing: Digest)
    /// Removal refused: other artifacts derive from this one.
    case inUse(String, usedBy: [String])
    /// The SQLite catalog failed.
    case catalog(String)
    /// The folder is not a usable registry.
    case badRegistry(path: String, reason: String)
    /// The folder is not a registry, and may not become one here: it does not exist or
    /// has no registry.json (opening without `create`), or it is not empty. `reason` says
    /// which and how to fix it.
    case notARegistry(path: String, reason: String)

    public var description: String {
        switch self {
        case let .io(op, path, e):
            return "cannot \(op) \(path): \(String(cString: strerror(e))) (errno \(e))"
        case let .digestMismatch(expected, actual, location):
            return "content at \(location) hashes to \(actual.short), expected \(expected.short); run glossa verify --repair"
        case let .blobMissing(d, usedBy):
            return "blob \(d) is missing" + (usedBy.isEmpty ? "" : " (used by \(usedBy.joined(separator: ", ")))") + "; run glossa verify"
        case let .blobCorrupt(d, location, reason, usedBy):
            return "blob \(d) at \(location) is damaged: \(reason)" + (usedBy.isEmpty ? "" : " (used by \(usedBy.joined(separator: ", ")))") + "; run glossa verify"
        case let .invalidManifest(d, e):
            return "invalid manifest\(d.map { " \($0.short)" } ?? ""): \(e)"
        case let .missingBlobs(a, ds):
            return "cannot publish \(a): \(ds.count) referenced blob(s) not stored, first \(ds[0]); a gc running meanwhile "
                + "(with a --grace shorter than this command) removes blobs not yet published: run the command again"
        case let .missingArtifact(a, rel, d):
            return "cannot publish \(a): its \(rel) \(d.short) is not in the registry; publish or pull it first"
        case let .unknownRef(r, c):
            return "unknown reference '\(r)'" + (c.isEmpty ? "; see glossa list" : "; did you mean: \(c.joined(separator: ", "))")
        case let .ambiguousRef(r, c):
            return "reference '\(r)' is ambiguous: \(c.joined(separator: ", ")); use more digest characters or name:version"
        case let .invalidRef(r, reason):
            return "invalid reference '\(r)': \(reason)"
        case let .versionConflict(n, v, d):
            return "\(n):\(v) is already published as \(d.short) with different content; publish a new version"
        case let .inUse(a, by):
            return "cannot remove \(a): used by \(by.prefix(5).joined(separator: ", "))\(by.count > 5 ? " and \(by.count - 5) more" : ""); remove those first"
        case let .catalog(s):
            return "catalog: \(s)"
        case let .badRegistry(p, r):
            return "\(p) is not a usable Glossa registry: \(r)"
        case let .notARegistry(p, r):
            return "\(p) is not a Glossa registry: \(r)"
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
