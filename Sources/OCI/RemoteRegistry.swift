import Foundation
import GlossaCore
import Store

/// What a push did.
public struct PushReport: Sendable, Equatable {
    /// Where the artifact now is, by digest.
    public var reference: OCIReference
    public var manifestDigest: Digest
    public var artifactDigest: Digest
    /// Artifacts pushed along with it (base, inputs), by Glossa digest.
    public var alsoPushed: [Digest]
    /// Attachment manifests (signatures) now referring to the pushed manifests, by OCI digest.
    public var attached: [Digest] = []
    /// How the registry keeps referrers; nil when nothing was attached.
    public var referrersMode: ReferrersMode?
    public var stats: TransferStats
}

/// What a pull did.
public struct PullReport: Sendable, Equatable {
    public var artifactDigest: Digest
    public var manifestDigest: Digest
    public var kind: ManifestKind
    public var name: String?
    public var version: String?
    /// Artifacts imported along with it (base, inputs), by Glossa digest.
    public var alsoPulled: [Digest]
    /// True when it was already in the local registry (nothing imported).
    public var alreadyPresent: Bool
    /// The OCI manifest digest of the artifact and of each one imported along with it, by Glossa digest.
    public var manifests: [Digest: Digest] = [:]
    public var stats: TransferStats
    /// `.minisig` files the pulled artifact carries in itself (a bundle image's signature
    /// layers), unverified: the caller checks and stores them like signature referrers.
    public var carriedSignatures: [Data] = []
}

/// Push and pull Glossa artifacts between a `LocalRegistry` and one remote OCI registry.
/// See `GlossaOCI` for the mapping.
///
/// Guarantees: only blobs the remote lacks are sent (HEAD first); a re-run after a
/// failure sends only what is still missing (and resumes a chunked upload); a pull
/// verifies every layer's OCI digest on arrival and the store re-verifies the content
/// digest when it commits the blob; the artifact enters the local catalog last, by
/// `publish`, so a failed pull leaves at most unreferenced blobs (removed by `gc`).
public struct RemoteRegistry: Sendable {
    public let client: RegistryClient
    public let local: LocalRegistry
    /// Blobs transferred at once.
    public var parallelTransfers = 4

    public init(local: LocalRegistry, client: RegistryClient) {
        self.local = local
        self.client = client
    }

    /// Opens a client for `registry` (`host[:port]`).
    public init(local: LocalRegistry, registry: String, credentials: any CredentialsProvider = AnonymousCredentials(),
                options: RegistryClientOptions = RegistryClientOptions()) throws(OCIError) {
        self.init(local: local, client: try RegistryClient(registry: registry, credentials: credentials, options: options))
    }

    // MARK: - Push

    /// Pushes the local artifact `ref` (name:version, name:tag or digest) to
    /// `remote.repository`, tagged `remote.tag` (or, without a tag, by digest only).
    /// Artifacts it requires (base, composite inputs...) are pushed first, untagged.
    /// `attachments` gives what to attach to each pushed artifact (by Glossa digest), such as
    /// its signatures: each becomes an artifact manifest whose `subject` is the artifact's OCI
    /// manifest, pushed before the tag moves, so a tag never names an artifact whose
    /// attachments are still on their way.
    public func push(_ ref: String, to remote: OCIReference,
                     attachments: (Digest) throws(OCIError) -> [OCIAttachment] = { _ in [] }) async throws(OCIError) -> PushReport {
        guard remote.registry == client.registry else {
            throw .invalidReference(remote.description, reason: "this client talks to \(client.registry)")
        }
        let digest: Digest
        do { digest = try local.resolve(ref) } catch { throw .localRegistry(error.description) }
        await client.resetStats()
        var pushed: [Digest: Digest] = [:]
        var attached: [Digest] = []
        var mode: ReferrersMode?
        let manifestDigest = try await pushArtifact(digest, repository: remote.repository, tag: remote.tag, pushed: &pushed, depth: 0,
                                                    attachments: attachments, attached: &attached, mode: &mode)
        var where_ = remote
        where_.digest = manifestDigest
        return PushReport(reference: where_, manifestDigest: manifestDigest, artifactDigest: digest,
                          alsoPushed: pushed.keys.filter { $0 != digest }.sorted(), attached: attached, referrersMode: mode,
                          stats: await client.stats)
    }

