import Foundation

/// Triangular mel filters on the Slaney mel scale with Slaney ("area") normalisation,
/// as librosa `mel(htk=False, norm="slaney")` and Hugging Face
/// `mel_filter_bank(norm="slaney", mel_scale="slaney")` build them for Whisper.
///
/// Shape [melBins][fftBins], fftBins = nFFT/2 + 1 (201 for Whisper), f64. Each
/// filter is non-zero on one contiguous bin range, kept to skip the zeros.
public struct MelFilterBank: Sendable {
    public let melBins: Int
    public let fftBins: Int
    /// Row-major weights [melBins * fftBins].
    public let weights: [Double]
    /// Per filter, the half-open bin range holding its non-zero weights.
    public let ranges: [Range<Int>]

    /// Slaney scale: linear below 1 kHz (3 mels per 200 Hz), logarithmic above.
    static func hertzToMel(_ f: Double) -> Double {
        let minLogHz = 1000.0, minLogMel = 15.0, logStep = 27.0 / log(6.4)
        return f >= minLogHz ? minLogMel + log(f / minLogHz) * logStep : 3.0 * f / 200.0
    }

    static func melToHertz(_ m: Double) -> Double {
        let minLogHz = 1000.0, minLogMel = 15.0, logStep = log(6.4) / 27.0
        return m >= minLogMel ? minLogHz * exp(logStep * (m - minLogMel)) : 200.0 * m / 3.0
    }

    public init(melBins: Int, nFFT: Int = 400, sampleRate: Int = 16_000, minHz: Double = 0, maxHz: Double = 8_000) {
        self.melBins = melBins
        let fftBins = nFFT / 2 + 1
        self.fftBins = fftBins
        // melBins + 2 edge frequencies equally spaced in mel.
        let lo = Self.hertzToMel(minHz), hi = Self.hertzToMel(maxHz)
        let edges = (0..<(melBins + 2)).map { Self.melToHertz(lo + (hi - lo) * Double($0) / Double(melBins + 1)) }
        // Bin centre frequencies: linspace(0, sampleRate / 2, fftBins).
        let nyquist = Double(sampleRate / 2)
        let freqs = (0..<fftBins).map { nyquist * Double($0) / Double(fftBins - 1) }
        var w = [Double](repeating: 0, count: melBins * fftBins)
        var ranges: [Range<Int>] = []
        for m in 0..<melBins {
            let left = edges[m], centre = edges[m + 1], right = edges[m + 2]
            let enorm = 2.0 / (right - left)
            var first = fftBins, last = 0
            for k in 0..<fftBins {
                let down = (freqs[k] - left) / (centre - left)
                let up = (right - freqs[k]) / (right - centre)
                let v = max(0, min(down, up)) * enorm
                w[m * fftBins + k] = v
                if v > 0 { first = min(first, k); last = max(last, k + 1) }
            }
            ranges.append(first < last ? first..<last : 0..<0)
        }
        weights = w
        self.ranges = ranges
    }
}
