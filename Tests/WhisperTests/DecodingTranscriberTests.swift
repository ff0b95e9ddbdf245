import XCTest
import Foundation
@testable import Whisper

/// Transcriber control flow (language detection, fallback, window loop) on the tiny model.
final class DecodingTranscriberTests: XCTestCase {
    struct Letters: TokenTextDecoding { func decodeText(_ t: [Int]) -> String { String(t.map { Character(UnicodeScalar(97 + $0 % 26)!) }) } }

    func transcriber() throws -> Transcriber {
        let json = """
        {"added_tokens": [
          {"id": 30, "content": "<|endoftext|>"}, {"id": 31, "content": "<|startoftranscript|>"},
          {"id": 32, "content": "<|en|>"}, {"id": 33, "content": "<|de|>"}, {"id": 34, "content": "<|translate|>"},
          {"id": 35, "content": "<|transcribe|>"}, {"id": 36, "content": "<|nocaptions|>"}, {"id": 37, "content": "<|notimestamps|>"}
        ]}
        """
        let model = try WhisperModel(checkpoint: tinyCheckpoint())
        return try Transcriber(model: model, compute: testCompute, specials: SpecialTokens(tokenizerJSON: Array(json.utf8)))
    }

    func window(_ seed: UInt64) -> [Float] { var r = TestRNG(state: seed); return r.floats(4 * 20, scale: 1) }

    func testDetectionFallbackAndWindowLoop() throws {
        let t = try transcriber()
        var o = TranscriptionOptions(language: nil, beamSize: 2)
        o.maxLength = 20
        o.temperatures = [0]
        o.compressionRatioThreshold = nil; o.logProbThreshold = nil; o.noSpeechThreshold = nil
        let r = try t.transcribe(window: window(1), options: o, text: Letters())
        XCTAssertEqual(r.detectedLanguages.count, 2)
        XCTAssertEqual(r.detectedLanguages.map(\.probability).reduce(0, +), 1, accuracy: 1e-9)
        XCTAssertEqual(r.language, r.detectedLanguages[0].code)
        XCTAssertEqual(r.timings.attempts, 1)
        XCTAssertTrue((0...1).contains(r.noSpeechProbability))
        XCTAssertLessThanOrEqual(r.tokens.count, min(20 / 2, 20 - 3))
        XCTAssertFalse(r.tokens.contains { [1, 30].contains($0) }, "suppressed ids and EOT never appear")

        // An impossible log-prob threshold forces every temperature; the best average wins.
        o.temperatures = [0, 0.5, 1.0]; o.logProbThreshold = 10
        let f = try t.transcribe(window: window(1), options: o, text: Letters())
        XCTAssertEqual(f.timings.attempts, 3)

        // Given language: no detection, prompt uses it.
        o.language = "de"; o.temperatures = [0]; o.logProbThreshold = nil
        XCTAssertTrue(try t.transcribe(window: window(1), options: o, text: Letters()).detectedLanguages.isEmpty)
        o.language = "xx"
        XCTAssertThrowsError(try t.transcribe(window: window(1), options: o, text: Letters()))

        // Window loop: bounded, one result per produced window, in order.
        o.language = "en"
        var produced = 0, seen = [Int]()
        try t.transcribeWindows(options: o, text: Letters(), nextWindow: {
            produced += 1
            return produced <= 3 ? self.window(UInt64(produced)) : nil
        }, onWindow: { i, _ in seen.append(i) })
        XCTAssertEqual(seen, [0, 1, 2])
    }
}
