import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import GlossaCore

/// Where a response body goes, and how much of it is accepted.
///
/// Every body is bounded while it arrives, never after: a registry (or anything it
/// redirects to) cannot make the client buffer more than `limit` bytes in memory, or
/// write more than a layer's declared size to disk.
enum BodySink: Sendable {
    /// Kept in memory, at most `limit` bytes. A larger 2xx body fails the request with
    /// `responseTooLarge(what:)`; a larger error body (3xx-5xx) is cut at `limit`, since
    /// only its first bytes are ever shown.
    case memory(limit: Int, what: String)
    /// A 2xx body is streamed to a new temporary file and hashed as it arrives; more
    /// than `limit` bytes fails the request. Other statuses go to memory (error bodies).
    case file(limit: Int64, what: String)
}

/// What a finished exchange produced.
struct Exchange: Sendable {
    var response: HTTPURLResponse
    var body: Data
    /// For `.file` sinks with a 2xx status: the temporary file, its size and sha256.
    var file: (url: URL, size: Int64, digest: Digest)?
}

/// The URLSession delegate for every request a `RegistryClient` makes. It exists for
/// three reasons that swift-corelibs-foundation forces on us:
///
/// 1. Redirects are never followed by URLSession. Corelibs copies every header,
///    `Authorization` included, into the redirected request, whatever its host; so the
///    client receives the 3xx itself and decides, per hop, whether credentials may go
///    (only to the registry's own scheme, host and port). See `RegistryClient.send`.
/// 2. Bodies arrive through `didReceive data`, so they are counted (and streamed to disk,
///    hashed on the way) as they come, and a request is cancelled the moment a body
///    passes its limit (`BodySink`).
/// 3. A 401 with `WWW-Authenticate: Basic` and no stored credential hangs corelibs
///    (6.3.1 and earlier, swift-corelibs-foundation issue #5456): every auth challenge is
///    cancelled here and its 401 response kept, so the client answers challenges itself.
final class HTTPTransport: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    /// State of one task; touched only under `lock`.
    private final class Pending {
        let sink: BodySink
        let continuation: CheckedContinuation<Exchange, any Error>
        var response: HTTPURLResponse?
        var body = Data()
        var file: (url: URL, handle: FileHandle)?
        var fileSize: Int64 = 0
        var hasher = DigestHasher()
        /// Set when this side cancelled the task, with the reason to report.
        var failure: OCIError?
        /// A body cut at its limit (error statuses only): report the response, not a failure.
        var truncated = false
        /// The 401 a cancelled auth challenge carried.
        var challenged: HTTPURLResponse?

        init(sink: BodySink, continuation: CheckedContinuation<Exchange, any Error>) {
            self.sink = sink
            self.continuation = continuation
        }
    }

    private let lock = NSLock()
    private var pending: [Int: Pending] = [:]

    /// Runs `task` (created, not resumed) to completion and returns what it produced.
    /// Transport failures are thrown as they come (the caller wraps them once).
    func run(_ task: URLSessionTask, sink: BodySink) async throws -> Exchange {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<Exchange, any Error>) in
            lock.lock()
            pending[task.taskIdentifier] = Pending(sink: sink, continuation: c)
            lock.unlock()
            task.resume()
        }
    }

    private func withPending<R>(_ task: URLSessionTask, _ body: (Pending) -> R) -> R? {
        lock.lock()
        defer { lock.unlock() }
        return pending[task.taskIdentifier].map(body)
    }

    // MARK: URLSessionTaskDelegate

    func urlSession(_ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
                    newRequest request: URLRequest, completionHandler: @escaping (URLRequest?) -> Void) {
        // nil: do not follow; the 3xx (with its body) completes this task.
        completionHandler(nil)
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didReceive challenge: URLAuthenticationChallenge,
                    completionHandler: @escaping (URLSession.AuthChallengeDisposition, URLCredential?) -> Void) {
        if let response = challenge.failureResponse as? HTTPURLResponse {
            _ = withPending(task) { $0.challenged = response }
        }
        completionHandler(.cancelAuthenticationChallenge, nil)
    }

    // MARK: URLSessionDataDelegate

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
                    completionHandler: @escaping (URLSession.ResponseDisposition) -> Void) {
        let ok: Bool = withPending(dataTask) { p in
            p.response = response as? HTTPURLResponse
            guard case .file(let limit, let what) = p.sink, let http = p.response, (200..<300).contains(http.statusCode) else { return true }
            if http.expectedContentLength > limit {
                p.failure = .responseTooLarge(what: what, url: http.url?.absoluteString ?? "?", limit: limit)
                return false
            }
            let url = FileManager.default.temporaryDirectory.appendingPathComponent("glossa-oci-\(UUID().uuidString)")
            guard FileManager.default.createFile(atPath: url.path, contents: nil), let h = try? FileHandle(forWritingTo: url) else {
                p.failure = .localIO(path: url.path,
                                     reason: "cannot create a temporary file for the download; check free space in \(url.deletingLastPathComponent().path)")
                return false
            }
            p.file = (url, h)
            return true
        } ?? false
        completionHandler(ok ? .allow : .cancel)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        let keepGoing: Bool = withPending(dataTask) { p in
            // Already refused (at the response, or an earlier piece): corelibs may still
            // deliver data after a cancel; keep the first reason.
            if p.failure != nil || p.truncated { return false }
            if let f = p.file, case .file(let limit, let what) = p.sink {
                guard p.fileSize + Int64(data.count) <= limit else {
                    p.failure = .responseTooLarge(what: what, url: p.response?.url?.absoluteString ?? "?", limit: limit)
                    return false
                }
                do { try f.handle.write(contentsOf: data) } catch {
                    p.failure = .localIO(path: f.url.path, reason: "write failed: \(error.localizedDescription); check free space")
                    return false
                }
                p.fileSize += Int64(data.count)
                p.hasher.update(data)
                return true
            }
            let limit: Int, what: String
            switch p.sink {
            case .memory(let l, let w): (limit, what) = (l, w)
            case .file(_, let w): (limit, what) = (HTTPTransport.errorBodyLimit, w)   // an error body of a download
            }
            guard p.body.count + data.count > limit else { p.body.append(data); return true }
            if let status = p.response?.statusCode, (200..<300).contains(status) {
                p.failure = .responseTooLarge(what: what, url: p.response?.url?.absoluteString ?? "?", limit: Int64(limit))
            } else {
                p.body.append(data.prefix(limit - p.body.count))
                p.truncated = true
            }
            return false
        } ?? false
        if !keepGoing { dataTask.cancel() }
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: (any Error)?) {
        lock.lock()
        let p = pending.removeValue(forKey: task.taskIdentifier)
        lock.unlock()
        guard let p else { return }
        if let f = p.file { try? f.handle.close() }
        func discardFile() { if let f = p.file { try? FileManager.default.removeItem(at: f.url) } }
        if let failure = p.failure {
            discardFile()
            return p.continuation.resume(throwing: failure)
        }
        if let challenged = p.challenged {
            discardFile()
            return p.continuation.resume(returning: Exchange(response: challenged, body: Data(), file: nil))
        }
        guard let response = p.response ?? (task.response as? HTTPURLResponse) else {
            discardFile()
            let url = task.originalRequest?.url?.absoluteString ?? "?"
            return p.continuation.resume(throwing: error ?? OCIError.network(url: url, reason: "no HTTP response"))
        }
        if let error, !p.truncated {
            discardFile()
            return p.continuation.resume(throwing: error)
        }
        let file = p.file.map { (url: $0.url, size: p.fileSize, digest: p.hasher.finalize()) }
        p.continuation.resume(returning: Exchange(response: response, body: p.body, file: file))
    }

    /// The largest error (or redirect) body kept, in bytes: enough for any registry's
    /// error JSON, of which only the first few hundred bytes are ever shown.
    static let errorBodyLimit = 64 << 10
}
