// Codec benchmark: our blob codec vs plain zstd-3 on the tensors dump_tensors.py wrote.
// usage: glossa-bench-codec DATA_DIR [LEVEL] [REPEATS]
//        glossa-bench-codec DATA_DIR LEVEL REPEATS --decode-only SET   (decoder alone, for profiling)
// Prints one JSON line per data set: {"set","codec","raw","compressed","compress_s","decompress_s"}.
// Each tensor is its own blob (as in the store); decoded bytes are checked against the input.
// Times are process CPU seconds (best of REPEATS): the machine is shared, so wall time
// measures the neighbours; zipnn_bench.py uses process CPU time too (all its threads).
import CZstd
import Foundation
import GlossaCore
import Store

struct Entry: Decodable { var set: String; var name: String; var dtype: String; var shape: [Int]; var file: String }
struct Row: Encodable { var set: String; var codec: String; var raw = 0; var compressed = 0; var compress_s = 0.0; var decompress_s = 0.0 }

let args = CommandLine.arguments
guard args.count >= 2 else { FileHandle.standardError.write(Data("usage: glossa-bench-codec DATA_DIR [LEVEL] [REPEATS]\n".utf8)); exit(64) }
let dir = URL(fileURLWithPath: args[1])
let level = args.count > 2 ? Int32(args[2])! : 3
let repeats = args.count > 3 ? Int(args[3])! : 3
let index = try JSONDecoder().decode([Entry].self, from: Data(contentsOf: dir.appendingPathComponent("index.json")))

// --decode-only SET: encode that set's tensors once, then decode them REPEATS times and print
// decode MB per CPU-second (for `perf record` of the decoder alone).
if let at = args.firstIndex(of: "--decode-only"), at + 1 < args.count {
    let codec = BlobCodec(level: 3)
    var frames: [[UInt8]] = [], raw = 0
    for e in index where e.set == args[at + 1] {
        let bytes = [UInt8](try Data(contentsOf: dir.appendingPathComponent(e.file)))
        frames.append(codec.encode(bytes, as: .tensor(DType(rawValue: e.dtype)!))); raw += bytes.count
    }
    let t0 = now()
    for _ in 0..<repeats { for f in frames { _ = try BlobCodec.decode(f) } }
    print("decode \(args[at + 1]): \(Double(raw * repeats) / (now() - t0) / 1e6) MB per CPU-second")
    exit(0)
}

func now() -> Double { var t = timespec(); clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t); return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9 }

/// Best of `repeats` timings: the machine is shared, the minimum is the least disturbed.
func best(_ f: () -> Void) -> Double {
    var m = Double.infinity
    for _ in 0..<repeats { let t0 = now(); f(); m = min(m, now() - t0) }
    return m
}

var ours: [String: Row] = [:], plain: [String: Row] = [:]
var planeBits: [String: [Double]] = [:], planeElems: [String: Int] = [:]
let codec = BlobCodec(level: level)
for e in index {
    let raw = [UInt8](try Data(contentsOf: dir.appendingPathComponent(e.file)))
    let type = BlobElementType.tensor(DType(rawValue: e.dtype)!)
    var frame: [UInt8] = []
    let tc = best { frame = codec.encode(raw, as: type) }
    var back: [UInt8] = []
    let td = best { back = try! BlobCodec.decode(frame) }
    precondition(back == raw, "round trip failed for \(e.name)")
    if frame[5] == 2 {  // planes: accumulate payload bits per element per plane
        let esize = Int(frame[BlobFrameHeader.size]); let n = raw.count / esize
        for k in 0..<esize {
            let len = frame.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: BlobFrameHeader.size + 1 + 9 * k + 1, as: UInt64.self) }
            planeBits[e.set, default: [Double](repeating: 0, count: esize)][k] += Double(len) * 8
        }
        planeElems[e.set, default: 0] += n
    }
    ours[e.set, default: Row(set: e.set, codec: "glossa")].raw += raw.count
    ours[e.set]!.compressed += frame.count; ours[e.set]!.compress_s += tc; ours[e.set]!.decompress_s += td

    // Plain zstd at level 3 on the raw bytes, the baseline the issue quotes.
    let bound = ZSTD_compressBound(raw.count)
    var z = [UInt8](repeating: 0, count: bound); var zn = 0
    let zc = best { zn = z.withUnsafeMutableBytes { d in raw.withUnsafeBytes { s in ZSTD_compress(d.baseAddress, bound, s.baseAddress, s.count, 3) } } }
    var out = [UInt8](repeating: 0, count: raw.count)
    let zd = best { _ = out.withUnsafeMutableBytes { d in z.withUnsafeBytes { s in ZSTD_decompress(d.baseAddress, raw.count, s.baseAddress, zn) } } }
    precondition(out == raw)
    plain[e.set, default: Row(set: e.set, codec: "zstd-3")].raw += raw.count
    plain[e.set]!.compressed += zn; plain[e.set]!.compress_s += zc; plain[e.set]!.decompress_s += zd
}
let enc = JSONEncoder(); enc.outputFormatting = [.sortedKeys]
for s in ours.keys.sorted() {
    print(String(decoding: try enc.encode(ours[s]!), as: UTF8.self))
    print(String(decoding: try enc.encode(plain[s]!), as: UTF8.self))
}
for (s, bits) in planeBits.sorted(by: { $0.key < $1.key }) {
    FileHandle.standardError.write(Data("\(s) bits/element per plane: \(bits.map { String(format: "%.3f", $0 / Double(planeElems[s]!)) })\n".utf8))
}
