import GlossaCore

/// What went wrong talking to a remote registry, and what to do about it.
/// Lower-level errors (URLSession, JSON, file system) are wrapped here once.
public enum OCIError: Error, Equatable, CustomStringConvertible, Sendable {
    /// `oci://...` text that does not parse.
    case invalidReference(String, reason: String)
    /// A credentials source (docker config.json) that cannot be used.
    case invalidCredentials(source: String, reason: String)
    /// 401 after authenticating: the credentials were wrong, or none were given.
    case unauthorized(registry: String, scope: String, hadCredentials: Bool)
    /// 403: authenticated but not allowed.
    case forbidden(registry: String, scope: String)
    /// 404 for a repository, tag, manifest or blob.
    case notFound(what: String, reference: String)
    /// Bytes that arrived (or were stored) do not hash to the digest that named them.
    case digestMismatch(what: String, expected: Digest, actual: Digest)
    /// Connection refused, reset, timed out, TLS failure.
    case network(url: String, reason: String)
    /// Any other status the protocol does not allow at this step.
    case unexpectedResponse(method: String, url: String, status: Int, body: String)
    /// A manifest or registry JSON that does not decode or breaks the spec.
    case invalidManifest(reference: String, reason: String)
    /// Local file I/O during a transfer.
    case localIO(path: String, reason: String)
    /// Requested something the remote or this client does not do.
    case unsupported(String)
    /// The local registry refused a read or write (its own message says how to fix it).
    case localRegistry(String)
    /// A body longer than what may be accepted for it (a manifest over 4 MiB, a layer
    /// longer than its descriptor's size), refused while it was arriving.
    case responseTooLarge(what: String, url: String, limit: Int64)

    public var description: String {
        switch self {
        case .invalidReference(let r, let why):
            return "'\(r)' is not a remote reference: \(why)"
        case .invalidCredentials(let src, let why):
            return "cannot use credentials from \(src): \(why)"
        case .unauthorized(let reg, let scope, true):
            return "registry \(reg) rejected the credentials for \(scope) (401): the user name or password is wrong; run docker login \(reg) or set GLOSSA_REGISTRY_USERNAME/GLOSSA_REGISTRY_PASSWORD"
        case .unauthorized(let reg, let scope, false):
            return "registry \(reg) requires authentication for \(scope) (401) and no credentials were found; run docker login \(reg) or set GLOSSA_REGISTRY_USERNAME/GLOSSA_REGISTRY_PASSWORD"
        case .forbidden(let reg, let scope):
            return "registry \(reg) denied \(scope) (403): the account lacks permission; ask the registry's administrator for push/pull rights"
        case .notFound(let what, let ref):
            return "\(what) not found: \(ref); check the repository name and tag (glossa list --remote) or push it first"
        case .digestMismatch(let what, let e, let a):
            return "\(what) is corrupt: expected \(e) but the bytes hash to \(a); nothing was imported. The remote copy may be damaged: push it again from a good copy"
        case .network(let url, let why):
            return "cannot reach \(url): \(why); check that the registry is running and reachable, then re-run (finished blobs are not sent again)"
        case .unexpectedResponse(let m, let url, let status, let body):
            return "\(m) \(url) answered \(status)\(body.isEmpty ? "" : ": \(body)"); the registry may not support this OCI operation"
        case .invalidManifest(let ref, let why):
            return "manifest \(ref) is invalid: \(why)"
        case .localIO(let path, let why):
            return "local file \(path): \(why)"
        case .unsupported(let what):
            return what
        case .localRegistry(let why):
            return "local registry: \(why)"
        case .responseTooLarge(let what, let url, let limit):
            return "\(what) from \(url) is longer than \(limit) bytes, the most accepted for it; the transfer was stopped and nothing was kept. "
                + "The registry may be serving damaged or hostile data: check the reference, or push the artifact again from a good copy"
        }
    }
}
