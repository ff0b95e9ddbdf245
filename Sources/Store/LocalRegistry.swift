import Foundation
import GlossaCore
import GRDB

/// The embedded registry: content-addressed blobs behind a `BlobDriver` (by default a
/// folder, `FileSystemDriver`) plus the SQLite `Catalog` that indexes them.
///
/// Invariants:
/// - every blob is stored once, as a `BlobCodec` frame named by the sha256 of its
///   decoded bytes, and every read re-checks that digest;
/// - publishing makes the referenced blobs durable first, then the manifest blob and its
///   manifest-index entry, then commits the catalog rows in one transaction; so a
///   catalog row never points at missing data, and a crash leaves at most unreferenced
///   blobs (gc) or an indexed manifest without a row (verify repairs it); once the row
///   is committed the index entry is marked acknowledged, so that when a name:version
///   has two indexed manifests (one publish killed, then a re-publish), reindex keeps
///   the acknowledged one;
/// - tags live in the driver (`refs/`) and the catalog; the driver is the truth;
/// - the catalog can be rebuilt from the manifest index and tags alone (`reindex`).
///
/// Safe to use from many threads and many processes at once.
public final class LocalRegistry: Sendable {
    /// The registry folder.
    public let root: String
    public let driver: any BlobDriver
    let catalog: Catalog
    let codec: BlobCodec
    let gcLock: FileLock

