import DurableFiles
import Foundation
import GlossaCore
import OCI
import TensorIO

/// Writes a bundle (see `BundleLayout`) so that nothing half-written is ever visible:
/// blobs go into a hidden staging folder beside the destination (same filesystem), each
/// fsynced; `finish` adds the manifests and renames the folder into place (or streams it
/// into a `.tar` written by `AtomicFileWriter`). Any error, or `abandon()`, removes the
/// staging folder; an existing destination is untouched until the final rename.
final class BundleWriter {
    let destination: URL
    let asTar: Bool
    let force: Bool
    let staging: URL
    /// Blob descriptors in the order added (each digest once).
    private(set) var layers: [OCIDescriptor] = []
    private var seen: Set<Digest> = []
    private var finished = false

    init(destination: URL, force: Bool) throws(BundleError) {
        self.destination = destination
        self.force = force
        asTar = destination.pathExtension == "tar"
        let fm = FileManager.default
        if fm.fileExists(atPath: destination.path) && !force { throw .exists(path: destination.path) }
        let parent = destination.deletingLastPathComponent()
        do { try fm.createDirectory(at: parent, withIntermediateDirectories: true) } catch {
            throw .io(path: parent.path, message: "cannot create the output folder: \(error.localizedDescription)")
        }
        staging = URL(fileURLWithPath: AtomicDirectory.stagingPath(for: destination.path))
        do { try fm.createDirectory(at: staging.appendingPathComponent("blobs/sha256"), withIntermediateDirectories: true) } catch {
            throw .io(path: staging.path, message: "cannot create the staging folder: \(error.localizedDescription)")
        }
    }

    deinit { if !finished { abandon() } }

    /// Removes the staging folder; the destination is left as it was.
    func abandon() {
        finished = true
        try? FileManager.default.removeItem(at: staging)
    }

    /// Stores `bytes` as a blob (once per digest) and lists it as a layer.
    @discardableResult
    func put(_ bytes: Data, mediaType: String, title: String? = nil) throws(BundleError) -> (digest: Digest, size: Int) {
        let d = Digest(of: bytes)
        if seen.insert(d).inserted {
            try writeBlob(bytes, digest: d)
            layers.append(OCIDescriptor(mediaType: mediaType, digest: d, size: Int64(bytes.count),
                                        annotations: title.map { [BundleLayout.titleAnnotation: $0] }))
        }
        return (d, bytes.count)
    }

    private func writeBlob(_ bytes: Data, digest: Digest) throws(BundleError) {
        let path = staging.appendingPathComponent(BundleLayout.blobPath(digest)).path
        do { try AtomicFileWriter.write(bytes, to: path) } catch { throw .io(path: path, message: "\(error)") }
    }

    /// Writes the manifest layer first, the signature last, the image config, OCI manifest,
    /// index and layout file, then moves everything into place. Returns the bundle manifest
    /// digest and the OCI manifest digest.
    func finish(manifest: BundleManifest, manifestBytes: [UInt8],
                signature: MinisignSignature?) throws(BundleError) -> (bundle: Digest, oci: Digest) {
        let bundleDigest = Digest(of: manifestBytes)
        try writeBlob(Data(manifestBytes), digest: bundleDigest)
        var all = [OCIDescriptor(mediaType: BundleLayout.manifestMediaType, digest: bundleDigest, size: Int64(manifestBytes.count),
                                 annotations: [BundleLayout.titleAnnotation: "bundle.json"])]
        all += layers.filter { $0.digest != bundleDigest }
        if let signature {
            let bytes = Data(signature.fileText.utf8)
            let d = Digest(of: bytes)
            try writeBlob(bytes, digest: d)
            all.append(OCIDescriptor(mediaType: BundleLayout.signatureMediaType, digest: d, size: Int64(bytes.count),
                                     annotations: [BundleLayout.titleAnnotation: "bundle.json.minisig"]))
        }
        let ociDigest = try writeManifests(manifest: manifest, bundleDigest: bundleDigest, layers: all)
        try moveIntoPlace()
        return (bundleDigest, ociDigest)
    }

    private func writeManifests(manifest: BundleManifest, bundleDigest: Digest, layers all: [OCIDescriptor]) throws(BundleError) -> Digest {
        let labels = [
            "org.glossa.kind": "bundle", "org.glossa.name": manifest.name, "org.glossa.version": manifest.version,
            "org.glossa.languages": manifest.languages.joined(separator: ","), "org.glossa.artifact.digest": bundleDigest.description,
        ]
        let config = BundleLayout.ImageConfig(created: manifest.created, config: .init(Labels: labels))
        let configBytes: Data
        do { configBytes = Data(try ManifestCoding.canonicalJSON(config)) } catch { throw .io(path: staging.path, message: "\(error)") }
        let configDigest = Digest(of: configBytes)
        try writeBlob(configBytes, digest: configDigest)
        var annotations = labels
        annotations["org.opencontainers.image.title"] = manifest.name
        annotations["org.opencontainers.image.version"] = manifest.version
        annotations["org.opencontainers.image.created"] = manifest.created
        if !manifest.description.isEmpty { annotations["org.opencontainers.image.description"] = manifest.description }
        let configDescriptor = OCIDescriptor(mediaType: BundleLayout.imageConfigMediaType, digest: configDigest, size: Int64(configBytes.count))
        let oci = OCIImageManifest(artifactType: BundleLayout.artifactType, config: configDescriptor, layers: all, annotations: annotations)
        let ociBytes: Data
        do { ociBytes = Data(try ManifestCoding.canonicalJSON(oci)) } catch { throw .io(path: staging.path, message: "\(error)") }
        let ociDigest = Digest(of: ociBytes)
        try writeBlob(ociBytes, digest: ociDigest)
        let index = BundleLayout.Index(manifests: [OCIDescriptor(
            mediaType: OCIMediaType.imageManifest, digest: ociDigest, size: Int64(ociBytes.count),
            annotations: [BundleLayout.refNameAnnotation: manifest.version], artifactType: BundleLayout.artifactType)])
        do {
            let indexPath = staging.appendingPathComponent(BundleLayout.indexFile).path
            try AtomicFileWriter.write(Data(try ManifestCoding.canonicalJSON(index)), to: indexPath)
            try AtomicFileWriter.write(Data(BundleLayout.layoutJSON.utf8), to: staging.appendingPathComponent(BundleLayout.layoutFile).path)
        } catch { throw .io(path: staging.path, message: "\(error)") }
        return ociDigest
    }

    private func moveIntoPlace() throws(BundleError) {
        let fm = FileManager.default
        if asTar {
            do {
                let blobs = try fm.contentsOfDirectory(atPath: staging.appendingPathComponent("blobs/sha256").path).sorted()
                let entries = [BundleLayout.layoutFile, BundleLayout.indexFile, "blobs/", "blobs/sha256/"]
                    + blobs.map { "blobs/sha256/" + $0 }
                let w = try AtomicFileWriter(path: destination.path)
                try TarArchive.write(folder: staging, entries: entries, to: w, mtime: Int(Date().timeIntervalSince1970))
                try w.commit()
            } catch { throw .io(path: destination.path, message: "cannot write the archive: \(error)") }
            abandon()
            return
        }
        do { try AtomicDirectory.moveIntoPlace(staging.path, at: destination.path) } catch {
            throw .io(path: destination.path, message: "cannot move the bundle into place: \(error)")
        }
        finished = true
    }
}
