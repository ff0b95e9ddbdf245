import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The scheme, host and port of a URL: the unit credentials are bound to (the "origin"
/// of RFC 6454). A registry's credentials and tokens go only to requests whose origin
/// equals the registry's; a redirect, an absolute upload `Location` or a `Link` page at
/// another origin is fetched without them.
struct Origin: Equatable, Sendable, CustomStringConvertible {
    var scheme: String
    var host: String
    var port: Int

    /// Nil for URLs without a scheme or host, or with a scheme other than http(s).
    init?(_ url: URL) {
        guard let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
              let host = url.host?.lowercased(), !host.isEmpty else { return nil }
        self.scheme = scheme
        self.host = host
        self.port = url.port ?? (scheme == "https" ? 443 : 80)
    }

    /// True when plain HTTP to this origin cannot be observed off the machine.
    var isLoopback: Bool { Loopback.isLoopback(host: host) }

    var description: String { "\(scheme)://\(host):\(port)" }
}

/// Decides "loopback" from the text of a host alone: `localhost`, an IPv4 literal in
/// 127.0.0.0/8, or the IPv6 literal ::1 (also as ::ffff:127.x.y.z). Never from a name
/// prefix (`127.attacker.example` is an ordinary DNS name) and never by resolving the
/// name, whose answer could change between the check and the connection.
enum Loopback {
    /// - Parameter host: a host without port; IPv6 literals with or without brackets.
    static func isLoopback(host: String) -> Bool {
        var h = host.lowercased()
        if h.hasSuffix(".") { h.removeLast() }   // the absolute form of a DNS name
        if h == "localhost" { return true }
        if h.hasPrefix("["), h.hasSuffix("]") { h = String(h.dropFirst().dropLast()) }
        var v4 = in_addr()
        if inet_pton(AF_INET, h, &v4) == 1 {
            // s_addr is in network order: its first byte in memory is the first octet.
            return withUnsafeBytes(of: v4) { $0[0] } == 127
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, h, &v6) == 1 {
            let b = withUnsafeBytes(of: v6) { Array($0) }
            let loopback6 = b[0..<15].allSatisfy { $0 == 0 } && b[15] == 1
            let mappedV4 = b[0..<10].allSatisfy { $0 == 0 } && b[10] == 0xff && b[11] == 0xff && b[12] == 127
            return loopback6 || mappedV4
        }
        return false
    }
}
