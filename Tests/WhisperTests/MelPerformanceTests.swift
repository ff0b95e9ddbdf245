import Foundation
import XCTest
@testable import Whisper

/// Throughput of the front end (meaningful in release builds). Prints, does not gate:
/// the ratio that matters is against the encoder's ~0.5 s per window.
final class MelPerformanceTests: XCTestCase {
    func testLogMelSpeedPerWindow() {
        let samples = MelGoldenTests.synthetic("chirp_noise_30s")
        let mel = LogMelSpectrogram()
        _ = mel.features(samples)  // warm up
        let runs = 5
        let start = Date()
        var check: Float = 0
        for _ in 0..<runs { check += mel.features(samples).values[12_345] }
        let perWindow = Date().timeIntervalSince(start) / Double(runs)
        print("log-mel: \(String(format: "%.1f", perWindow * 1000)) ms per 30 s window (80 mels) [check \(check)]")
        XCTAssertTrue(check.isFinite)
    }

    func testTokenizerSpeed() throws {
        let tok = try TokenizerGoldenTests.shared.get()
        let texts = try TokenizerGoldenTests.golden().encode.map(\.text)
        // Fresh instance-free measure: the cache is warm after the first pass, as in training loops.
        var n = 0
        let start = Date()
        for _ in 0..<5 { for t in texts { n += tok.encode(t).count } }
        let seconds = Date().timeIntervalSince(start)
        print("tokenizer: \(5 * texts.count) texts, \(n) tokens in \(String(format: "%.3f", seconds)) s (\(Int(Double(n) / seconds)) tokens/s)")
        XCTAssertGreaterThan(n, 0)
    }
}
