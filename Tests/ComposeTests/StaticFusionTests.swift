import XCTest
import GlossaCore
import Tensor
@testable import Compose

let blas: BLASLibrary = { do { return try BLASLibrary.load(threads: 2) } catch { fatalError("\(error)") } }()

/// Random experts on two modules of different shapes; `skip` lists (expert, module) pairs the
/// expert does not adapt (they count as zero deltas).
func randomExperts(_ count: Int, ranks: [Int], seed: UInt64, skip: Set<[Int]> = []) -> [ComposeInput] {
    var rng = SeededGenerator(seed: seed)
    let modules = [("model.decoder.layers.0.fc1", 9, 6), ("model.encoder.layers.1.self_attn.q_proj", 6, 6)]
    return (0..<count).map { e in
        var pairs: [String: LoRAPair] = [:]
        for (m, (name, out, inF)) in modules.enumerated() where !skip.contains([e, m]) {
            let r = ranks[e]
            let a = (0..<(r * inF)).map { _ in rng.uniform(-1, 1) }, b = (0..<(out * r)).map { _ in rng.uniform(-1, 1) }
            pairs[name] = LoRAPair(a: HalfConversion.f32Data(a, shape: [r, inF]), b: HalfConversion.f32Data(b, shape: [out, r]),
                                   scale: 0.5 + Double(e))
        }
        return ComposeInput(name: "expert\(e)", adapter: LoRAWeights(config: LoRAConfig(rank: ranks[e], alpha: 1, targetModules: ["fc1"]), modules: pairs))
    }
}

func shape(_ module: String) -> (Int, Int) { module.hasSuffix("fc1") ? (9, 6) : (6, 6) }

func assertClose(_ got: [Float], _ want: [Double], tol: Double, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(got.count, want.count, what, file: file, line: line)
    let scale = max(want.map(abs).max() ?? 0, 1e-12)
    let err = zip(got, want).map { abs(Double($0) - $1) }.max() ?? 0
    XCTAssertLessThanOrEqual(err / scale, tol, "\(what): max error \(err) (relative \(err / scale))", file: file, line: line)
}

final class StaticFusionTests: XCTestCase {
    let composer = Composer(blas: blas)

    func testSVDMatchesJacobiReference() throws {
        var rng = SeededGenerator(seed: 7)
        for (m, n) in [(7, 5), (5, 9), (12, 12)] {
            let a = (0..<(m * n)).map { _ in rng.uniform(-1, 1) }
            let fast = try blas.svd(a, rows: m, cols: n)
            let ref = Reference.svd(a, rows: m, cols: n)
            for (x, y) in zip(fast.s, ref.s) { XCTAssertEqual(Double(x), y, accuracy: 1e-4 * ref.s[0], "\(m)x\(n) singular values") }
            // Full reconstruction and a rank-2 truncation agree with the reference's.
            for r in [min(m, n), 2] {
                let (b, f) = fast.balancedFactors(rank: r)
                var got = [Float](repeating: 0, count: m * n)
                for i in 0..<m { for j in 0..<n { for t in 0..<r { got[i * n + j] += b[i * r + t] * f[t * n + j] } } }
                let (want, err) = ComposeReference.truncated(a.map(Double.init), out: m, inF: n, rank: r)
                assertClose(got, want, tol: 1e-4, "\(m)x\(n) rank \(r)")
                XCTAssertEqual(fast.truncationError(rank: r), err, accuracy: 1e-4)
            }
        }
        XCTAssertThrowsError(try blas.svd([1, .nan, 0, 1], rows: 2, cols: 2))
    }

    func testCatIsExactWeightedSumOfDeltas() throws {
        let experts = randomExperts(3, ranks: [2, 3, 1], seed: 1, skip: [[2, 0]])
        let w = [1.0, -0.5, 2.0]
        let fused = try composer.fuse(experts, FusionOptions(method: .cat, weights: w))
        XCTAssertEqual(fused.modules["model.decoder.layers.0.fc1"]?.rank, 5, "rank = sum of the ranks of the experts that adapt the module")
        XCTAssertEqual(fused.modules["model.encoder.layers.1.self_attn.q_proj"]?.rank, 6)
        XCTAssertTrue(fused.truncationError.isEmpty)
        for (module, m) in fused.modules {
            let (o, i) = shape(module)
            let want = ComposeReference.weightedSum(ComposeReference.deltas(experts.map(\.adapter), module, out: o, inF: i), w)
            assertClose(m.dense(blas: blas), want, tol: 1e-5, "cat \(module)")
        }
        // As LoRAWeights every module has scale 1, and the config's patterns give PEFT the same.
        let lw = fused.loraWeights
        XCTAssertTrue(lw.modules.values.allSatisfy { $0.scale == 1 })
        for (module, m) in fused.modules {
            let key = module.replacingOccurrences(of: ".", with: "\\.")
            let r = lw.config.rankPattern[key] ?? lw.config.rank, a = lw.config.alphaPattern[key] ?? lw.config.alpha
            XCTAssertEqual(r, m.rank); XCTAssertEqual(a / Double(r), 1)
        }
    }

