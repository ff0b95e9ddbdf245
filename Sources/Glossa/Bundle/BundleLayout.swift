import Foundation
import GlossaCore
import OCI

/// A bundle on disk is an OCI image layout (image-spec v1.1), as a folder or one `.tar` of
/// the same tree, so skopeo, oras and registries can read, copy and push it:
///
///     PATH/
///       oci-layout            {"imageLayoutVersion":"1.0.0"}
///       index.json            image index with one manifest, ref.name = the bundle version
///       blobs/sha256/<hex>    every blob; raw bytes (tensors little-endian, mapped in place)
///
/// The one OCI manifest:
///
///     config     application/vnd.oci.image.config.v1+json   a minimal image config (no runnable
///                filesystem) whose labels name the bundle: image tools such as `skopeo inspect`
///                refuse configs of other media types, and this costs nothing
///     layers[0]  application/vnd.glossa.bundle.v1+json      the bundle manifest (canonical JSON);
///                its digest is the bundle's identity and what a signature covers
///     layers[1…] tensors, tokenizer, files: each blob once, in the order of `blobReferences`
///     layers[n]  application/vnd.glossa.signature.minisign.v1  optional: a minisign signature of
///                layers[0]'s bytes; every other blob is pinned by digest in layers[0]
///
/// The blob path is a pure function of the digest: `blobs/sha256/<64 hex>`.
public enum BundleLayout {
    public static let layoutFile = "oci-layout"
    public static let indexFile = "index.json"
    public static let layoutJSON = #"{"imageLayoutVersion":"1.0.0"}"#

    public static let imageConfigMediaType = GlossaOCI.imageConfigMediaType
    public static let artifactType = GlossaOCI.bundleArtifactType
    public static let manifestMediaType = GlossaOCI.bundleManifestMediaType
    public static let tensorMediaType = "application/vnd.glossa.tensor.v1"
    public static let tokenizerMediaType = "application/vnd.glossa.tokenizer.v1+json"
    public static let signatureMediaType = GlossaOCI.signatureMediaType
    public static let refNameAnnotation = "org.opencontainers.image.ref.name"
    public static let titleAnnotation = "org.opencontainers.image.title"

    /// `blobs/sha256/<hex>` for `digest`.
    public static func blobPath(_ digest: Digest) -> String { "blobs/sha256/" + digest.hex }

    /// True when `path` looks like a bundle: a folder holding `oci-layout`, or a `.tar` file.
    public static func isBundle(_ path: String) -> Bool {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else { return false }
        if isDir.boolValue { return FileManager.default.fileExists(atPath: path + "/" + layoutFile) }
        return path.hasSuffix(".tar")
    }

    /// The minimal OCI image config that carries the bundle's name as labels.
    struct ImageConfig: Codable {
        struct RootFS: Codable { var type = "layers"; var diff_ids: [String] = [] }
        struct Config: Codable { var Labels: [String: String] }
        var architecture = "unknown"
        var os = "unknown"
        var created: String
        var config: Config
        var rootfs = RootFS()
    }

    /// The OCI image index (`index.json`).
    struct Index: Codable {
        var schemaVersion = 2
        var mediaType: String? = OCIMediaType.imageIndex
        var manifests: [OCIDescriptor]
    }
}
