import Foundation
import GlossaCore
import Store
import TensorIO

/// What `glossa export` asks for.
public struct BundleExportRequest: Sendable {
    /// Experts or composites (registry REFs). A routed composite contributes its shared part
    /// and its residuals.
    public var adapters: [String]
    /// Base REF; nil: the base the adapters were made for.
    public var base: String?
    public var routing: Routing
    /// Element type of the shipped base weights: `.f16` (half the size) or `.f32`. Float
    /// tensors stored as f32 are rounded to nearest-even f16; adapters are always shipped
    /// exactly as stored, so their digests equal the registry's.
    public var dtype: DType
    /// Only these languages (nil: every language the adapters serve).
    public var languages: [String]?
    public var name: String?
    public var version: String
    public var description: String
    public var force: Bool
    public var signingKey: MinisignSecretKey?

    public init(adapters: [String], base: String? = nil, routing: Routing = .language, dtype: DType = .f16, languages: [String]? = nil,
                name: String? = nil, version: String = "1.0.0", description: String = "", force: Bool = false,
                signingKey: MinisignSecretKey? = nil) {
        self.adapters = adapters; self.base = base; self.routing = routing; self.dtype = dtype; self.languages = languages
        self.name = name; self.version = version; self.description = description; self.force = force; self.signingKey = signingKey
    }
}

/// What an export wrote.
public struct BundleExportResult: Sendable, Encodable {
    public var path: String
    /// The bundle manifest digest (what a signature covers).
    public var digest: String
    /// The OCI manifest digest (what `skopeo inspect` shows).
    public var ociDigest: String
    public var name: String
    public var version: String
    public var languages: [String]
    public var routing: String
    public var adapters: [String]
    public var bytes: Int
    /// Key id of the signature, when signed.
    public var signedBy: String?

    enum CodingKeys: String, CodingKey {
        case path, digest, ociDigest = "oci_digest", name, version, languages, routing, adapters, bytes, signedBy = "signed_by"
    }
}

