import Foundation
import GlossaCore
import TensorIO
import XCTest
@testable import Glossa
import WhisperTesting

/// Shared by the bundle and signing tests: peer tools (minisign, skopeo) and a registry with
/// a tiny base and two experts.
enum BundleTestSupport {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    /// The golden PEFT adapter folder (rebuilt from its record, TinyPEFTAdapter; no weights are committed).
    static var goldenPEFT: URL { get throws { try TinyPEFTAdapter.folder() } }

    /// `path` if executable. A missing peer fails the test when CI is set (CI must prove
    /// interoperability), and skips it elsewhere with the command that installs it.
    static func requireTool(_ path: String) throws -> String {
        if FileManager.default.isExecutableFile(atPath: path) { return path }
        throw Peer.missing("\(path) not installed; run scripts/setup.sh")
    }


    struct Run { var status: Int32; var stdout: String; var stderr: String }

    /// Runs a short-lived tool to completion.
    static func run(_ exe: String, _ args: [String], environment: [String: String]? = nil) throws -> Run {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe)
        p.arguments = args
        if let environment { p.environment = environment }
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = FileHandle.nullDevice
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Run(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
    }

    /// The real multilingual tokenizer (so transcription has special tokens), from the fetched whisper-base.
    static func realTokenizer() throws -> [UInt8] {
        let dir = ProcessInfo.processInfo.environment["GLOSSA_TEST_MODEL_DIR"].map { URL(fileURLWithPath: $0) }
            ?? root.appendingPathComponent("models/whisper-base-ct2")
        if let tok = try? Data(contentsOf: dir.appendingPathComponent("tokenizer.json")) { return Array(tok) }
        throw Peer.missing("whisper-base tokenizer not found at \(dir.path); run scripts/fetch-whisper-base.sh (make test does)")
    }

    /// A registry at `dir/registry` holding base `tiny` (TinyWhisper seed 0, the base the golden
    /// PEFT adapter was made for, with the real tokenizer), expert `fr-tiny` (the golden adapter)
    /// and expert `de-tiny` (the same adapter with B scaled by -0.5, so it decodes differently).
    static func registry(in dir: URL, baseSeed: UInt64 = 0) throws -> Registry {
        let golden = try goldenPEFT
        let base = dir.appendingPathComponent("tiny-base")
        try HuggingFaceWhisper.write(TinyWhisper.make(seed: baseSeed, tokenizerJSON: try realTokenizer()), to: base)
        let reg = try Registry(root: dir.appendingPathComponent("registry"), create: true)
        _ = try reg.importBase(folder: base, name: "tiny", version: "1.0.0")
        _ = try reg.importPEFT(folder: golden, languages: ["fr"], name: "fr-tiny", version: "1.0.0", base: nil, license: "MIT", description: "")
        let de = dir.appendingPathComponent("de-adapter")
        var adapter = try PEFTAdapter.load(folder: golden)
        for (k, var pair) in adapter.weights.modules {
            XCTAssertEqual(pair.b.dtype, .f32)
            var bytes = pair.b.bytes
            bytes.withUnsafeMutableBytes { raw in
                for i in 0 ..< raw.count / 4 { raw.storeBytes(of: -0.5 * raw.loadUnaligned(fromByteOffset: 4 * i, as: Float.self), toByteOffset: 4 * i, as: Float.self) }
            }
            pair.b = TensorData(dtype: .f32, shape: pair.b.shape, bytes: bytes)
            adapter.weights.modules[k] = pair
        }
        try adapter.write(to: de)
        _ = try reg.importPEFT(folder: de, languages: ["de"], name: "de-tiny", version: "1.0.0", base: nil, license: "MIT", description: "")
        return reg
    }

    /// Validates the bundle manifest blob of the bundle at `path` against schemas/bundle.schema.json
    /// with Python `jsonschema` (the schema is the contract for other readers).
    static func assertMatchesSchema(_ path: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let env = try requireTool("/usr/bin/env")   // python3 from PATH, where scripts/setup.sh installed jsonschema
        let reader = try BundleReader(path: path)
        let doc = FileManager.default.temporaryDirectory.appendingPathComponent("bundle-\(UUID().uuidString).json")
        try Data(reader.manifestBytes).write(to: doc)
        defer { try? FileManager.default.removeItem(at: doc) }
        let script = """
        import json, sys, jsonschema
        s = json.load(open(sys.argv[1])); jsonschema.Draft202012Validator.check_schema(s)
        errs = [e.message for e in jsonschema.Draft202012Validator(s).iter_errors(json.load(open(sys.argv[2])))]
        print("\\n".join(errs)); sys.exit(1 if errs else 0)
        """
        let r = try run(env, ["python3", "-c", script, root.appendingPathComponent("schemas/bundle.schema.json").path, doc.path])
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr, file: file, line: line)
    }

    /// Entries in `dir` (names), to prove nothing was left behind.
    static func entries(_ dir: URL) -> Set<String> { Set((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []) }
}
