import DurableFiles
import Foundation
import GlossaCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The embedded driver: blobs as files under a registry folder (`FileSystemLayout`).
///
/// Crash safety: a blob is written to `tmp/` (same file system), fsynced, re-read and
/// checked against its digest, renamed into place, and the directory fsynced; so after
/// a crash a blob path either holds the complete blob or does not exist. Leftover
/// temporaries are swept by gc after a grace period.
public struct FileSystemDriver: BlobDriver {
    public let layout: FileSystemLayout

    /// Opens (creating if needed) the folder structure under `root`.
    public init(root: String) throws(StoreError) {
        layout = FileSystemLayout(root: root)
        do { try FileManager.default.createDirectory(atPath: layout.root, withIntermediateDirectories: true) } catch {
            throw .badRegistry(path: layout.root, reason: "cannot create the folder: \(error.localizedDescription)")
        }
        for dir in [layout.root + "/blobs", layout.blobs, layout.root + "/manifests", layout.manifests, layout.tmp, layout.locks, layout.refs] {
            try Posix.makeDirectory(dir)
        }
    }

    public func location(of digest: Digest) -> String { layout.blob(digest) }

    public func get(_ digest: Digest) throws(StoreError) -> [UInt8]? {
        try Posix.readFile(layout.blob(digest))
    }

    public func stat(_ digest: Digest) throws(StoreError) -> BlobStat? {
        guard let st = try Posix.fileStatus(layout.blob(digest)) else { return nil }
        return BlobStat(size: Int(st.st_size), modified: Posix.modified(st))
    }

    public func list() throws(StoreError) -> [Digest] { try Self.listTree(layout.blobs) }

    public func delete(_ digest: Digest) throws(StoreError) {
        if try Posix.unlink(layout.blob(digest)) { try Posix.fsyncDirectory(layout.blobDirectory(digest)) }
    }

    public func beginWrite() throws(StoreError) -> any BlobWrite { try FileSystemWrite(layout: layout) }

