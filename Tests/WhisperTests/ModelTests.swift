import XCTest
import GlossaCore
import Tensor
@testable import Whisper
import WhisperTesting

/// Wiring checks on a tiny random model; numerics against CTranslate2 are in ModelGoldenTests.
final class ModelTests: XCTestCase {
    func features(_ m: WhisperModel, seed: UInt64 = 9) -> [Float] {
        var rng = TestRNG(state: seed)
        return rng.floats(m.config.numMelBins * m.inputFrames, scale: 1)
    }

    func testMissingAndMisshapenTensorsAreTypedErrors() {
        var ck = tinyCheckpoint()
        ck.tensors["model.decoder.layers.1.fc2.bias"] = nil
        XCTAssertThrowsError(try WhisperModel(checkpoint: ck)) { XCTAssertEqual($0 as? WhisperModelError, .missingTensor("model.decoder.layers.1.fc2.bias")) }
        ck = tinyCheckpoint()
        ck.tensors["model.encoder.conv1.weight"] = f32Data([16, 4, 2], [Float](repeating: 0, count: 128))
        XCTAssertThrowsError(try WhisperModel(checkpoint: ck)) {
            XCTAssertEqual($0 as? WhisperModelError, .badShape("model.encoder.conv1.weight", expected: [16, 4, 3], got: [16, 4, 2]))
        }
        let m = try! WhisperModel(checkpoint: tinyCheckpoint())
        XCTAssertThrowsError(try m.encode(features: [1, 2, 3], compute: testCompute))
    }

    /// Incremental decoding with the KV cache equals decoding the whole sequence at once
    /// (which exercises the causal mask), and beams decoded side by side equal separate runs.
    func testKVCacheAndBeamsMatchFullSequence() throws {
        let m = try WhisperModel(checkpoint: tinyCheckpoint())
        let enc = try m.encode(features: features(m), compute: testCompute)
        XCTAssertEqual(enc.data.count, 10 * 16)
        XCTAssertTrue(enc.data.allSatisfy { $0.isFinite })
        let seqA = [3, 7, 11, 5, 9], seqB = [3, 8, 1, 20, 4]
        let v = m.vocabSize

        func full(_ s: [Int]) throws -> [Float] {
            var st = m.makeDecoderState(encoderOutput: enc, compute: testCompute)
            return try m.decode(tokens: s, tokensPerBeam: s.count, state: &st, compute: testCompute)
        }
        let fullA = try full(seqA), fullB = try full(seqB)

        // prompt of 2 tokens, then fan out to 2 beams and step one token at a time
        var st = m.makeDecoderState(encoderOutput: enc, compute: testCompute)
        let pre = try m.decode(tokens: Array(seqA.prefix(2)), tokensPerBeam: 2, state: &st, compute: testCompute)
        XCTAssertLessThan(relError(pre, Array(fullA[0..<(2 * v)])), 1e-5)
        // beam B shares the first token only, so fan out after the first token:
        var st2 = m.makeDecoderState(encoderOutput: enc, compute: testCompute)
        _ = try m.decode(tokens: [3], tokensPerBeam: 1, state: &st2, compute: testCompute)
        st2.selectBeams([0, 0])
        for t in 1..<5 {
            let logits = try m.decode(tokens: [seqA[t], seqB[t]], tokensPerBeam: 1, state: &st2, compute: testCompute)
            XCTAssertLessThan(relError(Array(logits[0..<v]), Array(fullA[(t * v)..<((t + 1) * v)])), 1e-5, "beam A step \(t)")
            XCTAssertLessThan(relError(Array(logits[v..<(2 * v)]), Array(fullB[(t * v)..<((t + 1) * v)])), 1e-5, "beam B step \(t)")
        }
        // reorder: swap beams, continue both with the same token
        st2.selectBeams([1, 0])
        let swapped = try m.decode(tokens: [6, 6], tokensPerBeam: 1, state: &st2, compute: testCompute)
        let refB = try full(seqB + [6]), refA = try full(seqA + [6])
        XCTAssertLessThan(relError(Array(swapped[0..<v]), Array(refB[(5 * v)...])), 1e-5)
        XCTAssertLessThan(relError(Array(swapped[v...]), Array(refA[(5 * v)...])), 1e-5)
        XCTAssertEqual(st2.length, 6)
        // the position limit is a typed error
        var st3 = m.makeDecoderState(encoderOutput: enc, compute: testCompute)
        XCTAssertThrowsError(try m.decode(tokens: Array(repeating: 1, count: 25), tokensPerBeam: 25, state: &st3, compute: testCompute))
    }

    /// `tinyCheckpoint()` with every tensor rounded to f16 and stored as f16.
    func halfCheckpoint() throws -> WhisperCheckpoint {
        var ck = tinyCheckpoint()
        for (k, v) in ck.tensors {
            var d = Data()
            for f in try HalfConversion.floats(from: v) { withUnsafeBytes(of: Float16(f).bitPattern.littleEndian) { d.append(contentsOf: $0) } }
            ck.tensors[k] = TensorData(dtype: .f16, shape: v.shape, bytes: d)
        }
        return ck
    }

