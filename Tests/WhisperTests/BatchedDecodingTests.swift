import Foundation
import Synchronization
import XCTest
import GlossaCore
import Tensor
@testable import Whisper

/// Several runs decoded as one batch (`decodeBatch`, `DecodeBatcher`) give each run what it
/// gets decoded alone: other audio, cache lengths, beam counts and adapters per run.
final class BatchedDecodingTests: XCTestCase {
    func encoded(_ m: WhisperModel, seed: UInt64, adapters: ActiveAdapters = .none) throws -> EncoderOutput {
        var rng = TestRNG(state: seed)
        return try m.encode(features: rng.floats(m.config.numMelBins * m.inputFrames, scale: 1), compute: testCompute, adapters: adapters)
    }

    func adapters(_ m: WhisperModel, seed: UInt64) throws -> ActiveAdapters {
        var rng = TestRNG(state: seed)
        var pairs = [String: LoRAPair]()
        for path in ["model.decoder.layers.0.self_attn.q_proj", "model.decoder.layers.1.self_attn.v_proj",
                     "model.decoder.layers.0.encoder_attn.q_proj", "model.decoder.layers.1.fc1", "model.decoder.layers.0.fc2"] {
            let (out, inF) = m.dimensions(of: LinearSite(modulePath: path)!)
            pairs[path] = LoRAPair(a: f32Data([2, inF], rng.floats(2 * inF, scale: 0.5)),
                                   b: f32Data([out, 2], rng.floats(out * 2, scale: 0.5)), scale: 2)
        }
        return try ActiveAdapters([(LoRAWeights(config: LoRAConfig(rank: 2, alpha: 4, targetModules: []), modules: pairs), 1)], for: m)
    }

    func testOneBatchGivesEachRunItsOwnLogits() throws {
        let m = try WhisperModel(checkpoint: tinyCheckpoint())
        let adaptB = try adapters(m, seed: 21), adaptC = try adapters(m, seed: 22)
        var states = [m.makeDecoderState(encoderOutput: try encoded(m, seed: 1), compute: testCompute),
                      m.makeDecoderState(encoderOutput: try encoded(m, seed: 2), compute: testCompute, adapters: adaptB),
                      m.makeDecoderState(encoderOutput: try encoded(m, seed: 3), compute: testCompute, adapters: adaptC)]
        let runAdapters: [ActiveAdapters] = [.none, adaptB, adaptC]
        var alone = states

        func check(_ requests: [DecodeRequest], _ label: String) throws {
            let batched = try states.withUnsafeMutableBufferPointer { buf in
                try m.decodeBatch(requests, states: (0..<buf.count).map { buf.baseAddress! + $0 }, compute: testCompute)
            }
            for (k, r) in requests.enumerated() {
                let single = try m.decode(tokens: r.tokens, tokensPerBeam: r.tokensPerBeam, state: &alone[k], compute: testCompute,
                                          adapters: r.adapters)
                XCTAssertEqual(batched[k].count, single.count, "\(label) run \(k)")
                XCTAssertLessThan(relError(batched[k], single), 1e-5, "\(label) run \(k)")
                XCTAssertEqual(states[k].length, alone[k].length)
            }
        }
        // Prompts of different lengths in one pass.
        try check([DecodeRequest(tokens: [3, 7, 11], tokensPerBeam: 3, adapters: runAdapters[0]),
                   DecodeRequest(tokens: [3, 8], tokensPerBeam: 2, adapters: runAdapters[1]),
                   DecodeRequest(tokens: [3], tokensPerBeam: 1, adapters: runAdapters[2])], "prefill")
        // Then one step each, with 1, 3 and 2 beams.
        for k in [1, 2] {
            let fan = k == 1 ? [0, 0, 0] : [0, 0]
            states[k].selectBeams(fan); alone[k].selectBeams(fan)
        }
        for step in 0..<3 {
            try check([DecodeRequest(tokens: [5 + step], tokensPerBeam: 1, adapters: runAdapters[0]),
                       DecodeRequest(tokens: [6, 9, 2].map { $0 + step }, tokensPerBeam: 1, adapters: runAdapters[1]),
                       DecodeRequest(tokens: [8, 4].map { $0 + step }, tokensPerBeam: 1, adapters: runAdapters[2])], "step \(step)")
            states[1].selectBeams([2, 0, 1]); alone[1].selectBeams([2, 0, 1])
        }
    }

    /// Four threads each run a greedy search through one batcher: the same tokens as four
    /// runs alone, in one round per step rather than one per step and run.
    func testThreadsOfOneBatcherDecodeLikeSeparateRuns() throws {
        let m = try WhisperModel(checkpoint: tinyCheckpoint())
        let n = 4, maxSteps = 8
        let options = { var o = SearchOptions(); o.beamSize = 1; o.maxSteps = maxSteps; return o }()
        let runs: [(EncoderOutput, ActiveAdapters)] = try (0..<n).map { k in
            let a = k % 2 == 0 ? ActiveAdapters.none : try adapters(m, seed: 30 + UInt64(k))
            return (try encoded(m, seed: 10 + UInt64(k)), a)
        }
        @Sendable func greedy(_ k: Int, batcher: DecodeBatcher?) throws -> [Int] {
            let (enc, a) = runs[k]
            var dec = WhisperStepDecoder(model: m, state: m.makeDecoderState(encoderOutput: enc, compute: testCompute, adapters: a),
                                         compute: testCompute, adapters: a, batcher: batcher)
            let first = try dec.prefill([3, 5])
            return try Search.run(&dec, firstLogits: Array(first[m.vocabSize...]), eot: 1, options: options).tokens
        }
        let expected = try (0..<n).map { try greedy($0, batcher: nil) }

        let batcher = DecodeBatcher(model: m, compute: testCompute)
        let got = Mutex<[Int: Result<[Int], Error>]>([:])
        let allJoined = DispatchSemaphore(value: 0), go = DispatchSemaphore(value: 0)
        let done = DispatchGroup()
        for k in 0..<n {
            done.enter()
            Thread {
                defer { done.leave() }
                let r = Result { () throws -> [Int] in
                    try batcher.participate { () throws -> [Int] in
                        allJoined.signal()
                        go.wait()   // everyone joins before anyone steps, so rounds are full
                        return try greedy(k, batcher: batcher)
                    }
                }
                got.withLock { $0[k] = r }
            }.start()
        }
        for _ in 0..<n { allJoined.wait() }
        for _ in 0..<n { go.signal() }
        done.wait()
        let results = got.withLock { $0 }
        for k in 0..<n { XCTAssertEqual(try results[k]!.get(), expected[k], "run \(k)") }
        let calls = expected.map { $0.count < maxSteps ? $0.count + 1 : maxSteps }   // prefill + steps
        XCTAssertEqual(batcher.requests, calls.reduce(0, +))
        XCTAssertEqual(batcher.rounds, calls.max()!, "one round per step for all four runs")
    }
}
