import DurableFiles
import Foundation
import GlossaCore
import OCI
import TensorIO

/// What `glossa bundle verify` found.
public struct BundleVerifyReport: Sendable, Encodable {
    public var path: String
    /// Bundle manifest digest (nil when the manifest itself could not be read).
    public var digest: String?
    /// `clean` or `damaged`.
    public var status: String
    public var problems: [String]
    public var blobsChecked: Int
    /// `good (key ID)`, `present (key ID), not checked: give --key PUB`, `unsigned`, `missing (a key was given)`
    /// or `bad` (see problems).
    public var signature: String

    public var isClean: Bool { status == "clean" }
    enum CodingKeys: String, CodingKey { case path, digest, status, problems, blobsChecked = "blobs_checked", signature }
}

/// What `glossa bundle inspect` shows.
public struct BundleInspection: Sendable, Encodable {
    public struct Adapter: Sendable, Encodable {
        public var name: String
        public var version: String
        public var kind: String
        /// `expert`, `shared` or `residual` (see `BundleManifest.Adapter.role`).
        public var role: String
        public var digest: String
        public var languages: [String]
        public var rank: Int
        public var modules: Int
        public var bytes: Int
        public var recipe: String?
        public var lineage: [ArtifactEdge]
    }
    public struct Signature: Sendable, Encodable {
        public var keyID: String
        public var trustedComment: String
        enum CodingKeys: String, CodingKey { case keyID = "key_id", trustedComment = "trusted_comment" }
    }
    public var path: String
    public var name: String
    public var version: String
    public var digest: String
    public var ociDigest: String
    public var created: String
    public var description: String
    public var languages: [String]
    public var routing: String
    /// Language -> adapter `name:version` (routing `language`).
    public var routes: [String: String]
    public var base: String
    public var baseTensors: Int
    public var baseBytes: Int
    public var baseDTypes: [String]
    public var adapters: [Adapter]
    public var totalBytes: Int
    public var signature: Signature?

    enum CodingKeys: String, CodingKey {
        case path, name, version, digest, ociDigest = "oci_digest", created, description, languages, routing, routes, base
        case baseTensors = "base_tensors", baseBytes = "base_bytes", baseDTypes = "base_dtypes", adapters
        case totalBytes = "total_bytes", signature
    }
}

/// Bundle operations that need no registry: verify, inspect, sign in place.
public enum Bundles {
    /// Checks every blob's presence, size and digest, the manifest's schema and, with
    /// `keyPath`, the signature. Damage is reported, not thrown; only a path that is not a
    /// bundle at all (or an unreadable key) throws.
    public static func verify(path: String, keyPath: String?,
                              progress: (Int, Int) -> Void = { _, _ in }) throws(GlossaError) -> BundleVerifyReport {
        let key = try keyPath.map { (p) throws(GlossaError) in try Signing.publicKey(p) }
        let reader: BundleReader
        do { reader = try BundleReader(path: path) } catch {
            guard error.isDamage else { throw error.glossa("Cannot verify \(path)") }
            return BundleVerifyReport(path: path, digest: nil, status: "damaged", problems: [error.description], blobsChecked: 0,
                                      signature: key == nil ? "not checked" : "bad")
        }
        let problems = reader.verify(key: key, progress: progress)
        let signatureBad = problems.contains { if case .signature = $0 { return true } else { return false } }
        let signature: String
        if let s = reader.signature {
            if key == nil { signature = "present (key \(s.keyIDText)), not checked: give --key PUB" }
            else { signature = signatureBad ? "bad" : "good (key \(s.keyIDText))" }
        } else {
            signature = key == nil ? "unsigned" : "missing (a key was given)"
        }
        let count = Set(reader.ociManifest.layers.map(\.digest)).union(reader.manifest.blobReferences).count + 1
        return BundleVerifyReport(path: path, digest: reader.manifestDigest.description, status: problems.isEmpty ? "clean" : "damaged",
                                  problems: problems.map(\.description), blobsChecked: count, signature: signature)
    }

