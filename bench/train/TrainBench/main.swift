// Glossa side of the training-step benchmark (bench/train/run.sh prints ratios against
// PyTorch + peft measured in the same run).
//
// whisper-base dimensions with random weights (step time does not depend on values), LoRA
// r=16 alpha=32 on q/k/v/out/fc1/fc2, batch 4, 30 s features (3000 frames), 32 label tokens
// per utterance. Modes:
//   enc_dec          adapters in encoder and decoder
//   dec_only         decoder-only adapters, encoder recomputed every step (no cache)
//   dec_only_cached  decoder-only adapters, encoder outputs cached (computed once per utterance)
// Layouts: "UxB" = U utterances concurrently, B OpenBLAS threads each.
//
// Usage: TrainBench [steps] [modes,comma,separated] [layouts,comma,separated]
//        TrainBench 0 real <lang> <n-train> <n-dev> <epochs> <both|decoder> [lr]   (see RealData.swift)
// Prints one JSON object on stdout; progress on stderr.
import Foundation
import Glossa
import GlossaCore
import Tensor
import Training
import WhisperTesting
import Whisper

let args = CommandLine.arguments
let steps = args.count > 1 ? Int(args[1]) ?? 2 : 2
let modes = args.count > 2 ? args[2].split(separator: ",").map(String.init) : ["enc_dec", "dec_only", "dec_only_cached"]
let layouts = args.count > 3 ? args[3].split(separator: ",").map(String.init) : ["2x1", "1x2"]

func log(_ s: String) { FileHandle.standardError.write((s + "\n").data(using: .utf8)!) }

// The allocator settings `glossa train` runs with (AllocatorTuning.swift), unless told not to
// (A/B of the settings themselves).
if ProcessInfo.processInfo.environment["GLOSSA_BENCH_DEFAULT_MALLOC"] == nil { AllocatorTuning.forTraining() }

let blas: BLASLibrary
do { blas = try BLASLibrary.load(coreType: .automatic, threads: 2) } catch {
    log("TrainBench: \(error)"); exit(1)
}
log("TrainBench: \(blas.info)")

if modes == ["real"] {
    do { try realDataRun(Array(args.dropFirst(3)), blas: blas) } catch { log("real: \(error)"); exit(1) }
    exit(0)
}

let t0 = Date()
let base = try WhisperModel(checkpoint: TinyWhisper.make(seed: 1, dimensions: .whisperBase))
log("TrainBench: random whisper-base built in \(String(format: "%.1f", Date().timeIntervalSince(t0))) s")

var rng = SeededGenerator(seed: 2)
let examples: [TrainingExample] = (0..<4).map { i in
    TrainingExample(id: "b\(i)", features: (0..<(80 * 3000)).map { _ in rng.normal() * 0.5 },
                    languageToken: 50266, transcript: (0..<31).map { _ in Int(rng.next() % 50000) })
}

if modes == ["profile"] {
    // One utterance, sequential, BLAS threads as given: where does a step's time go?
    blas.setThreads(Int(layouts.first?.split(separator: "x").last ?? "2") ?? 2)
    let kernels = Compute(blas: blas, threads: 1)
    for (name, t) in softmaxPassProfile(kernels) { log(String(format: "profile softmax pass %@: %.3f s", name, t)) }
    if layouts.first == "softmax" { exit(0) }
    for (name, t) in elementwiseProfile(kernels) { log(String(format: "profile element-wise %@: %.3f s", name, t)) }
    let timed = TimedGEMM(blas)
    let graph = WhisperTrainingGraph(model: base, compute: Compute(blas: blas, threads: 1, gemm: timed))
    let e = examples[0]
    let seq = teacherForcedSequence(language: e.languageToken, transcript: e.transcript, special: .multilingual)
    for scope in [AdapterScope.both, .decoder] {
        let p = try LoRAParameters.initialise(model: base.config, targets: ["q_proj", "k_proj", "v_proj", "out_proj", "fc1", "fc2"],
                                              scope: scope, rank: 16, alpha: 32, seed: 0)
        for (name, body) in [("encode only", { _ = graph.encode(e.features) }),
                             ("loss+grads \(scope.rawValue)", {
                                 var g = p.zeros()
                                 _ = graph.lossAndGradients(.features(e.features), tokens: seq.input, targets: seq.targets, lora: p, grads: &g, gradScale: 1 / 32)
                             })] as [(String, () -> Void)] {
            timed.reset()
            let t = Date()
            body()
            let total = Date().timeIntervalSince(t), shapes = timed.shapes
            let g = shapes.reduce(0) { $0 + $1.seconds }
            let gf = Double(shapes.reduce(0) { $0 + $1.shape.flops * $1.calls }) * 1e-9
            log(String(format: "profile %@: %.2f s total, GEMM %.2f s (%.0f GFLOP, %.0f GFLOPS), other %.2f s", name, total, g, gf, gf / g, total - g))
            for s in shapes.prefix(24) {
                log(String(format: "    %-24@ %4d calls %6.3f s %5.0f GFLOPS", s.shape.name, s.calls, s.seconds,
                           Double(s.shape.flops * s.calls) * 1e-9 / s.seconds))
            }
        }
    }
    exit(0)
}

var results: [String: Any] = ["core": blas.info.coreName, "batch": examples.count, "label_tokens": 32, "steps": steps]
if modes.contains("enc_dec") {
    // The floor the step time is held to (StepFLOPs.swift): the batch's products at the
    // sgemm peak measured now, with both threads, before the modes run.
    let labelRows = teacherForcedSequence(language: examples[0].languageToken, transcript: examples[0].transcript,
                                          special: .multilingual).input.count
    blas.setThreads(2)
    results["sgemm_gflops"] = GEMMProbe.measure(blas).gflops
    results["enc_dec_gflop"] = Double(examples.count) * encDecStepGFLOP(base.config, tokens: labelRows, rank: 16)
}
for mode in modes {
    for layout in layouts {
        let parts = layout.split(separator: "x").compactMap { Int($0) }
        guard parts.count == 2 else { log("bad layout \(layout)"); exit(2) }
        blas.setThreads(parts[1])
        var c = TrainingConfig()
        c.rank = 16; c.alpha = 32; c.scope = mode == "enc_dec" ? .both : .decoder
        c.cacheEncoderOutputs = mode == "dec_only_cached"
        c.batchSize = 4; c.maxSteps = steps + 1; c.learningRate = 1e-4; c.warmupSteps = 0
        c.concurrentUtterances = parts[0]
        let trainer = LoRATrainer(base: base, config: c, special: .multilingual, compute: Compute(blas: blas))
        var marks: [Double] = []
        _ = try trainer.run(train: examples, progress: { p in
            marks.append(p.elapsedSeconds)
            log("  \(mode) \(layout) step \(p.step): \(String(format: "%.2f", p.elapsedSeconds)) s elapsed, loss \(String(format: "%.4f", p.loss))")
            return .proceed
        })
        // Step 1 is warm-up (and, when caching, encodes the batch once): time steps 2...
        let perStep = (marks.last! - marks[0]) / Double(steps)
        results["\(mode)@\(layout)"] = perStep
        results["\(mode)@\(layout)_first_step"] = marks[0]
        log("TrainBench: \(mode) \(layout): \(String(format: "%.2f", perStep)) s/step (first step \(String(format: "%.2f", marks[0])) s)")
    }
}
let json = try JSONSerialization.data(withJSONObject: results, options: [.sortedKeys])
print(String(decoding: json, as: UTF8.self))
