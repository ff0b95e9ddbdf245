import Eval
import Foundation
import Whisper
import XCTest
@testable import Glossa

/// Multi-speaker synthesis: the speaker assignment keeps test voices out of train and dev,
/// every utterance records its speaker, everything is seeded, noise lands at the asked SNR,
/// and the single-voice corpus is still the one older builds wrote.
final class CorpusSynthSpeakerTests: XCTestCase {
    static let root = CorpusSynthTests.root
    static let sentences = root.appendingPathComponent("corpus/sentences").path

    /// The default pool's genders as espeak-ng 1.51 lists them, so planning tests need no espeak.
    static let installed: [String: CorpusSpeakers.Gender] = Dictionary(uniqueKeysWithValues:
        CorpusSpeakers.defaultVariants.map { ($0, $0.hasPrefix("f") ? .female : .male) } + [("klatt", .male), ("Annie", .female)])

    static func pool(_ names: [String]) -> [CorpusSpeakers.Variant] {
        names.map { CorpusSpeakers.Variant(name: $0, gender: installed[$0]!) }
    }

    func testAssignmentHoldsOutTestAndDevSpeakersPerLanguage() throws {
        let langs = ["de", "fr", "nl", "pl"]
        let a = try CorpusSpeakers(pool: Self.pool(CorpusSpeakers.defaultVariants), languages: langs, seed: 0, devCount: 2, testCount: 2)
        for lang in langs {
            let splits = try XCTUnwrap(a.assignment[lang])
            let (train, dev, test) = (Set(splits[0]), Set(splits[1]), Set(splits[2]))
            XCTAssertEqual(train.count, 9, lang)
            XCTAssertEqual(dev.count, 2, lang)
            XCTAssertEqual(test.count, 2, lang)
            XCTAssertTrue(test.isDisjoint(with: train) && test.isDisjoint(with: dev) && dev.isDisjoint(with: train), lang)
            XCTAssertEqual(train.union(dev).union(test).map(\.name).sorted(), CorpusSpeakers.defaultVariants.sorted(), "\(lang): every variant used")
            XCTAssertEqual(Set(test.map(\.gender)), [.female, .male], "\(lang): test hears both a female and a male variant")
            XCTAssertEqual(Set(dev.map(\.gender)), [.female, .male], lang)
        }
        let again = try CorpusSpeakers(pool: Self.pool(CorpusSpeakers.defaultVariants), languages: langs, seed: 0, devCount: 2, testCount: 2)
        XCTAssertEqual(a, again, "same seed, same assignment")
        let other = try CorpusSpeakers(pool: Self.pool(CorpusSpeakers.defaultVariants), languages: langs, seed: 1, devCount: 2, testCount: 2)
        XCTAssertNotEqual(a, other, "the seed changes the assignment")
        // Adding a language does not reshuffle the others.
        let more = try CorpusSpeakers(pool: Self.pool(CorpusSpeakers.defaultVariants), languages: langs + ["it"], seed: 0, devCount: 2, testCount: 2)
        XCTAssertEqual(more.assignment["fr"], a.assignment["fr"])
    }

