// Runtime benchmark harness (until `glossa transcribe` exists): times our encoder and
// decoding on the golden log-mel windows and prints one JSON object per measurement.
//
//   whisper-bench <model-dir> <golden-dir> [--beam N] [--repeat R] [--threads T]
//   whisper-bench --linear-microbench [--threads T]
//   whisper-bench <model-dir> <golden-dir> --encoder-only [--repeat R] [--threads T]
//   whisper-bench <model-dir> <golden-dir> --beam 5 --skip-lora   (decoding only, no LoRA timing)
//
// <golden-dir> is Tests/WhisperTests/Golden/model: features_<lang>.safetensors hold
// [80, frames] f16 windows; ct2.json gives each clip's constant `fill` for the other frames
// (see scripts/golden/model_ct2.py).
import Foundation
import Glossa
import GlossaCore
import Tensor
import TensorIO
import Whisper
#if canImport(Glibc)
import Glibc
#endif

struct Args {
    var model = ""
    var files = [String]()
    var beams = [1, 5]
    var repeatCount = 3
    var threads = 2
}

func parse() -> Args {
    var a = Args()
    var it = CommandLine.arguments.dropFirst().makeIterator()
    while let s = it.next() {
        switch s {
        case "--beam": a.beams = [Int(it.next()!)!]
        case "--repeat": a.repeatCount = Int(it.next()!)!
        case "--threads": a.threads = Int(it.next()!)!
        default: if a.model.isEmpty { a.model = s } else { a.files.append(s) }
        }
    }
    return a
}

func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }
func peakRSSMiB() -> Double {
    var u = rusage()
    getrusage(RUSAGE_SELF.rawValue, &u)
    return Double(u.ru_maxrss) / 1024
}
func emit(_ d: [String: Any]) {
    let data = try! JSONSerialization.data(withJSONObject: d, options: [.sortedKeys])
    print(String(decoding: data, as: UTF8.self))
}

/// Encoder FLOPs of one window (multiply-adds x 2): convs, projections, attention, FFN.
func encoderFLOPs(_ c: WhisperConfig) -> Double {
    let d = Double(c.dModel), t = Double(c.maxSourcePositions), f = Double(2 * c.maxSourcePositions), m = Double(c.numMelBins)
    let ffn = Double(c.encoderFFNDim)
    let conv = 2 * f * d * m * 3 + 2 * t * d * d * 3
    let layer = 2 * t * d * 3 * d + 2 * 2 * t * t * d + 2 * t * d * d + 2 * 2 * t * d * ffn
    return conv + Double(c.encoderLayers) * layer
}

struct Digits: TokenTextDecoding { func decodeText(_ t: [Int]) -> String { t.map(String.init).joined(separator: " ") } }

let args = parse()
// The allocator settings `glossa` itself runs with, so peak RSS is what users see.
AllocatorTuning.forModelWork(workers: args.threads)
let blas = try BLASLibrary.load(threads: args.threads)
let compute = Compute(blas: blas, threads: args.threads)

