import Foundation
import XCTest
import GlossaCore

enum TestPaths {
    /// The package root (three levels above this file).
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    static func golden(_ name: String) -> URL {
        Bundle.module.resourceURL!.appendingPathComponent("Golden").appendingPathComponent(name)
    }

    /// `name` in the folder CTranslate2 writes at test time (scripts/golden/io_ct2.py tiny):
    /// ct2_tiny_int8/, ct2_tiny_float16/ (converted, quantised and saved by ctranslate2
    /// itself) and ct2_tiny_expected.safetensors (the state dict they came from).
    /// The file Python's `safetensors` writes at test time (scripts/golden/io_safetensors.py).
    static func pythonWritten() throws -> URL {
        try Peer.generated(by: "scripts/golden/io_safetensors.py", importing: ["numpy", "safetensors"])
            .appendingPathComponent("python_written.safetensors")
    }

    static func ct2Tiny(_ name: String) throws -> URL {
        try Peer.generated(by: "scripts/golden/io_ct2.py", arguments: ["tiny"],
                           importing: ["numpy", "safetensors", "ctranslate2"]).appendingPathComponent(name)
    }

    /// The real whisper-base in CTranslate2 format, or `Peer.missing` (a skip; a failure in CI).
    static func whisperBaseCT2() throws -> URL {
        let env = ProcessInfo.processInfo.environment["GLOSSA_TEST_MODEL_DIR"]
        let dir = env.map { URL(fileURLWithPath: $0) } ?? packageRoot.appendingPathComponent("models/whisper-base-ct2")
        guard FileManager.default.fileExists(atPath: dir.appendingPathComponent("model.bin").path) else {
            throw Peer.missing("whisper-base (CTranslate2) not found at \(dir.path); run scripts/fetch-whisper-base.sh or set GLOSSA_TEST_MODEL_DIR")
        }
        return dir
    }

    /// A fresh empty directory, removed when the test ends.
    static func tempDir(_ test: XCTestCase) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("glossa-io-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        test.addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        return dir
    }
}

/// Runs the project venv's Python (`Peer.python`) with `args` and returns stdout; throws
/// `Peer.missing` when the venv or one of `modules` is missing (a skip; a failure in CI).
func runPython(_ args: [String], requiring modules: [String]) throws -> String {
    let python = try Peer.python(importing: modules)
    func run(_ a: [String]) throws -> (Int32, String, String) {
        let p = Process()
        p.executableURL = python
        p.arguments = a
        let out = Pipe(), err = Pipe()
        p.standardOutput = out; p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }
    let (status, out, err) = try run(args)
    if status != 0 { XCTFail("\(python.path) \(args.first ?? "") failed (\(status)):\n\(err)") }
    return out
}

extension TensorData {
    /// Values as Double for comparisons (f32, f16, bf16, f64, integer types).
    var doubles: [Double] {
        bytes.withUnsafeBytes { raw -> [Double] in
            (0 ..< count).map { i -> Double in
                switch dtype {
                case .f32: return Double(raw.loadUnaligned(fromByteOffset: 4 * i, as: Float.self))
                case .f64: return raw.loadUnaligned(fromByteOffset: 8 * i, as: Double.self)
                case .f16: return Double(Float(Float16(bitPattern: raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))))
                case .bf16: return Double(Float(bitPattern: UInt32(raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)) << 16))
                case .i8: return Double(raw.loadUnaligned(fromByteOffset: i, as: Int8.self))
                case .u8, .bool: return Double(raw.loadUnaligned(fromByteOffset: i, as: UInt8.self))
                case .i16: return Double(raw.loadUnaligned(fromByteOffset: 2 * i, as: Int16.self))
                case .i32: return Double(raw.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self))
                case .i64: return Double(raw.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self))
                }
            }
        }
    }

    static func f32(_ shape: [Int], _ values: [Float]) -> TensorData {
        TensorData(dtype: .f32, shape: shape, bytes: values.withUnsafeBytes { Data($0) })
    }
}
