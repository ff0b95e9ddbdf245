import GlossaCore

/// Where everything lives in an embedded registry folder. A pure function of the root
/// and the digest (STYLE.md habit 5, after distribution's `paths.go`):
///
///     <root>/
///       registry.json                     {"layout": 1}: marks the folder as a registry
///       catalog.sqlite                    the SQLite catalog (plus -wal, -shm), an index
///       blobs/sha256/<h0h1>/<hex>         blob frames (BlobCodec), named by the sha256
///                                         of their *decoded* bytes; h0h1 = first 2 hex
///       manifests/sha256/<h0h1>/<hex>     marker: blob <hex> is a manifest (reindex
///                                         rebuilds the catalog from these); empty while
///                                         its publish is in flight (and in registries
///                                         older than the marker), "acknowledged\n" once
///                                         its catalog row is committed
///       refs/<name>/<tag>                 a tag: the digest text of the artifact it names
///       tmp/<pid>-<random>.partial        writes in progress; same file system as
///                                         blobs/, so the final rename is atomic
///       locks/gc.lock                     held by gc (exclusive) and publishers (shared)
///
/// Two hex digits of fan-out keep directories under a few thousand entries for a
/// million blobs, and keep every path a fixed depth.
public struct FileSystemLayout: Sendable, Equatable {
    /// The registry folder, without a trailing slash.
    public let root: String

    public init(root: String) {
        var r = root
        while r.count > 1 && r.hasSuffix("/") { r.removeLast() }
        self.root = r
    }

    /// The folders a registry has besides registry.json and the catalog; all that an
    /// interrupted creation can leave (`FileSystemDriver` makes them, registry.json comes next).
    public static let topLevelFolders: Set<String> = ["blobs", "manifests", "tmp", "locks", "refs"]

    /// Content of a manifest marker whose publish was acknowledged.
    public static let acknowledgedMarker = "acknowledged\n"

    public var marker: String { root + "/registry.json" }
    public var catalog: String { root + "/catalog.sqlite" }
    public var blobs: String { root + "/blobs/sha256" }
    public var manifests: String { root + "/manifests/sha256" }
    public var tmp: String { root + "/tmp" }
    public var locks: String { root + "/locks" }
    public var refs: String { root + "/refs" }
    /// Names and tags are `ArtifactName`s (no `/`, no `..`), so this stays inside refs/.
    public func tagFile(name: String, tag: String) -> String { refs + "/" + name + "/" + tag }
    public var gcLock: String { locks + "/gc.lock" }

    public func blobDirectory(_ d: Digest) -> String { blobs + "/" + d.hex.prefix(2) }
    public func blob(_ d: Digest) -> String { blobDirectory(d) + "/" + d.hex }
    public func manifestDirectory(_ d: Digest) -> String { manifests + "/" + d.hex.prefix(2) }
    public func manifestMarker(_ d: Digest) -> String { manifestDirectory(d) + "/" + d.hex }
}
