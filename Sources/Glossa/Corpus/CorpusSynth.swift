import Eval
import Foundation
import GlossaCore
import Synchronization
import Whisper

/// Builds a speech corpus from sentence files with espeak-ng:
///
///     <sentences>/<lang>.txt        one sentence per line (blank lines ignored)
///  -> <out>/audio/<lang>/<lang>-<line>.wav   16 kHz mono 16-bit PCM
///     <out>/train.jsonl, dev.jsonl, test.jsonl   {"id","audio","text","lang","speaker"}, audio relative
///     <out>/speakers.json           which voice variants each split of each language may use
///
/// Sentences are split per language and deterministically: they are shuffled with `seed`
/// and cut by `splits` (default 0.8/0.1/0.1), so every split holds every language and no
/// sentence is in two splits. The shuffle draws nothing else from its generator, so the
/// sentence split of a seed is the same with or without speaker variation.
///
/// Speakers (the default): each utterance is spoken by one espeak-ng voice variant
/// (`fr-fr+m3`) drawn from the variants its split may use (see `CorpusSpeakers`: test and
/// dev variants never speak in train), at a seeded rate and pitch; `speaker` in the
/// manifest names the voice. With `speakers == nil` the corpus is the old single-voice
/// one, byte for byte (no `speaker` field, no speakers.json). Optional background noise is
/// mixed in at `noiseSNR` dB (`CorpusNoise`), seeded per utterance id.
///
/// espeak-ng speaks at 22050 Hz; the audio is resampled to 16 kHz with the runtime's
/// resampler (libsoxr HQ). Every random choice is seeded, so the same options give the
/// same files.
public struct CorpusSynth: Sendable {
    /// espeak-ng voice for each language we ship sentences for.
    public static let defaultVoices: [String: String] = [
        "de": "de", "en": "en-gb", "es": "es", "fr": "fr-fr", "it": "it", "nl": "nl", "pl": "pl", "pt": "pt", "ru": "ru",
    ]
    public static let splitNames = ["train", "dev", "test"]
    /// Rate (words per minute) and pitch (0-99) ranges used with speakers when none is given.
    public static let variedSpeed: ClosedRange<Int> = 140...190
    public static let variedPitch: ClosedRange<Int> = 35...65

    public struct Options: Sendable {
        public var languages: [String]
        public var sentencesDir: String
        public var outDir: String
        /// Fractions for train, dev, test; must be non-negative and sum to 1.
        public var splits: [Double] = [0.8, 0.1, 0.1]
        public var seed: UInt64 = 0
        /// Per-utterance speaking rate in words per minute (espeak default 175). nil = espeak's
        /// default with one voice, `CorpusSynth.variedSpeed` with speakers.
        public var speedRange: ClosedRange<Int>? = nil
        /// Per-utterance pitch 0-99 (espeak default 50; relative to the variant's own pitch
        /// range). nil = espeak's default with one voice, `CorpusSynth.variedPitch` with speakers.
        public var pitchRange: ClosedRange<Int>? = nil
        /// Voice variant pool (names after `+`, see `espeak-ng --voices=variant`);
        /// nil = one voice per language, the old single-voice corpus.
        public var speakers: [String]? = CorpusSpeakers.defaultVariants
        /// Variants per language held out for dev and for test (never heard in train).
        public var devSpeakers = 2
        public var testSpeakers = 2
        /// Background noise: SNR in dB (`CorpusNoise.snrRange`), nil = clean speech.
        public var noiseSNR: Double? = nil
        public var noiseKind: CorpusNoise.Kind = .pink
        /// Overrides of `defaultVoices`, language -> espeak-ng voice.
        public var voices: [String: String] = [:]
        /// Use at most this many sentences per language (the first ones in the file).
        public var maxSentencesPerLanguage: Int? = nil
        /// Concurrent espeak-ng processes.
        public var jobs: Int = 2
        public var espeakPath: String = "/usr/bin/espeak-ng"

        public init(languages: [String], sentencesDir: String, outDir: String) {
            self.languages = languages
            self.sentencesDir = sentencesDir
            self.outDir = outDir
        }
    }

