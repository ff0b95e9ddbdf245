import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import GlossaCore

/// Tunables of a `RegistryClient`.
public struct RegistryClientOptions: Sendable {
    /// Allow plain HTTP to a non-loopback host. Loopback hosts always use HTTP.
    public var insecure = false
    /// Blobs up to this size go in one PUT; larger ones in PATCH chunks of `chunkSize` bytes.
    public var monolithicLimit: Int64 = 32 << 20
    public var chunkSize = 16 << 20
    /// Seconds without progress before a request fails.
    public var requestTimeout: TimeInterval = 60
    /// A directory where in-progress chunked uploads are remembered, so that a re-run
    /// after a crash or network failure continues where it stopped. Nil: in-memory only.
    public var uploadJournal: URL?
    /// Called on progress; must be quick.
    public var onEvent: (@Sendable (TransferEvent) -> Void)?
    public var userAgent = "glossa-oci/0.1"

    public init() {}
}

/// A client for one OCI distribution registry (`/v2/` API), over URLSession.
///
/// Handles auth challenges (anonymous, HTTP Basic, Docker-style Bearer tokens cached per
/// scope), blob existence/upload/mount/download with digest checks, manifests and tags.
/// An actor so token caches and counters are safe to share between concurrent transfers.
public actor RegistryClient {
    /// `host[:port]`.
    public nonisolated let registry: String
    public nonisolated let baseURL: URL
    nonisolated let options: RegistryClientOptions
    let credentials: RegistryCredentials?
    let session: URLSession
    let catcher = ChallengeCatcher()

    /// Learned from challenges: which scheme the registry wants.
    var usesBasic = false
    var bearerChallenge: AuthChallenge?
    var tokens: [String: (token: String, expires: Date)] = [:]
    /// Chunked uploads under way in this process, by repository and digest (resume state).
    var openUploads: [String: UploadSession] = [:]

    /// Counters since creation or the last `resetStats()`.
    public internal(set) var stats = TransferStats()

    /// - Parameters:
    ///   - registry: `host[:port]`.
    ///   - credentials: asked once, now, for this registry's credentials.
    public init(registry: String, credentials: any CredentialsProvider = AnonymousCredentials(), options: RegistryClientOptions = RegistryClientOptions()) throws(OCIError) {
        let probe = OCIReference(registry: registry, repository: "x")
        let scheme = (options.insecure || probe.isLoopback) ? "http" : "https"
        guard let url = URL(string: "\(scheme)://\(registry)") else {
            throw .invalidReference(registry, reason: "not a host[:port]")
        }
        self.registry = registry
        self.baseURL = url
        self.options = options
        self.credentials = credentials.credentials(forRegistry: registry)
        let config = URLSessionConfiguration.ephemeral
        config.timeoutIntervalForRequest = options.requestTimeout
        config.httpMaximumConnectionsPerHost = 8
        config.httpAdditionalHeaders = ["User-Agent": options.userAgent]
        config.requestCachePolicy = .reloadIgnoringLocalCacheData
        self.session = URLSession(configuration: config, delegate: catcher, delegateQueue: nil)
    }

    deinit { session.finishTasksAndInvalidate() }

    public func resetStats() { stats = TransferStats() }

    /// `GET /v2/`: checks the registry speaks the distribution API and that the credentials
    /// (if any) are accepted. Learns the auth scheme.
    public func ping() async throws(OCIError) {
        let r = try await send("GET", url("/v2/"), scopes: [])
        guard r.status == 200 else { throw failure(r, what: "registry API /v2/", reference: registry, scopes: []) }
    }

    // MARK: - Requests

    enum Body { case none, data(Data), file(URL) }

    struct Response {
        var status: Int
        var headers: [String: String]   // lower-cased names
        var body: Data
        var url: URL
        /// Set for downloads: the temporary file holding the body.
        var file: URL?
        func header(_ name: String) -> String? { headers[name.lowercased()] }
    }

    func url(_ path: String, query: [URLQueryItem] = []) -> URL {
        var c = URLComponents(url: baseURL, resolvingAgainstBaseURL: false)!
        c.percentEncodedPath = path
        if !query.isEmpty { c.queryItems = query }
        return c.url!
    }

    /// Resolves a `Location` header (absolute or relative to the registry).
    func resolve(location: String) -> URL? {
        URL(string: location, relativeTo: baseURL)?.absoluteURL
    }

    func repoScope(_ repository: String, push: Bool) -> String {
        "repository:\(repository):\(push ? "pull,push" : "pull")"
    }

    /// Sends a request with authentication, answering at most one challenge.
    /// `download` streams the body to a temporary file instead of memory.
    func send(_ method: String, _ url: URL, scopes: [String], headers: [String: String] = [:],
              body: Body = .none, download: Bool = false) async throws(OCIError) -> Response {
        var answeredChallenge = false
        while true {
            var req = URLRequest(url: url)
            req.httpMethod = method
            for (k, v) in headers { req.setValue(v, forHTTPHeaderField: k) }
            if let auth = try await authorization(scopes: scopes, fetchIfMissing: false) {
                req.setValue(auth, forHTTPHeaderField: "Authorization")
            }
            let r = try await perform(req, body: body, download: download)
            guard r.status == 401, !answeredChallenge else { return r }
            answeredChallenge = true
            if let f = r.file { try? FileManager.default.removeItem(at: f) }
            guard let header = r.header("WWW-Authenticate"), let challenge = AuthChallenge(header: header) else {
                throw .unauthorized(registry: registry, scope: scopes.joined(separator: " "), hadCredentials: credentials != nil)
            }
            switch challenge.scheme {
            case .basic:
                guard credentials != nil, !usesBasic else {
                    throw .unauthorized(registry: registry, scope: scopes.joined(separator: " "), hadCredentials: credentials != nil)
                }
                usesBasic = true
            case .bearer:
                bearerChallenge = challenge
                var wanted = scopes
                if let s = challenge.scope { for part in s.split(separator: " ") where !wanted.contains(String(part)) { wanted.append(String(part)) } }
                _ = try await fetchToken(challenge: challenge, scopes: wanted, cacheAs: scopes)
            case .other(let name):
                throw .unsupported("registry \(registry) asks for '\(name)' authentication; only Basic and Bearer are supported")
            }
        }
    }

    /// One HTTP exchange; transport failures become `.network`.
    func perform(_ request: URLRequest, body: Body, download: Bool = false) async throws(OCIError) -> Response {
        var request = request
        let requestID = UUID().uuidString
        request.setValue(requestID, forHTTPHeaderField: ChallengeCatcher.header)
        let method = request.httpMethod ?? "GET"
        stats.requests[method, default: 0] += 1
        do {
            var file: URL?
            let data: Data
            let response: URLResponse
            switch body {
            case .none where download:
                let (tmp, resp) = try await session.download(for: request)
                // URLSession removes its temp file when the task ends on some platforms: move it.
                let kept = FileManager.default.temporaryDirectory.appendingPathComponent("glossa-oci-\(UUID().uuidString)")
                try FileManager.default.moveItem(at: tmp, to: kept)
                file = kept
                data = Data()
                response = resp
            case .none:
                (data, response) = try await session.data(for: request)
            case .data(let d):
                (data, response) = try await session.upload(for: request, from: d)
                stats.bytesUploaded += Int64(d.count)
            case .file(let u):
                (data, response) = try await session.upload(for: request, fromFile: u)
                if let size = try? FileManager.default.attributesOfItem(atPath: u.path)[.size] as? NSNumber {
                    stats.bytesUploaded += size.int64Value
                }
            }
            guard let http = response as? HTTPURLResponse else {
                throw OCIError.network(url: request.url?.absoluteString ?? "?", reason: "not an HTTP response")
            }
            var headers = [String: String]()
            for (k, v) in http.allHeaderFields { if let k = k as? String, let v = v as? String { headers[k.lowercased()] = v } }
            return Response(status: http.statusCode, headers: headers, body: data, url: http.url ?? request.url!, file: file)
        } catch let e as OCIError {
            throw e
        } catch {
            if let challenged = catcher.take(requestID) {
                var headers = [String: String]()
                for (k, v) in challenged.allHeaderFields { if let k = k as? String, let v = v as? String { headers[k.lowercased()] = v } }
                return Response(status: challenged.statusCode, headers: headers, body: Data(), url: challenged.url ?? request.url!, file: nil)
            }
            throw .network(url: request.url?.absoluteString ?? "?", reason: (error as NSError).localizedDescription)
        }
    }

    // MARK: - Auth

    /// The `Authorization` value for these scopes, if the registry is known to need one.
    func authorization(scopes: [String], fetchIfMissing: Bool) async throws(OCIError) -> String? {
        if usesBasic, let c = credentials {
            return "Basic " + Data("\(c.username):\(c.password)".utf8).base64EncodedString()
        }
        guard let challenge = bearerChallenge else { return nil }
        let key = scopes.sorted().joined(separator: " ")
        if let t = tokens[key], t.expires > Date() { return "Bearer \(t.token)" }
        // Token for these scopes not cached (or expired): fetch it now rather than
        // paying a 401 round trip per new scope.
        return "Bearer " + (try await fetchToken(challenge: challenge, scopes: scopes, cacheAs: scopes))
    }

    /// Docker token flow: `GET realm?service=S&scope=A&scope=B`, with Basic credentials
    /// when we have them; the answer is `{"token"|"access_token", "expires_in"}`.
    func fetchToken(challenge: AuthChallenge, scopes: [String], cacheAs: [String]) async throws(OCIError) -> String {
        guard let realm = challenge.realm, var c = URLComponents(string: realm) else {
            throw .unsupported("registry \(registry) sent a Bearer challenge without a usable realm")
        }
        var q = c.queryItems ?? []
        if let s = challenge.service { q.append(URLQueryItem(name: "service", value: s)) }
        for s in scopes { q.append(URLQueryItem(name: "scope", value: s)) }
        c.queryItems = q.isEmpty ? nil : q
        guard let tokenURL = c.url else { throw .unsupported("bad token realm \(realm)") }
        var req = URLRequest(url: tokenURL)
        req.httpMethod = "GET"
        if let cr = credentials {
            req.setValue("Basic " + Data("\(cr.username):\(cr.password)".utf8).base64EncodedString(), forHTTPHeaderField: "Authorization")
        }
        let r = try await perform(req, body: .none)
        let scopeText = scopes.joined(separator: " ")
        switch r.status {
        case 200: break
        case 401: throw .unauthorized(registry: registry, scope: scopeText, hadCredentials: credentials != nil)
        case 403: throw .forbidden(registry: registry, scope: scopeText)
        default: throw .unexpectedResponse(method: "GET", url: tokenURL.absoluteString, status: r.status, body: Self.snippet(r.body))
        }
        struct TokenReply: Decodable { var token: String?; var access_token: String?; var expires_in: Int? }
        guard let reply = try? JSONDecoder().decode(TokenReply.self, from: r.body),
              let token = reply.token ?? reply.access_token, !token.isEmpty else {
            throw .unexpectedResponse(method: "GET", url: tokenURL.absoluteString, status: r.status, body: "token reply without a token")
        }
        // Spec: default lifetime 60 s; renew a little early.
        let life = TimeInterval(max(reply.expires_in ?? 60, 10)) - 5
        tokens[cacheAs.sorted().joined(separator: " ")] = (token, Date().addingTimeInterval(life))
        return token
    }

    /// Number of bearer tokens fetched so far is visible through `stats`; this exposes the cache size for tests.
    var cachedTokenCount: Int { tokens.count }

    // MARK: - Errors

    /// Maps a failed response to the typed error for it.
    func failure(_ r: Response, what: String, reference: String, scopes: [String], method: String = "") -> OCIError {
        let scopeText = scopes.joined(separator: " ")
        switch r.status {
        case 401: return .unauthorized(registry: registry, scope: scopeText, hadCredentials: credentials != nil)
        case 403: return .forbidden(registry: registry, scope: scopeText)
        case 404: return .notFound(what: what, reference: reference)
        default: return .unexpectedResponse(method: method, url: r.url.absoluteString, status: r.status, body: Self.snippet(r.body))
        }
    }

    /// The registry's error JSON (`{"errors":[{"code","message"}]}`) or the first bytes of the body.
    static func snippet(_ body: Data) -> String {
        struct Errs: Decodable { struct E: Decodable { var code: String?; var message: String? }; var errors: [E] }
        if let e = try? JSONDecoder().decode(Errs.self, from: body), !e.errors.isEmpty {
            return e.errors.map { [$0.code, $0.message].compactMap { $0 }.joined(separator: ": ") }.joined(separator: "; ")
        }
        return String(decoding: body.prefix(300), as: UTF8.self)
    }

    func emit(_ e: TransferEvent) { options.onEvent?(e) }
}