    /// f16 checkpoints load to the same model as their f32 originals rounded to f16.
    func testHalfPrecisionCheckpointLoads() throws {
        let m = try WhisperModel(checkpoint: try halfCheckpoint())
        let f32 = try HalfConversion.floats(from: tinyCheckpoint().tensors["model.decoder.embed_tokens.weight"]!)
        XCTAssertEqual(m.tokenEmbedding, f32.map { Float(Float16($0)) })
    }

    /// An f16 checkpoint loaded for transcription keeps its per-step decoder weights in f16
    /// (no f32 copy), and decodes as the all-f32 model does: bit for bit up to the streaming
    /// row limit, and to 1e-5 with more rows than one f16 pass takes (36 rows: 12 beams x 3
    /// tokens, against BLAS on f32). Writing a weight (a merged LoRA) stores it in f32; a
    /// checkpoint whose values are not f16 stays f32.
    func testHalfDecoderWeightsDecodeAsFloat() throws {
        let halves = try WhisperModel(checkpoint: try halfCheckpoint())
        let floats = try WhisperModel(checkpoint: try halfCheckpoint(), precision: .float32)
        XCTAssertNotNil(halves.embedTokens.half)
        XCTAssertNotNil(halves.decoderLayers[0].fc1.half)
        XCTAssertNotNil(halves.decoderLayers[0].selfQKV.half)
        XCTAssertNil(halves.decoderLayers[0].crossKV.half, "crossKV runs on every encoder frame, through BLAS")
        XCTAssertNil(halves.encoderLayers[0].fc1.half, "the encoder runs 1500 rows, through BLAS")
        XCTAssertNil(floats.embedTokens.half)
        XCTAssertNil(floats.decoderLayers[0].fc1.half)
        XCTAssertEqual(halves.decoderLayers[1].fc2.weight, floats.decoderLayers[1].fc2.weight)
        XCTAssertEqual(halves.tokenEmbedding, floats.tokenEmbedding)
        XCTAssertNil(halves.widened().decoderLayers[0].selfOut.half)
        var rewritten = halves
        rewritten.decoderLayers[0].fc1.weight[0] += 0
        XCTAssertNil(rewritten.decoderLayers[0].fc1.half, "a written weight is held in f32")
        XCTAssertEqual(rewritten.decoderLayers[0].fc1.weight, floats.decoderLayers[0].fc1.weight)

        var rng = TestRNG(state: 5)
        let features = rng.floats(halves.config.numMelBins * halves.inputFrames, scale: 1)
        let enc = try halves.encode(features: features, compute: testCompute)
        var s1 = halves.makeDecoderState(encoderOutput: enc, compute: testCompute)
        var s2 = floats.makeDecoderState(encoderOutput: enc, compute: testCompute)
        for tokens in [[1, 2, 3], [4], [7]] {
            let a = try halves.decode(tokens: tokens, tokensPerBeam: tokens.count, state: &s1, compute: testCompute)
            let b = try floats.decode(tokens: tokens, tokensPerBeam: tokens.count, state: &s2, compute: testCompute)
            XCTAssertEqual(a, b)
        }
        let beams = 12
        s1.selectBeams(Array(repeating: 0, count: beams)); s2.selectBeams(Array(repeating: 0, count: beams))
        let many = (0..<(3 * beams)).map { 1 + $0 % 9 }
        XCTAssertGreaterThan(many.count, Compute.skinnyHalfRowLimit)
        let a = try halves.decode(tokens: many, tokensPerBeam: 3, state: &s1, compute: testCompute)
        let b = try floats.decode(tokens: many, tokensPerBeam: 3, state: &s2, compute: testCompute)
        XCTAssertEqual(a.count, b.count)
        XCTAssertLessThan(relError(a, b), 1e-5)
        XCTAssertNil(try WhisperModel(checkpoint: tinyCheckpoint()).embedTokens.half, "random f32 values are not f16")
    }

    /// Each decoder layer's cross-attention K/V (6 MB at whisper-base widths, fresh per
    /// window) asks for huge pages (VmFlags `hg` in /proc/self/smaps, whatever the THP mode).
    func testCrossAttentionCacheAdvisesHugePages() throws {
        let dims = TinyWhisper.Dimensions(dModel: 512, encoderLayers: 1, decoderLayers: 1, heads: 8, ffnDim: 64, vocabSize: 64)
        let m = try WhisperModel(checkpoint: TinyWhisper.make(seed: 3, dimensions: dims))
        let encoded = EncoderOutput(frames: 1500, dModel: 512, data: [Float](repeating: 0.5, count: 1500 * 512))
        let state = m.makeDecoderState(encoderOutput: encoded, compute: testCompute)
        XCTAssertEqual(state.crossKV.map(\.count), [2 * 1500 * 512])
        XCTAssertTrue(try state.crossKV[0].withUnsafeBytes { try MemoryMaps.hugePagesAdvised($0) })
    }
}