extension Registry {
    /// Writes a bundle for `request` at `path` (a folder, or one `.tar` when it ends in
    /// `.tar`). Checks everything it can before writing; on any error nothing is left at
    /// `path` (an existing bundle there stays as it was).
    public func exportBundle(_ request: BundleExportRequest, to path: String,
                             progress: (Int, Int) -> Void = { _, _ in }) throws(GlossaError) -> BundleExportResult {
        let context = "Cannot export a bundle to \(path)"
        if FileManager.default.fileExists(atPath: path) && !request.force { throw BundleError.exists(path: path).glossa(context) }
        if request.adapters.count == 1, request.base == nil, let d = try? resolve(request.adapters[0]),
           case .bundle(let stored)? = try? manifest(d) {
            return try exportStoredBundle(stored, digest: d, request: request, to: path, context: context, progress: progress)
        }
        guard !request.adapters.isEmpty else {
            throw GlossaError(.invalidInput, "\(context): no expert given; name an expert (glossa export fr-expert) or pass --expert")
        }
        if let n = request.name, let p = ArtifactName.problem(with: n) { throw GlossaError(.invalidInput, "\(context): --name: \(p)") }
        if SemanticVersion(request.version) == nil {
            throw GlossaError(.invalidInput, "\(context): --version '\(request.version)' is not a semantic version (e.g. 1.0.0)")
        }
        var adapters: [BundleManifest.Adapter] = []
        for ref in request.adapters { adapters += try bundleAdapters(ref) }
        var seen: Set<String> = []
        for a in adapters where !seen.insert("\(a.digest) \(a.role) \(a.languages)").inserted {
            throw GlossaError(.invalidInput, "\(context): the adapters given name \(a.name):\(a.version) twice; list each once")
        }
        // Each adapter's base here (an adapter made in another registry runs on this
        // registry's base with the same weights).
        var attached: [Digest: Digest] = [:]
        for a in adapters where attached[a.digest] == nil { attached[a.digest] = try attachedBase(of: a.digest) }
        var baseDigest = attached[adapters[0].digest]!
        if let b = request.base { baseDigest = try resolve(b) }
        guard case .base(let base) = try manifest(baseDigest) else {
            throw GlossaError(.invalidInput, "\(context): '\(request.base ?? baseDigest.description)' is not a base model")
        }
        for a in adapters where attached[a.digest] != baseDigest {
            throw GlossaError(.invalidInput, "\(context): \(a.kind.rawValue) \(a.name):\(a.version) was made for base "
                + "\(attached[a.digest]?.short ?? "?"), not \(base.name):\(base.version) (\(baseDigest.short)); "
                + "choose adapters of one base")
        }
        adapters = try Self.restrict(adapters, to: request.languages, context: context)
        let routing = try Self.routingTable(adapters, request.routing, context: context)
        let languages = Array(Set(adapters.flatMap(\.languages))).sorted()

        let writer: BundleWriter
        do { writer = try BundleWriter(destination: URL(fileURLWithPath: path), force: request.force) } catch {
            throw error.glossa(context)
        }
        do {
            let total = base.tensors.count + adapters.reduce(0) { $0 + $1.tensors.count } + 1
            var done = 0
            func step() { done += 1; progress(done, total) }
            let tensors = try putBaseTensors(base, dtype: request.dtype, into: writer, step: step)
            try putAdapterTensors(adapters, into: writer, step: step)
            try writer.put(Data(try store.blob(base.tokenizer)), mediaType: BundleLayout.tokenizerMediaType, title: "tokenizer.json")
            let name = request.name ?? "\(base.name)-\(languages.joined(separator: "-"))"
            let m = BundleManifest(name: name, version: request.version, languages: languages, base: baseDigest,
                                   model: .init(config: base.config, tensors: tensors, tokenizer: base.tokenizer),
                                   adapters: adapters, routing: routing, created: Self.now(), description: request.description)
            let bytes = try ManifestCoding.canonicalBytes(m)
            let comment = MinisignSignature.defaultTrustedComment(fileName: "\(name)-\(request.version).bundle.json")
            let signature = try request.signingKey.map { try MinisignSignature.sign(bytes, with: $0, trustedComment: comment) }
            let (bundleDigest, ociDigest) = try writer.finish(manifest: m, manifestBytes: bytes, signature: signature)
            step()
            return BundleExportResult(path: path, digest: bundleDigest.description, ociDigest: ociDigest.description, name: name,
                                      version: request.version, languages: languages, routing: routing.mode,
                                      adapters: adapters.map(\.label), bytes: Self.diskBytes(path),
                                      signedBy: request.signingKey?.publicKey.keyIDText)
        } catch let e as BundleError {
            writer.abandon(); throw e.glossa(context)
        } catch let e as StoreError {
            writer.abandon(); throw Self.wrap(e, context)
        } catch let e as ManifestError {
            writer.abandon(); throw GlossaError(.invalidInput, "\(context): \(e)")
        } catch {
            writer.abandon(); throw GlossaError(.failure, "\(context): \(error)")
        }
    }

    /// Writes every base tensor (converted to `dtype`) as a blob; returns the bundle's tensor table.
    func putBaseTensors(_ base: BaseManifest, dtype: DType, into writer: BundleWriter, step: () -> Void) throws -> [String: TensorEntry] {
        var tensors: [String: TensorEntry] = [:]
        for (n, e) in base.tensors.sorted(by: { $0.key < $1.key }) {
            let t = Self.converted(try store.tensor(e), to: dtype)
            let (d, _) = try writer.put(t.bytes, mediaType: BundleLayout.tensorMediaType)
            tensors[n] = TensorEntry(digest: d, dtype: t.dtype, shape: t.shape)
            step()
        }
        return tensors
    }

    /// Copies the adapters' factors as stored (so their digests stay the registry's).
    func putAdapterTensors(_ adapters: [BundleManifest.Adapter], into writer: BundleWriter, step: () -> Void) throws {
        // Modules in name order, so the layer order (and the OCI manifest digest) is a function
        // of the bundle manifest alone (`exportStoredBundle` writes the same order again).
        for a in adapters {
            for (_, pair) in a.tensors.sorted(by: { $0.key < $1.key }) {
                for e in [pair.a, pair.b] { try writer.put(Data(try store.blob(e.digest)), mediaType: BundleLayout.tensorMediaType) }
                step()
            }
        }
    }