    /// Opens the registry at `root` (a folder with registry.json).
    /// - Parameters:
    ///   - create: also make a registry of a new or empty folder (or one holding only what
    ///     an interrupted creation leaves). Without it, a folder that is not a registry
    ///     is refused with `notARegistry` and nothing is written: what read-only commands
    ///     use. A non-empty folder that is not a registry is always refused.
    ///   - codec: compression settings for new blobs (reading accepts any).
    public init(root: String, create: Bool = true, codec: BlobCodec = BlobCodec()) throws(StoreError) {
        let layout = FileSystemLayout(root: root)
        if !Posix.exists(layout.marker) { try Self.checkCreatable(layout, create: create) }
        let fsDriver = try FileSystemDriver(root: root)
        self.root = layout.root
        self.driver = fsDriver
        self.codec = codec
        self.gcLock = FileLock(path: layout.gcLock)
        if !Posix.exists(layout.marker) {
            try Posix.writeAtomically(Array(#"{"layout":1}"#.utf8), to: layout.marker, tmpDir: layout.tmp)
        }
        // Serialise first-time migration between processes.
        catalog = try FileLock(path: layout.locks + "/catalog.lock").withLock(exclusive: true) { () throws(StoreError) in
            try Catalog(path: layout.catalog)
        }
    }

    /// Throws `notARegistry` unless a registry may be created at `layout.root`.
    static func checkCreatable(_ layout: FileSystemLayout, create: Bool) throws(StoreError) {
        let exists = Posix.exists(layout.root)
        guard create else {
            throw .notARegistry(path: layout.root, reason: (exists ? "the folder has no registry.json" : "the folder does not exist")
                + "; give the folder of an existing registry (--registry PATH or $GLOSSA_REGISTRY), or create one with a command "
                + "that imports (glossa base fetch, glossa base import, glossa pull)")
        }
        // A README (the repository's embedded ./registry folder ships one) or a .gitkeep does
        // not make a folder someone else's: `make demo` creates its registry there.
        let placeholders: Set<String> = ["README.md", ".gitkeep"]
        let other = try Posix.listDirectory(layout.root)
            .filter { !FileSystemLayout.topLevelFolders.contains($0) && !placeholders.contains($0) }.sorted()
        // (A registry created meanwhile by another process is fine: it wrote registry.json first.)
        guard other.isEmpty || Posix.exists(layout.marker) else {
            throw .notARegistry(path: layout.root, reason: "the folder has no registry.json and is not empty ("
                + other.prefix(3).joined(separator: ", ") + (other.count > 3 ? " and \(other.count - 3) more" : "")
                + "); a registry is created only in a new or empty folder: choose one")
        }
    }

    // MARK: blobs

    /// Stores `bytes` (compressed per `type`) and returns their digest. Storing bytes
    /// that are already present writes nothing new, unless the stored blob is damaged:
    /// a blob is reused only after it decodes to `digest`, and a damaged one is rewritten
    /// from `bytes` (so re-importing heals it instead of publishing an unreadable artifact).
    /// Durable when this returns.
    @discardableResult
    public func putBlob(_ bytes: [UInt8], as type: BlobElementType = .opaque) throws(StoreError) -> Digest {
        let digest = Digest(of: bytes)
        if let st = try driver.stat(digest), st.size > 0, !isStale(st), hasIntactBlob(digest) { return digest }
        let frame = codec.encode(bytes, as: type)
        try driver.put(frame, as: digest) { (stored) throws(StoreError) -> Digest in
            do { return Digest(of: try BlobCodec.decode(stored)) } catch {
                throw .blobCorrupt(digest, location: "write of \(digest.short)", reason: "\(error)", usedBy: [])
            }
        }
        return digest
    }

    /// True when the blob is stored and decodes to `digest` (false when absent or damaged).
    public func hasIntactBlob(_ digest: Digest) -> Bool {
        guard let frame = try? driver.get(digest), let bytes = try? BlobCodec.decode(frame) else { return false }
        return Digest(of: bytes) == digest
    }

    /// A blob stored long ago must be refreshed (re-committed) so gc's grace period
    /// protects it until the manifest that needs it is published.
    private func isStale(_ st: BlobStat) -> Bool { st.modified.timeIntervalSinceNow < -60 }

    /// Stores a tensor's bytes and returns its manifest entry.
    public func putTensor(_ t: TensorData) throws(StoreError) -> TensorEntry {
        TensorEntry(digest: try putBlob([UInt8](t.bytes), as: .tensor(t.dtype)), dtype: t.dtype, shape: t.shape)
    }

    /// The decoded bytes of a blob, checked against its digest.
    /// Throws `blobMissing` or `blobCorrupt` (naming the artifacts that use it).
    public func blob(_ digest: Digest) throws(StoreError) -> [UInt8] {
        guard let frame = try driver.get(digest) else { throw .blobMissing(digest, usedBy: users(of: digest)) }
        return try decodeChecked(frame, digest)
    }

    func decodeChecked(_ frame: [UInt8], _ digest: Digest, limits: BlobDecodeLimits = .local) throws(StoreError) -> [UInt8] {
        let bytes: [UInt8]
        do { bytes = try BlobCodec.decode(frame, limits: limits) } catch {
            throw .blobCorrupt(digest, location: driver.location(of: digest), reason: error.description, usedBy: users(of: digest))
        }
        let actual = Digest(of: bytes)
        guard actual == digest else {
            throw .blobCorrupt(digest, location: driver.location(of: digest), reason: "content hashes to \(actual.short)", usedBy: users(of: digest))
        }
        return bytes
    }

    /// A tensor by its manifest entry, with shape and byte count checked.
    public func tensor(_ e: TensorEntry) throws(StoreError) -> TensorData {
        guard let frame = try driver.get(e.digest) else { throw .blobMissing(e.digest, usedBy: users(of: e.digest)) }
        // The entry's dtype x shape bounds the frame before anything is allocated for it.
        let bytes = try decodeChecked(frame, e.digest, limits: BlobDecodeLimits(expectedLength: e.byteCount))
        guard bytes.count == e.byteCount else {
            throw .blobCorrupt(e.digest, location: driver.location(of: e.digest),
                               reason: "holds \(bytes.count) bytes, \(e.dtype.rawValue) \(e.shape) needs \(e.byteCount)", usedBy: users(of: e.digest))
        }
        return TensorData(dtype: e.dtype, shape: e.shape, bytes: Data(bytes))
    }

    /// True when the blob is stored (not checked for damage; see `verify`).
    public func hasBlob(_ digest: Digest) throws(StoreError) -> Bool { try driver.stat(digest) != nil }

    /// Artifacts that reference a blob or are that manifest, as `kind name:version@short`.
    public func users(of blob: Digest) -> [String] {
        (try? catalog.read { db in
            try Catalog.summaries(db, where: "WHERE digest = ? OR digest IN (SELECT artifact FROM blob_refs WHERE blob = ?) ORDER BY name, version",
                                  arguments: [blob.description, blob.description])
        })?.map(Self.label) ?? []
    }

    static func label(_ s: ArtifactSummary) -> String { "\(s.kind.rawValue) \(s.name.map { "\($0):\(s.version ?? "")" } ?? "")@\(s.digest.short)" }

    // MARK: publish

    /// Throws `versionConflict` when `name:version` is already published: importers call
    /// it before they store any blob, so a refused import writes nothing.
    public func checkVersionFree(name: String, version: String) throws(StoreError) {
        if let existing = try catalog.read({ db in try Self.publishedDigest(db, name: name, version: version) }) {
            throw .versionConflict(name: name, version: version, existing: existing)
        }
    }

    static func publishedDigest(_ db: Database, name: String, version: String) throws -> Digest? {
        try String.fetchOne(db, sql: "SELECT digest FROM artifacts WHERE name = ? AND version = ?", arguments: [name, version])
            .map { try Digest(parsing: $0) }
    }

    /// Publishes a manifest: validates it, checks every referenced blob is stored and
    /// every artifact it builds on (base, inputs, composite, experts, subject) is in the
    /// registry, stores the manifest, and commits the catalog rows. Returns the manifest
    /// digest. Publishing the same manifest again is a no-op; another manifest under an
    /// existing `name:version` is a `versionConflict`.
    @discardableResult
    public func publish(_ manifest: AnyManifest) throws(StoreError) -> Digest {
        let bytes: [UInt8]
        do { bytes = try ManifestCoding.canonicalBytes(manifest) } catch { throw .invalidManifest(nil, error) }
        let digest = Digest(of: bytes)
        let label = manifest.name.map { "\($0):\(manifest.version ?? "")" } ?? "\(manifest.kind.rawValue) \(digest.short)"
        return try gcLock.withLock(exclusive: false) { () throws(StoreError) -> Digest in
            var missing: [Digest] = []
            for b in manifest.blobReferences where try driver.stat(b) == nil { missing.append(b) }
            guard missing.isEmpty else { throw .missingBlobs(artifact: label, missing) }
            // The base may be an equal-weights copy of the one named (LocalRegistry+Bases).
            let required = manifest.requiredEdges.filter { $0.relation != "base" }
            let attached = try catalog.read { db throws -> Digest? in
                for e in required where try Bool.fetchOne(db, sql: "SELECT 1 FROM artifacts WHERE digest = ?", arguments: [e.target.description]) != true {
                    throw StoreError.missingArtifact(artifact: label, relation: e.relation, e.target)
                }
                // A taken name:version is refused before the manifest blob is written (the
                // insert below checks again, for a publisher racing this one).
                if let name = manifest.name, let version = manifest.version,
                   let other = try Self.publishedDigest(db, name: name, version: version), other != digest {
                    throw StoreError.versionConflict(name: name, version: version, existing: other)
                }
                return try attachedBase(of: manifest, label: label, in: db)
            }
            try putBlob(bytes, as: .opaque)
            try driver.indexManifest(digest)
            let now = RFC3339.string(from: Date())
            try catalog.write { db in
                try Catalog.insert(db, digest: digest, manifest: manifest, manifestSize: bytes.count, published: now, attachedBase: attached)
            }
            // The publish marker: without a catalog (reindex), it tells this acknowledged
            // copy from one of the same name:version killed before its catalog write.
            try driver.acknowledgeManifest(digest)
            return digest
        }
    }

    /// Publishes a typed manifest (see `publish(_: AnyManifest)`).
    @discardableResult
    public func publish<M: Manifest>(_ manifest: M) throws(StoreError) -> Digest { try publish(AnyManifest(manifest)) }

    /// The validated manifest stored under `digest`.
    public func manifest(_ digest: Digest) throws(StoreError) -> AnyManifest {
        let bytes = try blob(digest)
        do { return try ManifestCoding.decode(from: bytes) } catch { throw .invalidManifest(digest, error) }
    }

    // MARK: queries

    /// Artifacts matching `filter`, sorted by kind, name, then semver (newest last).
    public func list(_ filter: ArtifactFilter = ArtifactFilter()) throws(StoreError) -> [ArtifactSummary] {
        var clauses: [String] = [], args: [(any DatabaseValueConvertible)?] = []
        if let k = filter.kind { clauses.append("kind = ?"); args.append(k.rawValue) }
        if let l = filter.language { clauses.append("digest IN (SELECT artifact FROM languages WHERE language = ?)"); args.append(l) }
        if let b = filter.base { clauses.append("base = ?"); args.append(b.description) }
        if let n = filter.name { clauses.append("name = ?"); args.append(n) }
        let sql = (clauses.isEmpty ? "" : "WHERE " + clauses.joined(separator: " AND ")) + " ORDER BY kind, name, digest"
        var rows = try catalog.read { db in try Catalog.summaries(db, where: sql, arguments: StatementArguments(args)) }
        // SQLite sorted by kind and name (kind's text order is ManifestKind's order);
        // versions need semver order, so sort each run of one name (a few rows) here.
        var start = 0
        while start < rows.count {
            var end = start + 1
            while end < rows.count && rows[end].name == rows[start].name && rows[end].kind == rows[start].kind { end += 1 }
            if end - start > 1 && rows[start].name != nil {
                let run = Array(rows[start..<end])
                let keys = run.map { $0.version.flatMap(SemanticVersion.init) }
                let order = run.indices.sorted { i, j in
                    if let x = keys[i], let y = keys[j], x != y { return x < y }
                    return run[i].digest < run[j].digest
                }
                for (k, i) in order.enumerated() { rows[start + k] = run[i] }
            }
            start = end
        }
        return rows
    }

    static func order(_ a: ArtifactSummary, _ b: ArtifactSummary) -> Bool {
        if a.kind != b.kind { return a.kind < b.kind }
        if a.name != b.name { return (a.name ?? "") < (b.name ?? "") }
        switch (a.version.flatMap(SemanticVersion.init), b.version.flatMap(SemanticVersion.init)) {
        case let (x?, y?) where x != y: return x < y
        default: return a.digest < b.digest
        }
    }

    /// Resolves a ref to a manifest digest:
    /// - `sha256:<hex>`: a full digest, or a unique prefix (at least 4 hex digits);
    /// - `name:version`: that version (semver text);
    /// - `name:tag`: the tag's target;
    /// - `name`: the newest release by semver (pre-releases only when there is no release).
    /// Throws `unknownRef` (listing close names or versions) or `ambiguousRef`.
    public func resolve(_ ref: String) throws(StoreError) -> Digest {
        try catalog.read { db in try Self.resolve(db, ref) }
    }

    static func resolve(_ db: Database, _ ref: String) throws -> Digest {
        if ref.hasPrefix("sha256:") {
            let hex = String(ref.dropFirst(7))
            guard hex.count >= 4, hex.count <= 64, hex.utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }) else {
                throw StoreError.invalidRef(ref, reason: "a digest ref is sha256: followed by 4 to 64 lowercase hex digits")
            }
            let found = try String.fetchAll(db, sql: "SELECT digest FROM artifacts WHERE digest >= ? AND digest < ? ORDER BY digest LIMIT 11",
                                            arguments: [ref, ref + "g"])
            if found.count == 1 { return try Digest(parsing: found[0]) }
            if found.isEmpty { throw StoreError.unknownRef(ref, candidates: []) }
            let labels = try Catalog.summaries(db, where: "WHERE digest IN (" + found.map { _ in "?" }.joined(separator: ",") + ")",
                                               arguments: StatementArguments(found)).map(label)
            throw StoreError.ambiguousRef(ref, candidates: labels.sorted())
        }
        let parts = ref.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        let name = parts[0]
        if let p = ArtifactName.problem(with: name) { throw StoreError.invalidRef(ref, reason: "name \(p)") }
        let versions = try String.fetchAll(db, sql: "SELECT version FROM artifacts WHERE name = ?", arguments: [name])
        if versions.isEmpty {
            let prefix = String(name.prefix(2))
            let near = try String.fetchAll(db, sql: "SELECT DISTINCT name FROM artifacts WHERE name >= ? AND name < ? ORDER BY name LIMIT 5",
                                           arguments: [prefix, prefix + "\u{7f}"])
            throw StoreError.unknownRef(ref, candidates: near)
        }
        func byVersion(_ v: String) throws -> Digest {
            try Digest(parsing: try String.fetchOne(db, sql: "SELECT digest FROM artifacts WHERE name = ? AND version = ?", arguments: [name, v])!)
        }
        if parts.count == 1 {
            let parsed = versions.compactMap(SemanticVersion.init)
            let releases = parsed.filter { $0.prerelease.isEmpty }
            return try byVersion((releases.isEmpty ? parsed : releases).max()!.description)
        }
        let rest = parts[1]
        if versions.contains(rest) { return try byVersion(rest) }
        if let d = try String.fetchOne(db, sql: "SELECT artifact FROM tags WHERE name = ? AND tag = ?", arguments: [name, rest]) {
            return try Digest(parsing: d)
        }
        let tags = try String.fetchAll(db, sql: "SELECT tag FROM tags WHERE name = ? ORDER BY tag", arguments: [name])
        let known = versions.compactMap(SemanticVersion.init).sorted().map { "\(name):\($0)" } + tags.map { "\(name):\($0)" }
        throw StoreError.unknownRef(ref, candidates: known)
    }