    /// Pushes `attachment` (its blob, the empty config, its manifest with `subject`) and
    /// records it as a referrer of `subject` (referrers API, else the referrers tag).
    public func attach(_ attachment: OCIAttachment, to subject: OCIDescriptor,
                       repository: String) async throws(OCIError) -> (Digest, ReferrersMode) {
        _ = try await client.pushBlob(repository: repository, data: OCIEmpty.data)
        _ = try await client.pushBlob(repository: repository, data: attachment.data)
        let r = try await client.pushReferrer(attachment.manifest(subject: subject), repository: repository)
        return (r.digest, r.mode)
    }

    /// Pushes one artifact after its requirements; returns its OCI manifest digest. Its
    /// attachments go once its manifest is in the repository by digest, before the tag.
    func pushArtifact(_ digest: Digest, repository: String, tag: String?, pushed: inout [Digest: Digest], depth: Int,
                      attachments: (Digest) throws(OCIError) -> [OCIAttachment],
                      attached: inout [Digest], mode: inout ReferrersMode?) async throws(OCIError) -> Digest {
        if let done = pushed[digest] { return done }
        guard depth < 16 else { throw .unsupported("artifact lineage deeper than 16 levels at \(digest.short)") }
        let manifest: AnyManifest
        let config: [UInt8]
        do {
            manifest = try local.manifest(digest)
            config = try local.blob(digest)
        } catch { throw .localRegistry(error.description) }

        var requires: [(Digest, Digest)] = []
        for edge in manifest.lineage where edge.relation != "parent" {
            let m = try await pushArtifact(edge.target, repository: repository, tag: nil, pushed: &pushed, depth: depth + 1,
                                           attachments: attachments, attached: &attached, mode: &mode)
            requires.append((edge.target, m))
        }

        // Layers: the stored frames, pushed a few at a time.
        let blobs = manifest.blobReferences.sorted()
        let layers = try await forEachConcurrently(blobs) { (b) async throws(OCIError) -> OCIDescriptor in
            guard let frame = try? local.driver.get(b) else {
                throw .localRegistry("blob \(b) of \(digest.short) is missing; run glossa verify --repair")
            }
            let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("glossa-push-\(UUID().uuidString)")
            do { try Data(frame).write(to: tmp) } catch { throw .localIO(path: tmp.path, reason: "\(error)") }
            defer { try? FileManager.default.removeItem(at: tmp) }
            let transfer = Digest(of: frame)
            _ = try await client.pushBlob(repository: repository, file: tmp, digest: transfer, size: Int64(frame.count))
            return OCIDescriptor(mediaType: GlossaOCI.blobFrameMediaType, digest: transfer, size: Int64(frame.count),
                                 annotations: [GlossaOCI.Annotation.contentDigest: b.description])
        }
        let (configDigest, _) = try await client.pushBlob(repository: repository, data: Data(config))
        precondition(configDigest == digest, "stored manifest bytes hash to their digest (the store checked it on read)")
        let oci = OCIImageManifest(
            artifactType: GlossaOCI.artifactType(manifest.kind),
            config: OCIDescriptor(mediaType: GlossaOCI.configMediaType, digest: digest, size: Int64(config.count)),
            layers: layers,
            annotations: GlossaOCI.annotations(for: manifest, digest: digest, requires: requires))
        let body = try GlossaOCI.encode(oci)
        let md = Digest(of: body)
        let extras = try attachments(digest)
        if tag == nil || !extras.isEmpty, try await client.resolveManifest(repository: repository, reference: md.description) == nil {
            try await client.putManifest(body, repository: repository, reference: md.description)
        }
        let subject = OCIDescriptor(mediaType: OCIMediaType.imageManifest, digest: md, size: Int64(body.count))
        for a in extras {
            let (d, m) = try await attach(a, to: subject, repository: repository)
            attached.append(d)
            mode = m
        }
        if let tag {
            try await client.putManifest(body, repository: repository, reference: tag)
        }
        pushed[digest] = md
        return md
    }

