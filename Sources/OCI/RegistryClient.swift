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
    let transport = HTTPTransport()
    /// The registry's scheme, host and port: the only origin credentials and tokens go to.
    nonisolated let origin: Origin

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
        guard let origin = Origin(url) else { throw .invalidReference(registry, reason: "not a host[:port]") }
        self.registry = registry
        self.baseURL = url
        self.origin = origin
        self.options = options
        self.credentials = credentials.credentials(forRegistry: registry)
        let config = URLSessionConfiguration.ephemeral
        config.timeoutIntervalForRequest = options.requestTimeout
        config.httpMaximumConnectionsPerHost = 8
        config.httpAdditionalHeaders = ["User-Agent": options.userAgent]
        config.requestCachePolicy = .reloadIgnoringLocalCacheData
        self.session = URLSession(configuration: config, delegate: transport, delegateQueue: nil)
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
        /// The URL that answered (the last hop when redirected).
        var url: URL
        /// For `.file` sinks with a 2xx status: the temporary file holding the body, its size and sha256.
        var file: (url: URL, size: Int64, digest: Digest)?
        func header(_ name: String) -> String? { headers[name.lowercased()] }
    }

    /// The largest manifest, token reply or other API body held in memory: 4 MiB, the
    /// limit distribution itself puts on manifests (Glossa manifests are a few KiB).
    static let responseLimit = 4 << 20
    /// Redirect hops followed per request (distribution's storage redirects use one).
    static let maxRedirects = 5
    static let redirectStatuses: Set<Int> = [301, 302, 303, 307, 308]

    func url(_ path: String, query: [URLQueryItem] = []) -> URL {
        var c = URLComponents(url: baseURL, resolvingAgainstBaseURL: false)!
        c.percentEncodedPath = path
        if !query.isEmpty { c.queryItems = query }
        return c.url!
    }

    /// Resolves a `Location` or `Link` target (absolute or relative to the registry).
    /// It may name another origin; `send` then sends it without credentials.
    func resolve(location: String) -> URL? {
        URL(string: location, relativeTo: baseURL)?.absoluteURL
    }

    func repoScope(_ repository: String, push: Bool) -> String {
        "repository:\(repository):\(push ? "pull,push" : "pull")"
    }

    /// Sends a request with authentication, answering at most one challenge.
    /// Credentials and tokens are attached only when `url` is at the registry's own origin
    /// (scheme, host, port); a challenge from any other origin is returned, not answered.
    /// `sink` bounds the body (default: 4 MiB in memory).
    func send(_ method: String, _ url: URL, scopes: [String], headers: [String: String] = [:],
              body: Body = .none, sink: BodySink? = nil) async throws(OCIError) -> Response {
        let sink = sink ?? .memory(limit: Self.responseLimit, what: "answer to \(method) \(url.path)")
        let trusted = Origin(url) == origin
        var answeredChallenge = false
        while true {
            let auth = trusted ? try await authorization(scopes: scopes) : nil
            let r = try await exchange(method, url, headers: headers, authorization: auth, body: body, sink: sink)
            guard r.status == 401, trusted, Origin(r.url) == origin, !answeredChallenge else { return r }
            answeredChallenge = true
            guard let header = r.header("WWW-Authenticate"), let challenge = AuthChallenge(header: header) else {
                throw .unauthorized(registry: registry, scope: scopes.joined(separator: " "), hadCredentials: credentials != nil)
            }
            switch challenge.scheme {
            case .basic:
                // Only a 401 to a request that carried our Basic credentials says they are
                // wrong. Requests sent in parallel before one of them learned the scheme
                // (the first layers of a push) were anonymous: they retry with credentials.
                guard credentials != nil, auth?.hasPrefix("Basic ") != true else {
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

    /// One request, following redirects here rather than in URLSession (which would copy
    /// `Authorization` to any host): `authorization` goes only to hops at the origin of
    /// `url`; an https-to-http redirect is refused unless plain HTTP is allowed for the
    /// target (`insecure`, or a loopback host). 303 (and 301/302 after POST) turn the
    /// request into a body-less GET, as browsers and Go's net/http do.
    func exchange(_ method: String, _ url: URL, headers: [String: String], authorization: String?,
                  body: Body, sink: BodySink) async throws(OCIError) -> Response {
        let home = Origin(url)
        var method = method, target = url, body = body, headers = headers
        var hops = 0
        while true {
            var req = URLRequest(url: target)
            req.httpMethod = method
            for (k, v) in headers { req.setValue(v, forHTTPHeaderField: k) }
            if let authorization, Origin(target) == home { req.setValue(authorization, forHTTPHeaderField: "Authorization") }
            let r = try await perform(req, body: body, sink: sink)
            guard Self.redirectStatuses.contains(r.status), let location = r.header("Location") else { return r }
            guard hops < Self.maxRedirects else {
                throw .unexpectedResponse(method: method, url: target.absoluteString, status: r.status,
                                          body: "more than \(Self.maxRedirects) redirects; the registry or its storage is misconfigured")
            }
            guard let next = URL(string: location, relativeTo: target)?.absoluteURL, let nextOrigin = Origin(next) else {
                throw .unexpectedResponse(method: method, url: target.absoluteString, status: r.status,
                                          body: "redirect to '\(location)', which is not an http(s) URL")
            }
            if target.scheme?.lowercased() == "https", nextOrigin.scheme == "http", !options.insecure, !nextOrigin.isLoopback {
                throw .unsupported("\(method) \(target.absoluteString) was redirected to plain HTTP (\(next.absoluteString)); "
                                   + "refusing the downgrade. Pass --insecure only if the network path is trusted")
            }
            if (r.status == 303 && method != "HEAD") || ((r.status == 301 || r.status == 302) && method == "POST") {
                method = "GET"
                body = .none
                headers = headers.filter { !$0.key.lowercased().hasPrefix("content-") }
            }
            target = next
            hops += 1
        }
    }

    /// One HTTP exchange, no redirects followed; transport failures become `.network`.
    func perform(_ request: URLRequest, body: Body, sink: BodySink) async throws(OCIError) -> Response {
        let method = request.httpMethod ?? "GET"
        stats.requests[method, default: 0] += 1
        let task: URLSessionTask
        var uploaded: Int64 = 0
        switch body {
        case .none:
            task = session.dataTask(with: request)
        case .data(let d):
            task = session.uploadTask(with: request, from: d)
            uploaded = Int64(d.count)
        case .file(let u):
            task = session.uploadTask(with: request, fromFile: u)
            uploaded = (try? FileManager.default.attributesOfItem(atPath: u.path)[.size] as? NSNumber)?.int64Value ?? 0
        }
        let x: Exchange
        do { x = try await transport.run(task, sink: sink) } catch let e as OCIError { throw e } catch {
            throw .network(url: request.url?.absoluteString ?? "?", reason: (error as NSError).localizedDescription)
        }
        stats.bytesUploaded += uploaded
        var headers = [String: String]()
        for (k, v) in x.response.allHeaderFields { if let k = k as? String, let v = v as? String { headers[k.lowercased()] = v } }
        return Response(status: x.response.statusCode, headers: headers, body: x.body,
                        url: request.url ?? x.response.url ?? baseURL, file: x.file)
    }

    // MARK: - Auth

    /// The `Authorization` value for these scopes, if the registry is known to need one.
    /// Only for requests to the registry's own origin (`send` checks).
    func authorization(scopes: [String]) async throws(OCIError) -> String? {
        if usesBasic, let c = credentials { return Self.basic(c) }
        guard let challenge = bearerChallenge else { return nil }
        let key = scopes.sorted().joined(separator: " ")
        if let t = tokens[key], t.expires > Date() { return "Bearer \(t.token)" }
        // Token for these scopes not cached (or expired): fetch it now rather than
        // paying a 401 round trip per new scope.
        return "Bearer " + (try await fetchToken(challenge: challenge, scopes: scopes, cacheAs: scopes))
    }

    static func basic(_ c: RegistryCredentials) -> String {
        "Basic " + Data("\(c.username):\(c.password)".utf8).base64EncodedString()
    }

    /// Docker token flow: `GET realm?service=S&scope=A&scope=B`, with Basic credentials
    /// when we have them; the answer is `{"token"|"access_token", "expires_in"}`.
    ///
    /// The realm is named by the registry, which is trusted with the credentials anyway
    /// (it could ask for Basic), so its host may differ (Docker Hub's does). What matters
    /// is the transport: the password goes to a realm only over https, or to a loopback
    /// host; a plain-HTTP realm elsewhere is asked anonymously. Redirects of the token
    /// request carry the password only within the realm's origin (`exchange`).
    func fetchToken(challenge: AuthChallenge, scopes: [String], cacheAs: [String]) async throws(OCIError) -> String {
        guard let realm = challenge.realm, var c = URLComponents(string: realm), let realmOrigin = c.url.flatMap(Origin.init) else {
            throw .unsupported("registry \(registry) sent a Bearer challenge without a usable http(s) realm")
        }
        var q = c.queryItems ?? []
        if let s = challenge.service { q.append(URLQueryItem(name: "service", value: s)) }
        for s in scopes { q.append(URLQueryItem(name: "scope", value: s)) }
        c.queryItems = q.isEmpty ? nil : q
        guard let tokenURL = c.url else { throw .unsupported("bad token realm \(realm)") }
        let mayCarryPassword = Self.mayCarryPassword(to: realmOrigin)
        let auth = mayCarryPassword ? credentials.map(Self.basic) : nil
        let r = try await exchange("GET", tokenURL, headers: [:], authorization: auth, body: .none,
                                   sink: .memory(limit: Self.responseLimit, what: "token reply from \(realmOrigin)"))
        let scopeText = scopes.joined(separator: " ")
        switch r.status {
        case 200: break
        case 401 where credentials != nil && !mayCarryPassword:
            throw .unsupported("registry \(registry) sends clients to the plain-HTTP token service \(realmOrigin) for \(scopeText); "
                               + "credentials are sent to a token service only over https (or on loopback), so it was asked anonymously "
                               + "and refused. Ask the registry's administrator to serve the token realm over https")
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

    /// Whether Basic credentials may be sent to a token realm at `realm`: over https, or to
    /// a loopback host where plain HTTP never leaves the machine.
    static func mayCarryPassword(to realm: Origin) -> Bool { realm.scheme == "https" || realm.isLoopback }

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
