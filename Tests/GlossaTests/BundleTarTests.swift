import DurableFiles
import Foundation
import TensorIO
import XCTest
@testable import Glossa

/// The ustar subset bundles use: round trips of awkward sizes, GNU tar as the peer reader,
/// and refusal of corrupt, truncated or escaping archives.
final class BundleTarTests: XCTestCase {
    var tmp: URL!
    override func setUpWithError() throws {
        tmp = FileManager.default.temporaryDirectory.appendingPathComponent("glossa-tar-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: tmp.appendingPathComponent("in/d"), withIntermediateDirectories: true)
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: tmp) }

    func write(_ entries: [String], to name: String) throws -> String {
        let path = tmp.appendingPathComponent(name).path
        let w = try AtomicFileWriter(path: path)
        try TarArchive.write(folder: tmp.appendingPathComponent("in"), entries: entries, to: w, mtime: 1_800_000_000)
        try w.commit()
        return path
    }

    func testRoundTripOfAwkwardSizesAndGNUTarAgrees() throws {
        var rng = SystemRandomNumberGenerator()
        var files: [String: Data] = [:]
        for size in [0, 1, 511, 512, 513, 4096, 70_001] {
            let name = "d/f\(size)"
            files[name] = Data((0 ..< size).map { _ in UInt8.random(in: 0 ... 255, using: &rng) })
            try files[name]!.write(to: tmp.appendingPathComponent("in/" + name))
        }
        let path = try write(["d/"] + files.keys.sorted(), to: "a.tar")
        let map = try MappedFile(path: path)
        XCTAssertEqual(map.count % 512, 0)
        let index = try TarArchive.index(map)
        XCTAssertEqual(Set(index.keys), Set(files.keys))
        for (name, data) in files {
            XCTAssertEqual(map.data(in: index[name]!), data, name)
            XCTAssertEqual(index[name]!.lowerBound % 512, 0, "\(name) starts on a block boundary, so tensors map in place")
        }
        // GNU tar reads it and extracts the same bytes.
        let tar = try BundleTestSupport.requireTool("/usr/bin/tar")
        let out = tmp.appendingPathComponent("out")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        let x = try BundleTestSupport.run(tar, ["-xf", path, "-C", out.path])
        XCTAssertEqual(x.status, 0, x.stderr)
        for (name, data) in files { XCTAssertEqual(try Data(contentsOf: out.appendingPathComponent(name)), data, name) }
    }

    func testCorruptTruncatedAndEscapingArchivesAreRefused() throws {
        try Data("hello".utf8).write(to: tmp.appendingPathComponent("in/d/x"))
        let good = try Data(contentsOf: URL(fileURLWithPath: try write(["d/x"], to: "g.tar")))
        func refused(_ bytes: Data, _ text: String, file: StaticString = #filePath, line: UInt = #line) throws {
            let p = tmp.appendingPathComponent("bad-\(UUID().uuidString.prefix(4)).tar")
            try bytes.write(to: p)
            XCTAssertThrowsError(try TarArchive.index(try MappedFile(path: p.path)), file: file, line: line) { e in
                XCTAssertTrue("\(e)".contains(text), "\(e)", file: file, line: line)
            }
        }
        var bad = good
        bad[3] ^= 0x01   // a name byte: the header checksum no longer matches
        try refused(bad, "corrupt")
        try refused(good.prefix(700), "truncated")
        try refused(good.prefix(512 + 100), "truncated")
        var twice = good.prefix(1024)
        twice.append(good.prefix(1024)); twice.append(Data(count: 1024))
        try refused(twice, "twice")
        var escaping = Data(TarArchive.header(name: "../etc/x", size: 0, directory: false, mtime: 0))
        escaping.append(Data(count: 1024))
        try refused(escaping, "outside")
    }
}