    func testPlanRecordsSpeakersAndKeepsTestVoicesOutOfTraining() throws {
        var o = CorpusSynth.Options(languages: ["fr", "de"], sentencesDir: Self.sentences, outDir: "/nonexistent")
        o.seed = 5
        o.maxSentencesPerLanguage = 60
        let plan = try CorpusSynth(o).plan(installed: Self.installed)
        XCTAssertEqual(plan.items.count, 120)
        for lang in ["fr", "de"] {
            let items = plan.items.filter { $0.entry.lang == lang }
            var bySplit: [Set<String>] = [[], [], []]
            for item in items {
                let speaker = try XCTUnwrap(item.entry.speaker, item.entry.id)
                XCTAssertEqual(speaker, item.voice, "the manifest names the voice espeak-ng speaks with")
                XCTAssertTrue(speaker.hasPrefix(CorpusSynth.defaultVoices[lang]! + "+"), speaker)
                bySplit[item.split].insert(speaker)
                XCTAssertTrue(CorpusSynth.variedSpeed.contains(try XCTUnwrap(item.speed)))
                XCTAssertTrue(CorpusSynth.variedPitch.contains(try XCTUnwrap(item.pitch)))
            }
            XCTAssertTrue(bySplit[2].isDisjoint(with: bySplit[0].union(bySplit[1])), "\(lang): a test speaker is heard in train or dev")
            XCTAssertTrue(bySplit[1].isDisjoint(with: bySplit[0]), "\(lang): a dev speaker is heard in train")
            XCTAssertGreaterThan(bySplit[0].count, 4, "\(lang): train draws from many speakers")
        }
        let again = try CorpusSynth(o).plan(installed: Self.installed)
        XCTAssertEqual(again.items.map(\.entry), plan.items.map(\.entry))
        XCTAssertEqual(again.items.map(\.speed), plan.items.map(\.speed))
    }

    /// The same seed puts the same sentences in test with and without speakers, so the
    /// two corpora compare the same text in new voices.
    func testSentenceSplitDoesNotDependOnSpeakers() throws {
        var o = CorpusSynth.Options(languages: ["nl", "pl"], sentencesDir: Self.sentences, outDir: "/nonexistent")
        o.seed = 11
        let multi = try CorpusSynth(o).plan(installed: Self.installed).items.map { [$0.entry.id: $0.split] }
        o.speakers = nil
        let single = try CorpusSynth(o).plan(installed: Self.installed).items.map { [$0.entry.id: $0.split] }
        XCTAssertEqual(multi, single)
    }

    /// `--single-voice --vary --seed 3 --split 0.5,0.25,0.25 --limit 6` for fr,de as the
    /// build before speakers wrote it (ids per split, copied from its manifests).
    func testSingleVoiceCorpusIsTheOldOne() throws {
        var o = CorpusSynth.Options(languages: ["fr", "de"], sentencesDir: Self.sentences, outDir: "/nonexistent")
        o.seed = 3
        o.splits = [0.5, 0.25, 0.25]
        o.maxSentencesPerLanguage = 6
        o.speedRange = CorpusSynth.variedSpeed
        o.pitchRange = CorpusSynth.variedPitch
        o.speakers = nil
        let items = try CorpusSynth(o).plan(installed: [:]).items
        func ids(_ split: Int) -> [String] { items.filter { $0.split == split }.map(\.entry.id).sorted() }
        XCTAssertEqual(ids(0), ["de-0001", "de-0003", "de-0005", "fr-0001", "fr-0003", "fr-0006"])
        XCTAssertEqual(ids(1), ["de-0004", "de-0006", "fr-0002", "fr-0005"])
        XCTAssertEqual(ids(2), ["de-0002", "fr-0004"])
        XCTAssertTrue(items.allSatisfy { $0.entry.speaker == nil && !$0.voice.contains("+") })
        XCTAssertFalse(String(decoding: Manifest.encode(items.map(\.entry)), as: UTF8.self).contains("speaker"),
                       "single-voice manifests keep the old four keys")
    }

