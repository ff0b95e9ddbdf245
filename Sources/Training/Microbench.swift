import GlossaCore
import Foundation
import Tensor

/// Times of the trainer's element-wise kernels at whisper-base encoder sizes (seconds for
/// one encoder's worth: 6 layers). For the benchmark's profile mode only.
public func elementwiseProfile() -> [(String, Double)] {
    var rng = SeededGenerator(seed: 1)
    func time(_ body: () -> Void) -> Double { let t = Date(); body(); return Date().timeIntervalSince(t) }
    var out: [(String, Double)] = []
    var p = (0..<(8 * 1500 * 1500)).map { _ in rng.uniform(-3, 3) }
    out.append(("softmax fwd [8,1500,1500] x6", time { for _ in 0..<6 { p.withUnsafeMutableBufferPointer { softmaxRowsInPlace($0.baseAddress!, rows: 8 * 1500, cols: 1500) } } }))
    var g = p
    out.append(("softmax bwd x6", time { for _ in 0..<6 { g.withUnsafeMutableBufferPointer { gp in p.withUnsafeBufferPointer { softmaxBackwardInPlace(gp.baseAddress!, y: $0.baseAddress!, rows: 8 * 1500, cols: 1500) } } } }))
    let a = (0..<(1500 * 2048)).map { _ in rng.uniform(-3, 3) }
    out.append(("gelu fwd [1500,2048] x6", time { for _ in 0..<6 { _ = geluForward(a) } }))
    out.append(("gelu bwd x6", time { for _ in 0..<6 { _ = geluBackward(a, x: a) } }))
    let x = (0..<(1500 * 512)).map { _ in rng.uniform(-3, 3) }
    let ln = FrozenLayerNorm(gamma: [Float](repeating: 1, count: 512), beta: [Float](repeating: 0, count: 512))
    out.append(("layernorm fwd [1500,512] x12", time { for _ in 0..<12 { _ = layerNormForward(x, rows: 1500, ln) } }))
    let f = layerNormForward(x, rows: 1500, ln)
    out.append(("layernorm bwd x12", time { for _ in 0..<12 { _ = layerNormBackward(x, x: x, mean: f.mean, rstd: f.rstd, rows: 1500, ln) } }))
    out.append(("alloc+zero 72MB x6", time { for _ in 0..<6 { let z = [Float](repeating: 0, count: 8 * 1500 * 1500); precondition(z.count > 0) } }))
    return out
}

/// FastMath.exp vs vexp over 18M values (seconds each) and their largest relative difference.
public func expProfile() -> (fastMath: Double, vexp: Double, maxRelDiff: Float) {
    var rng = SeededGenerator(seed: 3)
    let x = (0..<(18_000_000)).map { _ in rng.uniform(-80, 80) }
    var y1 = x, y2 = x
    let t0 = Date()
    y1.withUnsafeMutableBufferPointer { p in for i in 0..<p.count { p[i] = FastMath.exp(p[i]) } }
    let t1 = Date()
    y2.withUnsafeMutableBufferPointer { p in for i in 0..<p.count { p[i] = vexp(p[i]) } }
    let t2 = Date()
    var worst: Float = 0
    for i in 0..<x.count { worst = max(worst, abs(y1[i] - y2[i]) / y1[i]) }
    return (t1.timeIntervalSince(t0), t2.timeIntervalSince(t1), worst)
}

/// Softmax forward split into its passes over [8*1500, 1500] (seconds each).
public func softmaxPassProfile() -> [(String, Double)] {
    var rng = SeededGenerator(seed: 4)
    var p = (0..<(8 * 1500 * 1500)).map { _ in rng.uniform(-3, 3) }
    let rows = 8 * 1500, cols = 1500
    var out: [(String, Double)] = []
    var sink: Float = 0
    func time(_ name: String, _ body: (UnsafeMutablePointer<Float>) -> Void) {
        let t = Date()
        p.withUnsafeMutableBufferPointer { body($0.baseAddress!) }
        out.append((name, Date().timeIntervalSince(t)))
    }
    time("max") { b in for r in 0..<rows { sink += vectorMax(b + r * cols, cols) } }
    time("exp") { b in for r in 0..<rows { let row = b + r * cols; for j in 0..<cols { row[j] = vexp(row[j] - 1) } } }
    time("sum") { b in for r in 0..<rows { sink += vectorSum(b + r * cols, cols) } }
    time("scale") { b in for r in 0..<rows { let row = b + r * cols; for j in 0..<cols { row[j] *= 0.5 } } }
    time("whole") { b in softmaxRowsInPlace(b, rows: rows, cols: cols) }
    out.append(("sink", Double(sink)))
    return out
}
