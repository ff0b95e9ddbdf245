import Foundation
import GlossaCore
import GRDB

/// The SQLite catalog: an index of published artifacts for fast queries. Everything in
/// it can be rebuilt from the manifests (`LocalRegistry.reindex`).
///
/// WAL mode (readers never block the writer), a busy timeout so concurrent writers in
/// other processes wait instead of failing, and every write in a `BEGIN IMMEDIATE`
/// transaction so two writers never deadlock upgrading read locks.
final class Catalog: Sendable {
    let pool: DatabasePool
    let path: String

    /// How long a writer waits for another process's transaction before failing.
    static let busyTimeout: TimeInterval = 120

    init(path: String) throws(StoreError) {
        self.path = path
        var config = Configuration()
        config.busyMode = .timeout(Self.busyTimeout)
        config.foreignKeysEnabled = true
        config.prepareDatabase { db in
            // FULL: a committed transaction survives power loss (acknowledged = durable).
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        do {
            pool = try DatabasePool(path: path, configuration: config)
            try Self.migrator.migrate(pool)
        } catch {
            throw .catalog("cannot open \(path): \(error)")
        }
    }

    /// Named, append-only migrations: never edit one that has shipped; add a new one.
    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1-artifacts-tags-languages-lora-metrics-lineage-blobs") { db in
            try db.execute(sql: """
            CREATE TABLE artifacts (
                digest TEXT PRIMARY KEY NOT NULL CHECK (length(digest) = 71 AND substr(digest, 1, 7) = 'sha256:'),
                kind TEXT NOT NULL CHECK (kind IN ('base', 'expert', 'composite', 'bundle', 'eval-report')),
                name TEXT,
                version TEXT,
                base TEXT REFERENCES artifacts(digest) ON DELETE RESTRICT,
                created TEXT NOT NULL,
                published TEXT NOT NULL,
                description TEXT NOT NULL DEFAULT '',
                manifest_size INTEGER NOT NULL CHECK (manifest_size > 0),
                lora_rank INTEGER CHECK (lora_rank IS NULL OR lora_rank > 0),
                lora_alpha REAL,
                lora_targets TEXT,
                lora_rslora INTEGER CHECK (lora_rslora IS NULL OR lora_rslora IN (0, 1)),
                CHECK ((name IS NULL) = (version IS NULL)),
                CHECK ((name IS NULL) = (kind = 'eval-report')),
                UNIQUE (name, version)
            );
            CREATE INDEX artifacts_kind ON artifacts(kind);
            CREATE INDEX artifacts_base ON artifacts(base);
            CREATE TABLE languages (
                artifact TEXT NOT NULL REFERENCES artifacts(digest) ON DELETE CASCADE,
                language TEXT NOT NULL,
                PRIMARY KEY (artifact, language)
            ) WITHOUT ROWID;
            CREATE INDEX languages_language ON languages(language);
            CREATE TABLE tags (
                name TEXT NOT NULL,
                tag TEXT NOT NULL,
                artifact TEXT NOT NULL REFERENCES artifacts(digest) ON DELETE CASCADE,
                PRIMARY KEY (name, tag)
            ) WITHOUT ROWID;
            CREATE INDEX tags_artifact ON tags(artifact);
            CREATE TABLE metrics (
                artifact TEXT NOT NULL REFERENCES artifacts(digest) ON DELETE CASCADE,
                metric TEXT NOT NULL,
                value REAL NOT NULL,
                PRIMARY KEY (artifact, metric)
            ) WITHOUT ROWID;
            CREATE TABLE lineage (
                artifact TEXT NOT NULL REFERENCES artifacts(digest) ON DELETE CASCADE,
                relation TEXT NOT NULL,
                target TEXT NOT NULL,
                PRIMARY KEY (artifact, relation, target)
            ) WITHOUT ROWID;
            CREATE INDEX lineage_target ON lineage(target);
            CREATE TABLE blob_refs (
                artifact TEXT NOT NULL REFERENCES artifacts(digest) ON DELETE CASCADE,
                blob TEXT NOT NULL,
                PRIMARY KEY (artifact, blob)
            ) WITHOUT ROWID;
            CREATE INDEX blob_refs_blob ON blob_refs(blob);
            """)
        }
        return m
    }

    // MARK: writes

    /// Runs `body` in one BEGIN IMMEDIATE transaction.
    func write<T>(_ body: (Database) throws -> T) throws(StoreError) -> T {
        do {
            return try pool.writeWithoutTransaction { db in
                var result: T?
                try db.inTransaction(.immediate) {
                    result = try body(db)
                    return .commit
                }
                return result!
            }
        } catch let e as StoreError {
            throw e
        } catch {
            throw .catalog("write failed in \(path): \(error)")
        }
    }

    func read<T>(_ body: (Database) throws -> T) throws(StoreError) -> T {
        do { return try pool.read(body) } catch let e as StoreError { throw e } catch {
            throw .catalog("read failed in \(path): \(error)")
        }
    }

    /// Inserts the rows of one artifact. Idempotent for the same digest; a different
    /// digest under the same name:version is a `versionConflict`.
    static func insert(_ db: Database, digest: Digest, manifest m: AnyManifest, manifestSize: Int, published: String) throws {
        if try Bool.fetchOne(db, sql: "SELECT 1 FROM artifacts WHERE digest = ?", arguments: [digest.description]) == true { return }
        if let name = m.name, let version = m.version,
           let other = try String.fetchOne(db, sql: "SELECT digest FROM artifacts WHERE name = ? AND version = ?", arguments: [name, version]) {
            throw StoreError.versionConflict(name: name, version: version, existing: try Digest(parsing: other))
        }
        let lora = m.lora
        let description: String = {
            switch m {
            case .base(let b): return b.description ?? ""
            case .expert(let e): return e.description
            case .composite(let c): return c.description
            case .bundle(let b): return b.description
            case .evalReport: return ""
            }
        }()
        try db.execute(sql: """
            INSERT INTO artifacts (digest, kind, name, version, base, created, published, description, manifest_size,
                                   lora_rank, lora_alpha, lora_targets, lora_rslora)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [digest.description, m.kind.rawValue, m.name, m.version, m.base?.description, m.created, published,
                             description, manifestSize, lora?.rank, lora?.alpha, lora.map { $0.targetModules.joined(separator: ",") },
                             lora.map { $0.useRSLoRA ? 1 : 0 }])
        for l in Set(m.languages) {
            try db.execute(sql: "INSERT INTO languages (artifact, language) VALUES (?, ?)", arguments: [digest.description, l])
        }
        for (k, v) in m.metrics {
            try db.execute(sql: "INSERT INTO metrics (artifact, metric, value) VALUES (?, ?, ?)", arguments: [digest.description, k, v])
        }
        for e in Set(m.lineage) {
            try db.execute(sql: "INSERT INTO lineage (artifact, relation, target) VALUES (?, ?, ?)",
                           arguments: [digest.description, e.relation, e.target.description])
        }
        for b in m.blobReferences {
            try db.execute(sql: "INSERT INTO blob_refs (artifact, blob) VALUES (?, ?)", arguments: [digest.description, b.description])
        }
    }

    // MARK: reads

    static func summaries(_ db: Database, where clause: String = "", arguments: StatementArguments = []) throws -> [ArtifactSummary] {
        let rows = try Row.fetchAll(db, sql: "SELECT digest, kind, name, version, base, created FROM artifacts \(clause)", arguments: arguments)
        guard !rows.isEmpty else { return [] }
        // Languages and tags for just these rows (all of them when the list is long).
        var langs: [String: [String]] = [:], tags: [String: [String]] = [:]
        let wanted = Set(rows.map { $0["digest"] as String })
        let few = rows.count <= 200
        let inList = few ? "WHERE artifact IN (" + Array(repeating: "?", count: wanted.count).joined(separator: ",") + ")" : ""
        let args: StatementArguments = few ? StatementArguments(Array(wanted)) : []
        for r in try Row.fetchAll(db, sql: "SELECT artifact, language FROM languages \(inList)", arguments: args) {
            langs[r["artifact"], default: []].append(r["language"])
        }
        for r in try Row.fetchAll(db, sql: "SELECT artifact, name, tag FROM tags \(inList)", arguments: args) {
            tags[r["artifact"], default: []].append((r["name"] as String) + ":" + (r["tag"] as String))
        }
        return try rows.map { r in
            let d: String = r["digest"]
            return ArtifactSummary(digest: try Digest(parsing: d), kind: ManifestKind(rawValue: r["kind"])!, name: r["name"], version: r["version"],
                                   languages: (langs[d] ?? []).sorted(), base: try (r["base"] as String?).map { try Digest(parsing: $0) },
                                   created: r["created"], tags: (tags[d] ?? []).sorted())
        }
    }
}
