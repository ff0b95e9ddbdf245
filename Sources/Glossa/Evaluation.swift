import Dispatch
import Eval
import Foundation
import GlossaCore
import Synchronization
import Tensor
import Whisper

/// Evaluates a model (and its routed experts) on a JSONL manifest.
///
/// Clips are spread over `workers` groups of `batch` threads; each thread has its own
/// decoder state while the weights are shared, and the threads of a group decode together
/// (`DecodeBatcher`: one matrix-matrix pass per step for the whole group instead of one
/// matrix-vector pass per clip). With several workers BLAS should run single-threaded (the
/// caller's `Compute`), one group per core.
public struct Evaluation: Sendable {
    public enum Mode: String, Sendable, CaseIterable {
        /// The manifest's `lang` is given to the model (and picks the expert).
        case languageAware = "language-aware"
        /// The model detects the language (which picks the expert with `--route language`).
        case languageAgnostic = "language-agnostic"
    }

    public var mode: Mode
    public var beamSize: Int
    public var workers: Int
    /// Clips decoded together per worker (1: each on its own).
    public var batch: Int = 1
    public var keepUtterances: Bool = true
    /// Pure decoding: no temperature fallback, no no-speech rule (`TranscribeSettings.noFallback`).
    public var noFallback = false

    public init(mode: Mode, beamSize: Int, workers: Int) {
        self.mode = mode; self.beamSize = beamSize; self.workers = max(1, workers)
    }

    /// Reads and validates a manifest; audio paths are resolved relative to it.
    public static func readManifest(_ path: String) throws(GlossaError) -> (entries: [ManifestEntry], digest: Digest) {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw GlossaError(.notFound, "Cannot read manifest \(path): no such file")
        }
        do {
            let entries = try Eval.Manifest.parse(data, source: path)
            if entries.isEmpty { throw GlossaError(.invalidInput, "Manifest \(path) has no utterances") }
            return (entries, Digest(of: data))
        } catch let e as GlossaError { throw e } catch {
            throw GlossaError(.invalidInput, "\(error)")
        }
    }

    /// Runs every utterance and returns the report. `progress(done, total)` is called from
    /// worker threads.
    public func run(manifestPath: String, model: SpeechModel, router: ExpertRouter, modelName: String, modelDigest: String?,
                    progress: @escaping @Sendable (Int, Int) -> Void = { _, _ in }) throws(GlossaError) -> EvalReport {
        let (entries, digest) = try Self.readManifest(manifestPath)
        struct Outcome: Sendable { var hypothesis: String; var detected: String?; var seconds: Double }
        let done = Atomic<Int>(0)
        let mode = self.mode, beam = beamSize, pure = noFallback
        let t0 = DispatchTime.now().uptimeNanoseconds
        var outcomes = [Result<Outcome, GlossaError>]()
        BatchedWorkers.run(count: entries.count, workers: workers, batch: batch, model: model, job: { i, batcher in
            let e = entries[i]
            let settings = TranscribeSettings(language: mode == .languageAware ? e.lang : nil, beamSize: beam, noFallback: pure)
            let outcome: Result<Outcome, GlossaError>
            do throws(GlossaError) {
                let r = try model.transcribe(file: e.audioPath(manifestPath: manifestPath), settings: settings, router: router,
                                             batcher: batcher)
                outcome = .success(Outcome(hypothesis: r.text, detected: mode == .languageAgnostic ? r.language : nil,
                                           seconds: r.durationSeconds))
            } catch {
                outcome = .failure(GlossaError(error.category, "Utterance \(e.id): \(error.message)"))
            }
            progress(done.add(1, ordering: .relaxed).newValue, entries.count)
            return outcome
        }, onResult: { _, r in outcomes.append(r) })
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
        var acc = EvalAccumulator(keepUtterances: keepUtterances)
        var audio = 0.0
        for (i, e) in entries.enumerated() {
            switch outcomes[i] {
            case .failure(let err): throw err
            case .success(let o):
                acc.add(id: e.id, language: e.lang, reference: e.text, hypothesis: o.hypothesis, detectedLanguage: o.detected)
                audio += o.seconds
            }
        }
        var extra: [String: String] = ["routing": router.routing.rawValue, "workers": String(workers), "batch": String(batch)]
        if !router.experts.isEmpty { extra["experts"] = router.experts.map { "\($0.name)@\($0.language)" }.joined(separator: ",") }
        let settings = EvalReport.Settings(mode: mode.rawValue, beamSize: beamSize, extra: extra)
        return acc.report(model: .init(name: modelName, digest: modelDigest), dataset: manifestPath,
                          datasetDigest: digest.description, settings: settings,
                          timing: .init(audioSeconds: audio, processingSeconds: elapsed),
                          createdAt: ISO8601DateFormatter().string(from: Date()), toolVersion: GlossaVersion.tool)
    }

    /// Writes report.json, report.md and wer.svg into `folder` (created if needed).
    public static func writeReport(_ report: EvalReport, to folder: URL) throws(GlossaError) {
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try report.jsonData().write(to: folder.appendingPathComponent("report.json"), options: .atomic)
            try Data(ReportRendering.markdown(report).utf8).write(to: folder.appendingPathComponent("report.md"), options: .atomic)
            try Data(ReportRendering.svgBarChart([report]).utf8).write(to: folder.appendingPathComponent("wer.svg"), options: .atomic)
        } catch {
            throw GlossaError(.failure, "Cannot write the report into \(folder.path): \(error.localizedDescription)")
        }
    }
}