    // MARK: - Pull

    /// Pulls `remote` (tag or digest) into the local registry, with the artifacts it
    /// requires that are missing locally. A tag is resolved once, first: if it moves
    /// during the pull, what was resolved is pulled, consistently.
    public func pull(_ remote: OCIReference) async throws(OCIError) -> PullReport {
        guard remote.registry == client.registry else {
            throw .invalidReference(remote.description, reason: "this client talks to \(client.registry)")
        }
        await client.resetStats()
        let md: Digest
        if let d = remote.digest {
            md = d
        } else {
            guard let d = try await client.resolveManifest(repository: remote.repository, reference: remote.manifestReference) else {
                throw .notFound(what: "tag", reference: remote.description)
            }
            md = d
        }
        client.options.onEvent?(.manifestResolved(reference: remote.description, digest: md))
        var pulled: [(artifact: Digest, manifest: Digest)] = []
        let (artifact, manifest, present) = try await pullArtifact(md, repository: remote.repository, pulled: &pulled, depth: 0)
        var manifests = Dictionary(pulled.map { ($0.artifact, $0.manifest) }, uniquingKeysWith: { a, _ in a })
        manifests[artifact] = md
        return PullReport(artifactDigest: artifact, manifestDigest: md, kind: manifest.kind, name: manifest.name, version: manifest.version,
                          alsoPulled: pulled.map(\.artifact).filter { $0 != artifact }, alreadyPresent: present, manifests: manifests,
                          stats: await client.stats, carriedSignatures: manifest.kind == .bundle ? try await carriedSignatures(md, repository: remote.repository) : [])
    }

    func isLocal(_ d: Digest) -> Bool { (try? local.summary(d.description)) != nil }

    /// An edge a pull follows: the artifact that requires another, and the edge.
    struct Requirement {
        var requiredBy: String
        var edge: ArtifactEdge
    }

