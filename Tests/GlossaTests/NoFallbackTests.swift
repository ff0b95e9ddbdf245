import Foundation
import GlossaCore
import Tensor
import TensorIO
import Whisper
import XCTest
@testable import Glossa
import WhisperTesting

/// `--no-fallback`: pure temperature-0 decoding, no fallback thresholds, no no-speech rule.
final class NoFallbackTests: XCTestCase {
    func testNoFallbackDecodesAtTemperatureZeroWhereTheDefaultFallsBack() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let tok = try Data(contentsOf: root.appendingPathComponent("models/whisper-base-ct2/tokenizer.json"))   // make test fetches it
        let ckpt = TinyWhisper.make(seed: 3, dimensions: .init(dModel: 32, encoderLayers: 1, decoderLayers: 1, heads: 2, ffnDim: 64),
                                    tokenizerJSON: Array(tok))
        let speech = try SpeechModel(checkpoint: ckpt, compute: Compute(blas: try BLASLibrary.load(threads: 2), threads: 2), origin: "tiny")
        var rng = SeededGenerator(seed: 1)
        let mel = (0..<(80 * 3000)).map { _ in rng.uniform(-1, 1) }
        // A random model is unsure of everything: its greedy output fails the log-prob test, so by
        // default the window is decoded again at higher temperatures (or judged silent).
        let fallback = try speech.transcribeWindow(mel, settings: TranscribeSettings(language: "fr", beamSize: 1), router: .none)
        XCTAssertTrue(fallback.temperature > 0 || fallback.tokens.isEmpty, "default: fallback or silence, got T=\(fallback.temperature)")
        let pure = try speech.transcribeWindow(mel, settings: TranscribeSettings(language: "fr", beamSize: 1, noFallback: true), router: .none)
        XCTAssertEqual(pure.temperature, 0)
        XCTAssertFalse(pure.tokens.isEmpty, "no no-speech rule: the greedy tokens come out")
        // The same tokens as the transcriber's plain greedy search with every rule off.
        var o = TranscriptionOptions(language: "fr", beamSize: 1)
        o.temperatures = [0]; o.compressionRatioThreshold = nil; o.logProbThreshold = nil; o.noSpeechThreshold = nil
        let enc = try speech.model.encode(features: mel, compute: speech.compute)
        let direct = try speech.transcriber.decode(encoded: enc, options: o, text: TokenizerText(tokenizer: speech.tokenizer))
        XCTAssertEqual(pure.tokens, direct.tokens)
    }
}
