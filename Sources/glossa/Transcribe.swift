import ArgumentParser
import Foundation
import Glossa

struct Transcribe: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Transcribe audio files with a Whisper base and optional language experts.",
        discussion: """
        Any file libsndfile reads (wav, flac, ogg, ...), any rate or channel count; audio is resampled to 16 kHz mono and \
        transcribed in 30 s windows (memory stays bounded).

        Without --language the language is detected per window from the language-token distribution. With --expert \
        (repeatable) LoRA experts run unmerged on the shared base; --route language picks, per window, the expert of the given \
        or detected language.

        Each file's result is printed as soon as it is done (with --json and several files, one JSON object per line); \
        progress within a long file goes to stderr.

        Several files run on --threads workers (one per core, BLAS single-threaded in each); with --batch N each \
        worker decodes N files together (one matrix-matrix pass per decoder step for the group, at about 40 MB more \
        memory per file in flight). Results still print in the order given. --batch 1 transcribes one file at a time \
        with every core on it. The default 2 was the fastest on 2 cores (24 clips, beam 5, language detected: 33 s \
        against 36-37 s at 4 and 43-44 s at 1; peak 510 MB against 710 and 413).

        Examples:
          glossa transcribe --model whisper-base --language fr clip.wav
          glossa transcribe --model models/whisper-base-ct2 --beam 1 --json a.wav b.wav
          glossa transcribe --model whisper-base --expert fr-expert \\
            --expert de-expert --route language clip.wav
        """)

    @OptionGroup var model: ModelOptions
    @Option(name: .long, help: "Language code (de, fr, ...). Default: detect.")
    var language: String?
    @Option(name: .long, help: "Beam size (1 = greedy).")
    var beam: Int = 5
    @Option(name: .long, help: "With several files: files decoded together by each worker (1 = one file at a time; more costs memory).")
    var batch: Int = 2
    @Flag(name: .long, help: "Print JSON (text, language, probabilities, token ids, timings).")
    var json = false
    @OptionGroup var decoding: DecodingOptions
    @OptionGroup var runtime: RuntimeOptions
    @Argument(help: "Audio files.")
    var files: [String]

    func validate() throws {
        if files.isEmpty { throw ValidationError("Give at least one audio file.") }
        if beam < 1 { throw ValidationError("--beam must be at least 1.") }
        if batch < 1 { throw ValidationError("--batch must be at least 1.") }
    }

    /// Prints one file's result (text line, or one JSON object).
    func emit(_ r: FileTranscription) throws {
        if runtime.verbose {
            Console.log(String(format: "glossa: %@: %.2f s audio in %.2f s (RTF %.3f)", r.file, r.durationSeconds,
                               r.processingSeconds, r.processingSeconds / max(r.durationSeconds, 1e-9)))
        }
        if json {
            try Console(json: true).emit(r, compact: files.count > 1)
        } else {
            let lang = r.languageProbability.map { String(format: "%@ %.2f", r.language, $0) } ?? r.language
            print(files.count > 1 ? "\(r.file)\t[\(lang)]\t\(r.text)" : "[\(lang)] \(r.text)")
        }
    }

    func run() throws {
        try reporting {
            let settings = TranscribeSettings(language: language, beamSize: beam, noFallback: decoding.noFallback)
            if files.count > 1 && batch > 1 {
                let loaded = try model.load(compute: try runtime.workerCompute())
                let speech = loaded.speech, router = loaded.router, files = self.files
                let bar = ProgressBar(total: files.count, label: "transcribe")
                try BatchedWorkers.run(count: files.count, workers: runtime.threads, batch: batch, model: speech, job: { i, batcher -> Result<FileTranscription, GlossaError> in
                    do throws(GlossaError) {
                        return .success(try speech.transcribe(file: files[i], settings: settings, router: router, batcher: batcher))
                    } catch { return .failure(error) }
                }, onResult: { (i: Int, r: Result<FileTranscription, GlossaError>) in
                    bar.updateTotal(i + 1, files.count)
                    try emit(try r.get())
                })
                bar.finish()
                return
            }
            let compute = try runtime.compute()
            let loaded = try model.load(compute: compute)
            for file in files {
                let bar = ProgressBar(total: 1, label: (file as NSString).lastPathComponent)
                let r = try loaded.speech.transcribe(file: file, settings: settings, router: loaded.router) { _, done, total in
                    bar.updateTotal(Int(done.rounded()), Int(total.rounded(.up)))
                }
                bar.finish()
                try emit(r)
            }
        }
    }
}
