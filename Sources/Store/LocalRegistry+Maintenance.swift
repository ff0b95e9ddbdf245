import Foundation
import GlossaCore
import GRDB

extension LocalRegistry {
    // MARK: verify

    /// Re-hashes every stored blob and checks the catalog against storage:
    /// every artifact's manifest and referenced blobs are present and intact, every
    /// artifact is in the manifest index, and catalog tags match the stored tags.
    ///
    /// With `repair`: index entries and tags are fixed from storage, interrupted
    /// publishes whose data is complete are catalogued, damaged blob files are deleted
    /// (so storing the same content again heals them), and catalog rows whose blobs are
    /// gone are dropped with the artifacts built on them. Status: `clean` (nothing
    /// found), `repaired` (all fixed, no data lost), `damaged` (blobs corrupt or missing,
    /// or problems left because `repair` was false).
    public func verify(repair: Bool = false) throws(StoreError) -> VerifyReport {
        try gcLock.withLock(exclusive: true) { () throws(StoreError) -> VerifyReport in
            var problems: [VerifyProblem] = []
            var lost = false

            // 1. Every stored blob decodes to its digest.
            let stored = try driver.list()
            var bad: [Digest: String] = [:]
            for d in stored {
                guard let frame = try driver.get(d) else { continue }  // deleted meanwhile
                do { _ = try decodeChecked(frame, d) } catch {
                    if case let StoreError.blobCorrupt(_, _, reason, _)? = error as? StoreError { bad[d] = reason } else { bad[d] = "\(error)" }
                }
            }
            let present = Set(stored)

            // 2. Catalog artifacts and their blobs.
            let (artifacts, refs) = try catalog.read { db in
                (try String.fetchAll(db, sql: "SELECT digest FROM artifacts"),
                 try Row.fetchAll(db, sql: "SELECT artifact, blob FROM blob_refs").map { ($0["artifact"] as String, $0["blob"] as String) })
            }
            var needs: [String: Set<String>] = [:]   // blob -> artifacts
            for a in artifacts { needs[a, default: []].insert(a) }
            for (a, b) in refs { needs[b, default: []].insert(a) }
            var broken = Set<String>()               // artifacts with a missing/corrupt blob
            for (b, users) in needs.sorted(by: { $0.key < $1.key }) {
                guard let d = try? Digest(parsing: b) else { continue }
                if !present.contains(d) {
                    problems.append(VerifyProblem(kind: .missingBlob, digest: d, location: driver.location(of: d), usedBy: self.users(of: d),
                                                  detail: "blob is missing", repaired: false))
                    broken.formUnion(users); lost = true
                } else if let reason = bad[d] {
                    problems.append(VerifyProblem(kind: .corruptBlob, digest: d, location: driver.location(of: d), usedBy: self.users(of: d),
                                                  detail: reason, repaired: false))
                    broken.formUnion(users); lost = true
                }
            }
            for (d, reason) in bad.sorted(by: { $0.key < $1.key }) where needs[d.description] == nil {
                problems.append(VerifyProblem(kind: .corruptBlob, digest: d, location: driver.location(of: d), usedBy: [],
                                              detail: reason + " (unreferenced)", repaired: false))
                lost = true
            }

            // 3. Manifest index vs catalog.
            let indexed = Set(try driver.indexedManifests().map(\.description))
            let catalogued = Set(artifacts)
            for a in catalogued.subtracting(indexed).sorted() where !broken.contains(a) {
                let d = try! Digest(parsing: a)
                var fixed = false
                if repair { try driver.indexManifest(d); try driver.acknowledgeManifest(d); fixed = true }
                problems.append(VerifyProblem(kind: .unindexedArtifact, digest: d, location: nil, usedBy: users(of: d),
                                              detail: "artifact is in the catalog but not in the manifest index", repaired: fixed))
            }
            // Indexed manifests without a catalog row are interrupted publishes: publish holds
            // the gc lock (shared) from the index entry to the catalog row, and verify holds
            // it exclusively, so none is in flight. Reported always; with `repair`, catalogued
            // when their data is complete (and name:version is free), else unindexed so gc
            // reclaims their blobs.
            for m in indexed.subtracting(catalogued).sorted() {
                let d = try! Digest(parsing: m)
                let man = bad[d] == nil && present.contains(d) ? try? manifest(d) : nil
                let complete = man?.blobReferences.allSatisfy({ present.contains($0) && bad[$0] == nil }) ?? false
                guard repair else {
                    problems.append(VerifyProblem(kind: .uncataloguedManifest, digest: d, location: driver.location(of: d), usedBy: [],
                                                  detail: "in the manifest index but not in the catalog (an interrupted publish"
                                                    + (complete ? "); run glossa verify --repair to catalogue it"
                                                                : ", its data incomplete); run glossa verify --repair to drop it"),
                                                  repaired: false))
                    continue
                }
                if complete, let man, (try? catalog.write({ db in
                    try Catalog.insert(db, digest: d, manifest: man, manifestSize: (try? blob(d).count) ?? 1,
                                       published: RFC3339.string(from: Date()),
                                       attachedBase: try attachedBase(of: man, label: d.short, in: db))
                })) != nil {
                    try driver.acknowledgeManifest(d)
                    problems.append(VerifyProblem(kind: .uncataloguedManifest, digest: d, location: nil, usedBy: [],
                                                  detail: "interrupted publish completed", repaired: true))
                } else {
                    try driver.unindexManifest(d)
                    problems.append(VerifyProblem(kind: .uncataloguedManifest, digest: d, location: nil, usedBy: [],
                                                  detail: "interrupted publish that cannot be catalogued (data incomplete or name:version taken): "
                                                    + "removed from the manifest index; gc reclaims its blobs", repaired: true))
                }
            }

            // 4. Drop artifacts whose data is gone (and what is built on them).
            if repair && !broken.isEmpty {
                for (b, _) in bad { try driver.delete(b) }
                let dropped: [String] = try catalog.write { db in
                    var all = broken
                    var frontier = Array(broken)
                    while let x = frontier.popLast() {
                        for dep in try String.fetchAll(db, sql: Catalog.requiringTarget, arguments: [x])
                        where !all.contains(dep) { all.insert(dep); frontier.append(dep) }
                    }
                    // Everything but bases in one statement (lineage foreign keys are checked at
                    // its end, so edges among the dropped are fine), then the bases (the base
                    // column is a RESTRICT foreign key, checked row by row).
                    let list = all.sorted()
                    let marks = list.map { _ in "?" }.joined(separator: ",")
                    try db.execute(sql: "DELETE FROM artifacts WHERE kind != 'base' AND digest IN (\(marks))", arguments: StatementArguments(list))
                    try db.execute(sql: "DELETE FROM artifacts WHERE digest IN (\(marks))", arguments: StatementArguments(list))
                    return list
                }
                for a in dropped {
                    let d = try! Digest(parsing: a)
                    try driver.unindexManifest(d)
                    for t in try driver.tags() where t.digest == d { try driver.removeTag(name: t.name, tag: t.tag) }
                    problems.append(VerifyProblem(kind: .droppedArtifact, digest: d, location: nil, usedBy: [],
                                                  detail: "removed from the catalog: its data is missing or damaged", repaired: true))
                }
                for i in problems.indices where problems[i].kind == .corruptBlob || problems[i].kind == .missingBlob {
                    problems[i].repaired = true   // no longer referenced; the data itself is lost
                }
            } else if repair {
                for (b, _) in bad { try driver.delete(b) }
                for i in problems.indices where problems[i].kind == .corruptBlob { problems[i].repaired = true }
            }

            // 4b. Lineage edges that are not foreign keys: in catalogs older than those keys,
            // edges whose target was removed while they were being published (an rm racing
            // a publish), or whose target came back later. The latter become foreign keys on
            // repair; the former stay reported (the artifact still loads, but what it was
            // built from is gone) until the target is imported again or the artifact removed.
            let loose = try catalog.read { db in
                try Row.fetchAll(db, sql: """
                    SELECT artifact, relation, target, target IN (SELECT digest FROM artifacts) AS present FROM lineage
                    WHERE relation != 'parent' AND requires IS NULL
                    AND artifact NOT IN (SELECT digest FROM artifacts WHERE kind = 'bundle') ORDER BY artifact, relation, target
                    """)
            }
            if repair && loose.contains(where: { $0["present"] as Bool }) {
                try catalog.write { db in
                    try db.execute(sql: """
                        UPDATE lineage SET requires = target
                        WHERE relation != 'parent' AND requires IS NULL AND target IN (SELECT digest FROM artifacts)
                        AND artifact NOT IN (SELECT digest FROM artifacts WHERE kind = 'bundle')
                        """)
                }
            }
            for row in loose {
                guard let a = try? Digest(parsing: row["artifact"] as String),
                      let t = try? Digest(parsing: row["target"] as String) else { continue }
                let relation: String = row["relation"]
                let present: Bool = row["present"]
                problems.append(VerifyProblem(
                    kind: .danglingLineage, digest: a, location: nil, usedBy: [],
                    detail: present ? "its \(relation) \(t.short) is not recorded as a foreign key"
                                        + (repair ? "; now it is" : "; run glossa verify --repair")
                                    : "its \(relation) \(t.short) is not in the registry (removed while this was being published); "
                                      + "import or pull \(t.short) again and run glossa verify --repair, or glossa rm this artifact",
                    repaired: present && repair))
            }

            // 5. Tags: storage is the truth.
            let truth = Set(try driver.tags())
            let (rows, existing) = try catalog.read { db in
                (Set(try Row.fetchAll(db, sql: "SELECT name, tag, artifact FROM tags").map {
                    TagRecord(name: $0["name"], tag: $0["tag"], digest: try Digest(parsing: $0["artifact"]))
                }), Set(try String.fetchAll(db, sql: "SELECT digest FROM artifacts")))
            }
            let valid = truth.filter { existing.contains($0.digest.description) }
            for t in truth.subtracting(valid) {   // stored tag pointing at nothing
                if repair { try driver.removeTag(name: t.name, tag: t.tag) }
                problems.append(VerifyProblem(kind: .tagMismatch, digest: t.digest, location: nil, usedBy: [],
                                              detail: "tag \(t.name):\(t.tag) points at an artifact not in the catalog", repaired: repair))
            }
            if rows != valid {
                for t in rows.symmetricDifference(valid).sorted(by: { ($0.name, $0.tag) < ($1.name, $1.tag) }) {
                    problems.append(VerifyProblem(kind: .tagMismatch, digest: t.digest, location: nil, usedBy: [],
                                                  detail: "catalog and stored tags disagree on \(t.name):\(t.tag)", repaired: repair))
                }
                if repair {
                    try catalog.write { db in
                        try db.execute(sql: "DELETE FROM tags")
                        for t in valid {
                            try db.execute(sql: "INSERT INTO tags (name, tag, artifact) VALUES (?, ?, ?)", arguments: [t.name, t.tag, t.digest.description])
                        }
                    }
                }
            }

            // 6. Temporaries of interrupted writes. Blob writes do not take the gc lock, so
            // only those older than `staleTemporaryAge` count (gc's default grace period).
            for t in try driver.staleTemporaries(olderThan: Date().addingTimeInterval(-Self.staleTemporaryAge)) {
                if repair { try driver.removeTemporary(t) }
                problems.append(VerifyProblem(kind: .staleTemporary, digest: nil, location: root + "/tmp/" + t.name, usedBy: [],
                                              detail: "leftover of an interrupted write (\(t.size) bytes)"
                                                + (repair ? "; removed" : "; run glossa verify --repair or glossa gc to remove it"),
                                              repaired: repair))
            }

            let status: VerifyStatus = problems.isEmpty ? .clean : (lost || !repair || problems.contains { !$0.repaired } ? .damaged : .repaired)
            return VerifyReport(status: status, blobsChecked: stored.count, artifactsChecked: artifacts.count, problems: problems)
        }
    }