    public func indexManifest(_ digest: Digest) throws(StoreError) {
        let path = layout.manifestMarker(digest)
        if Posix.exists(path) { return }
        try Posix.makeDirectory(layout.manifestDirectory(digest), syncParent: true)
        // An empty marker has no content to tear: create it, then make the directory
        // entry durable.
        let fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .io(operation: "create", path: path, errno: errno) }
        close(fd)
        try Posix.fsyncDirectory(layout.manifestDirectory(digest))
    }

    public func unindexManifest(_ digest: Digest) throws(StoreError) {
        if try Posix.unlink(layout.manifestMarker(digest)) { try Posix.fsyncDirectory(layout.manifestDirectory(digest)) }
    }

    public func indexedManifests() throws(StoreError) -> [Digest] { try Self.listTree(layout.manifests) }

    /// Replaces the empty index marker with one holding `acknowledged` (atomically, so
    /// a crash leaves the empty marker or the full one).
    public func acknowledgeManifest(_ digest: Digest) throws(StoreError) {
        let path = layout.manifestMarker(digest)
        if let st = try Posix.fileStatus(path), st.st_size > 0 { return }
        try Posix.makeDirectory(layout.manifestDirectory(digest), syncParent: true)
        try Posix.writeAtomically(Array(FileSystemLayout.acknowledgedMarker.utf8), to: path, tmpDir: layout.tmp)
    }

    public func acknowledgedManifests() throws(StoreError) -> Set<Digest> {
        var out = Set<Digest>()
        for d in try indexedManifests() {
            if let st = try Posix.fileStatus(layout.manifestMarker(d)), st.st_size > 0 { out.insert(d) }
        }
        return out
    }

    public func staleTemporaries(olderThan date: Date) throws(StoreError) -> [TemporaryObject] {
        var out: [TemporaryObject] = []
        for name in try Posix.listDirectory(layout.tmp) {
            guard let st = try? Posix.fileStatus(layout.tmp + "/" + name) else { continue }
            let mtime = Posix.modified(st)
            if mtime < date { out.append(TemporaryObject(name: name, modified: mtime, size: Int(st.st_size))) }
        }
        return out.sorted { $0.name < $1.name }
    }

    public func removeTemporary(_ t: TemporaryObject) throws(StoreError) {
        guard !t.name.contains("/") && !t.name.hasPrefix(".") else { return }
        try Posix.unlink(layout.tmp + "/" + t.name)
    }

    public func setTag(name: String, tag: String, digest: Digest) throws(StoreError) {
        guard ArtifactName.isValid(name), ArtifactName.isValid(tag) else { throw .invalidRef("\(name):\(tag)", reason: "not a valid name and tag") }
        try Posix.makeDirectory(layout.refs + "/" + name, syncParent: true)
        try Posix.writeAtomically(Array(digest.description.utf8), to: layout.tagFile(name: name, tag: tag), tmpDir: layout.tmp)
    }

    public func removeTag(name: String, tag: String) throws(StoreError) {
        guard ArtifactName.isValid(name), ArtifactName.isValid(tag) else { return }
        if try Posix.unlink(layout.tagFile(name: name, tag: tag)) { try Posix.fsyncDirectory(layout.refs + "/" + name) }
    }

    public func tags() throws(StoreError) -> [TagRecord] {
        var out: [TagRecord] = []
        for name in try Posix.listDirectory(layout.refs) where ArtifactName.isValid(name) {
            for tag in try Posix.listDirectory(layout.refs + "/" + name) where ArtifactName.isValid(tag) {
                guard let bytes = try Posix.readFile(layout.tagFile(name: name, tag: tag)),
                      let d = try? Digest(parsing: String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) else { continue }
                out.append(TagRecord(name: name, tag: tag, digest: d))
            }
        }
        return out.sorted { ($0.name, $0.tag) < ($1.name, $1.tag) }
    }

    /// Digests of the files `<dir>/<h0h1>/<hex>`; other names are ignored.
    static func listTree(_ dir: String) throws(StoreError) -> [Digest] {
        var out: [Digest] = []
        for fan in try Posix.listDirectory(dir) where fan.utf8.count == 2 {
            for name in try Posix.listDirectory(dir + "/" + fan) where name.hasPrefix(fan) {
                if let d = try? Digest(parsing: "sha256:" + name) { out.append(d) }
            }
        }
        return out.sorted()
    }
}

/// A write in progress: a `TemporaryFile` in `tmp/` (same file system as `blobs/`), so
/// gc can sweep what a killed writer leaves.
final class FileSystemWrite: BlobWrite {
    let layout: FileSystemLayout
    private let file: TemporaryFile

    init(layout: FileSystemLayout) throws(StoreError) {
        self.layout = layout
        do { file = try TemporaryFile(directory: layout.tmp, name: "\(getpid())-\(UInt64.random(in: 0...UInt64.max)).partial") } catch {
            throw StoreError(error)
        }
    }

    var tmpPath: String { file.path }

    func write(_ bytes: UnsafeRawBufferPointer) throws(StoreError) {
        do { try file.write(bytes) } catch { throw StoreError(error) }
    }

    func commit(as digest: Digest, contentDigest: (UnsafeRawBufferPointer) throws(StoreError) -> Digest) throws(StoreError) {
        defer { file.discard() }   // a no-op once moved into place
        do { try file.sync() } catch { throw StoreError(error) }
        // Re-read from the file, not from memory: this checks what the disk holds.
        guard let written = try Posix.readFile(tmpPath) else { throw .io(operation: "read back", path: tmpPath, errno: ENOENT) }
        let actual: Digest
        do { actual = try written.withUnsafeBytes { try contentDigest($0) } } catch { throw error as! StoreError }
        guard actual == digest else { throw .digestMismatch(expected: digest, actual: actual, location: tmpPath) }
        let final = layout.blob(digest)
        if let existing = try Posix.readFile(final), (try? existing.withUnsafeBytes { try contentDigest($0) }) == digest {
            // Same digest, same content, and the stored file checks: keep it, and refresh
            // its time so a concurrent gc's grace period protects it again.
            file.discard()
            utimes(final, nil)
            return
        }
        // Absent, or damaged (it no longer hashes to its name): the checked write takes its
        // place; the rename replaces a damaged file atomically.
        try Posix.makeDirectory(layout.blobDirectory(digest), syncParent: true)
        do { try file.moveIntoPlace(at: final) } catch { throw StoreError(error) }
    }