    /// What was written.
    public struct Result: Sendable, Equatable {
        /// Split name -> manifest path.
        public var manifests: [String: String]
        /// Split name -> number of utterances.
        public var counts: [String: Int]
        /// Total duration of the written audio, seconds.
        public var audioSeconds: Double
        /// Language -> split name -> voice variants allowed there (empty with one voice).
        public var speakers: [String: [String: [String]]]
    }

    public let options: Options

    public init(_ options: Options) throws(CorpusSynthError) {
        guard options.splits.count == 3, options.splits.allSatisfy({ $0 >= 0 }),
              abs(options.splits.reduce(0, +) - 1) < 1e-6 else {
            throw .invalidOptions("splits \(options.splits) must be three non-negative fractions summing to 1")
        }
        guard !options.languages.isEmpty else { throw .invalidOptions("no languages given") }
        for lang in options.languages where (options.voices[lang] ?? Self.defaultVoices[lang]) == nil {
            throw .invalidOptions("no espeak-ng voice known for '\(lang)'; pass one in voices (see `espeak-ng --voices`)")
        }
        if let r = options.pitchRange, r.lowerBound < 0 || r.upperBound > 99 {
            throw .invalidOptions("pitch range \(r) must lie in 0...99")
        }
        if let r = options.speedRange, r.lowerBound < 80 || r.upperBound > 450 {
            throw .invalidOptions("speed range \(r) must lie in 80...450 words per minute")
        }
        guard options.jobs >= 1 else { throw .invalidOptions("jobs must be at least 1") }
        if let snr = options.noiseSNR, !(snr.isFinite && CorpusNoise.snrRange.contains(snr)) {
            throw .invalidOptions("noise SNR \(snr) dB must lie in \(Int(CorpusNoise.snrRange.lowerBound))...\(Int(CorpusNoise.snrRange.upperBound)) dB "
                                  + "(20 is moderate noise, 5 is loud)")
        }
        for name in options.speakers ?? [] where name.isEmpty || name.contains(where: { "+/ \t\n".contains($0) }) {
            throw .invalidOptions("voice variant '\(name)' must be a bare variant name such as 'm3' or 'f2' (see espeak-ng --voices=variant)")
        }
        self.options = options
    }

    struct Item: Sendable {
        let entry: ManifestEntry
        let split: Int
        /// espeak-ng `-v` argument, e.g. `fr-fr` or `fr-fr+m3`.
        let voice: String
        let speed: Int?
        let pitch: Int?
    }

    struct Plan: Sendable {
        let items: [Item]
        /// nil for the single-voice corpus.
        let speakers: CorpusSpeakers?
    }