    /// Pulls one artifact by OCI manifest digest after its requirements; publishes it last.
    /// Everything the remote says is checked before anything is written: the manifest a
    /// `requires` annotation leads to must hold that edge's target, and the config must be
    /// the canonical encoding of the manifest it holds (the artifact's digest is the digest
    /// of those bytes, and the local copy is stored canonically).
    func pullArtifact(_ md: Digest, repository: String, requirement: Requirement? = nil, pulled: inout [(artifact: Digest, manifest: Digest)],
                      depth: Int) async throws(OCIError) -> (Digest, AnyManifest, Bool) {
        guard depth < 16 else { throw .unsupported("artifact lineage deeper than 16 levels at \(md.short)") }
        let fetched = try await client.getManifest(repository: repository, reference: md.description)
        let oci: OCIImageManifest
        do { oci = try JSONDecoder().decode(OCIImageManifest.self, from: fetched.data) } catch {
            throw .invalidManifest(reference: "\(repository)@\(md)", reason: "\(error)")
        }
        if oci.config.mediaType != GlossaOCI.configMediaType, let layer = GlossaOCI.bundleManifestLayer(of: oci) {
            // Bundles are never required by another artifact (nothing builds on a bundle).
            guard requirement == nil else {
                throw .invalidManifest(reference: "\(repository)@\(md)", reason: "a requires annotation leads to a bundle; nothing was imported")
            }
            return try await pullBundleImage(oci, manifestLayer: layer, at: md, repository: repository, pulled: &pulled)
        }
        guard oci.config.mediaType == GlossaOCI.configMediaType else {
            throw .unsupported("\(repository)@\(md.short) is not a Glossa artifact (config type \(oci.config.mediaType), artifact type \(oci.effectiveArtifactType))")
        }
        if let r = requirement, oci.config.digest != r.edge.target {
            throw .invalidManifest(reference: "\(repository)@\(md)", reason: "the \(GlossaOCI.Annotation.requires) annotation of \(r.requiredBy) "
                + "names this manifest for its \(r.edge.relation) \(r.edge.target.short), but it holds artifact \(oci.config.digest.short); "
                + "nothing was imported. The remote copy of \(r.requiredBy) is inconsistent: push it again with glossa push")
        }
        let configBytes = try await client.fetchBlob(repository: repository, digest: oci.config.digest)
        let manifest = try Self.canonicalManifest(configBytes, digest: oci.config.digest, what: "config", at: "\(repository)@\(md)")
        let artifact = oci.config.digest
        if isLocal(artifact) { return (artifact, manifest, true) }

        // Requirements first (base, inputs) when missing.
        let requires = try GlossaOCI.parseRequires(oci.annotations?[GlossaOCI.Annotation.requires])
        for edge in manifest.lineage where edge.relation != "parent" && !isLocal(edge.target) {
            guard let r = requires.first(where: { $0.artifact == edge.target }) else {
                throw .notFound(what: "\(edge.relation) \(edge.target.short) needed by \(manifest.name ?? artifact.short)",
                                reference: "\(repository) (push it there, or import it locally first)")
            }
            let label = manifest.name.map { "\($0):\(manifest.version ?? "")" } ?? artifact.short
            if edge.relation == "base",
               try await keepForLocalBase(edge.target, at: r.manifest, repository: repository, for: manifest, artifact: artifact) {
                continue
            }
            _ = try await pullArtifact(r.manifest, repository: repository, requirement: Requirement(requiredBy: label, edge: edge),
                                       pulled: &pulled, depth: depth + 1)
        }

        // Layers: download, verify the transfer digest, store (the store verifies the content digest).
        let needed = manifest.blobReferences
        var byContent: [Digest: OCIDescriptor] = [:]
        for l in oci.layers {
            guard let c = l.annotations?[GlossaOCI.Annotation.contentDigest], let cd = try? Digest(parsing: c) else {
                throw .invalidManifest(reference: "\(repository)@\(md)", reason: "layer \(l.digest.short) lacks \(GlossaOCI.Annotation.contentDigest)")
            }
            byContent[cd] = l
        }
        // A stored blob is reused only when it checks (a damaged one is downloaded again).
        let missing = needed.filter { !local.hasIntactBlob($0) }
        let layerFor = byContent
        let lengths = Self.decodedLengths(manifest)
        let tensors = Self.floatTensors(manifest)
        _ = try await forEachConcurrently(missing) { (content) async throws(OCIError) -> Bool in
            guard let layer = layerFor[content] else {
                throw .invalidManifest(reference: "\(repository)@\(md)", reason: "no layer carries blob \(content.short) that the manifest references")
            }
            let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("glossa-pull-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: tmp) }
            try await client.pullBlob(repository: repository, digest: layer.digest, expectedSize: layer.size, to: tmp)
            var frame = try Self.readFrame(tmp)
            // Untrusted bytes: the decoded length must be what the manifest says (tensors),
            // and the expansion is capped; checked on the header before anything is
            // written to the store or allocated for decoding.
            let limits = BlobDecodeLimits.untrusted(expectedLength: lengths[content])
            let refused = { (why: String) in
                OCIError.localRegistry("blob \(content.short) from \(repository)@\(layer.digest.short) was refused: \(why)")
            }
            do { try limits.check(try BlobCodec.header(of: frame), frameSize: frame.count) } catch { throw refused("\(error)") }
            // `put` by hand, so the downloaded frame is released once written: the commit
            // re-reads what was written and decodes it, and those two copies are the peak.
            do {
                let w = try local.driver.beginWrite()
                do {
                    try w.write(frame)
                    frame = []
                    try w.commit(as: content) { (stored) throws(StoreError) -> Digest in
                        let decoded: [UInt8]
                        do { decoded = try BlobCodec.decode(stored, limits: limits) } catch {
                            throw StoreError.blobCorrupt(content, location: "\(repository)@\(layer.digest.short)",
                                                         reason: "\(error)", usedBy: [])
                        }
                        // Non-finite weights crash or poison inference: refuse them on the way in.
                        if let (name, dtype) = tensors[content], let bad = decoded.withUnsafeBytes({ dtype.firstNonFinite(in: $0) }) {
                            throw StoreError.blobCorrupt(content, location: "\(repository)@\(layer.digest.short)",
                                                         reason: "tensor \(name) has a \(bad.value) value at element \(bad.index); "
                                                           + "an artifact must hold finite weights", usedBy: [])
                        }
                        return Digest(of: decoded)
                    }
                } catch {
                    w.cancel()
                    throw error
                }
            } catch {
                throw refused("\(error)")
            }
            return true
        }
        do { try local.publish(manifest) } catch { throw .localRegistry(error.description) }
        pulled.append((artifact, md))
        return (artifact, manifest, false)
    }

    /// The Glossa manifest in `bytes` (whose digest is `digest`), checked to be in canonical
    /// form. Compare, then commit: publish stores the canonical encoding, so bytes in any
    /// other form would be imported under another digest than the one pulled.
    static func canonicalManifest(_ bytes: Data, digest: Digest, what: String, at reference: String) throws(OCIError) -> AnyManifest {
        let manifest: AnyManifest
        do { manifest = try ManifestCoding.decode(from: bytes) } catch {
            throw .invalidManifest(reference: reference, reason: "\(what) is not a valid Glossa manifest: \(error)")
        }
        let canonical: Digest
        do { canonical = Digest(of: try ManifestCoding.canonicalBytes(manifest)) } catch {
            throw .invalidManifest(reference: reference, reason: "\(what) cannot be re-encoded: \(error)")
        }
        guard canonical == digest else {
            throw .invalidManifest(reference: reference,
                                   reason: "its \(what) (Glossa manifest \(manifest.name ?? digest.short)) is not in canonical form: it is \(digest.short) as sent and \(canonical.short) re-encoded, so it cannot keep its digest here; "
                + "nothing was imported. Push it again with glossa push (or export the bundle again with glossa export), which write canonical manifests")
        }
        return manifest
    }

    /// Bases are matched by content (`BaseManifest.weightsDigest`): when this registry holds
    /// a base with the same weights as `base` (the remote base manifest, at OCI manifest
    /// `md`), typically another registry's import of the same files, the remote base
    /// manifest is kept as a blob (a few KB; its tensors are already here, by digest) and
    /// the artifact is published on the local base (see `LocalRegistry.attachedBase`).
    /// Returns true then, false when no local base has those weights (the base is pulled).
    /// Refused (`unsupported`, nothing imported) when the artifact's `base_weights`
    /// contradict its base, or when the base's name:version here holds other weights.
    func keepForLocalBase(_ base: Digest, at md: Digest, repository: String, for manifest: AnyManifest,
                          artifact: Digest) async throws(OCIError) -> Bool {
        let label = manifest.name.map { "\($0):\(manifest.version ?? "")" } ?? artifact.short
        let fetched = try await client.getManifest(repository: repository, reference: md.description)
        guard let oci = try? JSONDecoder().decode(OCIImageManifest.self, from: fetched.data),
              oci.config.mediaType == GlossaOCI.configMediaType else {
            throw .invalidManifest(reference: "\(repository)@\(md)", reason: "the base of \(label) is not a Glossa artifact")
        }
        // The manifest pins its base by digest; `requires` only says where to find it.
        guard oci.config.digest == base else {
            throw .digestMismatch(what: "base of \(label) found through \(GlossaOCI.Annotation.requires)", expected: base,
                                  actual: oci.config.digest)
        }
        let bytes = try await client.fetchBlob(repository: repository, digest: base)   // checked against `base`
        guard case .base(let remoteBase)? = try? ManifestCoding.decode(from: bytes) else {
            throw .invalidManifest(reference: "\(repository)@\(md)",
                                   reason: "the base \(base.short) of \(label) is not a valid base manifest")
        }
        let weights = remoteBase.weightsDigest
        if let declared = manifest.baseWeights, declared != weights {
            throw .unsupported("\(label) declares base weights \(declared.short), but its base \(remoteBase.name):\(remoteBase.version) "
                               + "(\(base.short)) has weights \(weights.short): the artifact is inconsistent; nothing was imported. "
                               + "Rebuild it on its base and push it again")
        }
        let equal: [Digest]
        do { equal = try local.bases(withWeights: weights) } catch { throw .localRegistry(error.description) }
        guard !equal.isEmpty else {
            let ref = "\(remoteBase.name):\(remoteBase.version)"
            if let here = try? local.summary(ref), here.digest != base {
                throw .unsupported("\(label) needs base \(ref) (\(base.short), weights \(weights.short)), but \(ref) in this "
                                   + "registry (\(here.digest.short)) holds other weights: the same name and version name two "
                                   + "different models. Nothing was imported. Import the expert's base files here under another "
                                   + "version (glossa base import DIR --name \(remoteBase.name) --version V), then pull again, "
                                   + "or pull into another registry")
            }
            return false
        }
        do { try local.putBlob([UInt8](bytes)) } catch { throw .localRegistry(error.description) }
        return true
    }

    /// The decoded length of each blob the manifest knows the size of: tensors (dtype x
    /// shape; validated against overflow when the manifest was decoded) and bundle files.
    static func decodedLengths(_ manifest: AnyManifest) -> [Digest: Int] {
        var out: [Digest: Int] = [:]
        func add(_ e: TensorEntry) { out[e.digest] = e.byteCount }
        switch manifest {
        case .base(let m): m.tensors.values.forEach(add)
        case .expert(let m): m.tensors.values.forEach { add($0.a); add($0.b) }
        case .composite(let m): m.tensors.values.forEach { add($0.a); add($0.b) }
        case .bundle(let m):
            m.model.tensors.values.forEach(add)
            for a in m.adapters { a.tensors.values.forEach { add($0.a); add($0.b) } }
            for f in m.files.values where f.size >= 0 { out[f.digest] = f.size }
        case .evalReport: break
        }
        return out
    }

    /// Float tensors by blob digest, with a name for messages (`module.lora_A` for LoRA factors).
    static func floatTensors(_ manifest: AnyManifest) -> [Digest: (String, DType)] {
        var out: [Digest: (String, DType)] = [:]
        func add(_ name: String, _ e: TensorEntry) { if e.dtype.isFloat { out[e.digest] = (name, e.dtype) } }
        switch manifest {
        case .base(let m): for (k, e) in m.tensors { add(k, e) }
        case .expert(let m): for (k, p) in m.tensors { add(k + ".lora_A", p.a); add(k + ".lora_B", p.b) }
        case .composite(let m): for (k, p) in m.tensors { add(k + ".lora_A", p.a); add(k + ".lora_B", p.b) }
        case .bundle(let m):
            for (k, e) in m.model.tensors { add(k, e) }
            for a in m.adapters { for (k, p) in a.tensors { add("\(a.label) \(k).lora_A", p.a); add("\(a.label) \(k).lora_B", p.b) } }
        case .evalReport: break
        }
        return out
    }

    /// A downloaded frame, read once straight into the array the store writes from (no
    /// intermediate `Data` copy).
    static func readFrame(_ url: URL) throws(OCIError) -> [UInt8] {
        guard let h = try? FileHandle(forReadingFrom: url) else {
            throw .localIO(path: url.path, reason: "cannot open the downloaded layer")
        }
        defer { try? h.close() }
        do {
            let size = Int(try h.seekToEnd())
            try h.seek(toOffset: 0)
            return try [UInt8](unsafeUninitializedCapacity: size) { buf, count in
                count = 0
                while count < size {
                    guard let piece = try h.read(upToCount: min(size - count, 1 << 20)), !piece.isEmpty else { break }
                    _ = piece.copyBytes(to: UnsafeMutableBufferPointer(rebasing: buf[count...]))
                    count += piece.count
                }
            }
        } catch {
            throw .localIO(path: url.path, reason: "cannot read the downloaded layer: \(error.localizedDescription)")
        }
    }

    // MARK: - Attachments

    /// The attachments of `artifactType` whose `subject` is the manifest `manifest` (referrers
    /// API, else the referrers tag). Each is checked: its manifest names that subject and
    /// holds one layer of at most `OCIAttachment.maxBytes`, verified by digest. Referrers
    /// that do not fit are skipped (they are information, and an attacker can add any);
    /// at most `limit` are read.
    public func attachments(of manifest: Digest, repository: String, artifactType: String,
                            limit: Int = 32) async throws(OCIError) -> [OCIAttachment] {
        let (found, _) = try await client.referrers(repository: repository, subject: manifest, artifactType: artifactType)
        var out: [OCIAttachment] = []
        for d in found.prefix(limit) where d.mediaType == OCIMediaType.imageManifest {
            let f = try await client.getManifest(repository: repository, reference: d.digest.description)
            guard let m = try? JSONDecoder().decode(OCIImageManifest.self, from: f.data), m.subject?.digest == manifest,
                  m.effectiveArtifactType == artifactType, m.layers.count == 1, let layer = m.layers.first,
                  layer.size <= OCIAttachment.maxBytes else { continue }
            let data = try await client.fetchBlob(repository: repository, digest: layer.digest, maxBytes: OCIAttachment.maxBytes)
            out.append(OCIAttachment(artifactType: artifactType, mediaType: layer.mediaType, data: data, annotations: m.annotations ?? [:]))
        }
        return out
    }

    // MARK: - List

    /// Tags of `repository` with what their annotations say (see `RegistryClient.listArtifacts`).
    public func list(repository: String) async throws(OCIError) -> [RemoteArtifact] {
        try await client.listArtifacts(repository: repository)
    }

    /// Runs `body` over `items` with at most `parallelTransfers` at once; results in input order.
    /// Children never throw into the group: a failure stops new work, the running ones
    /// finish, then the first error is thrown. (Cancelling a task group child that is
    /// inside URLSession's async API can leave it suspended forever on Linux.)
    func forEachConcurrently<T: Sendable, R: Sendable>(_ items: [T], _ body: @escaping @Sendable (T) async throws(OCIError) -> R) async throws(OCIError) -> [R] {
        let limit = max(1, parallelTransfers)
        let outcomes = await withTaskGroup(of: (Int, Result<R, OCIError>).self) { group in
            var results = [Result<R, OCIError>?](repeating: nil, count: items.count)
            var next = 0
            var failed = false
            func add(_ g: inout TaskGroup<(Int, Result<R, OCIError>)>) {
                guard next < items.count, !failed else { return }
                let i = next, item = items[i]
                next += 1
                g.addTask {
                    do throws(OCIError) { return (i, .success(try await body(item))) } catch { return (i, .failure(error)) }
                }
            }
            for _ in 0..<limit { add(&group) }
            while let (i, r) = await group.next() {
                results[i] = r
                if case .failure = r { failed = true }
                add(&group)
            }
            return results
        }
        var out: [R] = []
        out.reserveCapacity(items.count)
        for o in outcomes {
            switch o {
            case .success(let r)?: out.append(r)
            case .failure(let e)?: throw e
            case nil: continue
            }
        }
        // Reaching here means every item succeeded (a failure throws above).
        return out
    }
}

extension RegistryClient {
    /// Tags of `repository` with what their annotations say (kind, name, version, languages).
    /// Tags whose manifests are not Glossa artifacts are listed with nil kind. Reads only
    /// the remote.
    public func listArtifacts(repository: String) async throws(OCIError) -> [RemoteArtifact] {
        var out: [RemoteArtifact] = []
        for tag in try await listTags(repository: repository).sorted() {
            let f = try await getManifest(repository: repository, reference: tag)
            guard let m = try? JSONDecoder().decode(OCIImageManifest.self, from: f.data) else { continue }
            let a = m.annotations ?? [:]
            out.append(RemoteArtifact(
                tag: tag, manifestDigest: f.digest, artifactDigest: m.config.digest,
                kind: a[GlossaOCI.Annotation.kind], name: a[GlossaOCI.Annotation.name], version: a[GlossaOCI.Annotation.glossaVersion],
                languages: a[GlossaOCI.Annotation.languages].map { $0.split(separator: ",").map(String.init) } ?? [],
                base: a[GlossaOCI.Annotation.base].flatMap { try? Digest(parsing: $0) }, created: a[GlossaOCI.Annotation.created],
                size: m.layers.reduce(0) { $0 + $1.size }))
        }
        return out
    }
}
