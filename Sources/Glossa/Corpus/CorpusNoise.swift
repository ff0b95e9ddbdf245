import Foundation
import GlossaCore

/// Additive background noise for synthetic speech, mixed at a chosen signal-to-noise ratio.
///
/// SNR is measured on power over the whole utterance, its leading and trailing silence
/// included: noise RMS = speech RMS / 10^(SNR/20). So 20 dB means the noise carries 1% of
/// the utterance's power; 0 dB means as much power as the speech. Pure: no I/O.
public enum CorpusNoise {
    /// Spectral shape of the noise.
    public enum Kind: String, Sendable, CaseIterable, Codable {
        /// Flat spectrum: independent uniform samples.
        case white
        /// Power falling 3 dB per octave (1/f), closer to room and street noise than white.
        case pink
    }

    /// Accepted SNR range in dB. Below -10 dB the speech is buried (not a useful training
    /// signal); above 60 dB the noise is below 16-bit quantisation and does nothing.
    public static let snrRange: ClosedRange<Double> = -10...60

    /// `samples` with noise of `kind` mixed in at `snrDB`, drawn from `seed`.
    /// The mix is scaled down as a whole if its peak would pass 0.999 (full scale is 1),
    /// which keeps the SNR and avoids the WAV writer's clipping. Silent input is returned as is.
    public static func mix(_ samples: [Float], snrDB: Double, kind: Kind, seed: UInt64) -> [Float] {
        guard !samples.isEmpty else { return samples }
        let speechPower = samples.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(samples.count)
        guard speechPower > 0 else { return samples }
        var noise = generate(count: samples.count, kind: kind, seed: seed)
        let noisePower = noise.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(noise.count)
        // Power ratio speech/noise = 10^(SNR/10), so the amplitude gain is a square root of it.
        let gain = (speechPower / (noisePower * pow(10, snrDB / 10))).squareRoot()
        var peak: Float = 0
        for i in noise.indices {
            noise[i] = samples[i] + Float(gain * Double(noise[i]))
            peak = max(peak, abs(noise[i]))
        }
        if peak > 0.999 {
            let scale = 0.999 / peak
            for i in noise.indices { noise[i] *= scale }
        }
        return noise
    }

    /// `count` samples of zero-mean noise with roughly unit amplitude (not normalised;
    /// `mix` measures the power it actually got).
    static func generate(count: Int, kind: Kind, seed: UInt64) -> [Float] {
        var rng = SeededGenerator(seed: seed)
        switch kind {
        case .white:
            return (0..<count).map { _ in rng.uniform(-1, 1) }
        case .pink:
            // Voss-McCartney: row k holds a random value redrawn every 2^k samples (the row
            // picked at sample n is the number of trailing zero bits of n); the sum of rows
            // plus fresh white noise has a spectrum close to 1/f over ~`rows` octaves.
            let rows = 16
            var values = (0..<rows).map { _ in rng.uniform(-1, 1) }
            var sum = values.reduce(0, +)
            var out = [Float](repeating: 0, count: count)
            for n in 0..<count {
                if n > 0 {
                    let k = min(rows - 1, n.trailingZeroBitCount)
                    let fresh = rng.uniform(-1, 1)
                    sum += fresh - values[k]
                    values[k] = fresh
                }
                out[n] = (sum + rng.uniform(-1, 1)) / Float(rows + 1)
            }
            return out
        }
    }
}
