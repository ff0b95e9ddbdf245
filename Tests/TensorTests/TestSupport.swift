import GlossaCore
import XCTest
@testable import Tensor

/// Deterministic pseudo-random floats (the project's SplitMix64) so failures reproduce.
struct SeededRandom {
    var generator: SeededGenerator
    init(seed: UInt64) { generator = SeededGenerator(seed: seed) }
    mutating func next() -> UInt64 { generator.next() }
    /// Uniform in [-scale, scale).
    mutating func float(_ scale: Float = 1) -> Float { (Float(next() >> 40) / Float(1 << 24) * 2 - 1) * scale }
    mutating func floats(_ n: Int, scale: Float = 1) -> [Float] { (0..<n).map { _ in float(scale) } }
    mutating func int(_ r: ClosedRange<Int>) -> Int { r.lowerBound + Int(next() % UInt64(r.count)) }
}

let sharedBLAS: BLASLibrary = {
    do { return try BLASLibrary.load(threads: 2) } catch { fatalError("\(error)") }
}()

/// max |a-b| / max(max|b|, tiny): error relative to the reference's largest magnitude.
func relMaxError(_ a: [Float], _ b: [Float]) -> Float {
    precondition(a.count == b.count)
    var num: Float = 0, den: Float = 1e-30
    for i in 0..<a.count { num = max(num, abs(a[i] - b[i])); den = max(den, abs(b[i])) }
    return num / den
}

func maxAbsError(_ a: [Float], _ b: [Float]) -> Float {
    zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1)) }
}
