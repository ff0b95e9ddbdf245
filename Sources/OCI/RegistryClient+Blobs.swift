import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import GlossaCore

/// How a blob reached the remote.
public enum BlobPushResult: Sendable, Equatable {
    /// Already there (HEAD 200): nothing sent.
    case existed
    /// Linked from another repository on the same registry: nothing sent.
    case mounted(from: String)
    /// Bytes sent (fewer than the blob's size when an earlier upload was resumed).
    case uploaded(bytesSent: Int64)
}

/// An upload session: the registry's `Location` for it and how many bytes it holds.
struct UploadSession: Codable, Sendable {
    var location: URL
    var offset: Int64
}

extension RegistryClient {
    // MARK: - Existence

    /// `HEAD /v2/<repo>/blobs/<digest>`: the stored size, or nil when absent.
    public func blobSize(repository: String, digest: Digest) async throws(OCIError) -> Int64? {
        let scopes = [repoScope(repository, push: false)]
        let r = try await send("HEAD", url("/v2/\(repository)/blobs/\(digest)"), scopes: scopes)
        switch r.status {
        case 200: return r.header("Content-Length").flatMap { Int64($0) } ?? -1
        case 404: return nil
        default: throw failure(r, what: "blob", reference: "\(repository)@\(digest)", scopes: scopes, method: "HEAD")
        }
    }

    // MARK: - Upload

    /// Makes `digest` present in `repository`, sending only what is missing:
    /// HEAD first; then a cross-repository mount from `mountFrom` when offered; then
    /// a monolithic PUT (size <= `monolithicLimit`) or PATCH chunks with `Content-Range`,
    /// resuming an earlier session for the same blob when one is known.
    /// The registry re-hashes the bytes; its `Docker-Content-Digest` must match `digest`.
    public func pushBlob(repository: String, file: URL, digest: Digest, size: Int64, mountFrom: [String] = []) async throws(OCIError) -> BlobPushResult {
        if try await blobSize(repository: repository, digest: digest) != nil {
            stats.blobsSkipped += 1
            emit(.blobSkipped(digest))
            return .existed
        }
        let pushScope = repoScope(repository, push: true)
        var session: UploadSession?
        for source in mountFrom where source != repository {
            let u = url("/v2/\(repository)/blobs/uploads/", query: [URLQueryItem(name: "mount", value: digest.description), URLQueryItem(name: "from", value: source)])
            let r = try await send("POST", u, scopes: [pushScope, repoScope(source, push: false)], headers: ["Content-Length": "0"])
            if r.status == 201 {
                stats.blobsMounted += 1
                emit(.blobMounted(digest, from: source))
                return .mounted(from: source)
            }
            guard r.status == 202, let loc = r.header("Location").flatMap(resolve(location:)) else {
                throw failure(r, what: "repository", reference: repository, scopes: [pushScope], method: "POST")
            }
            // Mount refused (blob not in source, or not allowed): the registry opened a
            // normal upload session instead; use it.
            session = UploadSession(location: loc, offset: 0)
            break
        }
        var resumed = false
        if session == nil, let saved = try await resumableSession(repository: repository, digest: digest) {
            session = saved
            resumed = saved.offset > 0
            if resumed { stats.uploadsResumed += 1 }
        }
        if session == nil {
            session = try await startUpload(repository: repository)
        }
        var s = session!
        let sent: Int64
        if s.offset == 0 && size <= options.monolithicLimit {
            try await finishUpload(s, repository: repository, digest: digest, body: .file(file), length: size)
            sent = size
        } else {
            sent = try await uploadChunks(&s, repository: repository, file: file, digest: digest, size: size)
            try await finishUpload(s, repository: repository, digest: digest, body: .none, length: 0)
        }
        forgetSession(repository: repository, digest: digest)
        stats.blobsUploaded += 1
        emit(.blobUploaded(digest, bytes: sent))
        return .uploaded(bytesSent: sent)
    }

    /// Convenience for small in-memory blobs (configs): HEAD, then a monolithic upload.
    public func pushBlob(repository: String, data: Data) async throws(OCIError) -> (Digest, BlobPushResult) {
        let digest = Digest(of: data)
        if try await blobSize(repository: repository, digest: digest) != nil {
            stats.blobsSkipped += 1
            emit(.blobSkipped(digest))
            return (digest, .existed)
        }
        let s = try await startUpload(repository: repository)
        try await finishUpload(s, repository: repository, digest: digest, body: .data(data), length: Int64(data.count))
        stats.blobsUploaded += 1
        emit(.blobUploaded(digest, bytes: Int64(data.count)))
        return (digest, .uploaded(bytesSent: Int64(data.count)))
    }

