// One copy for TrainingTests and TensorTests (each links it as Tests/<Target>/GradientCheck.swift).
import GlossaCore
import XCTest

/// Central finite differences on a scalar function of a Float vector, compared with an
/// analytic gradient at a sample of coordinates.
///
/// Float32 forward passes limit precision: with eps = 1e-2 on O(1) inputs the truncation
/// error is O(eps^2 f''') ~ 1e-4 and round-off O(1e-7 |f| / eps) ~ 1e-5, so we accept
/// |numeric - analytic| <= atol + rtol * |analytic| with atol 2e-3, rtol 2e-2 by default.
/// A wrong transpose, missing term or wrong scale gives O(1) relative errors, far outside.
func checkGradient(_ name: String, at x: [Float], analytic: [Float], eps: Float = 1e-2,
                   atol: Double = 2e-3, rtol: Double = 2e-2, samples: Int = 40,
                   file: StaticString = #filePath, line: UInt = #line, _ f: ([Float]) -> Double) {
    XCTAssertEqual(x.count, analytic.count, "\(name): gradient size", file: file, line: line)
    var rng = SeededGenerator(seed: 99)
    let idx: [Int] = x.count <= samples ? Array(x.indices) : (0..<samples).map { _ in Int(rng.next() % UInt64(x.count)) }
    var worst = 0.0
    for i in idx {
        var xp = x; xp[i] += eps
        var xm = x; xm[i] -= eps
        let num = (f(xp) - f(xm)) / Double(2 * eps)
        let ana = Double(analytic[i])
        let err = abs(num - ana)
        worst = max(worst, err / (atol + rtol * abs(ana)))
        if err > atol + rtol * abs(ana) {
            XCTFail("\(name)[\(i)]: numeric \(num) vs analytic \(ana)", file: file, line: line)
            return
        }
    }
    XCTAssertLessThanOrEqual(worst, 1, file: file, line: line)
}

func randomArray(_ n: Int, _ rng: inout SeededGenerator, scale: Float = 1) -> [Float] {
    (0..<n).map { _ in rng.normal() * scale }
}

/// sum(y * r) in Double: the scalar whose gradient wrt y is r.
func dot(_ y: [Float], _ r: [Float]) -> Double {
    var s = 0.0
    for i in y.indices { s += Double(y[i]) * Double(r[i]) }
    return s
}