    func testLinearAtFullRankEqualsCatAndTruncatesLikeReference() throws {
        let experts = randomExperts(2, ranks: [2, 2], seed: 2)
        let w = [0.7, 0.3]
        let cat = try composer.fuse(experts, FusionOptions(method: .cat, weights: w))
        let full = try composer.fuse(experts, FusionOptions(method: .linear, weights: w, rank: 4))
        for (module, m) in cat.modules {
            let d = m.dense(blas: blas).map(Double.init)
            assertClose(full.modules[module]!.dense(blas: blas), d, tol: 1e-5, "linear full rank vs cat \(module)")
            XCTAssertLessThan(full.truncationError[module]!, 1e-3)
        }
        let low = try composer.fuse(experts, FusionOptions(method: .linear, weights: w, rank: 2))
        for (module, m) in low.modules {
            let (o, i) = shape(module)
            XCTAssertEqual(m.rank, 2)
            let sum = ComposeReference.weightedSum(ComposeReference.deltas(experts.map(\.adapter), module, out: o, inF: i), w)
            let (want, err) = ComposeReference.truncated(sum, out: o, inF: i, rank: 2)
            assertClose(m.dense(blas: blas), want, tol: 1e-4, "linear rank 2 \(module)")
            XCTAssertEqual(low.truncationError[module]!, err, accuracy: 1e-4)
            XCTAssertGreaterThan(err, 0.01, "a rank-4 sum truncated to 2 loses something")
        }
    }

    func testTiesMatchesReference() throws {
        let experts = randomExperts(3, ranks: [2, 1, 3], seed: 3, skip: [[1, 1]])
        let w = [1.0, 0.5, 0.25]
        for density in [0.3, 1.0] {
            let fused = try composer.fuse(experts, FusionOptions(method: .ties, weights: w, rank: 6, density: density))
            for (module, m) in fused.modules {
                let (o, i) = shape(module)
                let want = ComposeReference.ties(ComposeReference.deltas(experts.map(\.adapter), module, out: o, inF: i), w, density: density)
                let (t, _) = ComposeReference.truncated(want, out: o, inF: i, rank: 6)
                assertClose(m.dense(blas: blas), t, tol: 1e-4, "ties density \(density) \(module)")
            }
        }
    }

    func testDareMatchesReferenceAndIsSeeded() throws {
        let experts = randomExperts(2, ranks: [3, 2], seed: 4, skip: [[0, 1]])
        let w = [0.6, 0.4]
        let fused = try composer.fuse(experts, FusionOptions(method: .dare, weights: w, rank: 6, density: 0.4, seed: 11))
        for (module, m) in fused.modules {
            let (o, i) = shape(module)
            let present = experts.map { $0.adapter.modules[module] != nil }
            let want = ComposeReference.dare(ComposeReference.deltas(experts.map(\.adapter), module, out: o, inF: i), present, w,
                                             density: 0.4, seed: 11, module: module)
            let (t, _) = ComposeReference.truncated(want, out: o, inF: i, rank: 6)
            assertClose(m.dense(blas: blas), t, tol: 1e-4, "dare \(module)")
        }
        let again = try composer.fuse(experts, FusionOptions(method: .dare, weights: w, rank: 6, density: 0.4, seed: 11))
        XCTAssertEqual(again, fused, "same seed, same result, bit for bit")
        let other = try composer.fuse(experts, FusionOptions(method: .dare, weights: w, rank: 6, density: 0.4, seed: 12))
        XCTAssertNotEqual(other, fused, "another seed draws other masks")
        // Density 1 keeps everything: DARE is then the linear sum.
        let dense = try composer.fuse(experts, FusionOptions(method: .dare, weights: w, rank: 6, density: 1))
        let linear = try composer.fuse(experts, FusionOptions(method: .linear, weights: w, rank: 6))
        for (module, m) in dense.modules {
            assertClose(m.dense(blas: blas), linear.modules[module]!.dense(blas: blas).map(Double.init), tol: 1e-5, "dare density 1 \(module)")
        }
    }