    /// Summary of the artifact a ref names.
    public func summary(_ ref: String) throws(StoreError) -> ArtifactSummary {
        let d = try resolve(ref)
        guard let s = try catalog.read({ db in try Catalog.summaries(db, where: "WHERE digest = ?", arguments: [d.description]) }).first else {
            throw .unknownRef(ref, candidates: [])
        }
        return s
    }

    /// Everything known about the artifact a ref names, with its manifest read back
    /// (and checked) from its blob.
    public func show(_ ref: String) throws(StoreError) -> ArtifactDetail {
        let s = try summary(ref)
        let m = try manifest(s.digest)
        let (size, dependents) = try catalog.read { db in
            (try Int.fetchOne(db, sql: "SELECT manifest_size FROM artifacts WHERE digest = ?", arguments: [s.digest.description]) ?? 0,
             try Catalog.summaries(db, where: "WHERE digest IN (SELECT artifact FROM lineage WHERE target = ?)", arguments: [s.digest.description]))
        }
        var blobs: [BlobUsage] = []
        for b in m.blobReferences { blobs.append(BlobUsage(digest: b, storedSize: try driver.stat(b)?.size)) }
        return ArtifactDetail(summary: s, manifest: m, metrics: m.metrics, lineage: m.lineage,
                              dependents: dependents.sorted(by: Self.order), blobs: blobs, manifestSize: size)
    }

