import Foundation
import XCTest

/// Issue 10's proof for `export --format ct2`: faster-whisper, loading the exported folder with
/// `WhisperModel(PATH)`, gives the same pure-greedy tokens as Glossa running that expert, on
/// held-out clips. Real whisper-base, a real expert trained here by `glossa train` on a few
/// espeak-ng clips, and test clips of voices and sentences it never trained on.
///
/// Peers: whisper-base (scripts/fetch-whisper-base.sh), espeak-ng, the venv's faster-whisper
/// (scripts/setup.sh), the built `glossa`. About 5 minutes in a release build on 2 cores (most of
/// it faster-whisper); 25 minutes in a debug build on a loaded machine.
final class FasterWhisperAgreementTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    var tmp: URL!
    override func setUpWithError() throws {
        tmp = FileManager.default.temporaryDirectory.appendingPathComponent("glossa-ct2-agree-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: tmp) }

    func p(_ name: String) -> String { tmp.appendingPathComponent(name).path }

    /// Runs glossa and fails the test (with its stderr) unless it exits 0.
    @discardableResult
    func glossa(_ args: [String]) throws -> String {
        let r = try GlossaBinary.run(args, registry: p("registry"))
        guard r.status == 0 else {
            XCTFail("glossa \(args.prefix(2).joined(separator: " ")) exited \(r.status):\n\(r.stderr)")
            throw CocoaError(.executableLoad)
        }
        return r.stdout
    }

    /// Pure greedy tokens per file from scripts/faster_whisper_tokens.py.
    func fasterWhisperTokens(model: String, language: String, files: [String]) throws -> [String: [Int]] {
        let python = try Peer.python(importing: ["faster_whisper"])
        let proc = Process()
        proc.executableURL = python
        proc.arguments = [Self.root.appendingPathComponent("scripts/faster_whisper_tokens.py").path, model, language] + files
        let out = Pipe()
        let errURL = tmp.appendingPathComponent("python-stderr")
        XCTAssertTrue(FileManager.default.createFile(atPath: errURL.path, contents: nil), "cannot create \(errURL.path)")
        proc.standardOutput = out
        proc.standardError = try FileHandle(forWritingTo: errURL)
        try proc.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        proc.waitUntilExit()
        guard proc.terminationStatus == 0 else {
            XCTFail("faster_whisper_tokens.py exited \(proc.terminationStatus):\n\(String(decoding: try Data(contentsOf: errURL), as: UTF8.self))")
            throw CocoaError(.executableLoad)
        }
        return try tokensByFile(String(decoding: data, as: UTF8.self))
    }

    /// {"file", "tokens"} lines (faster_whisper_tokens.py), or `glossa transcribe --json` lines
    /// whose tokens are the concatenation of their windows' tokens.
    func tokensByFile(_ jsonLines: String) throws -> [String: [Int]] {
        var out: [String: [Int]] = [:]
        for line in jsonLines.split(separator: "\n") {
            let o = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], String(line))
            let file = try XCTUnwrap(o["file"] as? String)
            if let t = o["tokens"] as? [Int] { out[file] = t; continue }
            let windows = try XCTUnwrap(o["windows"] as? [[String: Any]], String(line))
            out[file] = try windows.flatMap { try XCTUnwrap($0["tokens"] as? [Int]) }
        }
        return out
    }

    func testCT2ExportDecodesInFasterWhisperLikeGlossaWithTheExpert() throws {
        let model = Self.root.appendingPathComponent("models/whisper-base-ct2")
        guard FileManager.default.fileExists(atPath: model.appendingPathComponent("model.bin").path) else {
            throw Peer.missing("whisper-base not found at \(model.path); run scripts/fetch-whisper-base.sh")
        }
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/espeak-ng") else {
            throw Peer.missing("espeak-ng not installed; run scripts/setup.sh")
        }
        _ = try Peer.python(importing: ["faster_whisper"])
        let clock = ContinuousClock(), start = clock.now

        // 40 French sentences: 12 train, 4 dev, 24 test; test voices are not heard in training.
        try glossa(["base", "import", model.path, "--name", "whisper-base", "--version", "1.0.0"])
        try glossa(["corpus", "synth", "--langs", "fr", "--sentences", Self.root.appendingPathComponent("corpus/sentences").path,
                    "--out", p("data"), "--limit", "40", "--split", "0.3,0.1,0.6", "--seed", "3"])
        try glossa(["train", "--base", "whisper-base", "--lang", "fr", "--manifest", p("data/train.jsonl"), "--rank", "4",
                    "--steps", "3", "--batch", "2", "--lr", "3e-3", "--seed", "1", "--name", "fr-quick", "--version", "1.0.0"])
        try glossa(["export", "fr-quick", "--format", "ct2", "--out", p("fr-ct2")])   // f16, the default
        let trained = clock.now - start

        let test = try String(contentsOfFile: p("data/test.jsonl"), encoding: .utf8).split(separator: "\n")
        let files = try test.map { line -> String in
            let o = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            return p("data/" + (try XCTUnwrap(o["audio"] as? String)))
        }
        XCTAssertGreaterThanOrEqual(files.count, 20, "enough held-out clips for a 95% bar to mean something")
        let ours = try tokensByFile(try glossa(["transcribe", "--model", "whisper-base", "--expert", "fr-quick", "--language", "fr",
                                                "--beam", "1", "--no-fallback", "--json"] + files))
        let theirs = try fasterWhisperTokens(model: p("fr-ct2"), language: "fr", files: files)
        // The expert must matter: on some clips the base alone decodes otherwise (else agreement
        // would prove nothing about the merged delta). Six clips are enough to see it, and the
        // base's repetition loops (224 tokens) make every clip costly.
        let probe = Array(files.prefix(6))
        let base = try fasterWhisperTokens(model: model.path, language: "fr", files: probe)
        let changed = probe.filter { base[$0] != theirs[$0] }.count
        print("ct2 agreement: the expert changes the greedy tokens of \(changed) / \(probe.count) probed clips against the base")
        XCTAssertGreaterThan(changed, 0, "three training steps at lr 3e-3 should move some transcripts")

        var equal = 0
        for f in files {
            let a = try XCTUnwrap(ours[f], f), b = try XCTUnwrap(theirs[f], f)
            XCTAssertFalse(a.isEmpty, "\(f): Glossa decoded nothing")
            if a == b { equal += 1 } else {
                let at = (0 ..< min(a.count, b.count)).first { a[$0] != b[$0] } ?? min(a.count, b.count)
                print("ct2 agreement: \((f as NSString).lastPathComponent) differs at token \(at): Glossa \(a.count) tokens, faster-whisper \(b.count)")
            }
        }
        print(String(format: "ct2 agreement: faster-whisper on the ct2 export = Glossa with the expert on %d / %d held-out clips (%.1f%%); "
                     + "train + export %@, total %@", equal, files.count, 100 * Double(equal) / Double(files.count),
                     "\(trained)", "\(clock.now - start)"))
        XCTAssertGreaterThanOrEqual(Double(equal), 0.95 * Double(files.count), "faster-whisper must agree on at least 95% of clips")
    }
}
