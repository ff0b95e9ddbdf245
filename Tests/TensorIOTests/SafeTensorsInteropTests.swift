import Foundation
import XCTest
import GlossaCore
@testable import TensorIO

/// Files written by the reference Python `safetensors` load in ours, and ours load there.
final class SafeTensorsInteropTests: XCTestCase {
    /// The file scripts/golden/io_safetensors.py writes with Python safetensors at test time.
    func testPythonWrittenGoldenFile() throws {
        let f = try SafeTensors.read(try TestPaths.pythonWritten())
        XCTAssertEqual(f.metadata, ["format": "np", "source": "glossa golden"])
        XCTAssertEqual(Set(f.tensors.keys), ["a_f32", "b_f16", "c_i8", "d_i64", "e_u8", "f_bool", "g_f64", "scalar", "empty"])
        func check(_ name: String, _ dtype: DType, _ shape: [Int], _ values: [Double], file: StaticString = #filePath, line: UInt = #line) {
            guard let t = f[name] else { return XCTFail("missing \(name)", file: file, line: line) }
            XCTAssertEqual(t.dtype, dtype, name, file: file, line: line)
            XCTAssertEqual(t.shape, shape, name, file: file, line: line)
            XCTAssertEqual(t.doubles, values, name, file: file, line: line)
        }
        check("a_f32", .f32, [3, 4], (0 ..< 12).map { Double($0) * 0.5 - 1 })
        check("b_f16", .f16, [2, 3], (0 ..< 6).map { Double($0) / 4 })
        check("c_i8", .i8, [8], (0 ..< 8).map { Double($0 - 4) })
        check("d_i64", .i64, [3], [1, -2, 3_000_000_000_000])
        check("e_u8", .u8, [2, 2], [0, 60, 120, 180])
        check("f_bool", .bool, [3], [1, 0, 1])
        check("g_f64", .f64, [2], [Double.pi, -M_E])
        check("scalar", .f32, [], [3.25])
        check("empty", .f32, [0, 3], [])
        // Our writer reproduces the reference writer's file: the same header length (and so
        // padding), the same header as JSON with the tensors in the same order, and the same
        // data bytes. Not the same header bytes: Python safetensors keeps `__metadata__` in a
        // Rust HashMap, so its two keys come out in either order from one run to the next.
        let ours = try SafeTensors.encode(f.tensors, metadata: f.metadata)
        let theirs = try Data(contentsOf: try TestPaths.pythonWritten())
        func split(_ d: Data) -> (header: Data, data: Data) {
            let n = 8 + Int(d.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self).littleEndian })
            return (d.subdata(in: 8 ..< n), d.subdata(in: n ..< d.count))
        }
        let (ourHeader, ourData) = split(ours), (theirHeader, theirData) = split(theirs)
        XCTAssertEqual(ourHeader.count, theirHeader.count)
        XCTAssertEqual(ourData, theirData)
        let json = { (h: Data) in try JSONSerialization.jsonObject(with: h) as? NSDictionary }
        XCTAssertEqual(try json(ourHeader), try json(theirHeader))
        func tensorOrder(_ h: Data) -> [String] {
            let text = String(decoding: h, as: UTF8.self)
            return f.tensors.keys.sorted { text.range(of: "\"\($0)\":")!.lowerBound < text.range(of: "\"\($1)\":")!.lowerBound }
        }
        XCTAssertEqual(tensorOrder(ourHeader), tensorOrder(theirHeader))
    }

    /// Live check against Python: Python writes random tensors we read; we write tensors
    /// Python reads and re-hashes.
    func testLiveInteropWithPythonSafetensors() throws {
        let dir = try TestPaths.tempDir(self)
        let pyFile = dir.appendingPathComponent("py.safetensors")
        let script = """
        import sys, json, hashlib, numpy as np
        from safetensors.numpy import save_file, load_file
        mode, path = sys.argv[1], sys.argv[2]
        if mode == "write":
            rng = np.random.default_rng(5)
            t = {"w": rng.standard_normal((7, 5)).astype(np.float32),
                 "h": rng.standard_normal((3, 9)).astype(np.float16),
                 "i": rng.integers(-100, 100, (11,)).astype(np.int32)}
            save_file(t, path, metadata={"who": "python"})
            print(json.dumps({k: hashlib.sha256(v.tobytes()).hexdigest() for k, v in t.items()}))
        else:
            t = load_file(path)
            print(json.dumps({k: [str(v.dtype), list(v.shape), hashlib.sha256(v.tobytes()).hexdigest()] for k, v in t.items()}))
        """
        let written = try runPython(["-c", script, "write", pyFile.path], requiring: ["numpy", "safetensors"])
        let hashes = try JSONDecoder().decode([String: String].self, from: Data(written.utf8))
        let ours = try SafeTensors.read(pyFile)
        XCTAssertEqual(ours.metadata, ["who": "python"])
        XCTAssertEqual(ours["w"]?.shape, [7, 5])
        XCTAssertEqual(ours["h"]?.dtype, .f16)
        XCTAssertEqual(ours["i"]?.dtype, .i32)
        for (k, h) in hashes { XCTAssertEqual(Digest(of: ours[k]!.bytes).hex, h, k) }

        var g = SeededGenerator(seed: 3)
        var mine = [String: TensorData]()
        let dtypes: [DType] = [.f32, .f16, .i8, .i64, .u8, .f64, .i16, .i32]
        for (i, d) in dtypes.enumerated() {
            let shape = [i + 1, 3]
            mine["t\(i)"] = TensorData(dtype: d, shape: shape, bytes: Data((0 ..< shape.reduce(1, *) * d.size).map { _ in UInt8.random(in: 0 ... 255, using: &g) }))
        }
        mine["scalar"] = .f32([], [1.5])
        let ourFile = dir.appendingPathComponent("ours.safetensors")
        try SafeTensors.write(mine, metadata: ["format": "pt"], to: ourFile)
        let read = try runPython(["-c", script, "read", ourFile.path], requiring: ["numpy", "safetensors"])
        let seen = try JSONSerialization.jsonObject(with: Data(read.utf8)) as! [String: [Any]]
        XCTAssertEqual(Set(seen.keys), Set(mine.keys))
        let numpyNames: [DType: String] = [.f32: "float32", .f16: "float16", .i8: "int8", .i64: "int64", .u8: "uint8", .f64: "float64", .i16: "int16", .i32: "int32"]
        for (k, t) in mine {
            XCTAssertEqual(seen[k]?[0] as? String, numpyNames[t.dtype], k)
            XCTAssertEqual(seen[k]?[1] as? [Int], t.shape, k)
            XCTAssertEqual(seen[k]?[2] as? String, Digest(of: t.bytes).hex, k)
        }
    }
}
