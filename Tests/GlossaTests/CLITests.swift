import Foundation
import Glossa
import TensorIO
import Whisper
import XCTest
import WhisperTesting

/// Runs the built `glossa` binary as a user would and checks exit codes and messages.
final class CLITests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    /// The golden PEFT adapter folder (rebuilt from its record, TinyPEFTAdapter; no weights are committed).
    static var golden: URL { get throws { try TinyPEFTAdapter.folder() } }
    static let realModel = root.appendingPathComponent("models/whisper-base-ct2")

    var tmp: URL!
    var registry: String { tmp.appendingPathComponent("registry").path }

    override func setUpWithError() throws {
        tmp = FileManager.default.temporaryDirectory.appendingPathComponent("glossa-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: tmp) }

    struct Run { var status: Int32; var stdout: String; var stderr: String }

    func glossa(_ args: [String]) throws -> Run {
        let r = try GlossaBinary.run(args, registry: registry)
        return Run(status: r.status, stdout: r.stdout, stderr: r.stderr)
    }

    func tinyBase() throws -> String {
        let folder = tmp.appendingPathComponent("tiny")
        let tok = Array(#"{"model":{"type":"BPE","vocab":{"a":0},"merges":[]},"added_tokens":[]}"#.utf8)
        try HuggingFaceWhisper.write(TinyWhisper.make(seed: 0, tokenizerJSON: tok), to: folder)
        return folder.path
    }

    func testHelpTeachesExitCodes() throws {
        let r = try glossa(["--help"])
        XCTAssertEqual(r.status, 0)
        XCTAssertTrue(r.stdout.contains("EXIT CODES"), r.stdout)
        XCTAssertTrue(try glossa(["expert", "import-peft", "--help"]).stdout.contains("Example"))
    }

    func testUnknownRefIsNotFound() throws {
        _ = try Registry(root: URL(fileURLWithPath: registry), create: true)   // read-only commands create none
        let r = try glossa(["show", "nope"])
        XCTAssertEqual(r.status, 66, r.stderr)
        XCTAssertTrue(r.stderr.contains("nope"), r.stderr)
    }

    func testImportWithoutBaseSaysHowToGetOne() throws {
        let golden = try Self.golden
        let r = try glossa(["expert", "import-peft", golden.path, "--lang", "fr", "--name", "fr", "--version", "1.0.0"])
        XCTAssertEqual(r.status, 66, r.stderr)
        XCTAssertTrue(r.stderr.contains("glossa base fetch"), r.stderr)
    }

    func testPublishListTagVerifyAndCorruption() throws {
        let golden = try Self.golden
        XCTAssertEqual(try glossa(["base", "import", try tinyBase(), "--name", "tiny", "--version", "1.0.0"]).status, 0)
        let imp = try glossa(["expert", "import-peft", golden.path, "--lang", "fr", "--name", "fr-tiny", "--version", "1.0.0", "--json"])
        XCTAssertEqual(imp.status, 0, imp.stderr)
        let list = try glossa(["list", "--lang", "fr", "--json"])
        XCTAssertEqual(list.status, 0)
        let rows = try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as! [[String: Any]]
        XCTAssertEqual(rows.count, 1)
        XCTAssertEqual(rows[0]["name"] as? String, "fr-tiny")
        XCTAssertEqual(try glossa(["tag", "fr-tiny:1.0.0", "stable"]).status, 0)
        XCTAssertTrue(try glossa(["show", "fr-tiny:stable"]).stdout.contains("fr-tiny:1.0.0"))
        XCTAssertEqual(try glossa(["verify"]).status, 0)

        // Flip one byte in the largest stored blob: verify must name it and exit 4.
        let blobs = FileManager.default.enumerator(atPath: registry)!.compactMap { $0 as? String }
            .filter { $0.contains("blobs/") }.map { tmp.appendingPathComponent("registry").appendingPathComponent($0) }
            .filter { (try? $0.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true }
        let victim = try XCTUnwrap(blobs.max { (try! Data(contentsOf: $0)).count < (try! Data(contentsOf: $1)).count })
        var bytes = try Data(contentsOf: victim)
        bytes[bytes.count / 2] ^= 0x40
        try bytes.write(to: victim)
        let v = try glossa(["verify"])
        XCTAssertEqual(v.status, 4, v.stdout + v.stderr)
        XCTAssertTrue(v.stdout.contains(victim.lastPathComponent.prefix(12)) || v.stdout.contains("corrupt"), v.stdout)
        // Export of a damaged artifact fails cleanly (non-zero) instead of writing bad tensors.
        let e = try glossa(["expert", "export-peft", "fr-tiny", tmp.appendingPathComponent("out").path])
        if e.status != 0 { XCTAssertFalse(FileManager.default.fileExists(atPath: tmp.appendingPathComponent("out/adapter_model.safetensors").path)) }
    }

    func testComposeFromTheCommandLine() throws {
        let golden = try Self.golden
        XCTAssertEqual(try glossa(["base", "import", try tinyBase(), "--name", "tiny", "--version", "1.0.0"]).status, 0)
        for l in ["fr", "de"] {
            let r = try glossa(["expert", "import-peft", golden.path, "--lang", l, "--name", "\(l)-tiny", "--version", "1.0.0"])
            XCTAssertEqual(r.status, 0, r.stderr)
        }
        let args = ["compose", "--experts", "fr-tiny,de-tiny", "--method", "linear", "--rank", "2", "--name", "mix", "--version", "1.0.0"]
        let first = try glossa(args + ["--json"])
        XCTAssertEqual(first.status, 0, first.stderr)
        let out = try JSONSerialization.jsonObject(with: Data(first.stdout.utf8)) as! [String: Any]
        XCTAssertEqual(out["languages"] as? [String], ["de", "fr"])
        XCTAssertEqual(out["reused"] as? Bool, false)
        let again = try glossa(args)
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertTrue(again.stderr.contains("nothing to do"), again.stderr)
        XCTAssertTrue(again.stdout.contains(out["digest"] as! String), "same digest: \(again.stdout)")
        let show = try glossa(["show", "mix"])
        XCTAssertTrue(show.stdout.contains("recipe: linear rank=2"), show.stdout)
        XCTAssertTrue(show.stdout.contains("lineage: input"), show.stdout)
        XCTAssertEqual(try glossa(["expert", "export-peft", "mix", tmp.appendingPathComponent("mix-peft").path]).status, 0)
        // export --format peft: the same folder; refused for a routed set, or over an existing path.
        let peftOut = tmp.appendingPathComponent("mix-peft-2").path
        let exp = try glossa(["export", "mix", "--format", "peft", "--out", peftOut])
        XCTAssertEqual(exp.status, 0, exp.stderr)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: peftOut + "/adapter_model.safetensors")),
                       try Data(contentsOf: tmp.appendingPathComponent("mix-peft/adapter_model.safetensors")))
        XCTAssertEqual(try glossa(["export", "mix", "--format", "peft", "--out", peftOut]).status, 65, "exists")
        let routed = try glossa(["export", "--expert", "fr-tiny", "--expert", "de-tiny", "--format", "peft", "--out", tmp.appendingPathComponent("x").path])
        XCTAssertEqual(routed.status, 65, routed.stderr)
        XCTAssertTrue(routed.stderr.contains("one adapter"), routed.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: tmp.appendingPathComponent("x").path))
        // Bad input: exit codes as documented, nothing published.
        let weights = try glossa(["compose", "--experts", "fr-tiny,de-tiny", "--method", "linear", "--weights", "1", "--name", "m2", "--version", "1.0.0"])
        XCTAssertEqual(weights.status, 65, weights.stderr)
        XCTAssertTrue(weights.stderr.contains("one weight per expert"), weights.stderr)
        XCTAssertEqual(try glossa(["compose", "--experts", "fr-tiny,nope", "--method", "cat", "--name", "m3", "--version", "1.0.0"]).status, 66)
        XCTAssertEqual(try glossa(["compose", "--method", "cat", "--name", "m4", "--version", "1.0.0"]).status, 64)
        let lang = try glossa(["compose", "--languages", "fr,nl", "--method", "cat", "--name", "m5", "--version", "1.0.0"])
        XCTAssertEqual(lang.status, 65, "fr-tiny has no dev WER and no stable tag: \(lang.stderr)")
        XCTAssertEqual(try glossa(["tag", "fr-tiny:1.0.0", "stable"]).status, 0)
        let missing = try glossa(["compose", "--languages", "fr,nl", "--method", "cat", "--name", "m5", "--version", "1.0.0"])
        XCTAssertEqual(missing.status, 66, missing.stderr)
        XCTAssertTrue(missing.stderr.contains("serves nl"), missing.stderr)
        let rows = try JSONSerialization.jsonObject(with: Data(try glossa(["list", "--kind", "composite", "--json"]).stdout.utf8)) as! [[String: Any]]
        XCTAssertEqual(rows.count, 1)
    }

    func testTranscribeBadAudioAndLanguage() throws {
        guard FileManager.default.fileExists(atPath: Self.realModel.appendingPathComponent("model.bin").path) else {
            throw Peer.missing("whisper-base not fetched (scripts/fetch-whisper-base.sh)")
        }
        let missing = try glossa(["transcribe", "--model", Self.realModel.path, tmp.appendingPathComponent("nope.wav").path])
        XCTAssertEqual(missing.status, 66, missing.stderr)
        let junk = tmp.appendingPathComponent("junk.wav")
        try Data("RIFF\u{0}\u{0}garbage that is not audio".utf8).write(to: junk)
        let bad = try glossa(["transcribe", "--model", Self.realModel.path, junk.path])
        XCTAssertEqual(bad.status, 65, bad.stderr)
        XCTAssertTrue(bad.stderr.contains(junk.path), bad.stderr)
        let lang = try glossa(["transcribe", "--model", Self.realModel.path, "--language", "klingon", junk.path])
        XCTAssertEqual(lang.status, 65, lang.stderr)
        XCTAssertTrue(lang.stderr.contains("klingon"), lang.stderr)
    }

    /// Several files: each result is printed when its file is done; with --json one object per line.
    func testTranscribeStreamsOneJSONLinePerFile() throws {
        var files: [String] = []
        for i in 0..<2 {   // near-silence: whisper-base stops at once, so the test is quick
            let path = tmp.appendingPathComponent("quiet\(i).wav").path
            try WAVWriter.write(path: path, samples: (0..<16_000).map { Float(1e-4 * sin(Double($0 + i))) })
            files.append(path)
        }
        let r = try glossa(["transcribe", "--model", Self.realModel.path, "--language", "fr", "--beam", "1", "--json"] + files)
        XCTAssertEqual(r.status, 0, r.stderr)
        let lines = r.stdout.split(separator: "\n")
        XCTAssertEqual(lines.count, 2, r.stdout)
        for (line, file) in zip(lines, files) {
            let o = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            XCTAssertEqual(o["file"] as? String, file)
            XCTAssertEqual(o["language"] as? String, "fr")
        }
    }

    /// Several files decoded together (--batch, two workers) print, in the order given, what
    /// each file gets transcribed alone: same language, text and tokens.
    func testBatchedFilesGiveWhatEachFileGetsAlone() throws {
        let espeak = "/usr/bin/espeak-ng"
        guard FileManager.default.isExecutableFile(atPath: espeak) else { throw Peer.missing("espeak-ng not installed (scripts/setup.sh installs it)") }
        var files: [String] = []
        for (i, (voice, text)) in [("fr", "Le chat dort sur le canapé."), ("de", "Der Hund läuft schnell nach Hause."),
                                   ("nl", "De fiets staat voor het huis."), ("fr", "Il fait beau aujourd'hui."),
                                   ("de", "Wir gehen morgen ins Kino.")].enumerated() {
            let path = tmp.appendingPathComponent("say\(i).wav").path
            let p = Process()
            p.executableURL = URL(fileURLWithPath: espeak)
            p.arguments = ["-v", voice, "-w", path, text]
            try p.run(); p.waitUntilExit()
            XCTAssertEqual(p.terminationStatus, 0)
            files.append(path)
        }
        func run(_ extra: [String]) throws -> [[String: Any]] {
            let r = try glossa(["transcribe", "--model", Self.realModel.path, "--beam", "1", "--json"] + extra + files)
            XCTAssertEqual(r.status, 0, r.stderr)
            return try r.stdout.split(separator: "\n").map { try XCTUnwrap(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        }
        let alone = try run(["--batch", "1"]), together = try run(["--batch", "3", "--threads", "2"])
        XCTAssertEqual(alone.map { $0["file"] as? String }, files)
        XCTAssertEqual(together.map { $0["file"] as? String }, files, "results print in the order given")
        for (a, b) in zip(alone, together) {
            XCTAssertEqual(a["language"] as? String, b["language"] as? String)
            XCTAssertEqual(a["text"] as? String, b["text"] as? String)
            let tokens = { (o: [String: Any]) in (o["windows"] as? [[String: Any]])?.map { $0["tokens"] as? [Int] ?? [] } }
            XCTAssertEqual(tokens(a), tokens(b))
            XCTAssertFalse((a["text"] as? String ?? "").isEmpty)
        }
    }

    /// push from one registry folder to a real docker-registry, pull into another: same digest,
    /// base pulled along, and the pulled expert exports to the same PEFT bytes.
    func testPushPullBetweenFoldersThroughDockerRegistry() throws {
        let golden = try Self.golden
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/docker-registry") else {
            throw Peer.missing("docker-registry not installed (scripts/setup.sh installs it)")
        }
        let dir = tmp.appendingPathComponent("oci").path
        func sh(_ args: [String]) throws -> String { try runRegistryScript(args, scratch: tmp) }
        let host = try sh(["start", dir])
        defer { _ = try? sh(["stop", dir]) }

        XCTAssertEqual(try glossa(["base", "import", try tinyBase(), "--name", "tiny", "--version", "1.0.0"]).status, 0)
        let imp = try glossa(["expert", "import-peft", golden.path, "--lang", "fr", "--name", "fr-tiny", "--version", "1.0.0", "--json"])
        let digest = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(imp.stdout.utf8)) as? [String: String])?["digest"])
        let push = try glossa(["push", "fr-tiny:1.0.0", "oci://\(host)/glossa/fr:1.0.0"])
        XCTAssertEqual(push.status, 0, push.stderr)

        let other = tmp.appendingPathComponent("other").path
        let pull = try glossa(["pull", "oci://\(host)/glossa/fr:1.0.0", "--registry", other])
        XCTAssertEqual(pull.status, 0, pull.stderr)
        XCTAssertTrue(pull.stdout.contains(digest), pull.stdout)
        let shown = try glossa(["show", "fr-tiny:1.0.0", "--registry", other])
        XCTAssertTrue(shown.stdout.contains(digest), shown.stdout)
        XCTAssertEqual(try glossa(["verify", "--registry", other]).status, 0)
        let a = tmp.appendingPathComponent("a"), b = tmp.appendingPathComponent("b")
        XCTAssertEqual(try glossa(["expert", "export-peft", "fr-tiny", a.path]).status, 0)
        XCTAssertEqual(try glossa(["expert", "export-peft", "fr-tiny", b.path, "--registry", other]).status, 0)
        XCTAssertEqual(try Data(contentsOf: a.appendingPathComponent("adapter_model.safetensors")),
                       try Data(contentsOf: b.appendingPathComponent("adapter_model.safetensors")))
        let remote = try glossa(["list", "--remote", "oci://\(host)/glossa/fr"])
        XCTAssertEqual(remote.status, 0, remote.stderr)
        XCTAssertTrue(remote.stdout.contains("fr-tiny"), remote.stdout)

        // A composite travels the same way, its input experts along with it.
        let compose = try glossa(["compose", "--experts", "fr-tiny:1.0.0", "--method", "linear", "--rank", "2", "--name", "mix",
                                  "--version", "1.0.0", "--json"])
        XCTAssertEqual(compose.status, 0, compose.stderr)
        let mixDigest = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(compose.stdout.utf8)) as? [String: Any])?["digest"] as? String)
        XCTAssertEqual(try glossa(["push", "mix:1.0.0", "oci://\(host)/glossa/mix:1.0.0"]).status, 0)
        let third = tmp.appendingPathComponent("third").path
        let pulledMix = try glossa(["pull", "oci://\(host)/glossa/mix:1.0.0", "--registry", third])
        XCTAssertEqual(pulledMix.status, 0, pulledMix.stderr)
        XCTAssertTrue(pulledMix.stdout.contains(mixDigest), pulledMix.stdout)
        XCTAssertTrue(try glossa(["show", "fr-tiny:1.0.0", "--registry", third]).stdout.contains(digest), "the input came along")

        // A wrong target is a clear error, not a crash.
        let bad = try glossa(["pull", "oci://\(host)/glossa/none:1.0.0", "--registry", other])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertFalse(bad.stderr.isEmpty)
    }
}
