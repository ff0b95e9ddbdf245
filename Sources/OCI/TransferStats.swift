import GlossaCore

/// Counters for one client: how many requests and bytes a push or pull cost.
/// Benchmarks and the only-missing-blobs tests read these.
public struct TransferStats: Sendable, Equatable {
    /// Requests sent, by HTTP method (auth retries and token fetches included).
    public var requests: [String: Int] = [:]
    public var bytesUploaded: Int64 = 0
    public var bytesDownloaded: Int64 = 0
    /// Blobs sent in full or in part, found already present (HEAD 200), mounted from another repository.
    public var blobsUploaded = 0
    public var blobsSkipped = 0
    public var blobsMounted = 0
    public var blobsDownloaded = 0
    /// Uploads continued from an earlier session instead of starting over.
    public var uploadsResumed = 0

    public init() {}
    public var totalRequests: Int { requests.values.reduce(0, +) }
    public func count(_ method: String) -> Int { requests[method, default: 0] }
}

/// Progress notifications, delivered synchronously on the transferring task.
/// Tests use them to inject faults at exact points (stop the registry, move a tag).
public enum TransferEvent: Sendable, Equatable {
    case chunkUploaded(Digest, offset: Int64, total: Int64)
    case blobUploaded(Digest, bytes: Int64)
    case blobSkipped(Digest)
    case blobMounted(Digest, from: String)
    case blobDownloaded(Digest, bytes: Int64)
    case manifestResolved(reference: String, digest: Digest)
}
