import GlossaCore
import Foundation
import Tensor

/// Times of the shared element-wise kernels (Tensor's `Compute`) at whisper-base encoder
/// sizes (seconds for one encoder's worth: 6 layers). For the benchmark's profile mode only.
public func elementwiseProfile(_ c: Compute) -> [(String, Double)] {
    var rng = SeededGenerator(seed: 1)
    func time(_ body: () -> Void) -> Double { let t = Date(); body(); return Date().timeIntervalSince(t) }
    var out: [(String, Double)] = []
    let rows = 8 * 1500, cols = 1500
    var p = (0..<(rows * cols)).map { _ in rng.uniform(-3, 3) }
    out.append(("softmax fwd [8,1500,1500] x6", time { for _ in 0..<6 { p.withUnsafeMutableBufferPointer { c.softmaxRows($0.baseAddress!, rows: rows, cols: cols, ld: cols) } } }))
    var g = p
    out.append(("softmax bwd x6", time { for _ in 0..<6 { g.withUnsafeMutableBufferPointer { gp in p.withUnsafeBufferPointer { c.softmaxBackwardRows(gp.baseAddress!, y: $0.baseAddress!, rows: rows, cols: cols, ld: cols) } } } }))
    let a = (0..<(1500 * 2048)).map { _ in rng.uniform(-3, 3) }
    out.append(("gelu fwd [1500,2048] x6", time { for _ in 0..<6 { _ = geluForward(c, a) } }))
    out.append(("gelu bwd x6", time { for _ in 0..<6 { _ = geluBackward(c, a, x: a) } }))
    let x = (0..<(1500 * 512)).map { _ in rng.uniform(-3, 3) }
    let gamma = [Float](repeating: 1, count: 512), beta = [Float](repeating: 0, count: 512)
    out.append(("layernorm fwd [1500,512] x12", time { for _ in 0..<12 { _ = layerNormForward(c, x, rows: 1500, gamma: gamma, beta: beta) } }))
    let f = layerNormForward(c, x, rows: 1500, gamma: gamma, beta: beta)
    out.append(("layernorm bwd x12", time { for _ in 0..<12 { _ = layerNormBackward(c, x, x: x, f, rows: 1500, gamma: gamma) } }))
    out.append(("alloc+zero 72MB x6", time { for _ in 0..<6 { let z = [Float](repeating: 0, count: 8 * 1500 * 1500); precondition(z.count > 0) } }))
    return out
}

/// Softmax forward split into its passes over [8*1500, 1500] (seconds each).
public func softmaxPassProfile(_ c: Compute) -> [(String, Double)] {
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
    time("exp") { b in for r in 0..<rows { let row = b + r * cols; for j in 0..<cols { row[j] = FastMath.exp(row[j] - 1) } } }
    time("sum") { b in for r in 0..<rows { sink += vectorSum(b + r * cols, cols) } }
    time("scale") { b in for r in 0..<rows { let row = b + r * cols; for j in 0..<cols { row[j] *= 0.5 } } }
    time("whole") { b in c.softmaxRows(b, rows: rows, cols: cols, ld: cols) }
    out.append(("sink", Double(sink)))
    return out
}