    // MARK: tags

    /// Points `name:tag` at the artifact `ref` names (which must have that name, e.g.
    /// `tag("de-base:1.2.0", as: "stable")`). Moving a tag is atomic: readers see the old
    /// or the new target, never neither. Tags cannot look like versions or digests.
    ///
    /// Under the gc lock (shared, as publish) and inside one catalog transaction: the ref
    /// is resolved, the row written, and only then the stored tag (the truth) set, before
    /// the commit; so a tag never names an artifact an `rm` removed meanwhile.
    @discardableResult
    public func tag(_ ref: String, as tag: String) throws(StoreError) -> TagChange {
        if let p = ArtifactName.problem(with: tag) { throw .invalidRef(tag, reason: "tag \(p)") }
        if SemanticVersion(tag) != nil { throw .invalidRef(tag, reason: "a tag must not look like a version (it would shadow name:version)") }
        return try gcLock.withLock(exclusive: false) { () throws(StoreError) -> TagChange in
            try catalog.write { db -> TagChange in
                let d = try Self.resolve(db, ref)
                guard let s = try Catalog.summaries(db, where: "WHERE digest = ?", arguments: [d.description]).first else {
                    throw StoreError.unknownRef(ref, candidates: [])
                }
                guard let name = s.name else { throw StoreError.invalidRef(ref, reason: "only named artifacts can be tagged") }
                let old = try String.fetchOne(db, sql: "SELECT artifact FROM tags WHERE name = ? AND tag = ?", arguments: [name, tag])
                try db.execute(sql: "INSERT OR REPLACE INTO tags (name, tag, artifact) VALUES (?, ?, ?)", arguments: [name, tag, d.description])
                try driver.setTag(name: name, tag: tag, digest: d)
                let previous = try old.map { p in
                    do { return try Digest(parsing: p) } catch { throw StoreError.catalog("bad digest in tags: \(p)") }
                }
                return TagChange(tag: TagRecord(name: name, tag: tag, digest: d), previous: previous)
            }
        }
    }

