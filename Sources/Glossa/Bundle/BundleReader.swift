import Foundation
import GlossaCore
import OCI
import TensorIO

/// Opens a bundle folder or `.tar` (see `BundleLayout`) without any registry. Blobs are
/// memory-mapped (a `.tar` is mapped once; its 512-byte-aligned entries are sliced in
/// place), and every blob handed out has had its digest re-checked, so an altered or
/// missing blob is refused by name.
public final class BundleReader: @unchecked Sendable {
    public let path: String
    public let manifest: BundleManifest
    /// sha256 of the bundle manifest bytes: the bundle's identity.
    public let manifestDigest: Digest
    public let manifestBytes: [UInt8]
    public let ociManifest: OCIImageManifest
    public let ociDigest: Digest
    /// The embedded signature, if the bundle is signed.
    public let signature: MinisignSignature?
    /// Digest -> what the blob holds, for messages.
    public let roles: [Digest: String]

    private enum Source {
        case folder(URL)
        case tar(MappedFile, [String: Range<Int>])
    }
    private let source: Source

    public init(path: String) throws(BundleError) {
        self.path = path
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw .missing(path: path)
        }
        if isDir.boolValue {
            source = .folder(URL(fileURLWithPath: path))
        } else {
            let file: MappedFile
            do { file = try MappedFile(path: path) } catch { throw .io(path: path, message: "\(error)") }
            source = .tar(file, try TarArchive.index(file))
        }
        guard let layout = Self.read(source, BundleLayout.layoutFile),
              (try? JSONSerialization.jsonObject(with: layout) as? [String: Any])?["imageLayoutVersion"] as? String == "1.0.0" else {
            throw .notABundle(path: path, reason: "no valid \(BundleLayout.layoutFile) file (an OCI image layout has one)")
        }
        guard let indexBytes = Self.read(source, BundleLayout.indexFile) else { throw .notABundle(path: path, reason: "no index.json") }
        let index: BundleLayout.Index
        do { index = try JSONDecoder().decode(BundleLayout.Index.self, from: indexBytes) } catch {
            throw .damaged(path: path, reason: "index.json is not an OCI image index: \(error)")
        }
        guard let top = index.manifests.first(where: { $0.artifactType == BundleLayout.artifactType }) ?? index.manifests.first else {
            throw .notABundle(path: path, reason: "index.json lists no manifest")
        }
        let ociBytes = try Self.checked(source, top.digest, role: "OCI manifest", path: path)
        do { ociManifest = try JSONDecoder().decode(OCIImageManifest.self, from: ociBytes) } catch {
            throw .damaged(path: path, reason: "the OCI manifest \(top.digest.short) is not an image manifest: \(error)")
        }
        ociDigest = top.digest
        guard let first = ociManifest.layers.first, first.mediaType == BundleLayout.manifestMediaType else {
            throw .notABundle(path: path, reason: "its first layer is not a Glossa bundle manifest (\(BundleLayout.manifestMediaType))")
        }
        let bytes = try Self.checked(source, first.digest, role: "bundle manifest", path: path)
        manifestBytes = Array(bytes)
        manifestDigest = first.digest
        do { manifest = try ManifestCoding.decode(BundleManifest.self, from: bytes) } catch {
            throw .invalidManifest(path: path, reason: error.description)
        }
        if let s = ociManifest.layers.first(where: { $0.mediaType == BundleLayout.signatureMediaType }) {
            let sigBytes = try Self.checked(source, s.digest, role: "signature", path: path)
            do { signature = try MinisignSignature(fileText: String(decoding: sigBytes, as: UTF8.self), path: "\(path) signature") } catch {
                throw .signature(error)
            }
        } else {
            signature = nil
        }
        roles = Self.roles(of: manifest)
    }

    /// What each blob of `m` holds, e.g. `tensor model.encoder.conv1.weight`.
    static func roles(of m: BundleManifest) -> [Digest: String] {
        var r: [Digest: String] = [m.model.tokenizer: "tokenizer.json"]
        for (n, t) in m.model.tensors { r[t.digest] = r[t.digest] ?? "tensor \(n)" }
        for a in m.adapters {
            for (module, t) in a.tensors {
                r[t.a.digest] = r[t.a.digest] ?? "adapter \(a.name):\(a.version) \(module).lora_A"
                r[t.b.digest] = r[t.b.digest] ?? "adapter \(a.name):\(a.version) \(module).lora_B"
            }
        }
        for (p, f) in m.files { r[f.digest] = r[f.digest] ?? "file \(p)" }
        return r
    }

    private static func read(_ source: Source, _ name: String) -> Data? {
        switch source {
        case .folder(let url):
            let p = url.appendingPathComponent(name).path
            guard FileManager.default.fileExists(atPath: p), let f = try? MappedFile(path: p) else { return nil }
            return f.data(in: 0 ..< f.count)
        case .tar(let file, let entries):
            return entries[name].map { file.data(in: $0) }
        }
    }

    private static func checked(_ source: Source, _ d: Digest, role: String, path: String) throws(BundleError) -> Data {
        guard let data = read(source, BundleLayout.blobPath(d)) else { throw .blobMissing(digest: d.description, role: role) }
        let actual = Digest(of: data)
        guard actual == d else { throw .blobAltered(digest: d.description, role: role, actual: actual.description) }
        return data
    }

    /// The bytes of blob `d`, digest re-checked, mapped rather than copied.
    public func blob(_ d: Digest) throws(BundleError) -> Data {
        try Self.checked(source, d, role: roles[d] ?? "blob", path: path)
    }

    /// A tensor's bytes as `TensorData` (mapped; size and digest checked).
    public func tensor(_ e: TensorEntry) throws(BundleError) -> TensorData {
        let data = try blob(e.digest)
        guard data.count == e.byteCount else {
            throw .blobSize(digest: e.digest.description, role: roles[e.digest] ?? "tensor", expected: e.byteCount, actual: data.count)
        }
        return TensorData(dtype: e.dtype, shape: e.shape, bytes: data)
    }

    /// Checks the embedded signature of the manifest bytes with `key`.
    public func verifySignature(_ key: MinisignPublicKey) throws(BundleError) {
        guard let signature else { throw .signature(.unsigned(subject: "bundle \(path)")) }
        do { try signature.verify(manifestBytes, with: key, subject: "the manifest of bundle \(path)") } catch { throw .signature(error) }
    }

    /// Every problem found: each blob of the OCI manifest and of the bundle manifest
    /// (present, size, digest), then the signature when `key` is given. Empty: clean.
    public func verify(key: MinisignPublicKey?, progress: (Int, Int) -> Void = { _, _ in }) -> [BundleError] {
        var problems: [BundleError] = []
        var sizes: [Digest: Int] = [:]
        for l in ociManifest.layers { sizes[l.digest] = Int(l.size) }
        for (_, t) in manifest.model.tensors { sizes[t.digest] = t.byteCount }
        for a in manifest.adapters { for t in a.tensors.values { sizes[t.a.digest] = t.a.byteCount; sizes[t.b.digest] = t.b.byteCount } }
        for f in manifest.files.values { sizes[f.digest] = f.size }
        let all = Set(ociManifest.layers.map(\.digest)).union(manifest.blobReferences).union([ociManifest.config.digest]).sorted()
        for (i, d) in all.enumerated() {
            let role = roles[d] ?? (d == ociManifest.config.digest ? "OCI image config" : "layer")
            do {
                let data = try Self.checked(source, d, role: role, path: path)
                if let s = sizes[d], s != data.count {
                    problems.append(.blobSize(digest: d.description, role: role, expected: s, actual: data.count))
                }
            } catch { problems.append(error) }
            progress(i + 1, all.count)
        }
        if !Set(manifest.blobReferences).isSubset(of: Set(ociManifest.layers.map(\.digest))) {
            problems.append(.damaged(path: path, reason: "the OCI manifest does not list every blob the bundle manifest names"))
        }
        if let key {
            do { try verifySignature(key) } catch { problems.append(error) }
        }
        return problems
    }

    /// Bytes of every blob on disk (deduplicated), for reports.
    public var totalBytes: Int {
        ociManifest.layers.reduce(0) { $0 + Int($1.size) } + Int(ociManifest.config.size)
    }
}
