import Foundation
import XCTest
@testable import Whisper

/// Log-mel features against Hugging Face `WhisperFeatureExtractor` (numpy path),
/// golden values from scripts/golden/frontend_mel.py. Tolerance: 1e-4 absolute.
final class MelGoldenTests: XCTestCase {
    struct Clip: Decodable {
        let name: String, mels: Int, source: String
        let pcm16_base64: String?
        let frames: [Int]
        let values: [[Float]]
        let sum: Double, min: Float, max: Float
        let mel_means: [Double]
        let frame_means_every_10: [Double]
    }
    struct Golden: Decodable { let clips: [Clip] }

    static func golden() throws -> Golden {
        let url = try XCTUnwrap(Bundle.module.resourceURL?.appendingPathComponent("Golden/mel/mel_golden.json"))
        return try JSONDecoder().decode(Golden.self, from: Data(contentsOf: url))
    }

    /// Mirrors `lcg_noise` in the golden script: integer LCG mod 2^31 -> [-1, 1).
    static func lcgNoise(_ n: Int, seed: UInt64) -> [Double] {
        var x = seed
        return (0..<n).map { _ in
            x = (1_103_515_245 &* x &+ 12_345) % (1 << 31)
            return Double(x) / Double(1 << 30) - 1
        }
    }

    /// Mirrors `synthetic` in the golden script (f64 formulas, cast to f32).
    static func synthetic(_ name: String) -> [Float] {
        let sr = 16_000.0
        switch name {
        case "tones_1p5s":
            return (0..<24_000).map { i in
                let t = Double(i) / sr
                return Float(0.5 * sin(2 * .pi * 440 * t) + 0.25 * sin(2 * .pi * 1234.5 * t))
            }
        case "chirp_noise_30s":
            let noise = lcgNoise(480_000, seed: 42)
            return (0..<480_000).map { i in
                let t = Double(i) / sr
                return Float(0.3 * sin(2 * .pi * (100 * t + 0.5 * (6900 / 30) * t * t)) + 0.01 * noise[i])
            }
        case "noise_35s":
            return lcgNoise(560_000, seed: 7).map { Float(0.1 * $0) }
        case "silence_5s":
            return [Float](repeating: 0, count: 80_000)
        default:
            fatalError("unknown clip \(name)")
        }
    }

    static func audio(_ clip: Clip) throws -> [Float] {
        if clip.source == "synthetic" { return synthetic(clip.name) }
        let data = try XCTUnwrap(Data(base64Encoded: try XCTUnwrap(clip.pcm16_base64)))
        return data.withUnsafeBytes { raw in
            (0..<(data.count / 2)).map { Float(Int16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * $0, as: Int16.self))) / 32768 }
        }
    }

    func testFeaturesMatchHuggingFace() throws {
        let golden = try Self.golden()
        XCTAssertEqual(golden.clips.count, 7)
        var extractors: [Int: LogMelSpectrogram] = [:]
        for clip in golden.clips {
            let extractor = extractors[clip.mels] ?? LogMelSpectrogram(melBins: clip.mels)
            extractors[clip.mels] = extractor
            let f = extractor.features(try Self.audio(clip))
            XCTAssertEqual(f.melBins, clip.mels)
            XCTAssertEqual(f.frames, 3000)
            let label = "\(clip.name)/\(clip.mels)"
            var worst: Float = 0
            for (i, frame) in clip.frames.enumerated() {
                for m in 0..<clip.mels { worst = Swift.max(worst, abs(f[m, frame] - clip.values[i][m])) }
            }
            XCTAssertLessThan(worst, 1e-4, "\(label): worst frame difference")
            print("mel golden \(label): max |ours - HF| over \(clip.frames.count) frames = \(worst)")
            XCTAssertEqual(f.values.min()!, clip.min, accuracy: 1e-4, label)
            XCTAssertEqual(f.values.max()!, clip.max, accuracy: 1e-4, label)
            let total = f.values.reduce(0.0) { $0 + Double($1) }
            XCTAssertEqual(total / Double(f.values.count), clip.sum / Double(f.values.count), accuracy: 1e-5, "\(label): mean")
            var worstMean = 0.0
            for m in 0..<clip.mels {
                var s = 0.0
                for t in 0..<3000 { s += Double(f[m, t]) }
                worstMean = Swift.max(worstMean, abs(s / 3000 - clip.mel_means[m]))
            }
            XCTAssertLessThan(worstMean, 1e-5, "\(label): per-mel means")
            var worstFrameMean = 0.0
            for (j, expected) in clip.frame_means_every_10.enumerated() {
                var s = 0.0
                for m in 0..<clip.mels { s += Double(f[m, j * 10]) }
                worstFrameMean = Swift.max(worstFrameMean, abs(s / Double(clip.mels) - expected))
            }
            XCTAssertLessThan(worstFrameMean, 1e-4, "\(label): frame means")
        }
    }

    func testSilenceIsConstant() {
        // log10(1e-10) = -10 everywhere, so max - 8 does not bind: (-10 + 4) / 4 = -1.5.
        let f = LogMelSpectrogram().features([])
        XCTAssertEqual(f.values.count, 80 * 3000)
        XCTAssertTrue(f.values.allSatisfy { $0 == -1.5 })
    }

    func testRealFFTMatchesNaiveDFT() {
        for n in [400, 16, 30, 250] {
            let fft = RealFFT(n: n)
            let x = Self.lcgNoise(n, seed: UInt64(n))
            var re = [Double](repeating: 0, count: n / 2 + 1), im = re
            var scratch = fft.makeScratch()
            x.withUnsafeBufferPointer { xp in
                re.withUnsafeMutableBufferPointer { r in im.withUnsafeMutableBufferPointer { i in
                    scratch.withUnsafeMutableBufferPointer { s in
                        fft.forward(xp.baseAddress!, re: r.baseAddress!, im: i.baseAddress!, scratch: s.baseAddress!)
                    }
                } }
            }
            for k in 0...(n / 2) {
                var sr = 0.0, si = 0.0
                for t in 0..<n {
                    let a = -2 * Double.pi * Double(k * t % n) / Double(n)
                    sr += x[t] * cos(a); si += x[t] * sin(a)
                }
                XCTAssertEqual(re[k], sr, accuracy: 1e-9, "n=\(n) k=\(k) re")
                XCTAssertEqual(im[k], si, accuracy: 1e-9, "n=\(n) k=\(k) im")
            }
        }
    }

    func testSlaneyFiltersHaveUnitAreaInHertz() {
        // Slaney normalisation scales each triangle by 2 / (right - left) Hz, so its area
        // in Hz is 1: sum_k w[k] * 40 Hz (bin spacing) ~ 1 for filters wide enough to be
        // sampled well by the 40 Hz bins (the upper ones); centres rise monotonically.
        let bank = MelFilterBank(melBins: 80)
        XCTAssertEqual(bank.fftBins, 201)
        for m in 50..<80 {
            let area = bank.ranges[m].reduce(0.0) { $0 + bank.weights[m * 201 + $1] } * 40
            XCTAssertEqual(area, 1, accuracy: 0.1, "filter \(m)")
        }
        for m in 1..<80 { XCTAssertGreaterThanOrEqual(bank.ranges[m].lowerBound, bank.ranges[m - 1].lowerBound) }
    }
}