    func cancel() { file.discard() }
}

/// Thin wrappers over POSIX calls that throw `StoreError.io` with the path.
enum Posix {
    static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    static func modified(_ st: stat) -> Date {
        Date(timeIntervalSince1970: Double(st.st_mtim.tv_sec) + Double(st.st_mtim.tv_nsec) * 1e-9)
    }

    /// stat(2), or nil when the path does not exist.
    static func fileStatus(_ path: String) throws(StoreError) -> stat? {
        var st = stat()
        if stat(path, &st) != 0 {
            if errno == ENOENT { return nil }
            throw .io(operation: "stat", path: path, errno: errno)
        }
        return st
    }

    /// mkdir; an existing directory is fine. With `syncParent`, fsyncs the parent so
    /// the new entry survives a crash.
    static func makeDirectory(_ path: String, syncParent: Bool = false) throws(StoreError) {
        if mkdir(path, 0o755) == 0 {
            if syncParent { try fsyncDirectory(String(path[..<path.lastIndex(of: "/")!])) }
            return
        }
        if errno == EEXIST { return }
        throw .io(operation: "create directory", path: path, errno: errno)
    }

    static func fsyncDirectory(_ path: String) throws(StoreError) {
        do { try syncDirectory(path) } catch { throw StoreError(error) }
    }

    /// unlink; a missing file is fine. Returns whether a file was removed.
    @discardableResult
    static func unlink(_ path: String) throws(StoreError) -> Bool {
        if Glibc.unlink(path) == 0 { return true }
        if errno == ENOENT { return false }
        throw .io(operation: "remove", path: path, errno: errno)
    }

    /// Whole file, or nil when it does not exist.
    static func readFile(_ path: String) throws(StoreError) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { return nil }
            throw .io(operation: "open", path: path, errno: errno)
        }
        defer { close(fd) }
        var st = Glibc.stat()
        guard fstat(fd, &st) == 0 else { throw .io(operation: "stat", path: path, errno: errno) }
        let size = Int(st.st_size)
        var out = [UInt8](repeating: 0, count: size)
        var off = 0
        var failure: Int32 = 0
        out.withUnsafeMutableBytes { b in
            while off < size {
                let n = read(fd, b.baseAddress! + off, size - off)
                if n < 0 { if errno == EINTR { continue }; failure = errno; return }
                if n == 0 { break }
                off += n
            }
        }
        if failure != 0 { throw .io(operation: "read", path: path, errno: failure) }
        if off < size { out.removeSubrange(off...) }
        return out
    }

    static func listDirectory(_ path: String) throws(StoreError) -> [String] {
        guard let dir = opendir(path) else {
            if errno == ENOENT { return [] }
            throw .io(operation: "list", path: path, errno: errno)
        }
        defer { closedir(dir) }
        var names: [String] = []
        while let e = readdir(dir) {
            let name = withUnsafePointer(to: e.pointee.d_name) { $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) } }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// Writes a small file atomically (`TemporaryFile` in `tmpDir`, where gc sweeps leftovers).
    static func writeAtomically(_ bytes: [UInt8], to path: String, tmpDir: String) throws(StoreError) {
        do {
            let file = try TemporaryFile(directory: tmpDir, name: "\(getpid())-\(UInt64.random(in: 0...UInt64.max)).small")
            try file.write(bytes)
            try file.moveIntoPlace(at: path)
        } catch { throw StoreError(error) }
    }
}
