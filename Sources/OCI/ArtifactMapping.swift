import Foundation
import GlossaCore

/// How a Glossa artifact looks as an OCI artifact (image-spec 1.1 image manifest):
///
///     manifest  mediaType   application/vnd.oci.image.manifest.v1+json
///               artifactType application/vnd.glossa.<kind>.v1+json      (kind: base, expert, ...)
///               config      application/vnd.glossa.manifest.v1+json     our canonical manifest JSON;
///                           so the OCI config digest IS the Glossa artifact digest
///               layers[i]   application/vnd.glossa.blob.frame.v1        one stored blob, as the local
///                           store holds it (BlobCodec frame: byte-grouped + zstd/rANS), so weights
///                           travel compressed; layer digest = sha256 of the frame bytes;
///                           annotation org.glossa.content.digest = sha256 of the decoded bytes
///                           (the digest the store and manifests use)
///               annotations org.opencontainers.image.{title,version,description,created,licenses},
///                           org.glossa.{kind,name,version,languages,base,artifact.digest,requires}
///
/// `org.glossa.requires` lists the artifacts this one needs in the registry (base, inputs)
/// as `<glossa digest>=<OCI manifest digest>` pairs separated by commas, all pushed to the
/// same repository, so a pull can fetch them first.
///
/// A signature (`glossa sign REF`) travels as a referrer of the artifact's OCI manifest:
///
///     manifest  mediaType   application/vnd.oci.image.manifest.v1+json
///               artifactType application/vnd.glossa.signature.v1
///               config      application/vnd.oci.empty.v1+json   `{}`
///               layers[0]   application/vnd.glossa.signature.minisign.v1   the .minisig file, a
///                           minisign signature of the config blob (the Glossa manifest)
///               subject     the artifact's OCI manifest (digest, size, media type)
///               annotations org.glossa.artifact.digest, org.glossa.signature.key (key id)
///
/// found with `GET /v2/<name>/referrers/<manifest digest>`, or on registries without that
/// API (Docker Distribution 2.x) in the image index tagged `sha256-<manifest hex>`.
///
/// A bundle (`glossa export`) is an OCI image instead, so that image tools (skopeo) copy it:
///
///     manifest  artifactType application/vnd.glossa.bundle.v1
///               config      application/vnd.oci.image.config.v1+json   a minimal image config
///               layers[0]   application/vnd.glossa.bundle.v1+json      the bundle manifest (canonical
///                           JSON; its digest is the Glossa artifact digest)
///               layers[1…]  raw blobs (tensors, tokenizer, files): layer digest = content digest
///               layers[n]   application/vnd.glossa.signature.minisign.v1   optional signature of layers[0]
///
/// `glossa pull` takes both shapes; a bundle image keeps its digests (see `pullBundleImage`).
public enum GlossaOCI {
    public static let configMediaType = "application/vnd.glossa.manifest.v1+json"
    public static let blobFrameMediaType = "application/vnd.glossa.blob.frame.v1"
    public static func artifactType(_ kind: ManifestKind) -> String { "application/vnd.glossa.\(kind.rawValue).v1+json" }
    public static let artifactTypePrefix = "application/vnd.glossa."
    /// The artifact type of signature referrers, and the media type of their one layer
    /// (the same as a bundle's signature layer: both hold a `.minisig` file).
    public static let signatureArtifactType = "application/vnd.glossa.signature.v1"
    public static let signatureMediaType = "application/vnd.glossa.signature.minisign.v1"
    /// A bundle image: its artifact type, config type, and the media type of its first
    /// layer (the bundle manifest).
    public static let bundleArtifactType = "application/vnd.glossa.bundle.v1"
    public static let imageConfigMediaType = "application/vnd.oci.image.config.v1+json"
    public static let bundleManifestMediaType = "application/vnd.glossa.bundle.v1+json"

