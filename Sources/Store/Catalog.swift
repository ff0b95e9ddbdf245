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
        // Every lineage edge but `parent` (input, composite, expert, subject; base is also
        // the artifacts.base column) needs its target in the catalog: publish checks that,
        // and now the schema holds it too. `requires` is the target of such an edge, NULL
        // for `parent` (a parent may live in another registry). NO ACTION, not RESTRICT: it
        // is checked at the end of each statement, so one statement may delete both ends
        // of an edge (reindex, verify --repair). Edges of older catalogs whose target is
        // already gone (left by an rm that raced a publish) keep NULL: the rows stay
        // readable and verify --repair or reindex rebuild them.
        m.registerMigration("v2-lineage-targets-are-foreign-keys") { db in
            try db.execute(sql: """
            ALTER TABLE lineage ADD COLUMN requires TEXT REFERENCES artifacts(digest) CHECK (requires IS NULL OR requires = target);
            UPDATE lineage SET requires = target WHERE relation != 'parent' AND target IN (SELECT digest FROM artifacts);
            CREATE INDEX lineage_requires ON lineage(requires);
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

    /// The artifacts (a SQL subquery with one `?`, the target) whose lineage needs the
    /// target: edges other than `parent`, of artifacts that are not self-contained bundles
    /// (`AnyManifest.requiredEdges`). Older catalogs may hold such edges without their
    /// `requires` key (verify reports them), so the target is matched, not the key.
    static let requiringTarget = "SELECT artifact FROM lineage WHERE target = ? AND relation != 'parent' "
        + "AND artifact NOT IN (SELECT digest FROM artifacts WHERE kind = 'bundle')"

    /// Artifacts that need `digest` to stay in the catalog: those whose required lineage
    /// edges or base column point at it.
    static func dependents(_ db: Database, of digest: Digest) throws -> [ArtifactSummary] {
        try summaries(db, where: "WHERE digest IN (\(requiringTarget)) OR base = ?",
                      arguments: [digest.description, digest.description])
    }

    /// Inserts the rows of one artifact. Idempotent for the same digest; a different
    /// digest under the same name:version is a `versionConflict`. `attachedBase` is the
    /// catalogued base it is recorded on when that is not the base its manifest names
    /// (an equal-weights copy, `LocalRegistry.attachedBase`); the named base manifest is
    /// then a blob reference, so gc keeps and verify checks it.
    static func insert(_ db: Database, digest: Digest, manifest m: AnyManifest, manifestSize: Int, published: String,
                       attachedBase: Digest? = nil) throws {
        // A bundle is recorded on no base (it ships its own weights; see `isSelfContained`).
        let base = m.isSelfContained ? nil : attachedBase ?? m.base
        let keptBase = base != nil && base != m.base ? m.base : nil
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
            """, arguments: [digest.description, m.kind.rawValue, m.name, m.version, base?.description, m.created ?? published, published,
                             description, manifestSize, lora?.rank, lora?.alpha, lora.map { $0.targetModules.joined(separator: ",") },
                             lora.map { $0.useRSLoRA ? 1 : 0 }])
        for l in Set(m.languages) {
            try db.execute(sql: "INSERT INTO languages (artifact, language) VALUES (?, ?)", arguments: [digest.description, l])
        }
        for (k, v) in m.metrics {
            try db.execute(sql: "INSERT INTO metrics (artifact, metric, value) VALUES (?, ?, ?)", arguments: [digest.description, k, v])
        }
        for e in Set(m.lineage.map { $0.relation == "base" && base != nil ? ArtifactEdge(relation: "base", target: base!) : $0 }) {
            try db.execute(sql: "INSERT INTO lineage (artifact, relation, target, requires) VALUES (?, ?, ?, ?)",
                           arguments: [digest.description, e.relation, e.target.description,
                                       e.relation == "parent" || m.isSelfContained ? nil : e.target.description])
        }
        for b in Set(m.blobReferences + (keptBase.map { [$0] } ?? [])) {
            try db.execute(sql: "INSERT INTO blob_refs (artifact, blob) VALUES (?, ?)", arguments: [digest.description, b.description])
        }
    }

    // MARK: reads

    /// Summaries of the artifacts selected by `clause`. Columns are read by index (a
    /// lookup by name lowercases the key on every access, which dominated `list` of
    /// 10,000 rows).
    static func summaries(_ db: Database, where clause: String = "", arguments: StatementArguments = []) throws -> [ArtifactSummary] {
        // Languages and tags come back as group_concat columns (index lookups in SQLite)
        // rather than as separate row sets joined in Swift.
        let sql = """
            SELECT digest, kind, name, version, base, created,
                   (SELECT group_concat(language, ',') FROM languages WHERE artifact = artifacts.digest),
                   (SELECT group_concat(name || ':' || tag, ',') FROM tags WHERE artifact = artifacts.digest)
            FROM artifacts \(clause)
            """
        var out: [ArtifactSummary] = []
        let cursor = try Row.fetchCursor(db, sql: sql, arguments: arguments)
        while let r = try cursor.next() {
            let d: String = r[0]
            let kind: String = r[1]
            let base: String? = r[4]
            let langs: String? = r[6], tags: String? = r[7]
            guard let k = ManifestKind(rawValue: kind) else { throw StoreError.catalog("unknown kind '\(kind)' for \(d)") }
            out.append(ArtifactSummary(digest: try Digest(parsing: d), kind: k, name: r[2], version: r[3],
                                       languages: langs.map { $0.split(separator: ",").map(String.init).sorted() } ?? [],
                                       base: try base.map { try Digest(parsing: $0) }, created: r[5],
                                       tags: tags.map { $0.split(separator: ",").map(String.init).sorted() } ?? []))
        }
        return out
    }
}