    func testSharedPlusResidualReconstructsEachExpert() throws {
        let experts = randomExperts(3, ranks: [2, 2, 2], seed: 5)
        let split = try composer.splitShared(experts, sharedRank: 6, residualRank: 6)
        for (module, s) in split.shared.modules {
            let (o, i) = shape(module)
            let d = ComposeReference.deltas(experts.map(\.adapter), module, out: o, inF: i)
            assertClose(s.dense(blas: blas), ComposeReference.weightedSum(d, [1.0 / 3, 1.0 / 3, 1.0 / 3]), tol: 1e-4, "shared = mean at full rank")
            for e in 0..<3 {
                let sum = zip(s.dense(blas: blas), split.residuals[e].modules[module]!.dense(blas: blas)).map { $0 + $1 }
                assertClose(sum, d[e], tol: 1e-4, "S + R_\(e) = dW_\(e) at \(module)")
            }
        }
        // Truncated shared part: the reference truncation of the mean.
        let low = try composer.splitShared(experts, sharedRank: 1)
        for (module, s) in low.shared.modules {
            let (o, i) = shape(module)
            let mean = ComposeReference.weightedSum(ComposeReference.deltas(experts.map(\.adapter), module, out: o, inF: i), [1.0 / 3, 1.0 / 3, 1.0 / 3])
            assertClose(s.dense(blas: blas), ComposeReference.truncated(mean, out: o, inF: i, rank: 1).0, tol: 1e-4, "shared rank 1")
            XCTAssertEqual(low.residuals[0].modules[module]!.rank, 2, "residual keeps the expert's rank")
        }
    }

    func testBadInputIsRefusedWithTheReason() {
        let experts = randomExperts(2, ranks: [2, 2], seed: 6)
        XCTAssertThrowsError(try composer.fuse(experts, FusionOptions(method: .linear, weights: [1]))) {
            XCTAssertEqual($0 as? ComposeError, .weightCount(expected: 2, got: 1))
        }
        for d in [0.0, -0.1, 1.5] {
            XCTAssertThrowsError(try composer.fuse(experts, FusionOptions(method: .ties, density: d))) {
                XCTAssertEqual($0 as? ComposeError, .badDensity(d))
            }
        }
        XCTAssertThrowsError(try composer.fuse([], FusionOptions(method: .cat))) { XCTAssertEqual($0 as? ComposeError, .noExperts) }
        // A module with another shape in one expert: not the same base.
        var bad = randomExperts(2, ranks: [2, 2], seed: 6)
        bad[1].adapter.modules["model.decoder.layers.0.fc1"] = LoRAPair(
            a: HalfConversion.f32Data([Float](repeating: 0.1, count: 2 * 5), shape: [2, 5]),
            b: HalfConversion.f32Data([Float](repeating: 0.1, count: 9 * 2), shape: [9, 2]), scale: 1)
        XCTAssertThrowsError(try composer.fuse(bad, FusionOptions(method: .cat))) { e in
            guard case .shapeConflict(let m, _, _, let other, _) = e as? ComposeError else { return XCTFail("\(e)") }
            XCTAssertEqual(m, "model.decoder.layers.0.fc1"); XCTAssertEqual(other, "expert1")
            XCTAssertTrue("\(e)".contains("[9, 6]") && "\(e)".contains("[9, 5]"))
        }
        var nan = randomExperts(2, ranks: [2, 2], seed: 6)
        nan[0].adapter.modules["model.decoder.layers.0.fc1"]!.a = HalfConversion.f32Data([Float](repeating: .nan, count: 12), shape: [2, 6])
        XCTAssertThrowsError(try composer.fuse(nan, FusionOptions(method: .cat))) {
            XCTAssertEqual($0 as? ComposeError, .nonFinite(expert: "expert0", module: "model.decoder.layers.0.fc1"))
        }
    }

    func testModulesComposedConcurrentlyGiveTheSameResult() throws {
        let experts = randomExperts(3, ranks: [2, 3, 1], seed: 8, skip: [[2, 0]])
        let parallel = Composer(blas: blas, workers: 2)
        for m in FusionMethod.allCases {
            let o = FusionOptions(method: m, rank: 3, density: 0.5, seed: 2)
            XCTAssertEqual(try parallel.fuse(experts, o), try composer.fuse(experts, o), "\(m)")
        }
        XCTAssertEqual(try parallel.splitShared(experts, sharedRank: 2), try composer.splitShared(experts, sharedRank: 2))
    }

    func testNthLargest() {
        var rng = SeededGenerator(seed: 9)
        for n in [1, 2, 7, 100] {
            let v = (0..<n).map { _ in Float(Int(rng.next() % 10)) }   // many ties
            for k in 1...n { var c = v; XCTAssertEqual(nthLargest(&c, k), v.sorted(by: >)[k - 1], "n \(n) k \(k)") }
        }
    }
}
