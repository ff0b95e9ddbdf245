import Foundation
import GlossaCore
import Store
import TensorIO

/// The embedded registry as users see it: base models and experts on top of the
/// content-addressed store. Every Store / TensorIO error is wrapped here once, with the
/// ref or path concerned.
public struct Registry: Sendable {
    public let store: LocalRegistry
    public let root: URL

    /// Opens the registry folder at `root`. Only commands that write (import, pull) pass
    /// `create`, which makes a registry of a new or empty folder; otherwise a folder that
    /// is not a registry is refused (not found) and left untouched.
    public init(root: URL, create: Bool = false) throws(GlossaError) {
        self.root = root
        do { store = try LocalRegistry(root: root.path, create: create) } catch { throw Self.wrap(error, "Cannot open registry \(root.path)") }
    }

    static func wrap(_ error: StoreError, _ context: String) -> GlossaError {
        let category: GlossaError.Category
        switch error {
        case .unknownRef, .blobMissing, .missingArtifact, .notARegistry: category = .notFound
        case .invalidManifest, .invalidRef, .ambiguousRef, .versionConflict, .digestMismatch, .blobCorrupt: category = .invalidInput
        // The blobs an import had just stored were collected by a concurrent gc: retry.
        case .missingBlobs: category = .busy
        case .inUse: category = .invalidInput
        case .catalog, .io, .badRegistry: category = .failure
        @unknown default: category = .failure
        }
        return GlossaError(category, "\(context): \(error)")
    }

    static func wrap(_ error: TensorIOError, _ context: String) -> GlossaError {
        GlossaError(.invalidInput, "\(context): \(error)")
    }

    static func now() -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        return f.string(from: Date())
    }

    // MARK: Queries

    public func resolve(_ ref: String) throws(GlossaError) -> Digest {
        do { return try store.resolve(ref) } catch { throw Self.wrap(error, "Cannot resolve '\(ref)'") }
    }

    public func list(_ filter: ArtifactFilter) throws(GlossaError) -> [ArtifactSummary] {
        do { return try store.list(filter) } catch { throw Self.wrap(error, "Cannot list \(root.path)") }
    }

    public func show(_ ref: String) throws(GlossaError) -> ArtifactDetail {
        do { return try store.show(ref) } catch { throw Self.wrap(error, "Cannot show '\(ref)'") }
    }

    public func tag(_ ref: String, as tag: String) throws(GlossaError) -> TagChange {
        do { return try store.tag(ref, as: tag) } catch { throw Self.wrap(error, "Cannot tag '\(ref)' as '\(tag)'") }
    }

    /// Removes `ref` from the catalog, and its signatures with it (its blobs go at the next gc).
    public func remove(_ ref: String) throws(GlossaError) -> ArtifactSummary {
        let removed: ArtifactSummary
        do { removed = try store.remove(ref) } catch { throw Self.wrap(error, "Cannot remove '\(ref)'") }
        try? FileManager.default.removeItem(at: signatureFolder(removed.digest))
        return removed
    }

    public func verify(repair: Bool) throws(GlossaError) -> VerifyReport {
        do { return try store.verify(repair: repair) } catch { throw Self.wrap(error, "Cannot verify \(root.path)") }
    }

    /// Collects unreferenced blobs (`LocalRegistry.gc`), then the signatures of artifacts no
    /// longer catalogued (left by an rm that was interrupted, or by older versions), once
    /// their folder is older than the grace period (a pull stores signatures after publishing).
    public func gc(dryRun: Bool, gracePeriod: TimeInterval) throws(GlossaError) -> GCReport {
        var report: GCReport
        do { report = try store.gc(dryRun: dryRun, gracePeriod: gracePeriod) } catch { throw Self.wrap(error, "Cannot collect garbage in \(root.path)") }
        let fm = FileManager.default
        for hex in ((try? fm.contentsOfDirectory(atPath: signaturesFolder.path)) ?? []).sorted() {
            guard let d = try? Digest(parsing: "sha256:" + hex), (try? store.summary(d.description)) == nil else { continue }
            let folder = signatureFolder(d)
            let modified = (try? fm.attributesOfItem(atPath: folder.path)[.modificationDate] as? Date) ?? Date()
            guard modified.timeIntervalSinceNow < -gracePeriod else { continue }
            if !dryRun {
                do { try fm.removeItem(at: folder) } catch {
                    throw GlossaError(.failure, "Cannot remove the signatures of \(d.short) (\(folder.path)): \(error.localizedDescription); check its permissions")
                }
            }
            report.removedSignatures.append(d)
        }
        return report
    }

    public func reindex() throws(GlossaError) -> ReindexReport {
        do { return try store.reindex() } catch { throw Self.wrap(error, "Cannot reindex \(root.path)") }
    }

    /// The base the artifact `digest` runs on in this registry: the catalogued base it is
    /// recorded on, which is the base its manifest names or, for an artifact made in
    /// another registry, this registry's base with the same weights (see
    /// `LocalRegistry.attachedBase`). Load, compare and export bases through this, never
    /// through the manifest's `base` (which may not be catalogued here).
    public func attachedBase(of digest: Digest) throws(GlossaError) -> Digest {
        let s: ArtifactSummary
        do { s = try store.summary(digest.description) } catch { throw Self.wrap(error, "Cannot find the base of \(digest.short)") }
        guard let b = s.base else {
            throw GlossaError(.invalidInput, "\(Self.label(s)) is a \(s.kind.rawValue), which has no base model; give an expert or composite")
        }
        return b
    }

    static func label(_ s: ArtifactSummary) -> String { s.name.map { "\($0):\(s.version ?? "")" } ?? s.digest.short }

    /// `BaseManifest.weightsDigest` of the base `digest`, for the `base_weights` of new
    /// experts and composites.
    func baseWeights(_ digest: Digest) throws(GlossaError) -> Digest {
        guard case .base(let m) = try manifest(digest) else {
            throw GlossaError(.invalidInput, "\(digest.short) is not a base model; give a base such as whisper-base")
        }
        return m.weightsDigest
    }

    func manifest(_ digest: Digest) throws(GlossaError) -> AnyManifest {
        do { return try store.manifest(digest) } catch { throw Self.wrap(error, "Cannot read manifest \(digest.short)") }
    }
}
