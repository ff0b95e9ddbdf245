// Runtime benchmark harness (until `glossa transcribe` exists): times our encoder and
// decoding on the golden log-mel windows and prints one JSON object per measurement.
//
//   whisper-bench <model-dir> <golden-dir> [--beam N] [--repeat R] [--threads T]
//
// <golden-dir> is Tests/WhisperTests/Golden/model: features_<lang>.safetensors hold
// [80, frames] f16 windows; ct2.json gives each clip's constant `fill` for the other frames
// (see scripts/golden/model_ct2.py).
import Foundation
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
let blas = try BLASLibrary.load(threads: args.threads)
let compute = Compute(blas: blas, threads: args.threads)
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