    /// `POST /v2/<repo>/blobs/uploads/` -> 202 with `Location`.
    func startUpload(repository: String) async throws(OCIError) -> UploadSession {
        let scopes = [repoScope(repository, push: true)]
        let r = try await send("POST", url("/v2/\(repository)/blobs/uploads/"), scopes: scopes, headers: ["Content-Length": "0"])
        guard r.status == 202, let loc = r.header("Location").flatMap(resolve(location:)) else {
            throw failure(r, what: "repository", reference: repository, scopes: scopes, method: "POST")
        }
        return UploadSession(location: loc, offset: 0)
    }

    /// PATCHes `file[s.offset...]` in chunks; records the session after each so a later run can resume.
    func uploadChunks(_ s: inout UploadSession, repository: String, file: URL, digest: Digest, size: Int64) async throws(OCIError) -> Int64 {
        let scopes = [repoScope(repository, push: true)]
        let handle: FileHandle
        do { handle = try FileHandle(forReadingFrom: file) } catch {
            throw .localIO(path: file.path, reason: "cannot open for upload: \(error.localizedDescription)")
        }
        defer { try? handle.close() }
        var sent: Int64 = 0
        // Bounded: each pass advances the offset by at least one byte or throws.
        while s.offset < size {
            let count = Int(min(Int64(options.chunkSize), size - s.offset))
            let chunk: Data
            do {
                try handle.seek(toOffset: UInt64(s.offset))
                chunk = try handle.read(upToCount: count) ?? Data()
            } catch {
                throw .localIO(path: file.path, reason: "read failed at offset \(s.offset): \(error.localizedDescription)")
            }
            guard chunk.count == count else {
                throw .localIO(path: file.path, reason: "file is shorter than the \(size) bytes its digest \(digest.short) names; it changed during the push")
            }
            let end = s.offset + Int64(count) - 1
            let r = try await send("PATCH", s.location, scopes: scopes, headers: [
                "Content-Type": "application/octet-stream",
                "Content-Range": "\(s.offset)-\(end)",
                "Content-Length": String(count),
            ], body: .data(chunk))
            guard r.status == 202 else {
                // 416: the registry holds a different offset; re-sync from its view once.
                if r.status == 416, let status = try await uploadStatus(s) {
                    s = status
                    continue
                }
                throw failure(r, what: "upload session", reference: "\(repository)@\(digest)", scopes: scopes, method: "PATCH")
            }
            if let loc = r.header("Location").flatMap(resolve(location:)) { s.location = loc }
            s.offset = end + 1
            if let range = r.header("Range"), let last = Self.rangeEnd(range), last + 1 != s.offset, last > 0 {
                s.offset = last + 1
            }
            sent += Int64(count)
            remember(s, repository: repository, digest: digest)
            emit(.chunkUploaded(digest, offset: s.offset, total: size))
        }
        return sent
    }

    /// `PUT <location>&digest=<digest>` (with the last bytes, or none) -> 201.
    func finishUpload(_ s: UploadSession, repository: String, digest: Digest, body: Body, length: Int64) async throws(OCIError) {
        let scopes = [repoScope(repository, push: true)]
        var c = URLComponents(url: s.location, resolvingAgainstBaseURL: true)!
        c.queryItems = (c.queryItems ?? []) + [URLQueryItem(name: "digest", value: digest.description)]
        let r = try await send("PUT", c.url!, scopes: scopes, headers: [
            "Content-Type": "application/octet-stream", "Content-Length": String(length),
        ], body: body)
        guard r.status == 201 else {
            forgetSession(repository: repository, digest: digest)
            if r.status == 400, Self.snippet(r.body).contains("DIGEST_INVALID") {
                throw .digestMismatch(what: "uploaded blob \(digest.short) (the registry hashed different bytes)", expected: digest, actual: digest)
            }
            throw failure(r, what: "upload session", reference: "\(repository)@\(digest)", scopes: scopes, method: "PUT")
        }
        if let d = r.header("Docker-Content-Digest"), let got = try? Digest(parsing: d), got != digest {
            throw .digestMismatch(what: "uploaded blob", expected: digest, actual: got)
        }
    }

    /// `GET <location>` -> 204 with `Range: 0-N`: the session's current offset; nil if the session is gone.
    func uploadStatus(_ s: UploadSession) async throws(OCIError) -> UploadSession? {
        let r: Response
        do { r = try await send("GET", s.location, scopes: []) } catch { return nil }
        guard r.status == 204 else { return nil }
        var next = s
        if let loc = r.header("Location").flatMap(resolve(location:)) { next.location = loc }
        // distribution reports "0-0" for an empty session (ambiguous with 1 byte; we never send 1-byte chunks).
        let last = r.header("Range").flatMap(Self.rangeEnd) ?? 0
        next.offset = last > 0 ? last + 1 : 0
        return next
    }

