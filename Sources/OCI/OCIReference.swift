import GlossaCore

/// Where an artifact lives on a remote OCI registry:
/// `oci://HOST[:PORT]/REPO[:TAG]` or `oci://HOST[:PORT]/REPO@sha256:<hex>`.
///
/// `REPO` follows the distribution spec's name grammar (lowercase path components
/// separated by `/`); a tag is `[A-Za-z0-9_][A-Za-z0-9._-]{0,127}`.
public struct OCIReference: Hashable, Sendable, CustomStringConvertible {
    /// `host` or `host:port`, exactly as written (the key credentials are looked up by).
    public var registry: String
    public var repository: String
    /// A tag or a manifest digest; nil means "latest" when a single one is needed.
    public var tag: String?
    public var digest: Digest?

    public init(registry: String, repository: String, tag: String? = nil, digest: Digest? = nil) {
        self.registry = registry
        self.repository = repository
        self.tag = tag
        self.digest = digest
    }

    /// Parses `oci://host[:port]/repo[:tag|@sha256:...]`; the `oci://` prefix is optional.
    public init(parsing text: String) throws(OCIError) {
        var rest = Substring(text)
        if rest.hasPrefix("oci://") { rest = rest.dropFirst(6) }
        guard let slash = rest.firstIndex(of: "/") else {
            throw .invalidReference(text, reason: "missing repository; write oci://HOST[:PORT]/REPO[:TAG]")
        }
        let registry = String(rest[..<slash])
        var path = rest[rest.index(after: slash)...]
        guard !registry.isEmpty, registry.allSatisfy({ $0.isLetter || $0.isNumber || ".-:[]".contains($0) }) else {
            throw .invalidReference(text, reason: "'\(registry)' is not a host[:port]")
        }
        var digest: Digest?
        if let at = path.firstIndex(of: "@") {
            let d = String(path[path.index(after: at)...])
            do { digest = try Digest(parsing: d) } catch {
                throw .invalidReference(text, reason: "'\(d)' is not a sha256 digest")
            }
            path = path[..<at]
        }
        var tag: String?
        // A ':' after the last '/' separates the tag (a ':' before it would be a port).
        if let colon = path.lastIndex(of: ":"), !path[colon...].contains("/") {
            tag = String(path[path.index(after: colon)...])
            path = path[..<colon]
        }
        let repository = String(path)
        guard Self.isValidRepository(repository) else {
            throw .invalidReference(text, reason: "repository '\(repository)' must be lowercase letters, digits and . _ - separated by /")
        }
        if let tag, !Self.isValidTag(tag) {
            throw .invalidReference(text, reason: "tag '\(tag)' must match [A-Za-z0-9_][A-Za-z0-9._-]{0,127}")
        }
        self.init(registry: registry, repository: repository, tag: tag, digest: digest)
    }

    /// The tag or digest to fetch: the digest wins when both are given; `latest` when neither.
    public var manifestReference: String { digest?.description ?? tag ?? "latest" }

    /// True for `localhost`, an IPv4 literal in 127.0.0.0/8 and `[::1]`: the hosts where
    /// plain HTTP is allowed by default. Decided from the literal text (`Loopback`), so a
    /// DNS name such as `127.attacker.example` is not loopback.
    public var isLoopback: Bool { Loopback.isLoopback(host: hostWithoutPort) }

    var hostWithoutPort: String {
        if registry.hasPrefix("[") { return String(registry[..<(registry.firstIndex(of: "]").map { registry.index(after: $0) } ?? registry.endIndex)]) }
        return String(registry.split(separator: ":", maxSplits: 1).first ?? "")
    }

    public var description: String {
        var s = "oci://\(registry)/\(repository)"
        if let tag { s += ":\(tag)" }
        if let digest { s += "@\(digest)" }
        return s
    }

    static func isValidRepository(_ r: String) -> Bool {
        guard !r.isEmpty, r.count <= 255 else { return false }
        return r.split(separator: "/", omittingEmptySubsequences: false).allSatisfy { comp in
            guard let f = comp.first, let l = comp.last, f.isASCII, l.isASCII,
                  f.isLowercase || f.isNumber, l.isLowercase || l.isNumber else { return false }
            return comp.allSatisfy { ($0.isASCII && ($0.isLowercase || $0.isNumber)) || "._-".contains($0) }
        }
    }

    static func isValidTag(_ t: String) -> Bool {
        guard let f = t.first, t.count <= 128, f.isASCII, f.isLetter || f.isNumber || f == "_" else { return false }
        return t.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) }
    }
}
