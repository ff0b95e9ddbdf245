import ArgumentParser
import Foundation
import Glossa

struct Corpus: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Build speech corpora for training and evaluation.",
        subcommands: [Synth.self])

    struct Synth: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Speak sentence files with espeak-ng into 16 kHz wav files and JSONL manifests.",
            discussion: """
            Reads <sentences>/<lang>.txt (one sentence per line) for each language, speaks each
            sentence with espeak-ng (voice per language, optional seeded speed/pitch variation),
            and writes <out>/audio/<lang>/*.wav plus <out>/train.jsonl, dev.jsonl, test.jsonl with
            lines {"id","audio","text","lang"} (audio relative to the manifest).

            Example:
              glossa corpus synth --langs de,fr,nl,pl --sentences corpus/sentences --out data/espeak
            """)

        @Option(name: .long, help: "Comma-separated Whisper language codes.")
        var langs: String
        @Option(name: .long, help: "Folder of <lang>.txt sentence files.")
        var sentences: String = "corpus/sentences"
        @Option(name: .long, help: "Output folder.")
        var out: String
        @Option(name: .long, help: "Train,dev,test fractions.")
        var split: String = "0.8,0.1,0.1"
        @Option(name: .long, help: "Seed for the split and voice variation.")
        var seed: UInt64 = 0
        @Flag(name: .long, help: "Vary speed and pitch per sentence (seeded).")
        var vary = false
        @Option(name: .long, help: "Use at most N sentences per language.")
        var limit: Int?
        @Option(name: .long, help: "Parallel espeak-ng processes.")
        var jobs: Int = 2
        @Flag(name: .long, help: "Print the result as JSON.")
        var json = false

        func run() throws {
            try reporting {
                let fractions = split.split(separator: ",").compactMap { Double($0.trimmingCharacters(in: .whitespaces)) }
                guard fractions.count == 3 else {
                    throw GlossaError(.invalidInput, "--split must be three comma-separated fractions, e.g. 0.8,0.1,0.1; got '\(split)'")
                }
                var o = CorpusSynth.Options(languages: langs.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) },
                                            sentencesDir: sentences, outDir: out)
                o.splits = fractions
                o.seed = seed
                o.jobs = jobs
                o.maxSentencesPerLanguage = limit
                if vary { o.speedRange = 140...190; o.pitchRange = 35...65 }
                let synth: CorpusSynth
                do { synth = try CorpusSynth(o) } catch { throw GlossaError(.invalidInput, "\(error)") }
                let bar = ProgressBar(total: 1, label: "synth")
                let result: CorpusSynth.Result
                do {
                    result = try synth.run { done, total in bar.updateTotal(done, total) }
                } catch { throw GlossaError(.failure, "\(error)") }
                bar.finish()
                if json {
                    try Console(json: true).emit(SynthSummary(manifests: result.manifests, counts: result.counts, audioSeconds: result.audioSeconds))
                } else {
                    for (split, path) in result.manifests.sorted(by: { $0.key < $1.key }) {
                        print("\(split)\t\(result.counts[split] ?? 0) utterances\t\(path)")
                    }
                    Console.log(String(format: "glossa: %.1f minutes of audio", result.audioSeconds / 60))
                }
            }
        }
    }
}

struct SynthSummary: Encodable {
    var manifests: [String: String]
    var counts: [String: Int]
    var audioSeconds: Double
}