    /// A remembered session for this blob that the registry still holds, with its true offset.
    func resumableSession(repository: String, digest: Digest) async throws(OCIError) -> UploadSession? {
        let key = "\(repository)@\(digest)"
        var saved = openUploads[key]
        if saved == nil, let dir = options.uploadJournal {
            let f = dir.appendingPathComponent(Self.journalName(repository: repository, digest: digest))
            if let d = try? Data(contentsOf: f) { saved = try? JSONDecoder().decode(UploadSession.self, from: d) }
        }
        guard let s = saved else { return nil }
        guard let current = try await uploadStatus(s) else {
            forgetSession(repository: repository, digest: digest)
            return nil
        }
        return current
    }

    func remember(_ s: UploadSession, repository: String, digest: Digest) {
        openUploads["\(repository)@\(digest)"] = s
        guard let dir = options.uploadJournal else { return }
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        if let d = try? JSONEncoder().encode(s) {
            try? d.write(to: dir.appendingPathComponent(Self.journalName(repository: repository, digest: digest)), options: .atomic)
        }
    }

    func forgetSession(repository: String, digest: Digest) {
        openUploads["\(repository)@\(digest)"] = nil
        if let dir = options.uploadJournal {
            try? FileManager.default.removeItem(at: dir.appendingPathComponent(Self.journalName(repository: repository, digest: digest)))
        }
    }

    /// `upload-<repo with / as _>-<hex>.json`.
    static func journalName(repository: String, digest: Digest) -> String {
        "upload-\(repository.replacingOccurrences(of: "/", with: "_"))-\(digest.hex).json"
    }

    /// `"0-1234"` or `"bytes=0-1234"` -> 1234.
    static func rangeEnd(_ header: String) -> Int64? {
        guard let dash = header.lastIndex(of: "-") else { return nil }
        return Int64(header[header.index(after: dash)...].trimmingSpaces())
    }

    // MARK: - Download

    /// Streams a blob to a temporary file, hashing it as it arrives, then moves it to
    /// `destination` once its sha256 (and size, when given) match. With `expectedSize`
    /// the transfer is stopped as soon as the body passes it, so a hostile or damaged
    /// registry cannot fill the disk; memory stays at one network buffer. On any
    /// mismatch nothing is left at `destination`.
    @discardableResult
    public func pullBlob(repository: String, digest: Digest, expectedSize: Int64? = nil, to destination: URL) async throws(OCIError) -> Int64 {
        let scopes = [repoScope(repository, push: false)]
        let sink = BodySink.file(limit: expectedSize ?? .max, what: "blob \(repository)@\(digest.short)")
        let r = try await send("GET", url("/v2/\(repository)/blobs/\(digest)"), scopes: scopes, sink: sink)
        guard r.status == 200, let got = r.file else {
            if let f = r.file { try? FileManager.default.removeItem(at: f.url) }
            throw failure(r, what: "blob", reference: "\(repository)@\(digest)", scopes: scopes, method: "GET")
        }
        defer { try? FileManager.default.removeItem(at: got.url) }
        stats.bytesDownloaded += got.size
        guard got.digest == digest else {
            throw .digestMismatch(what: "blob \(repository)@\(digest.short)", expected: digest, actual: got.digest)
        }
        if let e = expectedSize, e != got.size {
            throw .invalidManifest(reference: "\(repository)@\(digest)", reason: "descriptor says \(e) bytes, blob has \(got.size)")
        }
        do {
            try? FileManager.default.removeItem(at: destination)
            try FileManager.default.moveItem(at: got.url, to: destination)
        } catch {
            throw .localIO(path: destination.path, reason: "cannot place downloaded blob: \(error.localizedDescription)")
        }
        stats.blobsDownloaded += 1
        emit(.blobDownloaded(digest, bytes: got.size))
        return got.size
    }

    /// Fetches a small blob (a config) into memory, verified; refused while arriving
    /// once it passes `maxBytes`.
    public func fetchBlob(repository: String, digest: Digest, maxBytes: Int = 16 << 20) async throws(OCIError) -> Data {
        let scopes = [repoScope(repository, push: false)]
        let r = try await send("GET", url("/v2/\(repository)/blobs/\(digest)"), scopes: scopes,
                               sink: .memory(limit: maxBytes, what: "config blob \(repository)@\(digest.short)"))
        guard r.status == 200 else { throw failure(r, what: "blob", reference: "\(repository)@\(digest)", scopes: scopes, method: "GET") }
        stats.bytesDownloaded += Int64(r.body.count)
        let actual = Digest(of: r.body)
        guard actual == digest else { throw .digestMismatch(what: "blob \(repository)@\(digest.short)", expected: digest, actual: actual) }
        return r.body
    }
}
