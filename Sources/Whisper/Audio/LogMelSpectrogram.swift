import Foundation

/// Log-mel features of one Whisper window, row-major [melBins][frames].
public struct MelFeatures: Sendable, Equatable {
    public let melBins: Int
    public let frames: Int
    /// `values[mel * frames + frame]`.
    public var values: [Float]

    public init(melBins: Int, frames: Int, values: [Float]) {
        precondition(values.count == melBins * frames, "MelFeatures: \(values.count) values for \(melBins)x\(frames)")
        self.melBins = melBins
        self.frames = frames
        self.values = values
    }

    public subscript(mel: Int, frame: Int) -> Float { values[mel * frames + frame] }
}

/// Turns 16 kHz mono audio into model input features. Swap in tests or for other front ends.
public protocol AudioFeatureExtractor: Sendable {
    var melBins: Int { get }
    /// Features of one window: `samples` holds at most 30 s at 16 kHz (more is truncated).
    func features(_ samples: [Float]) -> MelFeatures
}

/// Whisper's log-mel spectrogram, computed as Hugging Face `WhisperFeatureExtractor`
/// (numpy path) and openai-whisper `log_mel_spectrogram` do for one 30 s window:
///
/// 1. zero-pad (or truncate) the audio to 480 000 samples (30 s) *before* the STFT;
/// 2. reflect-pad 200 samples on each side (centred frames, numpy "reflect": the edge
///    sample is not repeated);
/// 3. 3001 frames of 400 samples every 160 (10 ms), periodic Hann window,
///    |rfft|^2 -> 201 bins, computed in f64;
/// 4. mel = filters (Slaney, [melBins][201]) x power, last frame dropped -> 3000 frames;
/// 5. log10(max(mel, 1e-10)); max(x, global max - 8); (x + 4) / 4.
///
/// The global max in step 5 is over this window, as HF does per 30 s input; long audio is
/// featurised window by window. Output matches HF within 1e-4 absolute (golden tests).
public struct LogMelSpectrogram: AudioFeatureExtractor {
    public static let sampleRate = 16_000
    public static let nFFT = 400
    public static let hopLength = 160
    public static let windowSamples = 480_000
    /// Frames per window after dropping the last STFT frame.
    public static let frames = 3_000

    public let melBins: Int
    public let filters: MelFilterBank
    private let fft: RealFFT
    /// Periodic Hann: 0.5 - 0.5 cos(2 pi t / 400), t < 400.
    private let window: [Double]

    /// - Parameter melBins: 80 (tiny ... large-v2) or 128 (large-v3).
    public init(melBins: Int = 80) {
        precondition(melBins > 0, "melBins must be positive")
        self.melBins = melBins
        filters = MelFilterBank(melBins: melBins, nFFT: Self.nFFT, sampleRate: Self.sampleRate)
        fft = RealFFT(n: Self.nFFT)
        window = (0..<Self.nFFT).map { 0.5 - 0.5 * cos(2 * Double.pi * Double($0) / Double(Self.nFFT)) }
    }

    public func features(_ samples: [Float]) -> MelFeatures {
        let n = Self.windowSamples, pad = Self.nFFT / 2, hop = Self.hopLength, nFFT = Self.nFFT
        let frames = Self.frames, bins = nFFT / 2 + 1
        // Steps 1-2: the padded signal, length n + 2 * pad, in f64.
        var signal = [Double](repeating: 0, count: n + 2 * pad)
        let used = min(samples.count, n)
        for i in 0..<used { signal[pad + i] = Double(samples[i]) }
        // Reflection of the zero-padded 30 s signal: x[1...pad] on the left, x[n-1-pad..<n-1] on the right.
        for i in 0..<pad {
            signal[pad - 1 - i] = signal[pad + 1 + i]
            signal[pad + n + i] = signal[pad + n - 2 - i]
        }
        var mel = [Double](repeating: 0, count: melBins * frames)
        signal.withUnsafeBufferPointer { sig in
            window.withUnsafeBufferPointer { win in
                filters.weights.withUnsafeBufferPointer { w in
                    var frame = [Double](repeating: 0, count: nFFT)
                    var re = [Double](repeating: 0, count: bins), im = re, power = re
                    var scratch = fft.makeScratch()
                    for t in 0..<frames {
                        let start = t * hop
                        for i in 0..<nFFT { frame[i] = sig[start + i] * win[i] }
                        frame.withUnsafeBufferPointer { f in
                            re.withUnsafeMutableBufferPointer { r in im.withUnsafeMutableBufferPointer { m in
                                scratch.withUnsafeMutableBufferPointer { s in
                                    fft.forward(f.baseAddress!, re: r.baseAddress!, im: m.baseAddress!, scratch: s.baseAddress!)
                                }
                            } }
                        }
                        for k in 0..<bins { power[k] = re[k] * re[k] + im[k] * im[k] }
                        for m in 0..<melBins {
                            var acc = 0.0
                            for k in filters.ranges[m] { acc += w[m * bins + k] * power[k] }
                            mel[m * frames + t] = acc
                        }
                    }
                }
            }
        }
        // Step 5.
        var top = -Double.infinity
        for i in mel.indices { let v = log10(max(mel[i], 1e-10)); mel[i] = v; top = max(top, v) }
        let floor = top - 8
        let values = mel.map { Float((max($0, floor) + 4) / 4) }
        return MelFeatures(melBins: melBins, frames: frames, values: values)
    }
}
