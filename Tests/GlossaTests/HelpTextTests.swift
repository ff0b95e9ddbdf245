import Foundation
import Glossa
import XCTest

/// `--help` of every command, found by walking the command tree from the root configuration
/// (`glossa --experimental-dump-help`, swift-argument-parser's JSON of the whole tree).
extension CLITests {
    /// Runs glossa with `COLUMNS=80` (the width ArgumentParser wraps to, as on a standard terminal).
    func glossa80(_ args: [String]) throws -> Run {
        let r = try GlossaBinary.run(args, registry: registry, environment: ["COLUMNS": "80"])
        return Run(status: r.status, stdout: r.stdout, stderr: r.stderr)
    }

    /// Every command path below the root (`[]` is the root itself), `help` excluded.
    func commandPaths() throws -> [[String]] {
        let dump = try glossa80(["--experimental-dump-help"])
        XCTAssertEqual(dump.status, 0, dump.stderr)
        let tool = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(dump.stdout.utf8)) as? [String: Any])
        var paths: [[String]] = []
        func walk(_ command: [String: Any], _ path: [String]) {
            paths.append(path)
            for sub in command["subcommands"] as? [[String: Any]] ?? [] {
                guard let name = sub["commandName"] as? String, name != "help" else { continue }
                walk(sub, path + [name])
            }
        }
        walk(try XCTUnwrap(tool["command"] as? [String: Any]), [])
        XCTAssertGreaterThan(paths.count, 20, "the tree has every command")
        return paths
    }

    /// Lines of rendered help that show the bug of issue 11 item 23: text hard-wrapped in the
    /// source at ~90 columns, re-wrapped by ArgumentParser at 80, leaves a line that ends
    /// although the next word would have fit, followed by a line that continues the sentence
    /// (unindented, lowercase or a `--flag`/code fragment). Intentional breaks stay allowed:
    /// after a colon, before an indented example, before a "- " list item or a new sentence.
    /// Indented examples wider than `width` (wrapped onto an unindented line) are reported, and
    /// so are lines over `width` columns, except the USAGE synopsis, which ArgumentParser
    /// prints on one line whatever the width (terminals wrap it whole).
    static func brokenLines(_ text: String, width: Int = 80) -> [String] {
        let lines = text.components(separatedBy: "\n")
        var problems: [String] = []
        for (i, line) in lines.enumerated() {
            if line.count > width && !line.hasPrefix("USAGE: ") { problems.append("line \(i + 1) has \(line.count) columns: \(line)") }
            guard i + 1 < lines.count, !line.trimmingCharacters(in: .whitespaces).isEmpty else { continue }
            let next = lines[i + 1]
            guard let first = next.first, first != " " else { continue }
            let word = next.split(separator: " ").first.map(String.init) ?? ""
            let continues = first.isLowercase || (first == "-" && !next.hasPrefix("- ")) || "`$(\"'".contains(first)
            // `<`: ArgumentParser fills lines to `width`, so a word that fits never starts the next line.
            if continues && !line.hasSuffix(":") && line.count + 1 + word.count < width {
                problems.append("line \(i + 1) ends mid-sentence (\"\(word)\" would fit): \(line)")
            } else if continues && line.hasPrefix(" ") {
                // An indented example longer than `width`, wrapped onto an unindented line.
                problems.append("line \(i + 1) is an example wrapped at \(width) columns: \(line) / \(next)")
            }
        }
        return problems
    }

    func testHelpBreaksNoSentenceMidLineAt80Columns() throws {
        var failures: [String] = []
        for path in try commandPaths() {
            let r = try glossa80(path + ["--help"])
            XCTAssertEqual(r.status, 0, "glossa \(path.joined(separator: " ")) --help: \(r.stderr)")
            failures += Self.brokenLines(r.stdout).map { "glossa \(path.joined(separator: " ")) --help: \($0)" }
        }
        XCTAssertEqual(failures, [], failures.joined(separator: "\n"))
    }

    func testHelpLineCheckCatchesTheReWrapBug() {
        // The bug: a source line hard-wrapped at ~90 columns, re-wrapped at 80, leaves
        // "registry; the" alone on a line before the sentence goes on.
        let bad = """
        OVERVIEW: Train a LoRA language expert.

        Runs the LoRA trainer on a frozen base and publishes the adapter to the
        registry; the
        manifest's clips are split into batches.
        """
        XCTAssertEqual(Self.brokenLines(bad), [#"line 4 ends mid-sentence ("manifest's" would fit): registry; the"#])
        let good = """
        Runs the LoRA trainer on a frozen base and publishes the adapter to the
        registry. The manifest's clips are split into batches.

        Examples:
          glossa train --base whisper-base --lang fr
        - a list item
        """
        XCTAssertEqual(Self.brokenLines(good), [])
        XCTAssertEqual(Self.brokenLines(String(repeating: "x", count: 81)).count, 1)
        let wrappedExample = """
        Examples:
          glossa compose --experts fr-expert,de-expert --method linear --name mix
        --version 1.0.0
        """
        XCTAssertEqual(Self.brokenLines(wrappedExample).count, 1, "\(Self.brokenLines(wrappedExample))")
    }

    /// Issue 11 item 26: one meaning of `--version` per command. `glossa --version` (the
    /// root's, in its usage) prints the tool's version; commands whose `--version` takes a
    /// semantic version list that option once, and nothing else under that name.
    func testVersionOptionIsListedOncePerCommand() throws {
        for path in try commandPaths() {
            let r = try glossa80(path + ["--help"])
            let listed = r.stdout.components(separatedBy: "\n").filter { $0.hasPrefix("  --version") }   // the OPTIONS section
            let name = "glossa \(path.joined(separator: " "))"
            XCTAssertLessThanOrEqual(listed.count, 1, "\(name) --help lists --version \(listed.count) times:\n\(listed.joined(separator: "\n"))")
            XCTAssertFalse(r.stdout.contains("Show the version"), "\(name) --help shows ArgumentParser's version flag:\n\(r.stdout)")
            if path.isEmpty { XCTAssertTrue(r.stdout.contains("glossa --version"), "the root's usage names glossa --version:\n\(r.stdout)") }
        }
        let train = try glossa80(["train", "--help"])
        XCTAssertEqual(train.stdout.components(separatedBy: "\n").filter { $0.hasPrefix("  --version") },
                       ["  --version <version>     Semantic version."], train.stdout)

        let version = try glossa80(["--version"])
        XCTAssertEqual(version.status, 0, version.stderr)
        XCTAssertEqual(version.stdout.trimmingCharacters(in: .whitespacesAndNewlines), GlossaVersion.string)
        // A subcommand's --version is its own option: it takes a value, and the root leaves it alone.
        let imported = try glossa80(["base", "import", tmp.appendingPathComponent("none").path, "--name", "x", "--version", "1.0.0"])
        XCTAssertEqual(imported.status, 66, "parsed, then the folder is not found: \(imported.stderr)")
        let missing = try glossa80(["train", "--version"])
        XCTAssertEqual(missing.status, 64, missing.stdout + missing.stderr)
        XCTAssertFalse(missing.stdout.contains(GlossaVersion.string), missing.stdout)
    }
}
