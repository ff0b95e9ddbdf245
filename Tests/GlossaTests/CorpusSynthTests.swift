import Eval
import Foundation
import Whisper
import XCTest
@testable import Glossa

final class CorpusSynthTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// espeak-ng is installed by scripts/setup.sh; in CI its absence is a failure, not a skip.
    static func requireEspeak() throws {
        guard !FileManager.default.isExecutableFile(atPath: "/usr/bin/espeak-ng") else { return }
        throw Peer.missing("espeak-ng not installed (apt-get install espeak-ng; scripts/setup.sh does)")
    }

    func testSynthesisesWavAndManifests() throws {
        try Self.requireEspeak()
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("glossa-corpus-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: out) }
        var options = CorpusSynth.Options(languages: ["fr", "de", "ru"], sentencesDir: Self.root.appendingPathComponent("corpus/sentences").path,
                                          outDir: out.path)
        options.maxSentencesPerLanguage = 5
        options.splits = [0.6, 0.2, 0.2]
        options.seed = 7
        options.speedRange = 150...190
        options.pitchRange = 35...65
        let result = try CorpusSynth(options).run()
        XCTAssertEqual(result.counts, ["train": 9, "dev": 3, "test": 3])
        var all: [ManifestEntry] = []
        for name in CorpusSynth.splitNames {
            let path = try XCTUnwrap(result.manifests[name])
            let entries = try Manifest.parse(Data(contentsOf: URL(fileURLWithPath: path)), source: path)
            XCTAssertEqual(Set(entries.map(\.lang)), ["fr", "de", "ru"], "every split holds every language")
            for e in entries {
                let speaker = try XCTUnwrap(e.speaker, "\(e.id) records its speaker")
                let variant = String(try XCTUnwrap(speaker.split(separator: "+").last))
                XCTAssertTrue(result.speakers[e.lang]?[name]?.contains(variant) ?? false, "\(e.id): \(speaker) is allowed in \(name)")
            }
            all += entries
        }
        XCTAssertEqual(Set(all.map(\.id)).count, 15)
        var total = 0.0
        for e in all {
            let wav = out.appendingPathComponent(e.audio).path
            let reader = try AudioReader(path: wav)
            XCTAssertEqual(reader.sourceSampleRate, 16_000, e.id)
            XCTAssertEqual(reader.sourceChannels, 1, e.id)
            XCTAssertGreaterThan(reader.duration, 0.8, "\(e.id) is speech, not an empty file")
            XCTAssertLessThan(reader.duration, 12, e.id)
            total += reader.duration
            let samples = try AudioReader.load(path: wav)
            XCTAssertGreaterThan(samples.map(abs).max() ?? 0, 0.05, "\(e.id) is not silent")
        }
        XCTAssertEqual(result.audioSeconds, total, accuracy: 0.01)
        // The text in the manifest is the sentence from the file, untouched.
        let fr = try String(contentsOf: Self.root.appendingPathComponent("corpus/sentences/fr.txt"), encoding: .utf8).split(separator: "\n")
        let frEntry = try XCTUnwrap(all.first { $0.id == "fr-0003" })
        XCTAssertEqual(frEntry.text, String(fr[2]))
    }

    func testSplitsAreDeterministicBySeed() throws {
        func plan(seed: UInt64) throws -> [String: Int] {
            var o = CorpusSynth.Options(languages: ["es", "it"], sentencesDir: Self.root.appendingPathComponent("corpus/sentences").path, outDir: "/nonexistent")
            o.seed = seed
            o.speedRange = 140...200
            return Dictionary(uniqueKeysWithValues: try CorpusSynth(o).plan(installed: CorpusSynthSpeakerTests.installed).items.map { ($0.entry.id, $0.split) })
        }
        let a = try plan(seed: 1), b = try plan(seed: 1), c = try plan(seed: 2)
        XCTAssertEqual(a, b)
        XCTAssertNotEqual(a, c)
        let es = a.filter { $0.key.hasPrefix("es-") }
        XCTAssertEqual(es.values.filter { $0 == 0 }.count, Int((Double(es.count) * 0.8).rounded()))
    }

    func testRejectsBadOptions() {
        var o = CorpusSynth.Options(languages: ["xx"], sentencesDir: "/tmp", outDir: "/tmp/x")
        XCTAssertThrowsError(try CorpusSynth(o)) { XCTAssertTrue("\($0)".contains("no espeak-ng voice known for 'xx'"), "\($0)") }
        o.languages = ["fr"]
        o.splits = [0.5, 0.5, 0.5]
        XCTAssertThrowsError(try CorpusSynth(o))
        o.splits = [0.8, 0.1, 0.1]
        o.sentencesDir = "/nonexistent"
        XCTAssertThrowsError(try CorpusSynth(o).plan(installed: CorpusSynthSpeakerTests.installed)) {
            guard case CorpusSynthError.sentencesUnreadable(let path) = $0 else { return XCTFail("\($0)") }
            XCTAssertEqual(path, "/nonexistent/fr.txt")
        }
    }
}