    func testNoiseIsMixedAtTheRequestedSNR() {
        // Half a second of a 220 Hz tone at 16 kHz, amplitude 0.3.
        let clean = (0..<8000).map { Float(0.3 * sin(2 * Double.pi * 220 * Double($0) / 16_000)) }
        func power(_ x: [Float]) -> Double { x.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(x.count) }
        for kind in CorpusNoise.Kind.allCases {
            for snr in [0.0, 10, 25] {
                let noisy = CorpusNoise.mix(clean, snrDB: snr, kind: kind, seed: 9)
                let noise = zip(noisy, clean).map { $0 - $1 }
                XCTAssertEqual(10 * log10(power(clean) / power(noise)), snr, accuracy: 0.01, "\(kind) at \(snr) dB")
                XCTAssertEqual(noisy, CorpusNoise.mix(clean, snrDB: snr, kind: kind, seed: 9), "seeded")
                XCTAssertNotEqual(noisy, CorpusNoise.mix(clean, snrDB: snr, kind: kind, seed: 10))
            }
        }
        // Pink noise is low-pass (neighbouring samples correlate); white noise is not.
        func lag1(_ x: [Float]) -> Double {
            zip(x, x.dropFirst()).reduce(0.0) { $0 + Double($1.0) * Double($1.1) } / (power(x) * Double(x.count - 1))
        }
        XCTAssertGreaterThan(lag1(CorpusNoise.generate(count: 16_000, kind: .pink, seed: 1)), 0.5)
        XCTAssertLessThan(abs(lag1(CorpusNoise.generate(count: 16_000, kind: .white, seed: 1))), 0.05)
        // Loud speech at 0 dB would clip: the mix is scaled down instead, keeping the ratio.
        let loud = clean.map { $0 * 3 }
        let mixed = CorpusNoise.mix(loud, snrDB: 0, kind: .white, seed: 2)
        XCTAssertLessThanOrEqual(mixed.map(abs).max()!, 0.999)
    }

    func testRejectsBadSNRAndUnknownVariants() throws {
        var o = CorpusSynth.Options(languages: ["fr"], sentencesDir: Self.sentences, outDir: "/nonexistent")
        for bad in [-30.0, 61, .nan, .infinity] {
            o.noiseSNR = bad
            XCTAssertThrowsError(try CorpusSynth(o), "SNR \(bad)") { XCTAssertTrue("\($0)".contains("noise SNR"), "\($0)") }
        }
        o.noiseSNR = 20
        o.speakers = ["m1", "fr+m3"]
        XCTAssertThrowsError(try CorpusSynth(o)) { XCTAssertTrue("\($0)".contains("bare variant name"), "\($0)") }
        o.speakers = ["m1", "m2", "f1", "zz9"]
        XCTAssertThrowsError(try CorpusSynth(o).plan(installed: Self.installed)) {
            guard case CorpusSynthError.unknownVariant(let name, let installed) = $0 else { return XCTFail("\($0)") }
            XCTAssertEqual(name, "zz9")
            XCTAssertTrue(installed.contains("m3"))
            XCTAssertTrue("\($0)".contains("espeak-ng has no voice variant 'zz9'"), "\($0)")
        }
        o.speakers = ["m1", "m2", "f1", "f2"]
        XCTAssertThrowsError(try CorpusSynth(o).plan(installed: Self.installed)) {
            XCTAssertTrue("\($0)".contains("at least one to train"), "\($0)")
        }
        o.speakers = ["m1", "m1", "f1", "f2", "f3"]
        XCTAssertThrowsError(try CorpusSynth(o).plan(installed: Self.installed)) { XCTAssertTrue("\($0)".contains("twice"), "\($0)") }
    }

    func testParsesEspeakVariantList() {
        let text = """
        Pty Language       Age/Gender VoiceName          File                 Other Languages
         5  variant         --/M      Adam               !v/adam
         5  variant         --/M      Mr_Serious         !v/Mr serious
         5  variant         --/M      Storm              !v/Storm             (en-us 5)
         5  variant         70/F      female1            !v/f1
         5  variant         --/M      male3              !v/m3
        """
        XCTAssertEqual(CorpusSpeakers.parseVariantList(text),
                       ["adam": .male, "Mr serious": .male, "Storm": .male, "f1": .female, "m3": .male])
    }

