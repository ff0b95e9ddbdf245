import Eval
import Foundation
import Synchronization
import Whisper

/// Builds a speech corpus from sentence files with espeak-ng:
///
///     <sentences>/<lang>.txt        one sentence per line (blank lines ignored)
///  -> <out>/audio/<lang>/<lang>-<line>.wav   16 kHz mono 16-bit PCM
///     <out>/train.jsonl, dev.jsonl, test.jsonl   {"id","audio","text","lang"}, audio relative
///
/// Splits are per language and deterministic: the sentences of each language are
/// shuffled with `seed` and cut by `splits` (default 0.8/0.1/0.1), so every split holds
/// every language. With `speedRange`/`pitchRange`, each utterance gets a seeded speaking
/// rate (words per minute) and pitch (0-99), for acoustic variety. espeak-ng speaks at
/// 22050 Hz; the audio is resampled to 16 kHz with the runtime's resampler (libsoxr HQ).
public struct CorpusSynth: Sendable {
    /// espeak-ng voice for each language we ship sentences for.
    public static let defaultVoices: [String: String] = [
        "de": "de", "en": "en-gb", "es": "es", "fr": "fr-fr", "it": "it", "nl": "nl", "pl": "pl", "pt": "pt", "ru": "ru",
    ]
    public static let splitNames = ["train", "dev", "test"]

    public struct Options: Sendable {
        public var languages: [String]
        public var sentencesDir: String
        public var outDir: String
        /// Fractions for train, dev, test; must be non-negative and sum to 1.
        public var splits: [Double] = [0.8, 0.1, 0.1]
        public var seed: UInt64 = 0
        /// Per-utterance speaking rate in words per minute (espeak default 175); nil = default.
        public var speedRange: ClosedRange<Int>? = nil
        /// Per-utterance pitch 0-99 (espeak default 50); nil = default.
        public var pitchRange: ClosedRange<Int>? = nil
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
        self.options = options
    }

    struct Item: Sendable {
        let entry: ManifestEntry
        let split: Int
        let voice: String
        let speed: Int?
        let pitch: Int?
    }

    /// Reads the sentence files and plans every utterance (no audio yet).
    func plan() throws(CorpusSynthError) -> [Item] {
        var items: [Item] = []
        var rng = SplitMix64(seed: options.seed)
        for lang in options.languages {
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
            // Seeded Fisher-Yates, then cut into splits.
            var order = Array(sentences.indices)
            for i in stride(from: order.count - 1, to: 0, by: -1) {
                order.swapAt(i, Int(rng.next() % UInt64(i + 1)))
            }
            let n = order.count
            let nTrain = Int((Double(n) * options.splits[0]).rounded())
            let nDev = min(n - nTrain, Int((Double(n) * options.splits[1]).rounded()))
            let voice = options.voices[lang] ?? Self.defaultVoices[lang]!
            for (rank, index) in order.enumerated() {
                let (line, sentence) = sentences[index]
                let split = rank < nTrain ? 0 : rank < nTrain + nDev ? 1 : 2
                let id = "\(lang)-\(String(format: "%04d", line))"
                let speed = options.speedRange.map { $0.lowerBound + Int(rng.next() % UInt64($0.count)) }
                let pitch = options.pitchRange.map { $0.lowerBound + Int(rng.next() % UInt64($0.count)) }
                items.append(Item(entry: ManifestEntry(id: id, audio: "audio/\(lang)/\(id).wav", text: sentence, lang: lang),
                                  split: split, voice: voice, speed: speed, pitch: pitch))
            }
        }
        return items
    }

    /// Synthesises everything and writes the manifests. `progress(done, total)` is called
    /// after each utterance, from worker threads.
    public func run(progress: (@Sendable (Int, Int) -> Void)? = nil) throws(CorpusSynthError) -> Result {
        let items = try plan()
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
        return Result(manifests: manifests, counts: counts, audioSeconds: durations.withLock { $0.reduce(0, +) })
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
            let samples = try AudioReader.load(path: raw)
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
    case sentencesUnreadable(path: String)
    case espeak(id: String, detail: String)
    case audio(id: String, error: AudioError)
    case io(path: String, detail: String)

    public var description: String {
        switch self {
        case .invalidOptions(let m): return "corpus synth: \(m)"
        case .sentencesUnreadable(let p): return "corpus synth: cannot read sentences from \(p) (one sentence per line, UTF-8, not empty)"
        case .espeak(let id, let d): return "corpus synth: espeak-ng failed on \(id): \(d)"
        case .audio(let id, let e): return "corpus synth: \(id): \(e)"
        case .io(let p, let d): return "corpus synth: cannot write \(p): \(d)"
        }
    }
}

/// SplitMix64: small, seedable, good enough for shuffles; state is explicit.
struct SplitMix64: Sendable {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