// Few-row linears (decoder steps), `Compute.linear`'s streaming path vs BLAS sgemm, on
// whisper-base's widest shapes: the output projection [51865, 512] and fc1 [2048, 512].
// The two alternate within each round so they share the machine's noise; min of 5 rounds.
// This is what set `Compute.skinnyRowLimit`. The f16 column is `LinearWeights.apply` on an
// f16 weight: above `skinnyHalfRowLimit` rows it streams in passes of that many (a long
// prompt, many beams), and the rows past 32 show what those passes cost against BLAS.
//   whisper-bench --linear-microbench [--threads T]
if CommandLine.arguments.contains("--linear-microbench") {
    for (outF, inF) in [(51865, 512), (2048, 512)] {
        let w = (0..<(outF * inF)).map { Float(Float16(Float($0 % 113) * 1e-3 - 0.05)) }
        let half = LinearWeights(values: .half(w.map { Float16($0) }), bias: nil, inFeatures: inF, outFeatures: outF)
        for rows in [1, 2, 4, 8, 12, 16, 20, 24, 32, 40, 64, 128, 224] {
            let x = (0..<(rows * inF)).map { Float($0 % 71) * 1e-2 - 0.3 }
            var y = [Float](repeating: 0, count: rows * outF)
            // 0: streaming f32, 1: BLAS, 2: f16 weight (the decoder's path for f16 models)
            var best = [Double](repeating: .infinity, count: 3)
            let calls = max(3, 40 / rows)
            for _ in 0..<5 {
                for path in 0..<3 {
                    let s = now()
                    for _ in 0..<calls {
                        x.withUnsafeBufferPointer { xp in w.withUnsafeBufferPointer { wp in y.withUnsafeMutableBufferPointer { yp in
                            switch path {
                            case 1:
                                compute.sgemm(transB: true, m: rows, n: outF, k: inF, a: xp.baseAddress!, lda: inF,
                                              b: wp.baseAddress!, ldb: inF, c: yp.baseAddress!, ldc: outF)
                            case 2:
                                half.apply(compute, x: xp.baseAddress!, rows: rows, y: yp.baseAddress!, ldy: outF)
                            default:
                                compute.skinnyLinear(x: xp.baseAddress!, ldx: inF, rows: rows, inFeatures: inF, weight: wp.baseAddress!,
                                                     bias: nil, outFeatures: outF, y: yp.baseAddress!, ldy: outF, accumulate: false)
                            }
                        } } }
                    }
                    best[path] = min(best[path], (now() - s) / Double(calls))
                }
            }
            emit(["what": "linear", "out": outF, "in": inF, "rows": rows, "skinny_ms": best[0] * 1e3, "skinny_f16_ms": best[2] * 1e3,
                  "blas_ms": best[1] * 1e3, "ratio": best[0] / best[1], "ratio_f16": best[2] / best[1]])
        }
    }
    exit(0)
}
let peak = GEMMProbe.measure(blas)
emit(["what": "blas", "core": blas.info.coreName, "source": blas.info.source.rawValue, "threads": blas.info.threads,
      "sgemm_gflops": peak.gflops, "probe": peak.description])

let t0 = now()
let ck = try CTranslate2Whisper.load(folder: URL(fileURLWithPath: args.model))
let model = try WhisperModel(checkpoint: ck)
let specials = try SpecialTokens(tokenizerJSON: ck.tokenizerJSON)
emit(["what": "load", "seconds": now() - t0, "peak_rss_mib": peakRSSMiB()])
let transcriber = try Transcriber(model: model, compute: compute, specials: specials)

// windows: (name, language, features)
var windows = [(String, String, [Float])]()
let goldenDir = URL(fileURLWithPath: args.files[0])
let meta = try JSONSerialization.jsonObject(with: Data(contentsOf: goldenDir.appendingPathComponent("ct2.json"))) as! [String: Any]
for clip in meta["clips"] as! [[String: Any]] {
    let lang = clip["lang"] as! String, index = clip["index"] as! Int
    let fill = Float(clip["fill"] as! Double)
    let file = try SafeTensors.read(goldenDir.appendingPathComponent("features_\(lang).safetensors"))
    do {
        let name = "clip\(index)"
        let t = file[name]!
        let part = try HalfConversion.floats(from: t)
        let frames = t.shape[1]
        var out = [Float](repeating: fill, count: 80 * 3000)
        for m in 0..<80 { for f in 0..<frames { out[m * 3000 + f] = part[m * frames + f] } }
        windows.append(("\(lang)/\(name)", lang, out))
    }
}

// Decoder step cost with 1 vs 2 OpenBLAS threads (interleaved to share machine noise).
if CommandLine.arguments.contains("--step-microbench") {
    let enc0 = try model.encode(features: windows[0].2, compute: compute)
    for round in 0..<3 {
        for threads in [2, 1] {
            blas.setThreads(threads)
            for beams in [1, 5] {
                var st = model.makeDecoderState(encoderOutput: enc0, compute: compute)
                _ = try model.decode(tokens: [50258, 50259, 50359, 50363], tokensPerBeam: 4, state: &st, compute: compute)
                st.selectBeams(Array(repeating: 0, count: beams))
                let s = now()
                for t in 0..<20 { _ = try model.decode(tokens: Array(repeating: 400 + t, count: beams), tokensPerBeam: 1, state: &st, compute: compute) }
                emit(["what": "step", "round": round, "threads": threads, "beams": beams, "ms_per_step": (now() - s) / 20 * 1e3])
            }
        }
    }
    blas.setThreads(args.threads)
    exit(0)
}

// Encoder: best and mean of `repeat` runs on the first window.
var times = [Double]()
var enc: EncoderOutput?
for _ in 0..<max(1, args.repeatCount) {
    let s = now()
    enc = try model.encode(features: windows[0].2, compute: compute)
    times.append(now() - s)
}
let flops = encoderFLOPs(model.config)
emit(["what": "encoder", "best_s": times.min()!, "mean_s": times.reduce(0, +) / Double(times.count),
      "gflop": flops / 1e9, "gflops": flops / times.min()! / 1e9, "fraction_of_sgemm_peak": flops / times.min()! / 1e9 / peak.gflops])
