import Foundation
import Whisper
import XCTest
@testable import Glossa

/// The bundle commands as a user runs them: exit codes, messages, --json, and a bundle
/// transcribing with no registry exactly like the registry.
final class BundleCLITests: XCTestCase {
    var tmp: URL!
    override func setUpWithError() throws {
        tmp = FileManager.default.temporaryDirectory.appendingPathComponent("glossa-bundle-cli-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: tmp) }

    func p(_ name: String) -> String { tmp.appendingPathComponent(name).path }

    func glossa(_ args: [String]) throws -> BundleTestSupport.Run {
        let r = try GlossaBinary.run(args, registry: p("registry"))
        return BundleTestSupport.Run(status: r.status, stdout: r.stdout, stderr: r.stderr)
    }

    func testKeySignVerifyExitCodes() throws {
        let g = try glossa(["key", "generate", "--out", p("rel"), "--json"])
        XCTAssertEqual(g.status, 0, g.stderr)
        let keyID = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(g.stdout.utf8)) as? [String: String])?["key_id"])
        XCTAssertEqual(try glossa(["key", "generate", "--out", p("rel")]).status, 65)
        try Data("payload\n".utf8).write(to: URL(fileURLWithPath: p("f")))
        XCTAssertEqual(try glossa(["sign", p("f"), "--key", p("rel.key")]).status, 0)
        let v = try glossa(["key", "verify", p("f"), "--key", p("rel.pub")])
        XCTAssertEqual(v.status, 0, v.stderr)
        XCTAssertTrue(v.stdout.contains(keyID), v.stdout)
        try Data("payload!\n".utf8).write(to: URL(fileURLWithPath: p("f")))
        let bad = try glossa(["key", "verify", p("f"), "--key", p("rel.pub")])
        XCTAssertEqual(bad.status, 65, bad.stderr)
        XCTAssertTrue(bad.stderr.contains("does not match"), bad.stderr)
        XCTAssertEqual(try glossa(["key", "verify", p("nope"), "--key", p("rel.pub")]).status, 66)
        XCTAssertTrue(try glossa(["key", "generate", "--help"]).stdout.contains("0600"))
    }

    func testSignABundleFolderInPlace() throws {
        _ = try BundleTestSupport.registry(in: tmp)
        XCTAssertEqual(try glossa(["key", "generate", "--out", p("rel")]).status, 0)
        XCTAssertEqual(try glossa(["export", "fr-tiny", "--out", p("b")]).status, 0)
        let unsigned = try glossa(["bundle", "verify", p("b"), "--key", p("rel.pub")])
        XCTAssertEqual(unsigned.status, 4, unsigned.stdout + unsigned.stderr)
        XCTAssertTrue(unsigned.stdout.contains("not signed"), unsigned.stdout)
        let s = try glossa(["sign", p("b"), "--key", p("rel.key")])
        XCTAssertEqual(s.status, 0, s.stderr)
        XCTAssertTrue(s.stdout.contains("signed bundle"), s.stdout)
        XCTAssertFalse(FileManager.default.fileExists(atPath: p("b.minisig")))
        let v = try glossa(["bundle", "verify", p("b"), "--key", p("rel.pub")])
        XCTAssertEqual(v.status, 0, v.stdout + v.stderr)
        XCTAssertTrue(v.stdout.hasPrefix("clean"), v.stdout)
        XCTAssertTrue(try glossa(["bundle", "inspect", p("b")]).stdout.contains("signature  key "))
    }

    func testExportVerifyInspectAndRunWithoutRegistry() throws {
        _ = try BundleTestSupport.registry(in: tmp)
        XCTAssertEqual(try glossa(["key", "generate", "--out", p("rel")]).status, 0)
        let e = try glossa(["export", "--expert", "fr-tiny", "--expert", "de-tiny", "--dtype", "f32", "--out", p("b.tar"),
                            "--sign", p("rel.key"), "--json"])
        XCTAssertEqual(e.status, 0, e.stderr)
        let result = try JSONSerialization.jsonObject(with: Data(e.stdout.utf8)) as! [String: Any]
        XCTAssertEqual(result["languages"] as? [String], ["de", "fr"])
        let digest = try XCTUnwrap(result["digest"] as? String)

        let again = try glossa(["export", "fr-tiny", "--out", p("b.tar")])
        XCTAssertEqual(again.status, 65, again.stderr)
        XCTAssertTrue(again.stderr.contains("--force"), again.stderr)
        XCTAssertEqual(try glossa(["export", "nope", "--out", p("x")]).status, 66)
        let langs = try glossa(["export", "fr-tiny", "--languages", "fr,nl", "--out", p("x")])
        XCTAssertEqual(langs.status, 65, langs.stderr)
        XCTAssertTrue(langs.stderr.contains("nl"), langs.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: p("x")))

        let v = try glossa(["bundle", "verify", p("b.tar"), "--key", p("rel.pub"), "--json"])
        XCTAssertEqual(v.status, 0, v.stdout + v.stderr)
        XCTAssertTrue(v.stdout.contains("\"clean\""), v.stdout)
        let i = try glossa(["bundle", "inspect", p("b.tar"), "--json"])
        XCTAssertEqual(i.status, 0, i.stderr)
        let inspected = try JSONSerialization.jsonObject(with: Data(i.stdout.utf8)) as! [String: Any]
        XCTAssertEqual(inspected["digest"] as? String, digest)
        XCTAssertEqual(inspected["routes"] as? [String: String], ["de": "de-tiny:1.0.0", "fr": "fr-tiny:1.0.0"])
        XCTAssertNotNil(inspected["signature"] as? [String: String])
        XCTAssertTrue(try glossa(["bundle", "inspect", p("b.tar")]).stdout.contains("routing    language"))
        XCTAssertEqual(try glossa(["bundle", "verify", p("none.tar")]).status, 66)
        let notBundle = try glossa(["bundle", "inspect", tmp.path])
        XCTAssertEqual(notBundle.status, 65, notBundle.stderr)
        XCTAssertTrue(notBundle.stderr.contains("oci-layout"), notBundle.stderr)

        // Transcribe from the bundle with no registry at all: same tokens as the registry path.
        let audio = p("clip.wav")
        try WAVWriter.write(path: audio, samples: (0 ..< 24_000).map { 0.3 * sin(2 * Float.pi * 440 * Float($0) / 16_000) })
        func tokens(_ args: [String]) throws -> [[Int]] {
            let r = try glossa(["transcribe", "--language", "fr", "--beam", "1", "--json"] + args + [audio])
            XCTAssertEqual(r.status, 0, r.stderr)
            let o = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
            return (o["windows"] as! [[String: Any]]).map { $0["tokens"] as! [Int] }
        }
        let fromRegistry = try tokens(["--model", "tiny", "--expert", "fr-tiny", "--expert", "de-tiny", "--route", "language"])
        try FileManager.default.moveItem(atPath: p("registry"), toPath: p("registry-gone"))
        XCTAssertEqual(try tokens(["--model", p("b.tar"), "--verify-key", p("rel.pub")]), fromRegistry)
        let refused = try glossa(["transcribe", "--model", p("b.tar"), "--expert", "fr-tiny", audio])
        XCTAssertEqual(refused.status, 65, refused.stderr)

        // eval takes a bundle too.
        try #"{"id":"a","audio":"clip.wav","text":"bonjour","lang":"fr"}"#.appending("\n").write(toFile: p("m.jsonl"), atomically: true, encoding: .utf8)
        let ev = try glossa(["eval", "--model", p("b.tar"), "--manifest", p("m.jsonl"), "--beam", "1", "--json"])
        XCTAssertEqual(ev.status, 0, ev.stderr)
        XCTAssertTrue(ev.stdout.contains(digest), ev.stdout)

        // Damage: verify exits 4 naming the blob; transcribe refuses the bundle (65) naming it.
        let data = try Data(contentsOf: URL(fileURLWithPath: p("b.tar")))
        let reader = try BundleReader(path: p("b.tar"))
        let (name, t) = reader.manifest.model.tensors.min { $0.key < $1.key }!
        let offset = try XCTUnwrap(data.range(of: Data("blobs/sha256/\(t.digest.hex)".utf8))).lowerBound + 512
        var broken = data
        broken[offset + 3] ^= 0x10
        try broken.write(to: URL(fileURLWithPath: p("broken.tar")))
        let d = try glossa(["bundle", "verify", p("broken.tar")])
        XCTAssertEqual(d.status, 4, d.stdout + d.stderr)
        XCTAssertTrue(d.stdout.contains(t.digest.description) && d.stdout.contains(name), d.stdout)
        let run = try glossa(["transcribe", "--model", p("broken.tar"), audio])
        XCTAssertEqual(run.status, 65, run.stderr)
        XCTAssertTrue(run.stderr.contains(t.digest.description), run.stderr)
        // A wrong key is damage too (the bundle cannot be trusted).
        XCTAssertEqual(try glossa(["key", "generate", "--out", p("other")]).status, 0)
        XCTAssertEqual(try glossa(["bundle", "verify", p("b.tar"), "--key", p("other.pub")]).status, 4)
        XCTAssertEqual(try glossa(["transcribe", "--model", p("b.tar"), "--verify-key", p("other.pub"), audio]).status, 65)
    }
}