    /// End to end with espeak-ng: the installed variants include the default pool, the same
    /// seed writes identical files, the noise option changes the audio, and no test speaker
    /// is heard in train or dev.
    func testSynthesisIsSeededAndNoiseChangesTheAudio() throws {
        try CorpusSynthTests.requireEspeak()
        let installed = try CorpusSpeakers.installed(espeakPath: "/usr/bin/espeak-ng")
        for name in CorpusSpeakers.defaultVariants { XCTAssertNotNil(installed[name], "espeak-ng lacks variant \(name)") }
        XCTAssertEqual(installed["f3"], .female)
        XCTAssertEqual(installed["m7"], .male)

        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("glossa-speakers-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: tmp) }
        func synth(_ name: String, snr: Double?) throws -> (CorpusSynth.Result, URL) {
            let out = tmp.appendingPathComponent(name)
            var o = CorpusSynth.Options(languages: ["fr"], sentencesDir: Self.sentences, outDir: out.path)
            o.maxSentencesPerLanguage = 5
            o.splits = [0.6, 0.2, 0.2]
            o.seed = 21
            o.noiseSNR = snr
            return (try CorpusSynth(o).run(), out)
        }
        let (a, outA) = try synth("a", snr: 15)
        let (b, outB) = try synth("b", snr: 15)
        let (_, outC) = try synth("c", snr: nil)
        XCTAssertEqual(a.counts, b.counts)
        XCTAssertEqual(a.speakers, b.speakers)
        XCTAssertEqual(a.audioSeconds, b.audioSeconds)
        let files = ["train.jsonl", "dev.jsonl", "test.jsonl", "speakers.json"]
            + (1...5).map { String(format: "audio/fr/fr-%04d.wav", $0) }
        for f in files {
            XCTAssertEqual(try Data(contentsOf: outA.appendingPathComponent(f)), try Data(contentsOf: outB.appendingPathComponent(f)), "\(f) differs under one seed")
        }
        for f in files.prefix(4) {
            XCTAssertEqual(try Data(contentsOf: outA.appendingPathComponent(f)), try Data(contentsOf: outC.appendingPathComponent(f)), "noise changes no manifest")
        }
        for i in 1...5 {
            let f = String(format: "audio/fr/fr-%04d.wav", i)
            let noisy = try AudioReader.load(path: outA.appendingPathComponent(f).path)
            let clean = try AudioReader.load(path: outC.appendingPathComponent(f).path)
            XCTAssertEqual(noisy.count, clean.count)
            let noise = zip(noisy, clean).map { Double($0 - $1) }
            let pn = noise.reduce(0) { $0 + $1 * $1 }, ps = clean.reduce(0.0) { $0 + Double($1) * Double($1) }
            XCTAssertEqual(10 * log10(ps / pn), 15, accuracy: 0.5, "\(f): SNR after 16-bit rounding")
        }
        let test = try Manifest.parse(Data(contentsOf: outA.appendingPathComponent("test.jsonl")), source: "test")
        let trainDev = try ["train.jsonl", "dev.jsonl"].flatMap { try Manifest.parse(Data(contentsOf: outA.appendingPathComponent($0)), source: $0) }
        XCTAssertTrue(Set(test.compactMap(\.speaker)).isDisjoint(with: trainDev.compactMap(\.speaker)))
        XCTAssertEqual(test.count + trainDev.count, 5)
        XCTAssertTrue((test + trainDev).allSatisfy { $0.speaker != nil })
        let written = try JSONDecoder().decode([String: [String: [String]]].self, from: Data(contentsOf: outA.appendingPathComponent("speakers.json")))
        XCTAssertEqual(written, a.speakers)
    }

    /// The grown sentence files give every language at least 50 test sentences with the
    /// split corpus/README.md recommends for comparisons (0.75/0.125/0.125).
    func testGrownLanguagesGiveFiftyTestSentences() throws {
        let grown = ["de", "es", "fr", "it", "nl", "pl", "pt", "ru"]
        var o = CorpusSynth.Options(languages: grown, sentencesDir: Self.sentences, outDir: "/nonexistent")
        o.splits = [0.75, 0.125, 0.125]
        let items = try CorpusSynth(o).plan(installed: Self.installed).items
        for lang in grown {
            let mine = items.filter { $0.entry.lang == lang }
            XCTAssertGreaterThanOrEqual(mine.count, 400, lang)
            XCTAssertGreaterThanOrEqual(mine.filter { $0.split == 2 }.count, 50, lang)
        }
    }
}
