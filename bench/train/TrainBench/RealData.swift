// Real-data check: train a LoRA expert on real whisper-base with espeak-ng speech from the
// repo's corpus, and report dev loss before and after (teacher-forced, transcript + EOT).
//
//   TrainBench real <lang> <n-train> <n-dev> <epochs> <scope: both|decoder> [lr]
import Foundation
import GlossaCore
import Tensor
import TensorIO
import Training
import Whisper

func synthesize(_ text: String, voice: String, to path: String) throws {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/espeak-ng")
    p.arguments = ["-v", voice, "-w", path, text]
    p.standardError = FileHandle.nullDevice
    try p.run(); p.waitUntilExit()
    guard p.terminationStatus == 0 else { throw NSError(domain: "espeak-ng", code: Int(p.terminationStatus)) }
}

func realDataRun(_ args: [String], blas: BLASLibrary) throws {
    let lang = args[0], nTrain = Int(args[1])!, nDev = Int(args[2])!, epochs = Int(args[3])!
    let scope = AdapterScope(rawValue: args[4])!
    let lr = args.count > 5 ? Double(args[5])! : 1e-3
    let modelDir = URL(fileURLWithPath: "models/whisper-base-ct2")
    let ckpt = try CTranslate2Whisper.load(folder: modelDir)
    let tok = try BPETokenizer(contentsOf: modelDir.appendingPathComponent("tokenizer.json").path)
    guard let langToken = tok.id(of: "<|\(lang)|>") else { log("no language token for \(lang)"); exit(2) }
    let sentences = try String(contentsOfFile: "corpus/sentences/\(lang).txt", encoding: .utf8)
        .split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty && !$0.hasPrefix("#") }
    let mel = LogMelSpectrogram(melBins: ckpt.config.numMelBins)
    let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("glossa-real-\(getpid())")
    try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: tmp) }
    var examples: [TrainingExample] = []
    for (i, s) in sentences.prefix(nTrain + nDev).enumerated() {
        let wav = tmp.appendingPathComponent("\(i).wav").path
        try synthesize(s, voice: lang, to: wav)
        let samples = try AudioReader.load(path: wav)
        examples.append(TrainingExample(id: "\(lang)-\(i)", features: mel.features(samples).values, languageToken: langToken,
                                        transcript: tok.encode(" " + s)))
    }
    let train = Array(examples.prefix(nTrain)), dev = Array(examples.suffix(from: nTrain))
    log("real: \(train.count) train / \(dev.count) dev utterances of \(lang), scope \(scope.rawValue)")
    var c = TrainingConfig()
    c.rank = 16; c.alpha = 32; c.scope = scope; c.epochs = epochs; c.batchSize = 4; c.learningRate = lr
    c.warmupSteps = 4; c.seed = 1; c.concurrentUtterances = 2
    blas.setThreads(1)
    let trainer = LoRATrainer(base: try WhisperModel(checkpoint: ckpt), config: c, special: .multilingual, compute: Compute(blas: blas))
    let before = trainer.devLoss(try trainer.initialState(train: train).params, dev: dev)
    log(String(format: "real: dev loss before %.4f", before))
    let t0 = Date()
    let r = try trainer.run(train: train, dev: dev, progress: { p in
        log(String(format: "real: step %d/%d epoch %d loss %.4f lr %.2e %.0f tok/s ETA %.0f s%@", p.step, p.totalSteps, p.epoch, p.loss,
                   p.learningRate, p.tokensPerSecond, p.etaSeconds, p.devLoss.map { String(format: " dev %.4f", $0) } ?? ""))
        return .proceed
    })
    log(String(format: "real: dev loss %.4f -> %.4f in %.0f s (%d steps)", before, r.provenance.bestDevLoss ?? .nan,
               Date().timeIntervalSince(t0), r.provenance.steps))
    let out = URL(fileURLWithPath: "/tmp/glossa-real-\(lang)-\(scope.rawValue)")
    try? FileManager.default.removeItem(at: out)
    try PEFTAdapter(weights: r.weights).write(to: out)
    log("real: adapter written to \(out.path)")
}