    /// The bundle manifest layer of a bundle image (layers[0] with the bundle manifest media
    /// type under an image config); nil for anything else.
    public static func bundleManifestLayer(of m: OCIImageManifest) -> OCIDescriptor? {
        guard m.config.mediaType == imageConfigMediaType, let first = m.layers.first,
              first.mediaType == bundleManifestMediaType else { return nil }
        return first
    }

    /// The signature layers a bundle image carries (each a `.minisig` of layers[0]).
    public static func bundleSignatureLayers(of m: OCIImageManifest) -> [OCIDescriptor] {
        m.layers.dropFirst().filter { $0.mediaType == signatureMediaType }
    }

    public enum Annotation {
        public static let title = "org.opencontainers.image.title"
        public static let version = "org.opencontainers.image.version"
        public static let description = "org.opencontainers.image.description"
        public static let created = "org.opencontainers.image.created"
        public static let licenses = "org.opencontainers.image.licenses"
        public static let kind = "org.glossa.kind"
        public static let name = "org.glossa.name"
        public static let glossaVersion = "org.glossa.version"
        public static let languages = "org.glossa.languages"
        public static let base = "org.glossa.base"
        public static let artifactDigest = "org.glossa.artifact.digest"
        public static let requires = "org.glossa.requires"
        public static let contentDigest = "org.glossa.content.digest"
        public static let signatureKey = "org.glossa.signature.key"
    }

    /// Annotations describing `manifest` (whose canonical digest is `digest`).
    public static func annotations(for manifest: AnyManifest, digest: Digest, requires: [(Digest, Digest)]) -> [String: String] {
        var a: [String: String] = [
            Annotation.kind: manifest.kind.rawValue,
            Annotation.artifactDigest: digest.description,
        ]
        if let c = manifest.created { a[Annotation.created] = c }
        if let n = manifest.name { a[Annotation.name] = n; a[Annotation.title] = n }
        if let v = manifest.version { a[Annotation.glossaVersion] = v; a[Annotation.version] = v }
        if !manifest.languages.isEmpty { a[Annotation.languages] = manifest.languages.joined(separator: ",") }
        if let b = manifest.base { a[Annotation.base] = b.description }
        switch manifest {
        case .expert(let m):
            a[Annotation.licenses] = m.license
            if !m.description.isEmpty { a[Annotation.description] = m.description }
        default: break
        }
        if !requires.isEmpty {
            a[Annotation.requires] = requires.map { "\($0.0)=\($0.1)" }.joined(separator: ",")
        }
        return a
    }

    /// Parses `org.glossa.requires`.
    static func parseRequires(_ text: String?) throws(OCIError) -> [(artifact: Digest, manifest: Digest)] {
        guard let text, !text.isEmpty else { return [] }
        var out: [(Digest, Digest)] = []
        for pair in text.split(separator: ",") {
            let parts = pair.split(separator: "=")
            guard parts.count == 2, let a = try? Digest(parsing: String(parts[0])), let m = try? Digest(parsing: String(parts[1])) else {
                throw .invalidManifest(reference: text, reason: "\(Annotation.requires) entry '\(pair)' is not <digest>=<digest>")
            }
            out.append((a, m))
        }
        return out
    }

    /// Deterministic JSON for an OCI manifest (sorted keys), so the same artifact always
    /// has the same OCI manifest digest.
    static func encode(_ m: OCIImageManifest) throws(OCIError) -> Data {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do { return try e.encode(m) } catch { throw .invalidManifest(reference: "new", reason: "\(error)") }
    }
}

/// What `glossa list --remote` shows for one tag.
public struct RemoteArtifact: Sendable, Equatable {
    public var tag: String
    /// OCI manifest digest.
    public var manifestDigest: Digest
    /// Glossa artifact digest (the config digest).
    public var artifactDigest: Digest
    public var kind: String?
    public var name: String?
    public var version: String?
    public var languages: [String]
    public var base: Digest?
    public var created: String?
    /// Sum of layer sizes as transferred.
    public var size: Int64
}