    /// The bundle entries for one REF: an expert; a composite that is one LoRA; or a routed
    /// composite's shared part and per-language residuals (the parts `loadAdapters` gives the
    /// registry runtime, with the same scales). `lineage[0]` is always the base edge.
    func bundleAdapters(_ ref: String) throws(GlossaError) -> [BundleManifest.Adapter] {
        let d = try resolve(ref)
        func scales(_ lora: LoRAConfig, _ tensors: [String: LoRATensorEntry], _ order: [String] = []) -> [String: Double] {
            Dictionary(uniqueKeysWithValues: tensors.keys.map { ($0, lora.resolved(forModule: $0, patternOrder: order).scale) })
        }
        switch try manifest(d) {
        case .expert(let m):
            let (_, order) = try storedAdapterConfig(m)
            return [.init(digest: d, kind: .expert, name: m.name, version: m.version, languages: m.coveredLanguages, lora: m.lora,
                          scales: scales(m.lora, m.tensors, order), tensors: m.tensors, lineage: m.lineage)]
        case .composite(let m):
            var out: [BundleManifest.Adapter] = []
            if let lora = m.lora, !m.tensors.isEmpty {
                out.append(.init(digest: d, kind: .composite, role: m.routes.isEmpty ? "expert" : "shared", name: m.name, version: m.version,
                                 languages: m.languages, lora: lora, scales: scales(lora, m.tensors), tensors: m.tensors,
                                 lineage: m.lineage, recipe: m.recipe.method))
            }
            for (l, r) in m.routes.sorted(by: { $0.key < $1.key }) {
                out.append(.init(digest: d, kind: .composite, role: "residual", name: m.name, version: m.version, languages: [l],
                                 lora: r.lora, scales: scales(r.lora, r.tensors), tensors: r.tensors, lineage: m.lineage,
                                 recipe: m.recipe.method))
            }
            return out
        case let other:
            throw GlossaError(.invalidInput, "'\(ref)' is a \(other.kind.rawValue), not an expert or composite; export adapters (experts or composites)")
        }
    }

    /// Keeps the adapters serving `languages` (each narrowed to them); every requested
    /// language must be served by some adapter.
    static func restrict(_ adapters: [BundleManifest.Adapter], to languages: [String]?,
                         context: String) throws(GlossaError) -> [BundleManifest.Adapter] {
        guard let languages else { return adapters }
        let covered = Set(adapters.flatMap(\.languages))
        let missing = languages.filter { !covered.contains($0) }
        if !missing.isEmpty {
            throw GlossaError(.invalidInput, "\(context): no expert serves \(missing.joined(separator: ", ")) (the experts given serve "
                + "\(covered.sorted().joined(separator: ", "))); drop it from --languages or add an expert for it")
        }
        let wanted = Set(languages)
        return adapters.compactMap { a in
            var a = a
            a.languages = a.languages.filter(wanted.contains)
            return a.languages.isEmpty ? nil : a
        }
    }

    /// The bundle's routing table: for each language, the adapter routed for it (experts
    /// unless the mode is `all`, and residuals always); one per language, as the runtime requires.
    static func routingTable(_ adapters: [BundleManifest.Adapter], _ routing: Routing,
                             context: String) throws(GlossaError) -> BundleManifest.Routing {
        var table: [String: Digest] = [:], owner: [String: BundleManifest.Adapter] = [:]
        for a in adapters where a.role == "residual" || (a.role == "expert" && routing != .all) {
            for l in a.languages {
                if let o = owner[l] {
                    throw GlossaError(.invalidInput, "\(context): two adapters serve '\(l)' "
                        + "(\(o.name):\(o.version) and \(a.name):\(a.version)); "
                        + "when routing by language give one per language, or use --route all")
                }
                owner[l] = a
                table[l] = a.digest
            }
        }
        return .init(mode: routing.rawValue, languages: table)
    }

    /// `t` in `dtype` when that is f16 and `t` is f32 (round to nearest even); else as is, so
    /// `--dtype f32` never widens a half-precision base.
    static func converted(_ t: TensorData, to dtype: DType) -> TensorData {
        dtype == .f16 && t.dtype == .f32 ? t.converted(to: .f16) : t
    }

    /// Bytes on disk of a file, or of every file under a folder.
    static func diskBytes(_ path: String) -> Int {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: path, isDirectory: &isDir) else { return 0 }
        if !isDir.boolValue { return (try? fm.attributesOfItem(atPath: path)[.size] as? Int) ?? 0 }
        var total = 0
        for case let f as String in fm.enumerator(atPath: path) ?? FileManager.DirectoryEnumerator() {
            total += (try? fm.attributesOfItem(atPath: path + "/" + f)[.size] as? Int).flatMap { $0 } ?? 0
        }
        return total
    }
}
