import ArgumentParser
import Foundation
import Glossa

struct Evaluate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Evaluate a model (and experts) on a JSONL manifest: WER/CER per language, LID accuracy, RTF.",
        discussion: """
        The manifest has one JSON object per line: {"id","audio","text","lang"}, with audio relative to the manifest (as \
        `glossa corpus synth` writes). Texts are normalised like Whisper's BasicTextNormalizer; WER is used for languages \
        written with spaces and CER for zh, ja, th, lo, my, km, yue, bo. WER equals jiwer's on the same normalised strings.

        --language-aware (default) gives each utterance's language to the model (and with --route language picks that \
        language's expert); --language-agnostic lets the model detect it, and reports LID accuracy.

        Clips run on --threads workers (one per core, BLAS single-threaded in each). With --batch N each worker \
        decodes N clips together: every decoder step of those clips is one matrix-matrix pass, so the decoder weights \
        and the vocabulary projection are read once per step for the batch. Each clip in flight holds its own \
        encoder state (about 40 MB for whisper-base), so memory grows with N; on 2 cores --batch 4 was no faster than \
        1 (bench/transcribe/batch.sh), hence the default 1.

        Examples:
          glossa eval --model whisper-base --manifest data/espeak/test.jsonl \\
            --report out/base
          glossa eval --model whisper-base --expert fr-expert --expert de-expert \\
            --route language --language-agnostic --manifest data/espeak/test.jsonl
        """)

    @OptionGroup var model: ModelOptions
    @Option(name: .long, help: "JSONL manifest.")
    var manifest: String
    @Flag(exclusivity: .exclusive, help: "Give the language (default) or let the model detect it.")
    var mode: EvalMode = .languageAware
    @Option(name: .long, help: "Beam size (1 = greedy).")
    var beam: Int = 5
    @Option(name: .long, help: "Clips decoded together by each worker (1 = one at a time; more costs memory).")
    var batch: Int = 1
    @Option(name: .long, help: "Write report.json, report.md and wer.svg into this folder.")
    var report: String?
    @Option(name: .long, help: "Name of the model in the report. Default: the --model argument.")
    var name: String?
    @Flag(name: .long, help: "Print the report as JSON on stdout.")
    var json = false
    @OptionGroup var decoding: DecodingOptions
    @OptionGroup var runtime: RuntimeOptions

    enum EvalMode: String, EnumerableFlag {
        case languageAware, languageAgnostic
    }

    func run() throws {
        try reporting {
            // Clips run in parallel, one per thread; BLAS single-threaded in each.
            let loaded = try model.load(compute: try runtime.workerCompute())
            var ev = Evaluation(mode: mode == .languageAware ? .languageAware : .languageAgnostic, beamSize: beam,
                                workers: runtime.threads)
            guard batch >= 1 else { throw ValidationError("--batch must be at least 1, got \(batch)") }
            ev.batch = batch
            ev.keepUtterances = true
            ev.noFallback = decoding.noFallback
            let bar = ProgressBar(total: 1, label: "eval")
            let r = try ev.run(manifestPath: manifest, model: loaded.speech, router: loaded.router,
                               modelName: name ?? model.model, modelDigest: loaded.modelDigest) { done, total in
                bar.updateTotal(done, total)
            }
            bar.finish()
            if let report { try Evaluation.writeReport(r, to: URL(fileURLWithPath: report)) }
            if json {
                FileHandle.standardOutput.write(r.jsonData())
                print()
            } else {
                print(ReportRendering.markdown(r))
            }
            if let t = r.timing {
                Console.log(String(format: "glossa: %d utterances, %.1f s audio in %.1f s (RTF %.3f, %.2f clips/s)",
                                   r.overall.utterances, t.audioSeconds, t.processingSeconds, t.rtf,
                                   Double(r.overall.utterances) / max(t.processingSeconds, 1e-9)))
            }
        }
    }
}
