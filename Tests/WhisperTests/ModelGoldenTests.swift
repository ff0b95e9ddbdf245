import XCTest
import Foundation
import GlossaCore
import Tensor
import TensorIO
@testable import Whisper

/// Closeness to CTranslate2 on the real whisper-base, from golden values made by
/// scripts/golden/model_ct2.py (espeak-ng speech in 9 languages, transformers log-mel
/// rounded to f16 and fed identically to both runtimes).
final class ModelGoldenTests: XCTestCase {
    struct Golden: Decodable {
        struct Encoder: Decodable { let clip: String; let rows: [Int]; let values: [[Float]]; let mean: Double; let std: Double; let max_abs: Float }
        struct Greedy: Decodable { let tokens: [Int]; let score: Double; let no_speech_prob: Double; let top2_margins: [Double]; let text: String }
        struct Beam: Decodable { let tokens: [Int]; let score: Double }
        struct Clip: Decodable {
            let lang: String; let index: Int; let frames: Int; let fill: Float; let prompt: [Int]
            let greedy: Greedy; let beam5: Beam; let detect: [[JSONScalar]]
        }
        let encoder: Encoder
        let clips: [Clip]
    }
    enum JSONScalar: Decodable {
        case s(String), d(Double)
        init(from decoder: Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let s = try? c.decode(String.self) { self = .s(s) } else { self = .d(try c.decode(Double.self)) }
        }
        var string: String { if case .s(let s) = self { return s }; return "" }
        var double: Double { if case .d(let d) = self { return d }; return .nan }
    }

    struct Fixture: @unchecked Sendable {
        let model: WhisperModel
        let specials: SpecialTokens
        let golden: Golden
        let goldenDir: URL
        func features(_ clip: Golden.Clip) throws -> [Float] {
            let file = try SafeTensors.read(goldenDir.appendingPathComponent("features_\(clip.lang).safetensors"))
            let t = try XCTUnwrap(file["clip\(clip.index)"])
            let part = try HalfConversion.floats(from: t)
            let frames = t.shape[1]
            var out = [Float](repeating: clip.fill, count: 80 * 3000)
            for m in 0..<80 { for f in 0..<frames { out[m * 3000 + f] = part[m * frames + f] } }
            return out
        }
    }

    nonisolated(unsafe) static var cached: Fixture?

    func fixture() throws -> Fixture {
        if let f = Self.cached { return f }
        guard let dir = realModelDirectory() else {
            throw Peer.missing("whisper-base not found at models/whisper-base-ct2: run scripts/fetch-whisper-base.sh (or set GLOSSA_TEST_MODEL_DIR)")
        }
        guard let goldenDir = Bundle.module.url(forResource: "Golden", withExtension: nil)?.appendingPathComponent("model") else {
            throw Peer.missing("golden directory missing")
        }
        let ck = try CTranslate2Whisper.load(folder: dir)
        let f = Fixture(model: try WhisperModel(checkpoint: ck), specials: try SpecialTokens(tokenizerJSON: ck.tokenizerJSON),
                        golden: try JSONDecoder().decode(Golden.self, from: Data(contentsOf: goldenDir.appendingPathComponent("ct2.json"))),
                        goldenDir: goldenDir)
        Self.cached = f
        return f
    }

    struct NoText: TokenTextDecoding { func decodeText(_ tokens: [Int]) -> String { tokens.map(String.init).joined(separator: " ") } }