    /// Age in seconds after which verify reports a temporary as left by an interrupted write.
    public static let staleTemporaryAge: TimeInterval = 3600

    // MARK: gc

    /// Removes blobs no catalog artifact, tag or in-flight publish reaches, and
    /// temporaries of interrupted writes, when they are older than `gracePeriod`
    /// seconds (so blobs stored for a publish that has not committed yet survive).
    /// With `dryRun`, reports what it would remove and removes nothing.
    public func gc(dryRun: Bool = false, gracePeriod: TimeInterval = 3600) throws(StoreError) -> GCReport {
        try gcLock.withLock(exclusive: true) { () throws(StoreError) -> GCReport in
            let cutoff = Date().addingTimeInterval(-gracePeriod)
            var reachable = Set<Digest>()
            let (artifacts, refs) = try catalog.read { db in
                (try String.fetchAll(db, sql: "SELECT digest FROM artifacts"), try String.fetchAll(db, sql: "SELECT DISTINCT blob FROM blob_refs"))
            }
            for s in artifacts + refs { if let d = try? Digest(parsing: s) { reachable.insert(d) } }
            let catalogued = Set(artifacts)
            // Indexed manifests without a catalog row: in flight while young, debris once old.
            for m in try driver.indexedManifests() where !catalogued.contains(m.description) {
                let young = (try driver.stat(m)).map { $0.modified >= cutoff } ?? false
                if young {
                    reachable.insert(m)
                    if let man = try? manifest(m) { reachable.formUnion(man.blobReferences) }
                } else if !dryRun {
                    try driver.unindexManifest(m)
                }
            }
            var removed: [Digest] = [], bytes = 0, young = 0
            for d in try driver.list() where !reachable.contains(d) {
                guard let st = try driver.stat(d) else { continue }
                if st.modified >= cutoff { young += 1; continue }
                if !dryRun { try driver.delete(d) }
                removed.append(d); bytes += st.size
            }
            var temps: [String] = []
            for t in try driver.staleTemporaries(olderThan: cutoff) {
                if !dryRun { try driver.removeTemporary(t) }
                temps.append(t.name)
            }
            return GCReport(dryRun: dryRun, reachable: reachable.count, removedBlobs: removed, removedBytes: bytes,
                            keptYoung: young, removedTemporaries: temps)
        }
    }

