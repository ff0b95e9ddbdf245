import Foundation
import GlossaCore

/// The synthetic speakers of a multi-speaker corpus: espeak-ng voice variants (`+m3`, `+f2`)
/// laid over each language's voice, and which of them may speak in which split.
///
/// Why: with one voice per language an adapter learns that voice, and a test split in the
/// training voice cannot tell. Here every language gets its own seeded assignment of the
/// variant pool to train/dev/test, so the test speakers are never heard in training:
///
///     pool (fixed order)      f1..f5, m1..m8          (`defaultVariants`)
///     per language, seeded    shuffle the female and the male variants separately,
///                             interleave them (f, m, f, m, ... then the rest),
///                             test = the first `testCount`, dev = the next `devCount`,
///                             train = all the others
///
/// so with the defaults test and dev each get one female and one male variant, train the
/// other nine. The generator is seeded with `seed` and the language code (FNV-1a), so
/// adding a language does not reshuffle the others.
public struct CorpusSpeakers: Sendable, Equatable {
    public enum Gender: String, Sendable, Codable { case female, male, unknown }

    /// One espeak-ng voice variant, as listed by `espeak-ng --voices=variant`.
    public struct Variant: Sendable, Hashable, Codable {
        /// File name under espeak-ng's `voices/!v/`, as used after `+` in `-v fr+m3`.
        public var name: String
        public var gender: Gender
        public init(name: String, gender: Gender) { self.name = name; self.gender = gender }
    }

    /// espeak-ng's plain numbered variants: they change formants and pitch range but stay
    /// intelligible (the named ones include whispering, robots and a croak).
    public static let defaultVariants: [String] = ["f1", "f2", "f3", "f4", "f5", "m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8"]

    /// Language -> split index (0 train, 1 dev, 2 test) -> variants allowed in that split.
    public let assignment: [String: [[Variant]]]

    /// Assigns `pool` to the splits of every language in `languages`.
    /// - Throws: `.invalidOptions` unless the pool leaves at least one variant for train.
    public init(pool: [Variant], languages: [String], seed: UInt64, devCount: Int, testCount: Int) throws(CorpusSynthError) {
        guard devCount >= 0, testCount >= 1 else {
            throw .invalidOptions("held-out speakers: dev \(devCount), test \(testCount); test needs at least 1, dev at least 0")
        }
        guard Set(pool.map(\.name)).count == pool.count else {
            throw .invalidOptions("the voice variants \(pool.map(\.name)) name one variant twice")
        }
        guard pool.count > devCount + testCount else {
            throw .invalidOptions("\(pool.count) voice variants cannot give \(testCount) to test, \(devCount) to dev and at least one to train; "
                                  + "pass more variants or hold out fewer")
        }
        var assignment: [String: [[Variant]]] = [:]
        for lang in languages {
            var rng = SeededGenerator(seed: seed ^ Self.fnv1a(lang))
            var groups = [Gender.female, .male, .unknown].map { g in pool.filter { $0.gender == g } }
            for g in groups.indices { Self.shuffle(&groups[g], &rng) }
            var order: [Variant] = []
            while groups.contains(where: { !$0.isEmpty }) {
                for g in groups.indices where !groups[g].isEmpty { order.append(groups[g].removeFirst()) }
            }
            let test = Array(order.prefix(testCount))
            let dev = Array(order.dropFirst(testCount).prefix(devCount))
            let train = Array(order.dropFirst(testCount + devCount))
            assignment[lang] = [train, dev, test]
        }
        self.assignment = assignment
    }

    /// The variants espeak-ng has installed, name -> gender, parsed from
    /// `espeak-ng --voices=variant` (columns: Pty, Language, Age/Gender, VoiceName, File;
    /// File is `!v/<name>`, Age/Gender like `--/M` or `70/F`).
    public static func installed(espeakPath: String) throws(CorpusSynthError) -> [String: Gender] {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: espeakPath)
        p.arguments = ["--voices=variant"]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        do { try p.run() } catch {
            throw .espeak(id: "--voices=variant", detail: "cannot run \(espeakPath): \(error.localizedDescription) (apt-get install espeak-ng)")
        }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            throw .espeak(id: "--voices=variant", detail: "exit \(p.terminationStatus)")
        }
        return parseVariantList(String(decoding: data, as: UTF8.self))
    }

    /// Parses the table printed by `espeak-ng --voices=variant` (pure; see `installed`).
    static func parseVariantList(_ text: String) -> [String: Gender] {
        var result: [String: Gender] = [:]
        for line in text.split(separator: "\n").dropFirst() {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            // The voice name may contain spaces, the file may too ("!v/Mr serious"); find the file column.
            guard fields.count >= 5, let fileIndex = fields.firstIndex(where: { $0.hasPrefix("!v/") }) else { continue }
            let name = fields[fileIndex...].joined(separator: " ").dropFirst(3)
                .split(separator: "(").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
            guard !name.isEmpty else { continue }
            let gender: Gender = fields[2].hasSuffix("/F") ? .female : fields[2].hasSuffix("/M") ? .male : .unknown
            result[name] = gender
        }
        return result
    }

    /// FNV-1a over the UTF-8 bytes: a stable per-language seed offset (Swift's Hasher is
    /// randomised per process).
    static func fnv1a(_ s: String) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in s.utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
        return h
    }

    /// Seeded Fisher-Yates (the same walk as the sentence shuffle).
    static func shuffle<T>(_ a: inout [T], _ rng: inout SeededGenerator) {
        guard a.count > 1 else { return }
        for i in stride(from: a.count - 1, to: 0, by: -1) { a.swapAt(i, Int(rng.next() % UInt64(i + 1))) }
    }
}