    func testEncoderMatchesCTranslate2() throws {
        let fx = try fixture()
        let e = fx.golden.encoder
        let clip = fx.golden.clips.first { "\($0.lang)/clip\($0.index)" == e.clip }!
        let t0 = Date()
        let out = try fx.model.encode(features: fx.features(clip), compute: testCompute)
        print("encoder: \(String(format: "%.3f", Date().timeIntervalSince(t0))) s")
        var worst: Float = 0
        for (i, r) in e.rows.enumerated() {
            for j in 0..<512 { worst = max(worst, abs(out.data[r * 512 + j] - e.values[i][j])) }
        }
        let mean = out.data.reduce(0, +) / Float(out.data.count)
        print("encoder max |diff| / max|ref| = \(worst / e.max_abs), mean \(mean) vs \(e.mean)")
        XCTAssertLessThan(worst / e.max_abs, 1e-3)
        XCTAssertEqual(Double(mean), e.mean, accuracy: 1e-3 * Double(e.max_abs))
        XCTAssertEqual(Double(out.data.map(abs).max()!), Double(e.max_abs), accuracy: 1e-3 * Double(e.max_abs))
    }

    /// Greedy and beam-5 tokens identical to CTranslate2 `generate` (same prompt, suppress
    /// settings); language detection and no-speech probability close.
    func testGreedyBeamAndLanguageDetectionMatchCTranslate2() throws {
        let fx = try fixture()
        let transcriber = try Transcriber(model: fx.model, compute: testCompute, specials: fx.specials)
        var greedySame = 0, beamSame = 0, detectSame = 0
        var report = [String]()
        for clip in fx.golden.clips {
            let feats = try fx.features(clip)
            let enc = try fx.model.encode(features: feats, compute: testCompute)
            var o = TranscriptionOptions(language: clip.lang, beamSize: 1)
            o.temperatures = [0]; o.compressionRatioThreshold = nil; o.logProbThreshold = nil; o.noSpeechThreshold = nil
            let g = try transcriber.decode(encoded: enc, options: o, text: NoText())
            o.beamSize = 5
            let b = try transcriber.decode(encoded: enc, options: o, text: NoText())
            let detected = try transcriber.detectLanguage(encoded: enc)
            let d = (language: detected.languages[0].code, languageProbability: Optional(detected.languages[0].probability))
            XCTAssertEqual(detected.noSpeechProbability, g.noSpeechProbability, accuracy: 1e-9)
            let name = "\(clip.lang)/\(clip.index)"
            if g.tokens == clip.greedy.tokens { greedySame += 1 } else {
                let k = zip(g.tokens, clip.greedy.tokens).prefix { $0 == $1 }.count
                let margin = k < clip.greedy.top2_margins.count ? clip.greedy.top2_margins[k] : .nan
                report.append("\(name) greedy differs at step \(k) (CT2 top-2 log-prob margin there \(margin))")
                XCTAssertLessThan(margin, 0.05, "\(name): greedy differs where CT2 had no near tie")
            }
            if b.tokens == clip.beam5.tokens { beamSame += 1 } else { report.append("\(name) beam5 differs: \(b.tokens) vs \(clip.beam5.tokens)") }
            let ctTop = clip.detect[0][0].string, ctProb = clip.detect[0][1].double
            if d.language == ctTop { detectSame += 1 } else { report.append("\(name) detect \(d.language) vs \(ctTop)") }
            if d.language == ctTop { XCTAssertEqual(d.languageProbability!, ctProb, accuracy: 5e-3, name) }
            XCTAssertEqual(g.noSpeechProbability, clip.greedy.no_speech_prob, accuracy: 1e-3, name)
            if g.tokens == clip.greedy.tokens {
                // CT2 score = sum log p / length
                XCTAssertEqual(g.avgLogProb * Double(g.tokens.count + 1) / Double(max(1, g.tokens.count)), clip.greedy.score, accuracy: 2e-3, name)
            }
        }
        let n = fx.golden.clips.count
        print("CT2 agreement on \(n) clips: greedy \(greedySame)/\(n), beam5 \(beamSame)/\(n), language \(detectSame)/\(n)")
        report.forEach { print("  " + $0) }
        XCTAssertGreaterThanOrEqual(Double(greedySame) / Double(n), 0.95)
        XCTAssertGreaterThanOrEqual(Double(beamSame) / Double(n), 0.9)
        XCTAssertGreaterThanOrEqual(Double(detectSame) / Double(n), 0.95)
    }
}