    /// Removes tag `name:tag`; returns the digest it pointed at. Under the gc lock
    /// (exclusive, as rm) and inside one catalog transaction, like `remove`.
    @discardableResult
    public func untag(name: String, tag: String) throws(StoreError) -> Digest {
        try gcLock.withLock(exclusive: true) { () throws(StoreError) -> Digest in
            try catalog.write { db -> Digest in
                guard let target = try String.fetchOne(db, sql: "SELECT artifact FROM tags WHERE name = ? AND tag = ?", arguments: [name, tag]),
                      let d = try? Digest(parsing: target) else {
                    let known = try String.fetchAll(db, sql: "SELECT tag FROM tags WHERE name = ? ORDER BY tag", arguments: [name])
                    throw StoreError.unknownRef("\(name):\(tag)", candidates: known.map { "\(name):\($0)" })
                }
                try db.execute(sql: "DELETE FROM tags WHERE name = ? AND tag = ?", arguments: [name, tag])
                try driver.removeTag(name: name, tag: tag)
                return d
            }
        }
    }

    /// Every tag, sorted.
    public func tags() throws(StoreError) -> [TagRecord] {
        try catalog.read { db in
            try Row.fetchAll(db, sql: "SELECT name, tag, artifact FROM tags ORDER BY name, tag").map {
                TagRecord(name: $0["name"], tag: $0["tag"], digest: try Digest(parsing: $0["artifact"]))
            }
        }
    }

