/// A Semantic Versioning 2.0.0 version: `MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD]`.
///
/// Ordering follows semver precedence (build metadata ignored; a pre-release sorts
/// before its release; numeric identifiers compare numerically and sort before
/// alphanumeric ones). Ties on precedence are broken by the full text so that the order
/// is total and deterministic.
public struct SemanticVersion: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let major: UInt64
    public let minor: UInt64
    public let patch: UInt64
    public let prerelease: [String]
    public let build: [String]
    /// The text it was parsed from (canonical: parsing rejects leading zeros).
    public let description: String

    /// Parses `text`; returns nil when it is not a semver 2.0.0 version.
    public init?(_ text: String) {
        var rest = Substring(text)
        var build: [String] = []
        if let plus = rest.firstIndex(of: "+") {
            build = rest[rest.index(after: plus)...].split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            rest = rest[..<plus]
            guard !build.isEmpty, build.allSatisfy({ !$0.isEmpty && Self.isIdentifier($0) }) else { return nil }
        }
        var pre: [String] = []
        if let dash = rest.firstIndex(of: "-") {
            pre = rest[rest.index(after: dash)...].split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            rest = rest[..<dash]
            guard !pre.isEmpty else { return nil }
            for id in pre {
                guard !id.isEmpty, Self.isIdentifier(id) else { return nil }
                if id.allSatisfy(\.isASCIIDigit), id.count > 1, id.hasPrefix("0") { return nil }
            }
        }
        let core = rest.split(separator: ".", omittingEmptySubsequences: false)
        guard core.count == 3 else { return nil }
        var nums: [UInt64] = []
        for c in core {
            guard !c.isEmpty, c.allSatisfy(\.isASCIIDigit), !(c.count > 1 && c.hasPrefix("0")), let n = UInt64(c) else { return nil }
            nums.append(n)
        }
        major = nums[0]; minor = nums[1]; patch = nums[2]
        prerelease = pre; self.build = build; description = text
    }

    private static func isIdentifier<S: StringProtocol>(_ s: S) -> Bool {
        s.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 65 && $0 <= 90) || ($0 >= 97 && $0 <= 122) || $0 == 45 }
    }

    public static func < (a: SemanticVersion, b: SemanticVersion) -> Bool {
        if a.major != b.major { return a.major < b.major }
        if a.minor != b.minor { return a.minor < b.minor }
        if a.patch != b.patch { return a.patch < b.patch }
        switch (a.prerelease.isEmpty, b.prerelease.isEmpty) {
        case (true, false): return false
        case (false, true): return true
        case (true, true): return a.description < b.description
        case (false, false): break
        }
        for (x, y) in zip(a.prerelease, b.prerelease) where x != y {
            switch (UInt64(x), UInt64(y)) {
            case let (nx?, ny?): return nx < ny
            case (.some, nil): return true
            case (nil, .some): return false
            case (nil, nil): return x < y
            }
        }
        if a.prerelease.count != b.prerelease.count { return a.prerelease.count < b.prerelease.count }
        return a.description < b.description
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}
