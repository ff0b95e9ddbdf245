import Foundation
import GlossaCore

/// This process's memory mappings, from /proc/self/smaps (Linux), for tests of what the
/// kernel was told about a buffer (`HugePages`).
enum MemoryMaps {
    /// The VmFlags of the mapping that holds `address` ("hg": huge pages advised), or nil.
    static func vmFlags(at address: Int) throws -> [String]? {
        // Read to the end: /proc files report size 0, and String(contentsOfFile:) stops at a page.
        guard let file = FileHandle(forReadingAtPath: "/proc/self/smaps") else { return nil }
        defer { try? file.close() }
        let smaps = String(decoding: try file.readToEnd() ?? Data(), as: UTF8.self)
        var inside = false
        for line in smaps.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            if let range = fields.first, range.contains("-"), !range.hasSuffix(":") {
                let bounds = range.split(separator: "-").compactMap { Int($0, radix: 16) }
                inside = bounds.count == 2 && bounds[0] <= address && address < bounds[1]
            } else if inside, fields.first == "VmFlags:" {
                return fields.dropFirst().map(String.init)
            }
        }
        return nil
    }

    /// Whether huge pages were advised over the whole 2 MiB pages of `buffer` (their first).
    static func hugePagesAdvised(_ buffer: UnsafeRawBufferPointer) throws -> Bool {
        guard let pages = HugePages.wholePages(in: buffer) else { preconditionFailure("buffer holds no whole 2 MiB page") }
        return try vmFlags(at: pages.lowerBound)?.contains("hg") ?? false
    }
}
