import Foundation
import XCTest
import GlossaCore
@testable import TensorIO

final class SafeTensorsTests: XCTestCase {
    // MARK: Round trips

    private func randomTensors(_ g: inout SeededGenerator) -> [String: TensorData] {
        var out = [String: TensorData]()
        for i in 0 ..< Int.random(in: 0 ... 8, using: &g) {
            let dtype = DType.allCases.randomElement(using: &g)!
            let rank = Int.random(in: 0 ... 3, using: &g)
            let shape = (0 ..< rank).map { _ in Int.random(in: 0 ... 5, using: &g) }
            let n = shape.reduce(1, *) * dtype.size
            let bytes = Data((0 ..< n).map { _ in UInt8.random(in: 0 ... 255, using: &g) })
            let names = ["w", "layer.\(i).weight", "ünï\"quote\\\(i)", "tab\t\(i)", "a"]
            out[names.randomElement(using: &g)! + "\(i)"] = TensorData(dtype: dtype, shape: shape, bytes: bytes)
        }
        return out
    }

    func testRandomTensorsRoundTripInMemoryAndOnDisk() throws {
        var g = SeededGenerator(seed: 7)
        let dir = try TestPaths.tempDir(self)
        for trial in 0 ..< 60 {
            let tensors = randomTensors(&g)
            let metadata: [String: String]? = trial % 3 == 0 ? nil : ["format": "pt", "k\(trial)": "v \"é\" \n"]
            let bytes = try SafeTensors.encode(tensors, metadata: metadata)
            let headerLength = bytes.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
            XCTAssertEqual((8 + headerLength) % 8, 0, "header must be padded so data starts 8-aligned")
            let decoded = try SafeTensors.decode(bytes)
            XCTAssertEqual(decoded.tensors, tensors)
            XCTAssertEqual(decoded.metadata, metadata)

            let url = dir.appendingPathComponent("t\(trial).safetensors")
            try SafeTensors.write(tensors, metadata: metadata, to: url)
            let read = try SafeTensors.read(url)
            XCTAssertEqual(read.tensors, tensors)
            XCTAssertEqual(read.metadata, metadata)
            XCTAssertEqual(try Data(contentsOf: url), bytes, "write and encode must agree byte for byte")
        }
        // No temporary files are left behind.
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasPrefix(".") }
        XCTAssertEqual(leftovers, [])
    }

    func testTensorsAreAlignedToTheirElementSize() throws {
        let tensors: [String: TensorData] = [
            "a": TensorData(dtype: .i8, shape: [3], bytes: Data([1, 2, 3])),
            "b": TensorData(dtype: .f16, shape: [1], bytes: Data([0, 0x3c])),
            "c": .f32([2], [1, 2]),
            "d": TensorData(dtype: .f64, shape: [1], bytes: Data(count: 8)),
        ]
        let bytes = try SafeTensors.encode(tensors)
        let n = Int(bytes.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
        let header = try JSONSerialization.jsonObject(with: bytes[8 ..< 8 + n]) as! [String: Any]
        for (name, t) in tensors {
            let begin = ((header[name] as! [String: Any])["data_offsets"] as! [Int])[0]
            XCTAssertEqual((8 + n + begin) % t.dtype.size, 0, name)
        }
    }

    func testMappedTensorsOutliveTheFileAndTheReader() throws {
        let dir = try TestPaths.tempDir(self)
        let url = dir.appendingPathComponent("m.safetensors")
        let values = (0 ..< 1000).map { Float($0) * 0.25 }
        try SafeTensors.write(["x": .f32([1000], values)], to: url)
        var kept: TensorData?
        do {
            let file = try SafeTensors.read(url)
            kept = file["x"]
        }
        try FileManager.default.removeItem(at: url)
        XCTAssertEqual(kept?.doubles, values.map(Double.init))
    }

    func testWriteRefusesReservedName() {
        XCTAssertThrowsError(try SafeTensors.encode(["__metadata__": .f32([1], [1])])) { error in
            guard case .safeTensors(_, "__metadata__", .invalidInput) = error as? TensorIOError else { return XCTFail("\(error)") }
        }
    }

    // MARK: Hostile headers

    /// A file with the given header text (unpadded) and data bytes; `length` overrides
    /// the length prefix.
    private func file(_ header: String, data: [UInt8] = [], length: UInt64? = nil) -> Data {
        let h = Array(header.utf8)
        var out = Data()
        withUnsafeBytes(of: (length ?? UInt64(h.count)).littleEndian) { out.append(contentsOf: $0) }
        out.append(contentsOf: h)
        out.append(contentsOf: data)
        return out
    }

    private func problem(_ data: Data) -> (key: String?, problem: SafeTensorsProblem)? {
        do {
            _ = try SafeTensors.decode(data, path: "hostile.safetensors")
            return nil
        } catch {
            guard case let .safeTensors(path, key, p) = error else { return nil }
            XCTAssertEqual(path, "hostile.safetensors")
            XCTAssertTrue(error.description.contains("hostile.safetensors"))
            return (key, p)
        }
    }

    private let ok = #""x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}"#

    func testValidMinimalFileParses() throws {
        let f = try SafeTensors.decode(file("{\(ok)}", data: Array(repeating: 0, count: 8)))
        XCTAssertEqual(f["x"]?.shape, [2])
        XCTAssertNil(f.metadata)
    }

    func testTruncatedFiles() {
        XCTAssertEqual(problem(Data([1, 0, 0]))?.problem, .truncated(needed: 8, have: 3))
        XCTAssertEqual(problem(file("{}", length: 100))?.problem, .truncated(needed: 108, have: 10))
        // Data section shorter than the offsets claim.
        let p = problem(file("{\(ok)}", data: [0, 0, 0, 0]))
        XCTAssertEqual(p?.key, "x")
        XCTAssertEqual(p?.problem, .offsetsOutOfBounds(begin: 0, end: 8, dataLength: 4))
    }

    func testHugeHeaderLengthIsRefusedBeforeAllocating() {
        XCTAssertEqual(problem(file("{}", length: 1 << 62))?.problem,
                       .headerTooLarge(length: 1 << 62, limit: SafeTensors.maxHeaderLength))
        XCTAssertEqual(problem(file("{}", length: UInt64.max))?.problem,
                       .headerTooLarge(length: UInt64.max, limit: SafeTensors.maxHeaderLength))
    }

    func testNonObjectAndNonJSONHeaders() {
        XCTAssertEqual(problem(file("[1,2]"))?.problem, .headerNotObject)
        XCTAssertEqual(problem(file("\"x\""))?.problem, .headerNotObject)
        if case .headerNotJSON? = problem(file("{\"x\":"))?.problem {} else { XCTFail("expected headerNotJSON") }
        if case .headerNotJSON? = problem(Data([2, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xfe]))?.problem {} else { XCTFail("expected headerNotJSON for invalid UTF-8") }
        let p = problem(file(#"{"x":[1]}"#))
        XCTAssertEqual(p?.key, "x")
        if case .malformedEntry? = p?.problem {} else { XCTFail("\(String(describing: p))") }
    }

    func testBadDTypeNamesTheKey() {
        let p = problem(file(#"{"w":{"dtype":"Q4_K","shape":[2],"data_offsets":[0,2]}}"#, data: [0, 0]))
        XCTAssertEqual(p?.key, "w")
        XCTAssertEqual(p?.problem, .unknownDType("Q4_K"))
    }

    func testBadShapes() {
        XCTAssertEqual(problem(file(#"{"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,0]}}"#))?.problem, .invalidShape([-1]))
        let big = Int.max / 2
        XCTAssertEqual(problem(file(#"{"w":{"dtype":"F32","shape":[\#(big),\#(big)],"data_offsets":[0,0]}}"#))?.problem,
                       .invalidShape([big, big]))
        if case .malformedEntry? = problem(file(#"{"w":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}"#, data: [0, 0, 0, 0]))?.problem {} else { XCTFail() }
        XCTAssertEqual(problem(file(#"{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, data: Array(repeating: 0, count: 8)))?.problem,
                       .sizeMismatch(expected: 12, actual: 8))
    }

    func testOffsetsOutOfBoundsAndReversed() {
        XCTAssertEqual(problem(file(#"{"w":{"dtype":"U8","shape":[2],"data_offsets":[6,8]}}"#, data: [0, 0]))?.problem,
                       .offsetsOutOfBounds(begin: 6, end: 8, dataLength: 2))
        XCTAssertEqual(problem(file(#"{"w":{"dtype":"U8","shape":[0],"data_offsets":[2,0]}}"#, data: [0, 0]))?.problem,
                       .offsetsOutOfBounds(begin: 2, end: 0, dataLength: 2))
        if case .malformedEntry? = problem(file(#"{"w":{"dtype":"U8","shape":[1],"data_offsets":[-1,0]}}"#, data: [0]))?.problem {} else { XCTFail() }
    }

    func testOverlappingGapsAndTrailingBytes() {
        let overlap = #"{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},"b":{"dtype":"U8","shape":[4],"data_offsets":[2,6]}}"#
        let p = problem(file(overlap, data: Array(repeating: 0, count: 6)))
        XCTAssertEqual(p?.key, "b")
        XCTAssertEqual(p?.problem, .overlapping(with: "a"))

        let same = #"{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},"b":{"dtype":"U8","shape":[4],"data_offsets":[0,4]}}"#
        XCTAssertEqual(problem(file(same, data: Array(repeating: 0, count: 4)))?.problem, .overlapping(with: "a"))

        let gap = #"{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"b":{"dtype":"U8","shape":[2],"data_offsets":[3,5]}}"#
        XCTAssertEqual(problem(file(gap, data: Array(repeating: 0, count: 5)))?.problem, .gap(at: 2))

        let trailing = problem(file("{\(ok)}", data: Array(repeating: 0, count: 9)))
        XCTAssertNil(trailing?.key)
        XCTAssertEqual(trailing?.problem, .gap(at: 8))
        XCTAssertEqual(problem(file("{}", data: [1]))?.problem, .gap(at: 0))
    }

    func testMetadataMustBeAStringMap() {
        let p = problem(file(#"{"__metadata__":{"a":1}}"#))
        XCTAssertEqual(p?.key, "__metadata__")
        XCTAssertEqual(p?.problem, .metadataNotStringMap)
        XCTAssertEqual(problem(file(#"{"__metadata__":["a"]}"#))?.problem, .metadataNotStringMap)
    }

    func testHostileFilesOnDiskAreRefusedWithTheirPath() throws {
        let dir = try TestPaths.tempDir(self)
        let url = dir.appendingPathComponent("bad.safetensors")
        try file("[]").write(to: url)
        XCTAssertThrowsError(try SafeTensors.read(url)) { error in
            XCTAssertEqual(error as? TensorIOError, .safeTensors(path: url.path, key: nil, problem: .headerNotObject))
        }
        try Data().write(to: url)
        XCTAssertThrowsError(try SafeTensors.read(url)) { error in
            XCTAssertEqual(error as? TensorIOError, .safeTensors(path: url.path, key: nil, problem: .truncated(needed: 8, have: 0)))
        }
        XCTAssertThrowsError(try SafeTensors.read(dir.appendingPathComponent("missing.safetensors"))) { error in
            guard case .fileSystem(_, "open", _)? = error as? TensorIOError else { return XCTFail("\(error)") }
        }
    }

    /// Random byte flips in the header of a valid file never crash the reader: each
    /// mutant either parses into a consistent file or throws a typed error.
    func testFuzzedHeadersNeverCrash() throws {
        var g = SeededGenerator(seed: 99)
        let good = try SafeTensors.encode(["a": .f32([2, 2], [1, 2, 3, 4]), "b": TensorData(dtype: .i8, shape: [3], bytes: Data([1, 2, 3]))],
                                          metadata: ["m": "n"])
        let headerEnd = 8 + Int(good.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
        for _ in 0 ..< 2000 {
            var m = good
            for _ in 0 ..< Int.random(in: 1 ... 3, using: &g) {
                m[Int.random(in: 0 ..< headerEnd, using: &g)] = UInt8.random(in: 0 ... 255, using: &g)
            }
            do {
                let f = try SafeTensors.decode(m)
                XCTAssertEqual(f.tensors.values.reduce(0) { $0 + $1.bytes.count }, good.count - headerEnd)
            } catch {
                XCTAssertTrue(error.description.contains("<memory>"))
            }
        }
    }
}

extension SafeTensorsTests {
    /// Mutating a tensor read from a mapped file must not crash nor change the file.
    func testMutatingAMappedTensorLeavesTheFileIntact() throws {
        let dir = try TestPaths.tempDir(self)
        let url = dir.appendingPathComponent("w.safetensors")
        try SafeTensors.write(["x": .f32([4], [1, 2, 3, 4])], to: url)
        let before = try Data(contentsOf: url)
        var t = try SafeTensors.read(url)["x"]!
        let shared = t
        t.bytes[0] = 0xAB
        XCTAssertEqual(t.bytes[0], 0xAB)
        XCTAssertEqual(shared.doubles, [1, 2, 3, 4])
        XCTAssertEqual(try Data(contentsOf: url), before)
        var u = try SafeTensors.read(url)["x"]!  // uniquely owned: written in place
        u.bytes[1] = 0xCD
        XCTAssertEqual(try Data(contentsOf: url), before)
    }
}