// --encoder-only: stop here (for profiling the encoder alone, e.g. under perf record).
if CommandLine.arguments.contains("--encoder-only") { exit(0) }

// Whole windows (encode + decode, language given), per beam size.
for beam in args.beams {
    var o = TranscriptionOptions(beamSize: beam)
    o.temperatures = [0]; o.compressionRatioThreshold = nil; o.logProbThreshold = nil; o.noSpeechThreshold = nil
    var total = 0.0, encT = 0.0, decT = 0.0, tokens = 0
    var outputs = [String: [Int]]()
    for (name, lang, feats) in windows {
        o.language = lang
        let s = now()
        let r = try transcriber.transcribe(window: feats, options: o, text: Digits())
        total += now() - s
        encT += r.timings.encoder; decT += r.timings.decoder; tokens += r.tokens.count
        outputs[name] = r.tokens
    }
    emit(["what": "transcribe", "beam": beam, "windows": windows.count, "total_s": total, "encoder_s": encT, "decoder_s": decT,
          "tokens": tokens, "ms_per_token": decT / Double(max(1, tokens)) * 1e3, "peak_rss_mib": peakRSSMiB(), "tokens_by_clip": outputs])
}

// LoRA cost: a random rank-16 adapter on every supported linear (encoder and decoder),
// greedy on all windows, merged (folded into weights) vs unmerged (per-call adapters).
// --skip-lora leaves it out (for timing or profiling decoding alone).
if !CommandLine.arguments.contains("--skip-lora") {
    var state: UInt64 = 1234
    func rnd() -> Float {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return (Float((z ^ (z >> 31)) >> 40) / Float(1 << 24) * 2 - 1) * 0.01
    }
    func f32(_ shape: [Int]) -> TensorData {
        var d = Data(capacity: shape.reduce(1, *) * 4)
        for _ in 0..<shape.reduce(1, *) { withUnsafeBytes(of: rnd().bitPattern.littleEndian) { d.append(contentsOf: $0) } }
        return TensorData(dtype: .f32, shape: shape, bytes: d)
    }
    let r = 16, c = model.config, d = c.dModel
    var modules = [String: LoRAPair]()
    for stack in ["encoder", "decoder"] {
        let layers = stack == "encoder" ? c.encoderLayers : c.decoderLayers
        let ffn = stack == "encoder" ? c.encoderFFNDim : c.decoderFFNDim
        for i in 0..<layers {
            var kinds: [(String, Int, Int)] = ["q_proj", "k_proj", "v_proj", "out_proj"].map { ("self_attn.\($0)", d, d) }
            if stack == "decoder" { kinds += ["q_proj", "k_proj", "v_proj", "out_proj"].map { ("encoder_attn.\($0)", d, d) } }
            kinds += [("fc1", ffn, d), ("fc2", d, ffn)]
            for (k, out, inF) in kinds {
                modules["model.\(stack).layers.\(i).\(k)"] = LoRAPair(a: f32([r, inF]), b: f32([out, r]), scale: 2)
            }
        }
    }
    let lora = LoRAWeights(config: LoRAConfig(rank: r, alpha: 32, targetModules: []), modules: modules)
    let unmerged = try ActiveAdapters([(lora, 1)], for: model)
    let s0 = now()
    let mergedModel = try model.merged(with: [(lora, 1)], compute: compute)
    let mergeTime = now() - s0
    let mergedT = try Transcriber(model: mergedModel, compute: compute, specials: specials)
    var o = TranscriptionOptions(beamSize: 1)
    o.temperatures = [0]; o.compressionRatioThreshold = nil; o.logProbThreshold = nil; o.noSpeechThreshold = nil
    var tm = 0.0, tu = 0.0
    for (_, lang, feats) in windows {
        o.language = lang
        var s = now(); _ = try mergedT.transcribe(window: feats, options: o, text: Digits()); tm += now() - s
        s = now(); _ = try transcriber.transcribe(window: feats, options: o, text: Digits(), adapters: unmerged); tu += now() - s
    }
    emit(["what": "lora", "rank": r, "modules": modules.count, "merge_s": mergeTime, "merged_s": tm, "unmerged_s": tu,
          "unmerged_over_merged": tu / tm])
}