    /// Languages, routing, sizes, lineage and signature of a bundle (reads manifests only).
    public static func inspect(path: String) throws(GlossaError) -> BundleInspection {
        let r: BundleReader
        do { r = try BundleReader(path: path) } catch { throw error.glossa("Cannot inspect \(path)") }
        let m = r.manifest
        var sizes: [Digest: Int] = [:]
        for l in r.ociManifest.layers { sizes[l.digest] = Int(l.size) }
        let adapters = m.adapters.map { a in
            let blobs = Set(a.tensors.values.flatMap { [$0.a.digest, $0.b.digest] })
            return BundleInspection.Adapter(name: a.name, version: a.version, kind: a.kind.rawValue, role: a.role, digest: a.digest.description,
                                            languages: a.languages, rank: a.lora.rank, modules: a.tensors.count,
                                            bytes: blobs.reduce(0) { $0 + (sizes[$1] ?? 0) }, recipe: a.recipe, lineage: a.lineage)
        }
        var routes: [String: String] = [:]
        for l in m.routing.languages.keys { if let a = m.routedAdapter(for: l) { routes[l] = a.label } }
        let baseBlobs = Set(m.model.tensors.values.map(\.digest))
        return BundleInspection(
            path: path, name: m.name, version: m.version, digest: r.manifestDigest.description, ociDigest: r.ociDigest.description,
            created: m.created, description: m.description, languages: m.languages, routing: m.routing.mode, routes: routes,
            base: m.base.description, baseTensors: m.model.tensors.count, baseBytes: baseBlobs.reduce(0) { $0 + (sizes[$1] ?? 0) },
            baseDTypes: Array(Set(m.model.tensors.values.map(\.dtype.rawValue))).sorted(), adapters: adapters,
            totalBytes: r.totalBytes, signature: r.signature.map { .init(keyID: $0.keyIDText, trustedComment: $0.trustedComment) })
    }

    /// Signs the manifest of the bundle folder at `path` and stores the signature in it,
    /// replacing an older one. The switch is one atomic rewrite of index.json.
    public static func sign(path: String, keyPath: String) throws(GlossaError) -> (manifestDigest: String, keyID: String) {
        let key = try Signing.secretKey(keyPath)
        let context = "Cannot sign bundle \(path)"
        let r: BundleReader
        do { r = try BundleReader(path: path) } catch { throw error.glossa(context) }
        do {
            let sig = try MinisignSignature.sign(r.manifestBytes, with: key, trustedComment: MinisignSignature.defaultTrustedComment(
                fileName: "\(r.manifest.name)-\(r.manifest.version).bundle.json"))
            let sigBytes = Data(sig.fileText.utf8)
            let sigDigest = Digest(of: sigBytes)
            let root = URL(fileURLWithPath: path)
            try AtomicFileWriter.write(sigBytes, to: root.appendingPathComponent(BundleLayout.blobPath(sigDigest)).path)
            var oci = r.ociManifest
            let old = oci.layers.filter { $0.mediaType == BundleLayout.signatureMediaType }.map(\.digest)
            oci.layers.removeAll { $0.mediaType == BundleLayout.signatureMediaType }
            oci.layers.append(OCIDescriptor(mediaType: BundleLayout.signatureMediaType, digest: sigDigest, size: Int64(sigBytes.count),
                                            annotations: [BundleLayout.titleAnnotation: "bundle.json.minisig"]))
            let ociBytes = Data(try ManifestCoding.canonicalJSON(oci))
            let ociDigest = Digest(of: ociBytes)
            try AtomicFileWriter.write(ociBytes, to: root.appendingPathComponent(BundleLayout.blobPath(ociDigest)).path)
            let index = BundleLayout.Index(manifests: [OCIDescriptor(
                mediaType: OCIMediaType.imageManifest, digest: ociDigest, size: Int64(ociBytes.count),
                annotations: [BundleLayout.refNameAnnotation: r.manifest.version], artifactType: BundleLayout.artifactType)])
            let indexPath = root.appendingPathComponent(BundleLayout.indexFile).path
            try AtomicFileWriter.write(Data(try ManifestCoding.canonicalJSON(index)), to: indexPath)
            // The old OCI manifest and signature are unreachable now.
            for d in old + [r.ociDigest] where d != sigDigest && d != ociDigest {
                try? FileManager.default.removeItem(at: root.appendingPathComponent(BundleLayout.blobPath(d)))
            }
            return (r.manifestDigest.description, key.publicKey.keyIDText)
        } catch { throw GlossaError(.failure, "\(context): \(error)") }
    }
}