    // MARK: remove

    /// Removes the artifact a ref names from the catalog, with its tags. Its blobs stay
    /// until `gc`. Refused (`inUse`) while other artifacts build on it.
    ///
    /// Takes the gc lock exclusively (publishers hold it shared from their checks to their
    /// commit, so none is half-way), and decides in one catalog transaction: dependents
    /// are looked up and the row deleted inside it, and storage changes (index entry,
    /// tags) are made only after the catalog agreed, before the commit. A refusal changes
    /// nothing. A crash after the storage changes leaves a catalog row that verify
    /// re-indexes (the removal was not acknowledged), never an indexed manifest that
    /// reindex would resurrect after an acknowledged removal.
    @discardableResult
    public func remove(_ ref: String) throws(StoreError) -> ArtifactSummary {
        try gcLock.withLock(exclusive: true) { () throws(StoreError) -> ArtifactSummary in
            try catalog.write { db -> ArtifactSummary in
                let d = try Self.resolve(db, ref)
                guard let s = try Catalog.summaries(db, where: "WHERE digest = ?", arguments: [d.description]).first else {
                    throw StoreError.unknownRef(ref, candidates: [])
                }
                let dependents = try Catalog.dependents(db, of: d)
                guard dependents.isEmpty else { throw StoreError.inUse(Self.label(s), usedBy: dependents.map(Self.label).sorted()) }
                try db.execute(sql: "DELETE FROM artifacts WHERE digest = ?", arguments: [d.description])
                try driver.unindexManifest(d)
                for t in try driver.tags() where t.digest == d { try driver.removeTag(name: t.name, tag: t.tag) }
                return s
            }
        }
    }
}
