import Foundation
import GlossaCore

/// A storage back end for blobs keyed by digest (STYLE.md habit 4, after
/// distribution's storage drivers). Blobs are opaque stored bytes here: the registry
/// above encodes them with `BlobCodec`. The driver also keeps a *manifest index*, the
/// set of digests whose blobs are manifests, so a catalog can be rebuilt from storage.
///
/// Writes go through `beginWrite()`: bytes are written to a private temporary object,
/// and `commit(as:contentDigest:)` re-reads them, checks the digest and only then makes
/// them visible, atomically and durably. Readers never see partial blobs.
///
/// Drivers must be safe to use from many threads and many processes at once.
public protocol BlobDriver: Sendable {
    /// Stored bytes of a blob, or nil when absent.
    func get(_ digest: Digest) throws(StoreError) -> [UInt8]?
    /// Size of a stored blob, or nil when absent.
    func stat(_ digest: Digest) throws(StoreError) -> BlobStat?
    /// Every stored blob digest, sorted.
    func list() throws(StoreError) -> [Digest]
    /// Removes a blob; absent blobs are not an error.
    func delete(_ digest: Digest) throws(StoreError)
    /// Starts a write. Commit or cancel it.
    func beginWrite() throws(StoreError) -> any BlobWrite
    /// Where a blob lives, for messages (a path or URL).
    func location(of digest: Digest) -> String

    /// Adds a digest to the manifest index (durably).
    func indexManifest(_ digest: Digest) throws(StoreError)
    /// Removes a digest from the manifest index; absent is not an error.
    func unindexManifest(_ digest: Digest) throws(StoreError)
    /// Every digest in the manifest index, sorted.
    func indexedManifests() throws(StoreError) -> [Digest]
    /// Records durably that the publish of indexed manifest `digest` was acknowledged (its
    /// catalog row committed). Idempotent. Without a catalog, this is what tells the
    /// acknowledged publish of a name:version from one killed before its catalog write.
    func acknowledgeManifest(_ digest: Digest) throws(StoreError)
    /// The indexed manifests whose publish was acknowledged.
    func acknowledgedManifests() throws(StoreError) -> Set<Digest>

    /// Points tag `name:tag` at `digest` (atomically replacing any previous target).
    func setTag(name: String, tag: String, digest: Digest) throws(StoreError)
    /// Removes a tag; absent is not an error.
    func removeTag(name: String, tag: String) throws(StoreError)
    /// Every tag, sorted by name then tag.
    func tags() throws(StoreError) -> [TagRecord]

    /// Temporary objects left by interrupted writes that are older than `date`.
    func staleTemporaries(olderThan date: Date) throws(StoreError) -> [TemporaryObject]
    /// Removes a temporary object.
    func removeTemporary(_ t: TemporaryObject) throws(StoreError)
}

/// An in-progress write. Not shared between threads.
public protocol BlobWrite: AnyObject {
    /// Appends bytes.
    func write(_ bytes: UnsafeRawBufferPointer) throws(StoreError)
    /// Re-reads what was written, checks `contentDigest(bytes) == digest`, then makes the
    /// blob durable and visible under `digest`. If the blob already exists and its stored
    /// bytes pass the same check, the write is dropped (content addressing: same digest,
    /// same content); a stored blob that fails it is damaged and is replaced. Throws
    /// `digestMismatch` (and stores nothing) when the check fails.
    func commit(as digest: Digest, contentDigest: (UnsafeRawBufferPointer) throws(StoreError) -> Digest) throws(StoreError)
    /// Discards the write.
    func cancel()
}

extension BlobWrite {
    public func write(_ bytes: [UInt8]) throws(StoreError) {
        do { try bytes.withUnsafeBytes { try write($0) } } catch { throw error as! StoreError }
    }
}

extension BlobDriver {
    /// Writes and commits `bytes` in one call.
    public func put(_ bytes: [UInt8], as digest: Digest,
                    contentDigest: (UnsafeRawBufferPointer) throws(StoreError) -> Digest = { Digest(of: $0) }) throws(StoreError) {
        let w = try beginWrite()
        do {
            try w.write(bytes)
            try w.commit(as: digest, contentDigest: contentDigest)
        } catch {
            w.cancel()
            throw error
        }
    }
}

/// Size and age of a stored blob.
public struct BlobStat: Sendable, Equatable {
    /// Stored (encoded) bytes.
    public var size: Int
    /// Last write, or last time a commit found the blob already stored (gc's grace
    /// period counts from here).
    public var modified: Date
    public init(size: Int, modified: Date) { self.size = size; self.modified = modified }
}

/// A tag: `name:tag` points at an artifact's manifest digest.
public struct TagRecord: Sendable, Equatable, Hashable, Codable {
    public var name: String
    public var tag: String
    public var digest: Digest
    public init(name: String, tag: String, digest: Digest) { self.name = name; self.tag = tag; self.digest = digest }
}

/// A temporary object left behind by an interrupted write.
public struct TemporaryObject: Sendable, Equatable {
    public var name: String
    public var modified: Date
    public var size: Int
    public init(name: String, modified: Date, size: Int) { self.name = name; self.modified = modified; self.size = size }
}
