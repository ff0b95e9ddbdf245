import XCTest
import Foundation
@testable import Whisper

/// A Markov "model": next-token log-probabilities depend only on the last token of each beam.
struct MarkovDecoder: StepDecoder {
    let table: [[Float]]          // [last token][next token] probabilities
    var last: [Int]
    var steps = 0
    var vocabSize: Int { table.count }
    mutating func step(_ tokens: [Int]) throws(DecodingError) -> [Float] {
        steps += 1
        last = tokens
        return tokens.flatMap { t in table[t].map { Float(Foundation.log(Double($0))) } }
    }
    mutating func selectBeams(_ from: [Int]) { last = from.map { last[$0] } }
    func first() -> [Float] { table[last[0]].map { Float(Foundation.log(Double($0))) } }
}

final class DecodingTests: XCTestCase {
    // vocab: 0 = EOT, 1..4 words, 5 = start
    let table: [[Float]] = [
        [0.96, 0.01, 0.01, 0.01, 0.01, 0.0001],
        [0.05, 0.30, 0.30, 0.05, 0.30, 0.0001],   // after 1: uncertain, long tail
        [0.90, 0.02, 0.02, 0.03, 0.03, 0.0001],   // after 2: confident end
        [0.70, 0.10, 0.10, 0.05, 0.05, 0.0001],
        [0.50, 0.10, 0.10, 0.20, 0.10, 0.0001],
        [0.01, 0.45, 0.40, 0.07, 0.07, 0.0001],   // start: 1 slightly ahead of 2
    ]

    func run(_ o: SearchOptions) throws -> (Hypothesis, Int) {
        var d = MarkovDecoder(table: table, last: [5])
        let h = try Search.run(&d, firstLogits: d.first(), eot: 0, options: o)
        return (h, d.steps)
    }

    /// Logits with NaN (a damaged adapter) stop every search with a typed error instead
    /// of trapping in exp or decoding garbage.
    func testNaNLogitsAreReportedNotCrashed() {
        var first = table[5].map { Float(Foundation.log(Double($0))) }
        first[2] = .nan
        for (beam, temperature) in [(1, 0.0), (3, 0.0), (1, 0.7)] {
            var o = SearchOptions(); o.beamSize = beam; o.maxSteps = 10; o.temperature = temperature
            var d = MarkovDecoder(table: table, last: [5])
            XCTAssertThrowsError(try Search.run(&d, firstLogits: first, eot: 0, options: o), "beam \(beam) T \(temperature)") { e in
                XCTAssertEqual(e as? DecodingError, .nonFiniteLogits(step: 0))
            }
        }
    }

    func testGreedyFollowsArgmaxAndScoresLikeCTranslate2() throws {
        var o = SearchOptions(); o.beamSize = 1; o.maxSteps = 10
        let (h, _) = try run(o)
        // 5 -> 1 (0.45) -> 1 (0.30, first of ties) -> 1 ... never reaching p(EOT)=0.05 argmax: stops at maxSteps
        XCTAssertEqual(h.tokens, Array(repeating: 1, count: 10))
        o.suppressTokens = [1]
        let (h2, _) = try run(o)
        // with 1 suppressed: 5 -> 2 -> EOT
        XCTAssertEqual(h2.tokens, [2])
        // log-softmax renormalises each row (rows sum to 1.0001) after masking token 1
        let p2 = 0.40 / (1.0001 - 0.45), pEOT = 0.90 / (1.0001 - 0.02)  // token 1 masked at every step
        XCTAssertEqual(h2.sumLogProb, Foundation.log(p2) + Foundation.log(pEOT), accuracy: 1e-5)
        XCTAssertEqual(h2.score, h2.sumLogProb / 1, accuracy: 1e-9)
    }

    func testSuppressAtBeginOnlyOnFirstStep() throws {
        var o = SearchOptions(); o.beamSize = 1; o.maxSteps = 3; o.suppressAtBegin = [1]
        let (h, _) = try run(o)
        XCTAssertEqual(h.tokens, [2])   // 1 barred at step 0 only
    }

