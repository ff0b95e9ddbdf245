import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Works around swift-corelibs-foundation (6.3.1 and earlier) hanging forever when a
/// server answers 401 with `WWW-Authenticate: Basic` and no credential is stored
/// (swift-corelibs-foundation issue #5456). This delegate cancels every auth challenge
/// and keeps the 401 response, so the client can answer the challenge itself.
/// Requests are matched by a per-request id header.
final class ChallengeCatcher: NSObject, URLSessionTaskDelegate, @unchecked Sendable {
    static let header = "X-Glossa-Request-Id"
    private let lock = NSLock()
    private var caught: [String: HTTPURLResponse] = [:]

    func urlSession(_ session: URLSession, task: URLSessionTask, didReceive challenge: URLAuthenticationChallenge,
                    completionHandler: @escaping (URLSession.AuthChallengeDisposition, URLCredential?) -> Void) {
        if let id = task.originalRequest?.value(forHTTPHeaderField: Self.header),
           let response = challenge.failureResponse as? HTTPURLResponse {
            lock.lock()
            caught[id] = response
            lock.unlock()
        }
        completionHandler(.cancelAuthenticationChallenge, nil)
    }

    /// The 401 response of a request whose task was cancelled by this delegate.
    func take(_ id: String) -> HTTPURLResponse? {
        lock.lock()
        defer { lock.unlock() }
        return caught.removeValue(forKey: id)
    }
}
