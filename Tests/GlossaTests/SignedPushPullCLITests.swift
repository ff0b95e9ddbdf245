import Foundation
import XCTest

/// Signatures of registry artifacts travel through a real OCI registry (Debian's
/// docker-registry 2.8, which has no referrers API, so the referrers tag schema is used), and
/// `pull --verify-key` trusts only what one signature by that key covers (issue 10, "Signing").
extension CLITests {
    func registryHost() throws -> (host: String, stop: () -> Void) {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/docker-registry") else {
            throw Peer.missing("docker-registry not installed (scripts/setup.sh installs it)")
        }
        let dir = tmp.appendingPathComponent("oci").path
        let host = try runRegistryScript(["start", dir], scratch: tmp)
        return (host, { [tmp] in _ = try? runRegistryScript(["stop", dir], scratch: tmp!) })
    }

    func json(_ r: Run) throws -> [String: String] {
        try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: String], r.stdout + r.stderr)
    }

    /// Imports the golden PEFT adapter as `name:1.0.0` (language `lang`) on the tiny base; returns its digest.
    func importTinyExpert(_ name: String, lang: String) throws -> String {
        let r = try glossa(["expert", "import-peft", Self.golden.path, "--lang", lang, "--name", name, "--version", "1.0.0", "--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        return try XCTUnwrap(try json(r)["digest"])
    }

    func signatureFiles(_ registry: String, _ artifact: String) -> [String] {
        let hex = artifact.replacingOccurrences(of: "sha256:", with: "")
        return ((try? FileManager.default.contentsOfDirectory(atPath: "\(registry)/signatures/sha256/\(hex)")) ?? []).sorted()
    }

    func testSignedPushPullCarriesTheSignatureAndVerifyKeyRefusesTheRest() throws {
        let (host, stop) = try registryHost()
        defer { stop() }
        XCTAssertEqual(try glossa(["base", "import", try tinyBase(), "--name", "tiny", "--version", "1.0.0"]).status, 0)
        let fr = try importTinyExpert("fr-tiny", lang: "fr")
        let k = tmp.appendingPathComponent("release").path, other = tmp.appendingPathComponent("other").path
        XCTAssertEqual(try glossa(["key", "generate", "--out", k]).status, 0)
        XCTAssertEqual(try glossa(["key", "generate", "--out", other]).status, 0)

        // sign REF stores the signature in the registry; push attaches it to the manifest.
        let signed = try glossa(["sign", "fr-tiny:1.0.0", "--key", k + ".key", "--json"])
        XCTAssertEqual(signed.status, 0, signed.stderr)
        XCTAssertEqual(try json(signed)["artifact"], fr)
        let keyID = try XCTUnwrap(try json(signed)["key_id"])
        XCTAssertEqual(signatureFiles(registry, fr).count, 1)
        let push = try glossa(["push", "fr-tiny:1.0.0", "oci://\(host)/glossa/fr:1.0.0", "--json"])
        XCTAssertEqual(push.status, 0, push.stderr)
        XCTAssertEqual(try json(push)["signatures"], "1")
        XCTAssertEqual(try json(push)["referrers"], "tagSchema", "docker-registry 2.x has no referrers API")
        let manifest = try XCTUnwrap(try json(push)["manifest"])
        // A re-push attaches nothing twice.
        XCTAssertEqual(try glossa(["push", "fr-tiny:1.0.0", "oci://\(host)/glossa/fr:1.0.0"]).status, 0)

        // A real client sees the referrers index under the tag sha256-<manifest hex>.
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/skopeo") {
            let tag = manifest.replacingOccurrences(of: "sha256:", with: "sha256-")
            let raw = try BundleTestSupport.run("/usr/bin/skopeo", ["inspect", "--raw", "--tls-verify=false", "docker://\(host)/glossa/fr:\(tag)"])
            XCTAssertEqual(raw.status, 0, raw.stderr)
            let index = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(raw.stdout.utf8)) as? [String: Any])
            XCTAssertEqual(index["mediaType"] as? String, "application/vnd.oci.image.index.v1+json")
            let entries = try XCTUnwrap(index["manifests"] as? [[String: Any]])
            XCTAssertEqual(entries.count, 1, raw.stdout)
            XCTAssertEqual(entries.first?["artifactType"] as? String, "application/vnd.glossa.signature.v1")
            let sigManifest = try XCTUnwrap(entries.first?["digest"] as? String)
            let m = try BundleTestSupport.run("/usr/bin/skopeo", ["inspect", "--raw", "--tls-verify=false", "docker://\(host)/glossa/fr@\(sigManifest)"])
            XCTAssertEqual(m.status, 0, m.stderr)
            let subject = (try JSONSerialization.jsonObject(with: Data(m.stdout.utf8)) as? [String: Any])?["subject"] as? [String: Any]
            XCTAssertEqual(subject?["digest"] as? String, manifest, "the signature's subject is the signed artifact's manifest")
        }

        // Debian's minisign verifies the registry signature over the manifest as a real OCI
        // client fetched it: the artifact's config blob, whose sha256 is the artifact digest.
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/skopeo"), FileManager.default.isExecutableFile(atPath: "/usr/bin/minisign") {
            let copied = tmp.appendingPathComponent("copied").path
            let copy = try BundleTestSupport.run("/usr/bin/skopeo", ["copy", "--src-tls-verify=false", "docker://\(host)/glossa/fr:1.0.0", "oci:\(copied):fr"])
            XCTAssertEqual(copy.status, 0, copy.stderr)
            let sig = "\(registry)/signatures/sha256/\(fr.dropFirst(7))/\(try XCTUnwrap(signatureFiles(registry, fr).first))"
            let v = try BundleTestSupport.run("/usr/bin/minisign", ["-V", "-p", k + ".pub", "-m", "\(copied)/blobs/sha256/\(fr.dropFirst(7))", "-x", sig])
            XCTAssertEqual(v.status, 0, v.stdout + v.stderr)
        }

        // Round trip: pull with the right key verifies and stores the same signature bytes.
        let second = tmp.appendingPathComponent("second").path
        let pull = try glossa(["pull", "oci://\(host)/glossa/fr:1.0.0", "--registry", second, "--verify-key", k + ".pub", "--json"])
        XCTAssertEqual(pull.status, 0, pull.stderr)
        XCTAssertEqual(try json(pull)["artifact"], fr)
        XCTAssertEqual(try json(pull)["verified_key"], keyID)
        XCTAssertEqual(try json(pull)["signatures"], "1")
        XCTAssertEqual(signatureFiles(second, fr), signatureFiles(registry, fr), "same signature digest on both sides")
        let check = try glossa(["key", "verify", "fr-tiny:1.0.0", "--key", k + ".pub", "--registry", second])
        XCTAssertEqual(check.status, 0, check.stderr)
        XCTAssertTrue(check.stdout.contains("good signature of fr-tiny:1.0.0 (\(fr))"), check.stdout)
        XCTAssertEqual(try glossa(["key", "verify", "fr-tiny:1.0.0", "--key", other + ".pub", "--registry", second]).status, 65)
        // ... and without a key the signature still comes along.
        let third = tmp.appendingPathComponent("third").path
        XCTAssertEqual(try glossa(["pull", "oci://\(host)/glossa/fr:1.0.0", "--registry", third]).status, 0)
        XCTAssertEqual(signatureFiles(third, fr), signatureFiles(registry, fr))

        func refused(_ source: String, key: String, saying words: String, file: StaticString = #filePath, line: UInt = #line) throws {
            let into = tmp.appendingPathComponent("refused-\(UUID().uuidString.prefix(6))").path
            let r = try glossa(["pull", source, "--registry", into, "--verify-key", key])
            XCTAssertEqual(r.status, 65, r.stderr, file: file, line: line)
            XCTAssertTrue(r.stderr.contains(words), r.stderr, file: file, line: line)
            XCTAssertTrue(r.stderr.contains("nothing was imported"), r.stderr, file: file, line: line)
            let listed = try glossa(["list", "--registry", into, "--json"])
            let rows = try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [Any]
            XCTAssertEqual(rows?.count, 0, "nothing imported: \(listed.stdout)", file: file, line: line)
        }

        // Another key: refused.
        try refused("oci://\(host)/glossa/fr:1.0.0", key: other + ".pub", saying: "signed only by key \(keyID)")

        // Unsigned: refused.
        let de = try importTinyExpert("de-tiny", lang: "de")
        XCTAssertEqual(try glossa(["push", "de-tiny:1.0.0", "oci://\(host)/glossa/de:1.0.0"]).status, 0)
        try refused("oci://\(host)/glossa/de:1.0.0", key: k + ".pub", saying: "is not signed")

        // A tampered signature (one byte of the Ed25519 signature changed): refused.
        let nl = try importTinyExpert("nl-tiny", lang: "nl")
        XCTAssertEqual(try glossa(["sign", "nl-tiny:1.0.0", "--key", k + ".key"]).status, 0)
        let nlSig = URL(fileURLWithPath: "\(registry)/signatures/sha256/\(nl.dropFirst(7))/\(try XCTUnwrap(signatureFiles(registry, nl).first))")
        var lines = try String(contentsOf: nlSig, encoding: .utf8).components(separatedBy: "\n")
        var raw = try XCTUnwrap(Data(base64Encoded: lines[1]))
        raw[40] ^= 0x01
        lines[1] = raw.base64EncodedString()
        try lines.joined(separator: "\n").write(to: nlSig, atomically: true, encoding: .utf8)
        XCTAssertEqual(try glossa(["push", "nl-tiny:1.0.0", "oci://\(host)/glossa/nl:1.0.0"]).status, 0)
        try refused("oci://\(host)/glossa/nl:1.0.0", key: k + ".pub", saying: "does not verify")

        // A tampered artifact: the tag now names other content, carrying a copy of fr's good
        // signature as its referrer. The signature does not cover that manifest: refused.
        let deFolder = "\(registry)/signatures/sha256/\(de.dropFirst(7))"
        try FileManager.default.createDirectory(atPath: deFolder, withIntermediateDirectories: true)
        let frSig = try XCTUnwrap(signatureFiles(registry, fr).first)
        try FileManager.default.copyItem(atPath: "\(registry)/signatures/sha256/\(fr.dropFirst(7))/\(frSig)", toPath: "\(deFolder)/\(frSig)")
        XCTAssertEqual(try glossa(["push", "de-tiny:1.0.0", "oci://\(host)/glossa/fr:1.0.0"]).status, 0)
        try refused("oci://\(host)/glossa/fr:1.0.0", key: k + ".pub", saying: "does not verify")
    }
}

