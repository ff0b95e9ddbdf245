/// One challenge from a `WWW-Authenticate` header, e.g.
/// `Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull"`
/// or `Basic realm="basic-realm"` (RFC 7235 auth-param syntax; values may be quoted).
struct AuthChallenge: Equatable, Sendable {
    enum Scheme: Equatable, Sendable { case basic, bearer, other(String) }
    var scheme: Scheme
    var parameters: [String: String]

    var realm: String? { parameters["realm"] }
    var service: String? { parameters["service"] }
    var scope: String? { parameters["scope"] }

    /// Parses the first challenge in a header value; nil when it is empty or unparseable.
    init?(header: String) {
        var s = Substring(header).drop(while: { $0 == " " })
        let schemeEnd = s.firstIndex(of: " ") ?? s.endIndex
        let name = s[..<schemeEnd].lowercased()
        guard !name.isEmpty else { return nil }
        switch name {
        case "basic": scheme = .basic
        case "bearer": scheme = .bearer
        default: scheme = .other(name)
        }
        s = s[schemeEnd...]
        var params = [String: String]()
        while true {
            s = s.drop(while: { $0 == " " || $0 == "," })
            guard let eq = s.firstIndex(of: "=") else { break }
            let key = s[..<eq].trimmingSpaces().lowercased()
            s = s[s.index(after: eq)...].drop(while: { $0 == " " })
            var value = ""
            if s.first == "\"" {
                s = s.dropFirst()
                while let c = s.first {
                    s = s.dropFirst()
                    if c == "\\", let n = s.first { value.append(n); s = s.dropFirst(); continue }
                    if c == "\"" { break }
                    value.append(c)
                }
            } else {
                let end = s.firstIndex(of: ",") ?? s.endIndex
                value = String(s[..<end]).trimmingSpaces()
                s = s[end...]
            }
            params[key] = value
        }
        parameters = params
    }
}

extension StringProtocol {
    func trimmingSpaces() -> String {
        String(self.drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed())
    }
}
