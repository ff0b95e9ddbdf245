import Foundation

/// A user name and password (or token used as a password) for one registry.
public struct RegistryCredentials: Sendable, Equatable {
    public var username: String
    public var password: String
    public init(username: String, password: String) {
        self.username = username
        self.password = password
    }
}

/// Supplies credentials for a registry host (`host[:port]`). The OCI module never reads
/// the environment or home directory itself: the caller (the CLI) builds a provider from
/// `GLOSSA_REGISTRY_USERNAME`/`PASSWORD`, `~/.docker/config.json`, flags, etc.
public protocol CredentialsProvider: Sendable {
    func credentials(forRegistry registry: String) -> RegistryCredentials?
}

/// No credentials: anonymous access only.
public struct AnonymousCredentials: CredentialsProvider {
    public init() {}
    public func credentials(forRegistry registry: String) -> RegistryCredentials? { nil }
}

/// Fixed credentials, for one registry or (with `registry: nil`) for any.
public struct StaticCredentials: CredentialsProvider {
    public var registry: String?
    public var credentials: RegistryCredentials
    public init(_ credentials: RegistryCredentials, registry: String? = nil) {
        self.credentials = credentials
        self.registry = registry
    }
    public func credentials(forRegistry registry: String) -> RegistryCredentials? {
        self.registry == nil || self.registry == registry ? credentials : nil
    }
}

/// `GLOSSA_REGISTRY_USERNAME` / `GLOSSA_REGISTRY_PASSWORD` from an environment the
/// caller passes in, bound to one registry: `GLOSSA_REGISTRY_HOST` when it is set, else
/// the registry the command talks to. So a password exported for one registry is not
/// offered to another (a later pull from elsewhere falls through to docker's config).
public struct EnvironmentCredentials: CredentialsProvider {
    /// `host[:port]` the credentials belong to.
    public let registry: String
    public let credentials: RegistryCredentials

    /// Nil when the user name or password is not set.
    /// - Parameter target: `host[:port]` of the registry being pushed to or pulled from.
    public init?(environment: [String: String], target: String) {
        guard let u = environment["GLOSSA_REGISTRY_USERNAME"], let p = environment["GLOSSA_REGISTRY_PASSWORD"] else { return nil }
        let host = environment["GLOSSA_REGISTRY_HOST"].flatMap { $0.isEmpty ? nil : $0 } ?? target
        self.registry = DockerConfigCredentials.normalise(host)
        self.credentials = RegistryCredentials(username: u, password: p)
    }

    public func credentials(forRegistry registry: String) -> RegistryCredentials? {
        DockerConfigCredentials.normalise(registry) == self.registry ? credentials : nil
    }
}

/// The first provider that has credentials wins (e.g. environment, then docker config).
public struct ChainedCredentials: CredentialsProvider {
    public var providers: [any CredentialsProvider]
    public init(_ providers: [any CredentialsProvider]) { self.providers = providers }
    public func credentials(forRegistry registry: String) -> RegistryCredentials? {
        for p in providers { if let c = p.credentials(forRegistry: registry) { return c } }
        return nil
    }
}

/// Credentials from a Docker CLI `config.json`: the `auths` map, whose keys are
/// `host[:port]` or URLs like `https://host/v1/`, and whose values hold `auth`
/// (base64 of `user:password`) or `username`/`password`.
/// Credential helpers (`credsStore`, `credHelpers`) are not run; their registries are absent.
public struct DockerConfigCredentials: CredentialsProvider {
    public let entries: [String: RegistryCredentials]

    /// Parses the JSON text of a config.json.
    public init(data: Data, source: String = "config.json") throws(OCIError) {
        struct File: Decodable { var auths: [String: Entry]? }
        struct Entry: Decodable { var auth: String?; var username: String?; var password: String? }
        let file: File
        do { file = try JSONDecoder().decode(File.self, from: data) } catch {
            throw .invalidCredentials(source: source, reason: "not valid JSON (\(error)); fix or remove the file")
        }
        var entries = [String: RegistryCredentials]()
        for (key, e) in file.auths ?? [:] {
            if let auth = e.auth, !auth.isEmpty {
                guard let raw = Data(base64Encoded: auth), let text = String(data: raw, encoding: .utf8),
                      let colon = text.firstIndex(of: ":") else {
                    throw .invalidCredentials(source: source, reason: "auths[\"\(key)\"].auth is not base64 of user:password; run docker login \(key) again")
                }
                entries[Self.normalise(key)] = RegistryCredentials(username: String(text[..<colon]), password: String(text[text.index(after: colon)...]))
            } else if let u = e.username, let p = e.password {
                entries[Self.normalise(key)] = RegistryCredentials(username: u, password: p)
            }
        }
        self.entries = entries
    }

    /// Reads `url` (the caller decides where: typically `~/.docker/config.json` or `$DOCKER_CONFIG/config.json`).
    /// A missing file means no credentials.
    public init(contentsOf url: URL) throws(OCIError) {
        guard FileManager.default.fileExists(atPath: url.path) else { try self.init(data: Data(#"{}"#.utf8), source: url.path); return }
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw .invalidCredentials(source: url.path, reason: "cannot read it (\(error.localizedDescription)); check its permissions")
        }
        try self.init(data: data, source: url.path)
    }

    public func credentials(forRegistry registry: String) -> RegistryCredentials? {
        entries[Self.normalise(registry)]
    }

    /// `https://host:5000/v1/` -> `host:5000`.
    static func normalise(_ key: String) -> String {
        var k = Substring(key)
        for p in ["https://", "http://"] where k.hasPrefix(p) { k = k.dropFirst(p.count) }
        if let slash = k.firstIndex(of: "/") { k = k[..<slash] }
        return k.lowercased()
    }
}
