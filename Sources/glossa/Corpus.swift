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
            Reads <sentences>/<lang>.txt (one sentence per line) for each language, speaks each sentence with espeak-ng and \
            writes <out>/audio/<lang>/*.wav plus <out>/train.jsonl, dev.jsonl, test.jsonl with lines \
            {"id","audio","text","lang","speaker"} (audio relative to the manifest). Sentences are split per language: none is \
            in two splits.

            Speakers (default): each utterance is spoken by an espeak-ng voice variant (fr-fr+m3, fr-fr+f2, ...) at a seeded \
            rate (140-190 words/min) and pitch (35-65). Per language, the variants are assigned to splits with the seed: \
            --test-speakers of them (default 2, one female and one male) speak only in test, --dev-speakers only in dev, the \
            rest only in train, so the test voices are never heard in training. The assignment is printed and written to \
            <out>/speakers.json. --single-voice gives the older corpus instead: one voice per language, no speaker field \
            (identical files for the same seed and options).

            --noise-snr DB mixes seeded pink (or --noise white) noise into every utterance at DB decibels of speech-to-noise \
            power over the utterance: 20 is mild, 5 loud.

            Examples:
              glossa corpus synth --langs de,fr,nl,pl --out data/espeak
              glossa corpus synth --langs fr --out data/fr-noisy --noise-snr 15 --limit 40
              glossa corpus synth --langs fr,nl --out data/old --single-voice --vary
              glossa corpus synth --langs fr --out data/fr --variants m1,m3,m5,f1,f2,f4
            """)

        @Option(name: .long, help: "Comma-separated Whisper language codes.")
        var langs: String
        @Option(name: .long, help: "Folder of <lang>.txt sentence files.")
        var sentences: String = "corpus/sentences"
        @Option(name: .long, help: "Output folder.")
        var out: String
        @Option(name: .long, help: "Train,dev,test fractions of each language's sentences.")
        var split: String = "0.8,0.1,0.1"
        @Option(name: .long, help: "Seed for the sentence split, the speaker assignment, rate, pitch and noise.")
        var seed: UInt64 = 0
        @Flag(name: .long, help: "One voice per language, as in the older corpus (no speaker variation).")
        var singleVoice = false
        @Flag(name: .long, help: "Vary speed and pitch per sentence (seeded); always on unless --single-voice.")
        var vary = false
        @Option(name: .long, help: ArgumentHelp("Comma-separated espeak-ng voice variants to draw speakers from (see espeak-ng --voices=variant).",
                                                valueName: "LIST"))
        var variants: String = CorpusSpeakers.defaultVariants.joined(separator: ",")
        @Option(name: .long, help: "Voice variants per language heard only in dev.")
        var devSpeakers: Int = 2
        @Option(name: .long, help: "Voice variants per language heard only in test.")
        var testSpeakers: Int = 2
        @Option(name: .long, help: ArgumentHelp("Mix background noise in at this speech-to-noise ratio, in dB (-10 to 60).", valueName: "DB"))
        var noiseSnr: Double?
        @Option(name: .long, help: "Noise colour for --noise-snr: pink or white.")
        var noise: CorpusNoise.Kind = .pink
        @Option(name: .long, help: "Use at most N sentences per language (the first ones in each file).")
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
                if singleVoice {
                    o.speakers = nil
                    if vary { o.speedRange = CorpusSynth.variedSpeed; o.pitchRange = CorpusSynth.variedPitch }
                } else {
                    o.speakers = variants.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }
                    o.devSpeakers = devSpeakers
                    o.testSpeakers = testSpeakers
                }
                o.noiseSNR = noiseSnr
                o.noiseKind = noise
                let synth: CorpusSynth
                do { synth = try CorpusSynth(o) } catch { throw GlossaError(.invalidInput, "\(error)") }
                let bar = ProgressBar(total: 1, label: "synth")
                let result: CorpusSynth.Result
                do throws(CorpusSynthError) {
                    result = try synth.run { done, total in bar.updateTotal(done, total) }
                } catch {
                    // Bad input (a variant espeak-ng lacks, unreadable sentences) is the caller's to fix.
                    switch error {
                    case .invalidOptions, .unknownVariant, .sentencesUnreadable: throw GlossaError(.invalidInput, "\(error)")
                    case .espeak, .audio, .io: throw GlossaError(.failure, "\(error)")
                    }
                }
                bar.finish()
                if json {
                    try Console(json: true).emit(SynthSummary(manifests: result.manifests, counts: result.counts,
                                                              audioSeconds: result.audioSeconds, speakers: result.speakers))
                } else {
                    for (lang, splits) in result.speakers.sorted(by: { $0.key < $1.key }) {
                        let parts = CorpusSynth.splitNames.map { "\($0): \((splits[$0] ?? []).joined(separator: ","))" }
                        Console.log("glossa: speakers \(lang)\t" + parts.joined(separator: "\t"))
                    }
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
    /// Language -> split -> voice variants; empty for --single-voice.
    var speakers: [String: [String: [String]]]
}

extension CorpusNoise.Kind: ExpressibleByArgument {}