extension CLITests {
    /// Signatures go with their artifact: `rm` removes them, and gc removes those of
    /// artifacts no longer catalogued (left by an interrupted rm or an older version) once
    /// they are older than the grace period; `--dry-run` only reports them.
    func testRemovedArtifactsTakeTheirSignaturesWithThem() throws {
        XCTAssertEqual(try glossa(["base", "import", try tinyBase(), "--name", "tiny", "--version", "1.0.0"]).status, 0)
        let fr = try importTinyExpert("fr-tiny", lang: "fr")
        let k = tmp.appendingPathComponent("release").path
        XCTAssertEqual(try glossa(["key", "generate", "--out", k]).status, 0)
        XCTAssertEqual(try glossa(["sign", "fr-tiny:1.0.0", "--key", k + ".key"]).status, 0)
        XCTAssertEqual(signatureFiles(registry, fr).count, 1)
        XCTAssertEqual(try glossa(["rm", "fr-tiny:1.0.0"]).status, 0)
        XCTAssertEqual(signatureFiles(registry, fr), [], "rm removes the artifact's signatures")

        // An orphan left behind (as an interrupted rm would), older than the grace period.
        let de = try importTinyExpert("de-tiny", lang: "de")
        XCTAssertEqual(try glossa(["sign", "de-tiny:1.0.0", "--key", k + ".key"]).status, 0)
        let folder = "\(registry)/signatures/sha256/\(de.dropFirst(7))"
        let kept = tmp.appendingPathComponent("kept-signatures").path
        try FileManager.default.copyItem(atPath: folder, toPath: kept)
        XCTAssertEqual(try glossa(["rm", "de-tiny:1.0.0"]).status, 0)
        try FileManager.default.moveItem(atPath: kept, toPath: folder)
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -7200)], ofItemAtPath: folder)
        let young = try glossa(["gc", "--grace", "10800", "--json"])
        XCTAssertEqual((try JSONSerialization.jsonObject(with: Data(young.stdout.utf8)) as? [String: Any])?["removedSignatures"] as? [String], [],
                       young.stdout)
        let dry = try glossa(["gc", "--grace", "3600", "--dry-run", "--json"])
        XCTAssertEqual((try JSONSerialization.jsonObject(with: Data(dry.stdout.utf8)) as? [String: Any])?["removedSignatures"] as? [String], [de],
                       dry.stdout)
        XCTAssertTrue(FileManager.default.fileExists(atPath: folder), "a dry run removes nothing")
        let gc = try glossa(["gc", "--grace", "3600"])
        XCTAssertEqual(gc.status, 0, gc.stderr)
        XCTAssertTrue(gc.stdout.contains("1 signature sets of removed artifacts"), gc.stdout)
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder))
    }
}
