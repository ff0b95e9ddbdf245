import ArgumentParser
import Foundation
import Glossa
import GlossaCore

struct List: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List artifacts in the registry.",
        discussion: "Examples:\n  glossa list\n  glossa list --lang fr --json\n  glossa list --kind expert --base whisper-base")
    @Option(name: .long, help: "Only artifacts serving this language.") var lang: String?
    @Option(name: .long, help: ArgumentHelp("Only experts/composites on this base.", valueName: "REF")) var base: String?
    @Option(name: .long, help: "Only this kind: base, expert, composite, bundle, eval-report.") var kind: String?
    @Flag(name: .long, help: "Print JSON.") var json = false
    @Option(name: .long, help: ArgumentHelp("List the tags of a remote repository instead (languages and versions from annotations).", valueName: "oci://HOST/REPO"))
    var remote: String?
    @OptionGroup var remoteOptions: RemoteOptions
    @OptionGroup var registry: RegistryOptions

    func run() async throws {
        if let remote { return try await listRemote(remote, json: json, options: remoteOptions) }
        try reporting {
            let reg = try Registry(root: registry.path)
            var filter = ArtifactFilter(language: lang)
            if let base { filter.base = try reg.resolve(base) }
            if let kind {
                guard let k = ManifestKind(rawValue: kind) else {
                    throw GlossaError(.invalidInput, "Unknown kind '\(kind)'; use one of \(ManifestKind.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                filter.kind = k
            }
            let rows = try reg.list(filter)
            if json { try Console(json: true).emit(rows); return }
            print(["KIND", "NAME", "VERSION", "LANG", "TAGS", "DIGEST"].joined(separator: "\t"))
            for r in rows {
                print([r.kind.rawValue, r.name ?? "-", r.version ?? "-", r.languages.joined(separator: ",").ifEmpty("-"),
                       r.tags.joined(separator: ",").ifEmpty("-"), r.digest.short].joined(separator: "\t"))
            }
        }
    }
}

struct Show: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show one artifact: its manifest, lineage, dependents and blobs.")
    @Argument(help: "REF: name, name:version, name:tag or sha256:prefix.") var ref: String
    @Flag(name: .long, help: "Print JSON (summary, manifest, lineage, blobs).") var json = false
    @OptionGroup var registry: RegistryOptions

    func run() throws {
        try reporting {
            let d = try Registry(root: registry.path).show(ref)
            let manifestJSON = (try? ManifestCoding.canonicalBytes(d.manifest)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
            if json {
                let summary = String(decoding: try JSONEncoder.sorted.encode(d.summary), as: UTF8.self)
                let lineage = String(decoding: try JSONEncoder.sorted.encode(d.lineage), as: UTF8.self)
                let dependents = String(decoding: try JSONEncoder.sorted.encode(d.dependents), as: UTF8.self)
                let blobs = String(decoding: try JSONEncoder.sorted.encode(d.blobs), as: UTF8.self)
                print("{\"summary\":\(summary),\"manifest\":\(manifestJSON),\"lineage\":\(lineage),\"dependents\":\(dependents),\"blobs\":\(blobs),\"manifest_size\":\(d.manifestSize)}")
                return
            }
            let s = d.summary
            print("\(s.kind.rawValue) \(s.displayName)  \(s.digest)")
            if !s.languages.isEmpty { print("languages: \(s.languages.joined(separator: ", "))") }
            if let b = s.base { print("base: \(b)") }
            if !s.tags.isEmpty { print("tags: \(s.tags.joined(separator: ", "))") }
            print("created: \(s.created)")
            if case .expert(let m) = d.manifest {
                print("lora: r=\(m.lora.rank) alpha=\(m.lora.alpha) targets=\(Set(m.lora.targetModules.map { $0.split(separator: ".").last.map(String.init) ?? $0 }).sorted().joined(separator: ","))\(m.lora.useRSLoRA ? " rslora" : "") modules=\(m.tensors.count)")
                print("license: \(m.license)")
                if !m.description.isEmpty { print("description: \(m.description)") }
                print("provenance: \(m.provenance.toolVersion), \(m.provenance.hyperparameters.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))")
            }
            if case .composite(let m) = d.manifest {
                let params = m.recipe.params.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
                print("recipe: \(m.recipe.method)\(params.isEmpty ? "" : " " + params.joined(separator: " "))\(m.recipe.seed.map { " seed=\($0)" } ?? "")")
                if let l = m.lora { print("lora: r=\(l.rank) modules=\(m.tensors.count)\(l.rankPattern.isEmpty ? "" : " (\(l.rankPattern.count) of other ranks)")") }
                for (lang, r) in m.routes.sorted(by: { $0.key < $1.key }) { print("route \(lang): r=\(r.lora.rank) modules=\(r.tensors.count)") }
                if let e = m.provenance.hyperparameters["experts"] { print("experts: \(e)") }
                if !m.description.isEmpty { print("description: \(m.description)") }
            }
            // Per-module truncation errors are in --json; the summary lines say enough here.
            for (k, v) in d.metrics.sorted(by: { $0.key < $1.key }) where !k.hasPrefix("truncation_error/") { print("metric \(k): \(v)") }
            for e in d.lineage { print("lineage: \(e.relation) \(e.target)") }
            for e in d.dependents { print("used by: \(e.kind.rawValue) \(e.displayName) \(e.digest.short)") }
            let stored = d.blobs.compactMap(\.storedSize).reduce(0, +)
            print("blobs: \(d.blobs.count) (\(stored) bytes stored)")
        }
    }
}

struct Tag: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Point NAME:TAG at an artifact (moving the tag atomically if it exists).",
                                                    discussion: "Example: glossa tag fr-expert:1.0.0 stable   # then use fr-expert:stable")
    @Argument(help: "REF of the artifact.") var ref: String
    @Argument(help: "Tag (letters, digits, . _ -).") var tag: String
    @OptionGroup var registry: RegistryOptions

    func run() throws {
        try reporting {
            let c = try Registry(root: registry.path).tag(ref, as: tag)
            print("\(c.tag.name):\(c.tag.tag) -> \(c.tag.digest.short)" + (c.previous.map { " (was \($0.short))" } ?? ""))
        }
    }
}

