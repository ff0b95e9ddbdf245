import GlossaCore
import XCTest
import Tensor
@testable import Training

/// The BLAS backend against the reference loops: every GEMM variant the kernels use, and the
/// full graph's loss and LoRA gradients on a tiny random Whisper.
final class BLASBackendTests: XCTestCase {
    func loadBLAS() throws -> BLASLibrary {
        do { return try BLASLibrary.load(coreType: .automatic, threads: 2) } catch {
            throw Peer.missing("OpenBLAS not available: \(error)")
        }
    }

    func testStridedGemmMatchesReference() throws {
        let blas = try loadBLAS()
        var rng = SeededGenerator(seed: 1)
        // Head-strided operands as attention uses them: lda/ldb/ldc larger than the logical width.
        let (m, n, k, ld) = (5, 3, 4, 8)
        let a = randomArray(m * ld, &rng), bT = randomArray(n * ld, &rng), b = randomArray(k * ld, &rng)
        for (tb, bm) in [(true, bT), (false, b)] {
            var c1 = randomArray(m * ld, &rng), c2 = c1
            a.withUnsafeBufferPointer { ap in bm.withUnsafeBufferPointer { bp in
                c1.withUnsafeMutableBufferPointer { cp in
                    gemm(blas, transA: false, transB: tb, m: m, n: n, k: k, alpha: 0.5, a: ap.baseAddress! + 1, lda: ld,
                         b: bp.baseAddress! + 2, ldb: ld, beta: 1, c: cp.baseAddress! + 3, ldc: ld)
                }
                c2.withUnsafeMutableBufferPointer { cp in
                    gemm(ReferenceGEMM(), transA: false, transB: tb, m: m, n: n, k: k, alpha: 0.5, a: ap.baseAddress! + 1, lda: ld,
                         b: bp.baseAddress! + 2, ldb: ld, beta: 1, c: cp.baseAddress! + 3, ldc: ld)
                }
            } }
            for i in c1.indices { XCTAssertEqual(c1[i], c2[i], accuracy: 1e-5, "transB \(tb) at \(i)") }
        }
    }

    func testFullGraphOnBLASMatchesReference() throws {
        let blas = try loadBLAS()
        let model = try FrozenWhisper(RandomWhisper.checkpoint(config: RandomWhisper.tinyConfig, seed: 11))
        var lora = try LoRAParameters.initialise(model: model.config, targets: ["q_proj", "v_proj", "fc1", "fc2", "out_proj", "k_proj"],
                                                 scope: .both, rank: 2, alpha: 4, seed: 3)
        var rng = SeededGenerator(seed: 4)
        for m in lora.factors.indices { lora.factors[m].b = lora.factors[m].b.map { _ in 0.3 * rng.normal() } }
        let feats = randomArray(32, &rng)
        let s = teacherForcedSequence(language: 53, transcript: [3, 4, 5],
                                      special: SpecialTokens(startOfTranscript: 50, endOfText: 49, transcribe: 51, noTimestamps: 52))
        var results: [(Double, LoRAParameters)] = []
        for backend in [blas as any Training.GEMMBackend, ReferenceGEMM()] {
            let g = WhisperTrainingGraph(model: model, gemm: backend)
            var grads = lora.zeros()
            let r = g.lossAndGradients(.features(feats), tokens: s.input, targets: s.targets, lora: lora, grads: &grads, gradScale: 0.25)
            results.append((r.lossSum, grads))
        }
        XCTAssertEqual(results[0].0, results[1].0, accuracy: 1e-5)
        for m in lora.factors.indices {
            for (x, y) in zip(results[0].1.factors[m].a + results[0].1.factors[m].b, results[1].1.factors[m].a + results[1].1.factors[m].b) {
                XCTAssertEqual(x, y, accuracy: 1e-5 + 1e-4 * abs(y), lora.names[m])
            }
        }
    }
}