    // MARK: reindex

    /// Rebuilds the catalog from the manifest index and the stored tags alone. Entries
    /// whose manifest is missing, damaged, invalid, or whose base is not indexed are
    /// skipped and reported. Publish times are reset to the manifests' creation times (the
    /// reindex time for bases that record none). An artifact whose base is not indexed is
    /// attached to an indexed base with the same weights, as publish does.
    public func reindex() throws(StoreError) -> ReindexReport {
        try gcLock.withLock(exclusive: true) { () throws(StoreError) -> ReindexReport in
            var skipped: [String] = []
            var manifests: [(Digest, AnyManifest, Int)] = []
            for d in try driver.indexedManifests() {
                do {
                    let bytes = try blob(d)
                    let m: AnyManifest
                    do { m = try ManifestCoding.decode(from: bytes) } catch { throw StoreError.invalidManifest(d, error as! ManifestError) }
                    manifests.append((d, m, bytes.count))
                } catch {
                    skipped.append("\(d.short): \(error)")
                }
            }
            manifests.sort { $0.0 < $1.0 }
            // One artifact per name:version. Two mean a publish was killed between indexing
            // and its catalog write, and the name:version was then published again. The
            // acknowledged copy wins: the one the catalog has a row for, else the one whose
            // publish marker says acknowledged; digest order only breaks a tie between
            // copies that were never acknowledged.
            let catalogued = Set((try? catalog.read { db in try String.fetchAll(db, sql: "SELECT digest FROM artifacts") })?
                .compactMap { try? Digest(parsing: $0) } ?? [])
            let acknowledged = try driver.acknowledgedManifests()
            var losers = Set<Digest>()
            for (key, copies) in Dictionary(grouping: manifests.filter { $0.1.name != nil }, by: { "\($0.1.name!):\($0.1.version ?? "")" })
            where copies.count > 1 {
                let winner = (copies.first { catalogued.contains($0.0) } ?? copies.first { acknowledged.contains($0.0) } ?? copies[0]).0
                for (d, _, _) in copies where d != winner {
                    losers.insert(d)
                    skipped.append("\(d.short): \(key) is taken by the acknowledged publish \(winner.short) "
                                   + "(this copy's publish was interrupted; glossa verify --repair unindexes it)")
                }
            }
            manifests.removeAll { losers.contains($0.0) }
            let stored = try driver.tags()
            let (count, tagCount, more) = try catalog.write { db -> (Int, Int, [String]) in
                try db.execute(sql: "DELETE FROM tags")
                try db.execute(sql: "DELETE FROM artifacts WHERE kind != 'base'")
                try db.execute(sql: "DELETE FROM artifacts")
                var n = 0, skips: [String] = []
                var have = Set<Digest>()
                var bases: [Digest] = []
                let now = RFC3339.string(from: Date())
                // Lineage targets (base, inputs, subject ...) are foreign keys: insert in
                // rounds, each artifact once everything it needs is in. Each insert is a
                // savepoint, so a refused one leaves no partial rows. Bases go first (they
                // need nothing), so an artifact's base is in before it is attached: to the
                // base it names, else an indexed base with the same weights (LocalRegistry+Bases).
                var pending = manifests.filter { $0.1.kind == .base } + manifests.filter { $0.1.kind != .base }
                func attach(_ d: Digest, _ m: AnyManifest) throws -> Digest? {
                    try attachedBase(of: m, label: d.short, catalogued: { bases.contains($0) }, candidates: { bases })
                }
                func missing(_ d: Digest, _ m: AnyManifest) -> String? {
                    if let e = m.requiredEdges.first(where: { $0.relation != "base" && !have.contains($0.target) }) {
                        return "its \(e.relation) \(e.target.short) is not indexed"
                    }
                    do { _ = try attach(d, m); return nil } catch {
                        return "its base \(m.base?.short ?? "?") is not indexed and no indexed base has its weights (\(error))"
                    }
                }
                while !pending.isEmpty {
                    var next: [(Digest, AnyManifest, Int)] = []
                    for (d, m, size) in pending {
                        if missing(d, m) != nil { next.append((d, m, size)); continue }
                        do {
                            try db.inSavepoint {
                                try Catalog.insert(db, digest: d, manifest: m, manifestSize: size, published: m.created ?? now,
                                                   attachedBase: try attach(d, m))
                                return .commit
                            }
                            have.insert(d); n += 1
                            if m.kind == .base { bases.append(d) }
                        } catch { skips.append("\(d.short): \(error)") }
                    }
                    if next.count == pending.count {
                        for (d, m, _) in next { skips.append("\(d.short): \(missing(d, m) ?? "its requirements are not indexed")") }
                        break
                    }
                    pending = next
                }
                var t = 0
                for tag in stored where have.contains(tag.digest) {
                    try db.execute(sql: "INSERT INTO tags (name, tag, artifact) VALUES (?, ?, ?)", arguments: [tag.name, tag.tag, tag.digest.description])
                    t += 1
                }
                return (n, t, skips)
            }
            return ReindexReport(artifacts: count, tags: tagCount, skipped: skipped + more)
        }
    }
}