struct Remove: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rm",
        abstract: "Remove an artifact from the catalog (its blobs go at the next gc).",
        discussion: "Refused while other artifacts (experts on a base, composites of an expert) depend on it.")
    @Argument(help: "REF of the artifact.") var ref: String
    @OptionGroup var registry: RegistryOptions

    func run() throws {
        try reporting {
            let s = try Registry(root: registry.path).remove(ref)
            print("removed \(s.kind.rawValue) \(s.displayName) \(s.digest.short)")
        }
    }
}

struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Re-hash every blob and check the catalog against the manifests.",
        discussion: """
        Names each corrupt or missing blob and the artifacts that use it, interrupted publishes (indexed manifests without a \
        catalog row) and temporaries of writes interrupted over an hour ago. Exit code: 0 clean, 3 problems found and repaired \
        (--repair), 4 damage or unrepaired problems remain.
        """)
    @Flag(name: .long, help: "Rebuild catalog rows from manifests and drop rows whose blobs are gone.") var repair = false
    @Flag(name: .long, help: "Print the report as JSON.") var json = false
    @OptionGroup var registry: RegistryOptions

    func run() throws {
        let report = try reporting { try Registry(root: registry.path).verify(repair: repair) }
        if json { try Console(json: true).emit(report) } else {
            print("\(report.status.rawValue): \(report.blobsChecked) blobs, \(report.artifactsChecked) artifacts checked")
            for p in report.problems {
                print("\(p.kind.rawValue)\t\(p.digest?.description ?? "-")\t\(p.location ?? "-")\t\(p.repaired ? "repaired" : "unrepaired")\t\(p.detail)"
                      + (p.usedBy.isEmpty ? "" : "\tused by: \(p.usedBy.joined(separator: ", "))"))
            }
        }
        switch report.status {
        case .clean: return
        case .repaired: throw GlossaExit.repaired
        case .damaged: throw GlossaExit.damaged
        }
    }
}

struct GC: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gc",
        abstract: "Delete blobs no manifest or tag reaches (older than the grace period) and leftover temporaries.")
    @Flag(name: .long, help: "Only report what would be removed.") var dryRun = false
    @Option(name: .long, help: "Keep unreferenced blobs younger than this many seconds (a publish may be in flight).") var grace: Double = 3600
    @Flag(name: .long, help: "Print the report as JSON.") var json = false
    @OptionGroup var registry: RegistryOptions

    func validate() throws {
        // A publish stores its blobs before it commits; with no grace gc would sweep them.
        guard grace > 0, grace.isFinite else {
            throw ValidationError("--grace must be a positive number of seconds (got \(grace)); gc keeps unreferenced blobs "
                                  + "younger than this, which protects publishes in flight")
        }
    }

    func run() throws {
        try reporting {
            let r = try Registry(root: registry.path).gc(dryRun: dryRun, gracePeriod: grace)
            if json { try Console(json: true).emit(r); return }
            print("\(dryRun ? "would remove" : "removed") \(r.removedBlobs.count) blobs (\(r.removedBytes) bytes), \(r.removedTemporaries.count) temporaries, \(r.removedSignatures.count) signature sets of removed artifacts; \(r.reachable) reachable, \(r.keptYoung) kept (younger than grace)")
        }
    }
}

struct Reindex: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Rebuild the SQLite catalog from the stored manifests alone.")
    @Flag(name: .long, help: "Print the report as JSON.") var json = false
    @OptionGroup var registry: RegistryOptions

    func run() throws {
        try reporting {
            let r = try Registry(root: registry.path).reindex()
            if json { try Console(json: true).emit(r); return }
            print("reindexed \(r.artifacts) artifacts, \(r.tags) tags" + (r.skipped.isEmpty ? "" : "; skipped: \(r.skipped.joined(separator: "; "))"))
        }
    }
}

extension String {
    func ifEmpty(_ s: String) -> String { isEmpty ? s : self }
}

extension JSONEncoder {
    static var sorted: JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return e
    }
}
