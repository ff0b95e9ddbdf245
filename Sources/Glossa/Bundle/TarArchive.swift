import DurableFiles
import Foundation
import TensorIO

/// The POSIX ustar subset a bundle `.tar` needs: regular files and directories, names up to
/// 100 bytes (`blobs/sha256/<64 hex>` is 77), sizes below 8 GiB. Every header and every file
/// starts on a 512-byte boundary, so a reader can map the archive once and hand out tensor
/// bytes in place.
///
///     header (512 B): name[100] mode[8] uid[8] gid[8] size[12] mtime[12] chksum[8] type[1]
///                     linkname[100] "ustar\0" "00" uname[32] gname[32] devmajor[8] devminor[8]
///                     prefix[155] pad[12]       numbers: octal ASCII, NUL-terminated
///     data, zero-padded to a multiple of 512; the archive ends with two zero blocks.
enum TarArchive {
    static let block = 512

    /// One ustar header. `typeFlag` is "0" (file) or "5" (directory).
    static func header(name: String, size: Int, directory: Bool, mtime: Int) -> [UInt8] {
        var h = [UInt8](repeating: 0, count: block)
        func put(_ text: String, at offset: Int, width: Int) {
            for (i, b) in text.utf8.prefix(width).enumerated() { h[offset + i] = b }
        }
        func octal(_ v: Int, at offset: Int, width: Int) {
            let digits = String(v, radix: 8)
            put(String(repeating: "0", count: max(0, width - 1 - digits.count)) + digits, at: offset, width: width - 1)
        }
        precondition(name.utf8.count <= 100, "tar name too long: \(name)")
        put(name, at: 0, width: 100)
        octal(directory ? 0o755 : 0o644, at: 100, width: 8)
        octal(0, at: 108, width: 8)
        octal(0, at: 116, width: 8)
        octal(size, at: 124, width: 12)
        octal(mtime, at: 136, width: 12)
        h[156] = directory ? UInt8(ascii: "5") : UInt8(ascii: "0")
        put("ustar\0", at: 257, width: 6)
        put("00", at: 263, width: 2)
        // The checksum is computed with its own field read as 8 spaces.
        for i in 148 ..< 156 { h[i] = 0x20 }
        let sum = h.reduce(0) { $0 + Int($1) }
        let digits = String(sum, radix: 8)
        put(String(repeating: "0", count: max(0, 6 - digits.count)) + digits, at: 148, width: 6)
        h[154] = 0; h[155] = 0x20
        return h
    }

    /// Writes the tree under `folder` (files named in `entries`, in that order, relative
    /// paths; directories end with `/`) as a tar to `writer`.
    static func write(folder: URL, entries: [String], to writer: AtomicFileWriter, mtime: Int) throws {
        for name in entries {
            if name.hasSuffix("/") {
                try writer.write(header(name: name, size: 0, directory: true, mtime: mtime))
                continue
            }
            let file = try MappedFile(path: folder.appendingPathComponent(name).path)
            try writer.write(header(name: name, size: file.count, directory: false, mtime: mtime))
            try writer.write(file.buffer)
            let pad = (block - file.count % block) % block
            if pad > 0 { try writer.write([UInt8](repeating: 0, count: pad)) }
        }
        try writer.write([UInt8](repeating: 0, count: 2 * block))
    }

    /// Regular files of a mapped archive: name -> byte range of the data. Refuses truncated
    /// archives, bad checksums, names that escape the archive and duplicates.
    static func index(_ file: MappedFile) throws(BundleError) -> [String: Range<Int>] {
        let buf = file.buffer
        var out: [String: Range<Int>] = [:]
        var offset = 0
        while true {
            guard offset + block <= file.count else {
                throw .damaged(path: file.path, reason: "the archive is truncated at byte \(file.count) (a tar header is incomplete)")
            }
            let h = UnsafeRawBufferPointer(rebasing: buf[offset ..< offset + block])
            if h.allSatisfy({ $0 == 0 }) { break }
            func text(_ o: Int, _ w: Int) -> String {
                let bytes = h[o ..< o + w].prefix { $0 != 0 }
                return String(decoding: bytes, as: UTF8.self)
            }
            func number(_ o: Int, _ w: Int) -> Int? { Int(text(o, w).trimmingCharacters(in: CharacterSet(charactersIn: " ")), radix: 8) }
            var sum = 0
            for i in 0 ..< block { sum += (148 ..< 156).contains(i) ? 0x20 : Int(h[i]) }
            guard let stored = number(148, 8), stored == sum, let size = number(124, 12), size >= 0 else {
                throw .damaged(path: file.path, reason: "the tar header at byte \(offset) is corrupt (bad checksum or size)")
            }
            var name = text(0, 100)
            let prefix = text(345, 155)
            if h[257 ..< 262].elementsEqual("ustar".utf8), !prefix.isEmpty { name = prefix + "/" + name }
            while name.hasPrefix("./") { name.removeFirst(2) }
            let type = h[156]
            let start = offset + block
            guard start + size <= file.count else {
                throw .damaged(path: file.path,
                               reason: "the archive is truncated: \(name) needs \(size) bytes at \(start), the file ends at \(file.count)")
            }
            if type == UInt8(ascii: "0") || type == 0 {
                if name.split(separator: "/").contains("..") || name.hasPrefix("/") {
                    throw .damaged(path: file.path, reason: "entry '\(name)' points outside the archive")
                }
                if out[name] != nil { throw .damaged(path: file.path, reason: "entry '\(name)' appears twice") }
                out[name] = start ..< start + size
            }
            offset = start + (size + block - 1) / block * block
        }
        return out
    }
}
