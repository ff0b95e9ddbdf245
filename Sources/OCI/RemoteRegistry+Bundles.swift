import Foundation
import GlossaCore
import Store

// Pulling a bundle image (see `GlossaOCI`): what `glossa export` wrote and skopeo, oras or
// any registry client copied. It is imported as a `bundle` artifact under the digest of its
// manifest layer, with every blob under its own digest, so the registry's copy is the same
// bundle, byte for byte (`glossa export NAME:VERSION` writes it back out).

extension RemoteRegistry {
    /// Largest bundle manifest layer accepted (whisper-large with many adapters is < 1 MiB).
    static let maxBundleManifestBytes = 16 << 20

    /// Imports the bundle image at OCI manifest `md`. Everything is checked before it is
    /// stored: the manifest layer's digest (the transfer) and canonical form (so it keeps its
    /// digest here); each blob's digest (layer digest = content digest), its length against
    /// the manifest, and float tensors for NaN/Inf. The artifact is published last.
    func pullBundleImage(_ oci: OCIImageManifest, manifestLayer: OCIDescriptor, at md: Digest, repository: String,
                         pulled: inout [(artifact: Digest, manifest: Digest)]) async throws(OCIError) -> (Digest, AnyManifest, Bool) {
        let at = "\(repository)@\(md)"
        guard manifestLayer.size <= Self.maxBundleManifestBytes else {
            throw .invalidManifest(reference: at, reason: "its bundle manifest layer claims \(manifestLayer.size) bytes, over the "
                                   + "\(Self.maxBundleManifestBytes >> 20) MiB limit; nothing was imported")
        }
        let bytes = try await client.fetchBlob(repository: repository, digest: manifestLayer.digest, maxBytes: Self.maxBundleManifestBytes)
        let artifact = manifestLayer.digest
        let manifest = try Self.canonicalManifest(bytes, digest: artifact, what: "bundle manifest layer", at: at)
        guard case .bundle = manifest else {
            throw .invalidManifest(reference: at, reason: "its first layer is typed as a bundle manifest but holds a \(manifest.kind.rawValue); nothing was imported")
        }
        if isLocal(artifact) { return (artifact, manifest, true) }

        let layers = Dictionary(oci.layers.map { ($0.digest, $0) }, uniquingKeysWith: { a, _ in a })
        let lengths = Self.decodedLengths(manifest)
        let tensors = Self.floatTensors(manifest)
        // Check the whole table before downloading anything.
        for content in manifest.blobReferences {
            guard let layer = layers[content] else {
                throw .invalidManifest(reference: at, reason: "no layer carries blob \(content.short) that the bundle manifest references; nothing was imported")
            }
            if let n = lengths[content], Int64(n) != layer.size {
                throw .invalidManifest(reference: at, reason: "layer \(content.short) is \(layer.size) bytes, but the bundle manifest says \(n); nothing was imported")
            }
        }
        let missing = manifest.blobReferences.filter { !local.hasIntactBlob($0) }
        _ = try await forEachConcurrently(missing) { (content) async throws(OCIError) -> Bool in
            let layer = layers[content]!
            let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("glossa-pull-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: tmp) }
            // Verified against `content` (its digest) and the declared size while streaming.
            try await client.pullBlob(repository: repository, digest: content, expectedSize: layer.size, to: tmp)
            let raw = try Self.readFrame(tmp)
            let type: BlobElementType
            if let (name, dtype) = tensors[content] {
                if let bad = raw.withUnsafeBytes({ dtype.firstNonFinite(in: $0) }) {
                    throw .localRegistry("blob \(content.short) from \(at) was refused: tensor \(name) has a \(bad.value) value at "
                                         + "element \(bad.index); a bundle must hold finite weights. Nothing was imported")
                }
                type = .tensor(dtype)
            } else {
                type = .opaque
            }
            do { _ = try local.putBlob(raw, as: type) } catch { throw .localRegistry("blob \(content.short) from \(at) was refused: \(error)") }
            return true
        }
        do { try local.publish(manifest) } catch { throw .localRegistry(error.description) }
        pulled.append((artifact, md))
        return (artifact, manifest, false)
    }

    /// The signature layers of the bundle image at `md` (none for other artifacts), each at
    /// most `OCIAttachment.maxBytes` and checked against its digest.
    public func carriedSignatures(_ md: Digest, repository: String) async throws(OCIError) -> [Data] {
        let f = try await client.getManifest(repository: repository, reference: md.description)
        guard let oci = try? JSONDecoder().decode(OCIImageManifest.self, from: f.data), GlossaOCI.bundleManifestLayer(of: oci) != nil else {
            return []
        }
        var out: [Data] = []
        for l in GlossaOCI.bundleSignatureLayers(of: oci) where l.size <= OCIAttachment.maxBytes {
            out.append(try await client.fetchBlob(repository: repository, digest: l.digest, maxBytes: OCIAttachment.maxBytes))
        }
        return out
    }
}
