/// Recovers the order of keys in JSON objects, which `JSONDecoder` discards.
///
/// PEFT resolves `rank_pattern` / `alpha_pattern` by taking the *first* pattern (in file
/// order) that matches a module, so that order is part of the adapter's meaning.
enum JSONKeyOrder {
    /// Keys, in file order, of the object stored under top-level key `field` of the JSON
    /// object in `bytes`; nil if the text is not a JSON object or `field` is not an object.
    static func keys(ofObjectAt field: String, in bytes: [UInt8]) -> [String]? {
        var s = Scanner(bytes: bytes)
        var result: [String]?
        guard s.object(onKey: { key, s in
            if key == field, s.peek() == UInt8(ascii: "{") {
                var keys = [String]()
                guard s.object(onKey: { k, s in keys.append(k); return s.skipValue() }) else { return false }
                result = keys
                return true
            }
            return s.skipValue()
        }) else { return nil }
        return result
    }

    private struct Scanner {
        let bytes: [UInt8]
        var i = 0

        mutating func space() {
            while i < bytes.count, [0x20, 0x0a, 0x0d, 0x09].contains(bytes[i]) { i += 1 }
        }

        mutating func peek() -> UInt8? { space(); return i < bytes.count ? bytes[i] : nil }

        /// Parses an object, calling `onKey` with the scanner positioned at each value,
        /// which `onKey` must consume.
        mutating func object(onKey: (String, inout Scanner) -> Bool) -> Bool {
            guard peek() == UInt8(ascii: "{") else { return false }
            i += 1
            if peek() == UInt8(ascii: "}") { i += 1; return true }
            while true {
                guard let key = string() else { return false }
                guard peek() == UInt8(ascii: ":") else { return false }
                i += 1
                guard onKey(key, &self) else { return false }
                switch peek() {
                case UInt8(ascii: ","): i += 1
                case UInt8(ascii: "}"): i += 1; return true
                default: return false
                }
            }
        }

        mutating func string() -> String? {
            guard peek() == UInt8(ascii: "\"") else { return nil }
            let start = i
            i += 1
            while i < bytes.count, bytes[i] != UInt8(ascii: "\"") {
                i += bytes[i] == UInt8(ascii: "\\") ? 2 : 1
            }
            guard i < bytes.count else { return nil }
            i += 1
            // Let the standard decoder handle escapes.
            return try? JSONValue.parse(.init(bytes[start ..< i])).string
        }

        mutating func skipValue() -> Bool {
            switch peek() {
            case UInt8(ascii: "{"): return object { _, s in s.skipValue() }
            case UInt8(ascii: "["):
                i += 1
                if peek() == UInt8(ascii: "]") { i += 1; return true }
                while true {
                    guard skipValue() else { return false }
                    switch peek() {
                    case UInt8(ascii: ","): i += 1
                    case UInt8(ascii: "]"): i += 1; return true
                    default: return false
                    }
                }
            case UInt8(ascii: "\""): return string() != nil
            case nil: return false
            default:
                // number, true, false, null
                let start = i
                while i < bytes.count, !(",]} \n\r\t".utf8.contains(bytes[i])) { i += 1 }
                return i > start
            }
        }
    }
}
