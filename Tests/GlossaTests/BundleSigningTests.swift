import Foundation
import XCTest
@testable import Glossa

/// minisign compatibility both ways, with Debian's `minisign` 0.11 as the peer: it verifies
/// what glossa signs (and signs with glossa's secret keys); glossa verifies what it signs,
/// and refuses wrong keys, tampered content, signatures and trusted comments by name.
final class BundleSigningTests: XCTestCase {
    var tmp: URL!
    override func setUpWithError() throws {
        tmp = FileManager.default.temporaryDirectory.appendingPathComponent("glossa-sign-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: tmp) }

    func path(_ name: String) -> String { tmp.appendingPathComponent(name).path }

    func file(_ name: String, _ text: String) throws -> String {
        try Data(text.utf8).write(to: tmp.appendingPathComponent(name))
        return path(name)
    }

    func testKeyFilesRoundTripAndTheSecretKeyIsPrivate() throws {
        let (secret, pub, key) = try Signing.generateKeyPair(out: path("k"), force: false)
        let mode = try FileManager.default.attributesOfItem(atPath: secret.path)[.posixPermissions] as! Int
        XCTAssertEqual(mode, 0o600)
        XCTAssertEqual(try Signing.publicKey(pub.path), key)
        XCTAssertEqual(try Signing.secretKey(secret.path).publicKey, key)
        XCTAssertTrue(try String(contentsOf: pub).hasPrefix("untrusted comment: minisign public key \(key.keyIDText)\n"))
        // An existing pair is not overwritten without force.
        XCTAssertThrowsError(try Signing.generateKeyPair(out: path("k"), force: false)) { XCTAssertTrue("\($0)".contains("--force"), "\($0)") }
        XCTAssertEqual(try Signing.publicKey(pub.path), key)
    }

    func testMinisignVerifiesGlossaSignaturesAndSignsWithGlossaKeys() throws {
        let minisign = try BundleTestSupport.requireTool("/usr/bin/minisign")
        let (secret, pub, _) = try Signing.generateKeyPair(out: path("k"), force: false)
        let f = try file("data.bin", String(repeating: "glossa ", count: 10_000))
        _ = try Signing.sign(file: f, keyPath: secret.path)
        // -H: minisign must see a prehashed ("ED") signature, its default kind.
        let v = try BundleTestSupport.run(minisign, ["-V", "-H", "-p", pub.path, "-m", f])
        XCTAssertEqual(v.status, 0, v.stdout + v.stderr)
        XCTAssertTrue(v.stdout.contains("Signature and comment signature verified"), v.stdout)
        XCTAssertTrue(v.stdout.contains("file:data.bin"), v.stdout)

        // minisign reads glossa's secret key (format and checksum) and signs with it; glossa verifies.
        let g = try file("other.txt", "signed by minisign with a glossa key\n")
        let s = try BundleTestSupport.run(minisign, ["-S", "-s", secret.path, "-m", g, "-t", "made by minisign"])
        XCTAssertEqual(s.status, 0, s.stdout + s.stderr)
        XCTAssertEqual(try Signing.verify(file: g, publicKeyPath: pub.path).trustedComment, "made by minisign")
        // And the public key minisign recreates from glossa's secret key is glossa's public key.
        let r = try BundleTestSupport.run(minisign, ["-R", "-s", secret.path, "-p", path("recreated.pub")])
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        XCTAssertEqual(try Signing.publicKey(path("recreated.pub")), try Signing.publicKey(pub.path))
    }

    func testGlossaVerifiesMinisignSignaturesAndRefusesTampering() throws {
        let minisign = try BundleTestSupport.requireTool("/usr/bin/minisign")
        let g = try BundleTestSupport.run(minisign, ["-G", "-W", "-p", path("m.pub"), "-s", path("m.key")])
        XCTAssertEqual(g.status, 0, g.stdout + g.stderr)
        // minisign 0.11 writes unencrypted keys with an all-zero checksum: glossa reads them too.
        XCTAssertEqual(try Signing.secretKey(path("m.key")).publicKey, try Signing.publicKey(path("m.pub")))
        let f = try file("weights.bin", "some weights\n")
        XCTAssertEqual(try BundleTestSupport.run(minisign, ["-S", "-s", path("m.key"), "-m", f]).status, 0)
        XCTAssertTrue(try Signing.verify(file: f, publicKeyPath: path("m.pub")).prehashed)
        // Legacy "Ed" signatures (raw bytes signed) verify too.
        let legacy = try file("legacy.bin", "legacy content\n")
        XCTAssertEqual(try BundleTestSupport.run(minisign, ["-S", "-l", "-s", path("m.key"), "-m", legacy]).status, 0)
        XCTAssertFalse(try Signing.verify(file: legacy, publicKeyPath: path("m.pub")).prehashed)

        // Wrong key: named by both key ids.
        let (_, otherPub, other) = try Signing.generateKeyPair(out: path("other"), force: false)
        XCTAssertThrowsError(try Signing.verify(file: f, publicKeyPath: otherPub.path)) { e in
            XCTAssertEqual((e as? GlossaError)?.category, .invalidInput)
            XCTAssertTrue("\(e)".contains(other.keyIDText) && "\(e)".contains("matching .pub"), "\(e)")
        }
        // Tampered file.
        let sigText = try String(contentsOfFile: f + ".minisig")
        try Data("some weightz\n".utf8).write(to: URL(fileURLWithPath: f))
        XCTAssertThrowsError(try Signing.verify(file: f, publicKeyPath: path("m.pub"))) { e in
            XCTAssertTrue("\(e)".contains("does not match \(f)"), "\(e)")
        }
        try Data("some weights\n".utf8).write(to: URL(fileURLWithPath: f))
        XCTAssertNoThrow(try Signing.verify(file: f, publicKeyPath: path("m.pub")))
        // Tampered signature bytes (one base64 character of line 2 changed).
        var lines = sigText.components(separatedBy: "\n")
        var sigLine = Array(lines[1])
        sigLine[40] = sigLine[40] == "A" ? "B" : "A"
        lines[1] = String(sigLine)
        try lines.joined(separator: "\n").write(toFile: f + ".minisig", atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try Signing.verify(file: f, publicKeyPath: path("m.pub"))) { e in
            XCTAssertTrue("\(e)".contains("does not match"), "\(e)")
        }
        // Tampered trusted comment.
        lines = sigText.components(separatedBy: "\n")
        lines[2] += " (edited)"
        try lines.joined(separator: "\n").write(toFile: f + ".minisig", atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try Signing.verify(file: f, publicKeyPath: path("m.pub"))) { e in
            XCTAssertTrue("\(e)".contains("trusted comment"), "\(e)")
        }
        // minisign agrees that the edited trusted comment is bad.
        XCTAssertNotEqual(try BundleTestSupport.run(minisign, ["-V", "-p", path("m.pub"), "-m", f]).status, 0)
        // Not a signature at all.
        try "hello\n".write(toFile: f + ".minisig", atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try Signing.verify(file: f, publicKeyPath: path("m.pub"))) { e in
            XCTAssertTrue("\(e)".contains("not a minisign key or signature file"), "\(e)")
        }
    }

    func testEncryptedSecretKeysAreRefusedWithAFix() throws {
        // minisign's password-encrypted layout: kdf "Sc" with a salt and limits.
        var raw: [UInt8] = Array("EdScB2".utf8) + [UInt8](repeating: 7, count: 32 + 16) + [UInt8](repeating: 1, count: 104)
        raw[38] = 0
        try ("untrusted comment: minisign encrypted secret key\n" + Data(raw).base64EncodedString() + "\n").write(toFile: path("enc.key"), atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try Signing.secretKey(path("enc.key"))) { e in
            XCTAssertTrue("\(e)".contains("password-encrypted") && "\(e)".contains("minisign -G -W"), "\(e)")
        }
    }
}
