import Foundation
import XCTest

/// Issue 11 items 14 and 15 from the command line: which commands may create a registry
/// folder, and gc's `--grace`.
extension CLITests {
    func folderEntries(_ path: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted()
    }

    /// Item 14: `list --registry DIR` on a non-empty unrelated folder used to create
    /// registry.json, catalog.sqlite and blobs/ there. Read-only commands now fail on a
    /// folder that is not a registry (exit 66) and write nothing; writing commands create a
    /// registry only in an empty or new folder.
    func testReadOnlyCommandDoesNotTurnAFolderIntoARegistry() throws {
        let unrelated = tmp.appendingPathComponent("photos").path
        try FileManager.default.createDirectory(atPath: unrelated, withIntermediateDirectories: true)
        try Data("keep me".utf8).write(to: URL(fileURLWithPath: unrelated + "/notes.txt"))
        for args in [["list"], ["show", "x"], ["verify"], ["gc"], ["reindex"], ["rm", "x:1.0.0"], ["tag", "x:1.0.0", "stable"]] {
            let r = try glossa(args + ["--registry", unrelated])
            XCTAssertEqual(r.status, 66, "\(args): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains(unrelated) && r.stderr.contains("not a Glossa registry"), "\(args): \(r.stderr)")
            XCTAssertEqual(folderEntries(unrelated), ["notes.txt"], "\(args) must leave an unrelated folder alone")
        }
        // A folder that does not exist is not created by a read-only command either.
        let absent = tmp.appendingPathComponent("nothing-here").path
        let list = try glossa(["list", "--registry", absent])
        XCTAssertEqual(list.status, 66, list.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: absent), "list must not create \(absent)")

        // A writing command refuses the unrelated folder too, and writes nothing there.
        let imp = try glossa(["base", "import", try tinyBase(), "--name", "tiny", "--version", "1.0.0", "--registry", unrelated])
        XCTAssertEqual(imp.status, 66, imp.stderr)
        XCTAssertTrue(imp.stderr.contains("empty"), "says how to fix it: \(imp.stderr)")
        XCTAssertEqual(folderEntries(unrelated), ["notes.txt"])
        // ... and creates a registry in a new folder, which read-only commands then open.
        XCTAssertEqual(try glossa(["base", "import", try tinyBase(), "--name", "tiny", "--version", "1.0.0", "--registry", absent]).status, 0)
        XCTAssertEqual(try glossa(["list", "--registry", absent]).status, 0)
    }

    /// `list --remote` reads only the remote: it needs no local registry and creates none.
    /// The repository's own ./registry folder (the embedded default) holds only its README in
    /// a clean clone; `make demo` must be able to create the registry there.
    func testFolderHoldingOnlyTheRepositorysREADMEBecomesARegistry() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let folder = tmp.appendingPathComponent("registry").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: root.appendingPathComponent("registry/README.md").path, toPath: folder + "/README.md")
        XCTAssertEqual(try glossa(["list", "--registry", folder]).status, 66, "read-only commands still refuse it")
        let imp = try glossa(["base", "import", try tinyBase(), "--name", "tiny", "--version", "1.0.0", "--registry", folder])
        XCTAssertEqual(imp.status, 0, imp.stderr)
        XCTAssertTrue(folderEntries(folder).contains("README.md") && folderEntries(folder).contains("registry.json"), "\(folderEntries(folder))")
        XCTAssertEqual(try glossa(["list", "--registry", folder]).status, 0)
    }

    func testListRemoteNeedsNoLocalRegistry() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/docker-registry") else {
            throw Peer.missing("docker-registry not installed (scripts/setup.sh installs it)")
        }
        let dir = tmp.appendingPathComponent("oci").path
        let host = try runRegistryScript(["start", dir], scratch: tmp)
        defer { _ = try? runRegistryScript(["stop", dir], scratch: tmp) }
        XCTAssertEqual(try glossa(["base", "import", try tinyBase(), "--name", "tiny", "--version", "1.0.0"]).status, 0)
        XCTAssertEqual(try glossa(["push", "tiny:1.0.0", "oci://\(host)/glossa/tiny:1.0.0"]).status, 0)
        let absent = tmp.appendingPathComponent("no-registry").path
        let r = try glossa(["list", "--remote", "oci://\(host)/glossa/tiny", "--registry", absent])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("tiny"), r.stdout)
        XCTAssertFalse(FileManager.default.fileExists(atPath: absent), "list --remote must not create \(absent)")
    }

    /// Item 15: `--grace` must be positive (0 or less lets gc sweep the blobs of a publish
    /// in flight); it is a usage error with a message, and nothing is collected.
    func testGCGraceMustBePositive() throws {
        XCTAssertEqual(try glossa(["base", "import", try tinyBase(), "--name", "tiny", "--version", "1.0.0"]).status, 0)
        for grace in ["0", "-5", "nan"] {  // passed as --grace=VALUE so "-5" is not read as a flag
            let r = try glossa(["gc", "--grace=\(grace)"])
            XCTAssertEqual(r.status, 64, "--grace \(grace): \(r.stdout) \(r.stderr)")
            XCTAssertTrue(r.stderr.contains("--grace") && r.stderr.contains("positive"), r.stderr)
        }
        XCTAssertEqual(try glossa(["gc", "--grace", "0.5"]).status, 0)
    }
}
