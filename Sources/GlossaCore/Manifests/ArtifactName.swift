/// Rules for artifact names, tags and bundle file paths.
///
/// A name is 1-128 characters of `[a-z0-9._-]`, starts with a letter or digit, and is
/// never `.`/`..`: names become catalog keys and CLI refs (`name:version`), and must not
/// be able to escape a folder if anyone ever uses one as a path component.
public enum ArtifactName {
    public static let maxLength = 128

    /// Returns nil when `name` is acceptable, else the reason it is not.
    public static func problem(with name: String) -> String? {
        if name.isEmpty { return "must not be empty" }
        if name.utf8.count > maxLength { return "'\(name)' is longer than \(maxLength) characters" }
        if name == "." || name == ".." || name.contains("..") { return "'\(name)' contains '..' (path traversal is not allowed)" }
        for b in name.utf8 {
            let ok = (b >= 97 && b <= 122) || (b >= 48 && b <= 57) || b == 46 || b == 95 || b == 45
            if !ok { return "'\(name)' may only contain lowercase letters, digits, '.', '_' and '-'" }
        }
        let first = name.utf8.first!
        if !((first >= 97 && first <= 122) || (first >= 48 && first <= 57)) {
            return "'\(name)' must start with a lowercase letter or a digit"
        }
        return nil
    }

    /// True when `name` is acceptable as an artifact name or tag.
    public static func isValid(_ name: String) -> Bool { problem(with: name) == nil }

    /// Returns nil when `path` is a safe relative file path inside a bundle
    /// (`/`-separated components, each non-empty and not `.` or `..`, no NUL, no `\`).
    public static func problem(withRelativePath path: String) -> String? {
        if path.isEmpty { return "must not be empty" }
        if path.hasPrefix("/") { return "'\(path)' must be relative" }
        if path.contains("\0") || path.contains("\\") { return "'\(path)' contains NUL or backslash" }
        for c in path.split(separator: "/", omittingEmptySubsequences: false) {
            if c.isEmpty || c == "." || c == ".." { return "'\(path)' has an empty, '.' or '..' component (path traversal is not allowed)" }
        }
        return nil
    }
}