    /// Reads the sentence files and plans every utterance (no audio yet). With speakers,
    /// `installed` (variant name -> gender) defaults to asking espeak-ng.
    func plan(installed: [String: CorpusSpeakers.Gender]? = nil) throws(CorpusSynthError) -> Plan {
        var speakers: CorpusSpeakers?
        if let names = options.speakers {
            let table: [String: CorpusSpeakers.Gender]
            if let installed { table = installed } else { table = try CorpusSpeakers.installed(espeakPath: options.espeakPath) }
            var pool: [CorpusSpeakers.Variant] = []
            for name in names {
                guard let gender = table[name] else { throw .unknownVariant(name: name, installed: table.keys.sorted()) }
                pool.append(.init(name: name, gender: gender))
            }
            speakers = try CorpusSpeakers(pool: pool, languages: options.languages, seed: options.seed,
                                          devCount: options.devSpeakers, testCount: options.testSpeakers)
        }
        var items: [Item] = []
        var rng = SeededGenerator(seed: options.seed)
        for lang in options.languages {
            let sentences = try readSentences(lang)
            // Seeded Fisher-Yates, then cut into splits.
            var order = Array(sentences.indices)
            for i in stride(from: order.count - 1, to: 0, by: -1) {
                order.swapAt(i, Int(rng.next() % UInt64(i + 1)))
            }
            let n = order.count
            let nTrain = Int((Double(n) * options.splits[0]).rounded())
            let nDev = min(n - nTrain, Int((Double(n) * options.splits[1]).rounded()))
            let voice = options.voices[lang] ?? Self.defaultVoices[lang]!
            // Speaker choices come from their own per-language generator, so they leave the
            // sentence split above untouched.
            var voiceRNG = SeededGenerator(seed: (options.seed ^ CorpusSpeakers.fnv1a(lang)) &+ 0x5350_4B52)
            for (rank, index) in order.enumerated() {
                let (line, sentence) = sentences[index]
                let split = rank < nTrain ? 0 : rank < nTrain + nDev ? 1 : 2
                let id = "\(lang)-\(String(format: "%04d", line))"
                let audio = "audio/\(lang)/\(id).wav"
                if let speakers {
                    let allowed = speakers.assignment[lang]![split]
                    let variant = allowed[Int(voiceRNG.next() % UInt64(allowed.count))]
                    let speedRange = options.speedRange ?? Self.variedSpeed, pitchRange = options.pitchRange ?? Self.variedPitch
                    let speed = speedRange.lowerBound + Int(voiceRNG.next() % UInt64(speedRange.count))
                    let pitch = pitchRange.lowerBound + Int(voiceRNG.next() % UInt64(pitchRange.count))
                    let speaker = "\(voice)+\(variant.name)"
                    items.append(Item(entry: ManifestEntry(id: id, audio: audio, text: sentence, lang: lang, speaker: speaker),
                                      split: split, voice: speaker, speed: speed, pitch: pitch))
                } else {
                    // The old single-voice corpus: rate and pitch draws share the split's generator.
                    let speed = options.speedRange.map { $0.lowerBound + Int(rng.next() % UInt64($0.count)) }
                    let pitch = options.pitchRange.map { $0.lowerBound + Int(rng.next() % UInt64($0.count)) }
                    items.append(Item(entry: ManifestEntry(id: id, audio: audio, text: sentence, lang: lang),
                                      split: split, voice: voice, speed: speed, pitch: pitch))
                }
            }
        }
        return Plan(items: items, speakers: speakers)
    }