    func testBeamFindsTheBetterNormalisedHypothesis() throws {
        var o = SearchOptions(); o.beamSize = 3; o.maxSteps = 10
        let (h, _) = try run(o)
        // [2] EOT: log(.4)+log(.9) = -1.02 (length 1) beats any continuation of 1.
        XCTAssertEqual(h.tokens, [2])
        XCTAssertEqual(h.sumLogProb, Foundation.log(0.40 / 1.0001) + Foundation.log(0.90 / 1.0001), accuracy: 1e-5)
        // Length penalty 0 and 1 disagree on a case where a longer sequence has a better average.
        o.lengthPenalty = 0
        let (h0, _) = try run(o)
        XCTAssertEqual(h0.score, h0.sumLogProb)
    }

    func testBeamStopsAfterPatienceTimesWidthFinished() throws {
        var o = SearchOptions(); o.beamSize = 2; o.maxSteps = 50
        o.patience = 1
        let (_, steps1) = try run(o)
        o.patience = 3
        let (_, steps3) = try run(o)
        XCTAssertGreaterThan(steps3, steps1)
    }

    func testSamplingIsSeededAndValid() throws {
        var o = SearchOptions(); o.temperature = 0.8; o.bestOf = 4; o.maxSteps = 12; o.seed = 7
        let (a, _) = try run(o), (b, _) = try run(o)
        XCTAssertEqual(a, b)
        XCTAssertFalse(a.tokens.contains(0))
        XCTAssertFalse(a.tokens.contains(5) && false)
    }

    func testCompressionRatioMatchesPythonZlib() throws {
        let z = try XCTUnwrap(Zlib())
        // values from Python: len(b) / len(zlib.compress(b))
        XCTAssertEqual(z.compressionRatio("hello hello hello hello hello hello hello hello"), 2.764705882352941, accuracy: 1e-12)
        XCTAssertEqual(z.compressionRatio("Der Zug nach Hamburg fährt heute eine Stunde später ab."), 0.890625, accuracy: 1e-12)
    }

    func testSpecialTokensFromSyntheticTokenizer() throws {
        let json = """
        {"added_tokens": [
          {"id": 10, "content": "<|endoftext|>"}, {"id": 11, "content": "<|startoftranscript|>"},
          {"id": 12, "content": "<|en|>"}, {"id": 13, "content": "<|de|>"}, {"id": 14, "content": "<|translate|>"},
          {"id": 15, "content": "<|transcribe|>"}, {"id": 16, "content": "<|nocaptions|>"}, {"id": 17, "content": "<|notimestamps|>"}
        ], "model": {}}
        """
        let s = try SpecialTokens(tokenizerJSON: Array(json.utf8))
        XCTAssertEqual(s.languages, ["en", "de"])
        XCTAssertEqual(try s.prompt(language: "de"), [11, 13, 15, 17])
        XCTAssertEqual(s.noSpeech, 16); XCTAssertEqual(s.timestampBegin, 18)
        XCTAssertThrowsError(try s.languageToken("xx")) { XCTAssertTrue("\($0)".contains("en, de")) }
        XCTAssertThrowsError(try SpecialTokens(tokenizerJSON: Array("{\"added_tokens\": []}".utf8)))
    }

    func testSpecialTokensOfRealWhisperBase() throws {
        guard let dir = realModelDirectory() else { throw Peer.missing("whisper-base not found: run scripts/fetch-whisper-base.sh and link models/") }
        let bytes = try Array(Data(contentsOf: dir.appendingPathComponent("tokenizer.json")))
        let s = try SpecialTokens(tokenizerJSON: bytes)
        XCTAssertEqual([s.eot, s.sot, s.translate, s.transcribe, s.noSpeech, s.noTimestamps, s.timestampBegin],
                       [50257, 50258, 50358, 50359, 50362, 50363, 50364])
        XCTAssertEqual(s.languages.count, 99)
        XCTAssertEqual(Array(s.languages.prefix(5)), ["en", "zh", "de", "es", "ru"])
        XCTAssertEqual(s.languageIDs["de"], 50261)
    }
}