    /// Non-empty lines of `<sentences>/<lang>.txt` with their 1-based line numbers, capped
    /// by `maxSentencesPerLanguage`.
    private func readSentences(_ lang: String) throws(CorpusSynthError) -> [(line: Int, text: String)] {
        let path = (options.sentencesDir as NSString).appendingPathComponent("\(lang).txt")
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw .sentencesUnreadable(path: path)
        }
        var sentences: [(line: Int, text: String)] = []
        for (i, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let s = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            if !s.isEmpty { sentences.append((i + 1, s)) }
        }
        if let cap = options.maxSentencesPerLanguage { sentences = Array(sentences.prefix(cap)) }
        if sentences.isEmpty { throw .sentencesUnreadable(path: path) }
        return sentences
    }

    /// Synthesises everything and writes the manifests. `progress(done, total)` is called
    /// after each utterance, from worker threads.
    public func run(progress: (@Sendable (Int, Int) -> Void)? = nil) throws(CorpusSynthError) -> Result {
        let plan = try plan()
        let items = plan.items
        let fm = FileManager.default
        for lang in Set(items.map(\.entry.lang)) {
            let dir = (options.outDir as NSString).appendingPathComponent("audio/\(lang)")
            do { try fm.createDirectory(atPath: dir, withIntermediateDirectories: true) } catch {
                throw .io(path: dir, detail: error.localizedDescription)
            }
        }
        let durations = Mutex([Double](repeating: 0, count: items.count))
        let failure = Mutex<CorpusSynthError?>(nil)
        let done = Atomic<Int>(0)
        let next = Atomic<Int>(0)
        let workers = min(options.jobs, items.count)
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            while failure.withLock({ $0 == nil }) {
                let i = next.wrappingAdd(1, ordering: .relaxed).oldValue
                if i >= items.count { break }
                do throws(CorpusSynthError) {
                    let seconds = try synthesise(items[i])
                    durations.withLock { $0[i] = seconds }
                    let d = done.wrappingAdd(1, ordering: .relaxed).newValue
                    progress?(d, items.count)
                } catch {
                    failure.withLock { if $0 == nil { $0 = error } }
                }
            }
        }
        if let error = failure.withLock({ $0 }) { throw error }

        var manifests: [String: String] = [:], counts: [String: Int] = [:]
        for (s, name) in Self.splitNames.enumerated() {
            let entries = items.filter { $0.split == s }.map(\.entry).sorted { $0.id < $1.id }
            let path = (options.outDir as NSString).appendingPathComponent("\(name).jsonl")
            do { try Manifest.encode(entries).write(to: URL(fileURLWithPath: path), options: .atomic) } catch {
                throw .io(path: path, detail: error.localizedDescription)
            }
            manifests[name] = path
            counts[name] = entries.count
        }
        var speakers: [String: [String: [String]]] = [:]
        if let assignment = plan.speakers?.assignment {
            for (lang, splits) in assignment {
                speakers[lang] = Dictionary(uniqueKeysWithValues: zip(Self.splitNames, splits.map { $0.map(\.name) }))
            }
            let path = (options.outDir as NSString).appendingPathComponent("speakers.json")
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
            do { try encoder.encode(speakers).write(to: URL(fileURLWithPath: path), options: .atomic) } catch {
                throw .io(path: path, detail: error.localizedDescription)
            }
        }
        return Result(manifests: manifests, counts: counts, audioSeconds: durations.withLock { $0.reduce(0, +) }, speakers: speakers)
    }

    /// espeak-ng -> temporary 22.05 kHz wav -> 16 kHz wav; returns the duration in seconds.
    private func synthesise(_ item: Item) throws(CorpusSynthError) -> Double {
        let out = (options.outDir as NSString).appendingPathComponent(item.entry.audio)
        let raw = out + ".espeak.tmp"
        defer { try? FileManager.default.removeItem(atPath: raw) }
        var args = ["-v", item.voice, "-w", raw]
        if let s = item.speed { args += ["-s", "\(s)"] }
        if let p = item.pitch { args += ["-p", "\(p)"] }
        args.append("--stdin")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: options.espeakPath)
        p.arguments = args
        let input = Pipe(), errors = Pipe()
        p.standardInput = input
        p.standardError = errors
        p.standardOutput = FileHandle.nullDevice
        do { try p.run() } catch {
            throw .espeak(id: item.entry.id, detail: "cannot run \(options.espeakPath): \(error.localizedDescription) (apt-get install espeak-ng)")
        }
        input.fileHandleForWriting.write(Data(item.entry.text.utf8))
        try? input.fileHandleForWriting.close()
        let message = errors.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        if p.terminationStatus != 0 {
            throw .espeak(id: item.entry.id, detail: "exit \(p.terminationStatus): \(String(decoding: message, as: UTF8.self))")
        }
        do {
            var samples = try AudioReader.load(path: raw)
            if let snr = options.noiseSNR {
                // Seeded by the utterance, not by the order the workers reach it.
                samples = CorpusNoise.mix(samples, snrDB: snr, kind: options.noiseKind,
                                          seed: options.seed ^ CorpusSpeakers.fnv1a(item.entry.id))
            }
            try WAVWriter.write(path: out, samples: samples)
            return Double(samples.count) / Double(AudioReader.sampleRate)
        } catch {
            throw .audio(id: item.entry.id, error: error)
        }
    }
}

/// Why corpus synthesis stopped.
public enum CorpusSynthError: Error, Sendable, CustomStringConvertible {
    case invalidOptions(String)
    case unknownVariant(name: String, installed: [String])
    case sentencesUnreadable(path: String)
    case espeak(id: String, detail: String)
    case audio(id: String, error: AudioError)
    case io(path: String, detail: String)

    public var description: String {
        switch self {
        case .invalidOptions(let m): return "corpus synth: \(m)"
        case .unknownVariant(let name, let installed):
            return "corpus synth: espeak-ng has no voice variant '\(name)'; pick from: \(installed.joined(separator: ", ")) "
                + "(espeak-ng --voices=variant lists them with their gender)"
        case .sentencesUnreadable(let p): return "corpus synth: cannot read sentences from \(p) (one sentence per line, UTF-8, not empty)"
        case .espeak(let id, let d): return "corpus synth: espeak-ng failed on \(id): \(d)"
        case .audio(let id, let e): return "corpus synth: \(id): \(e)"
        case .io(let p, let d): return "corpus synth: cannot write \(p): \(d)"
        }
    }
}
