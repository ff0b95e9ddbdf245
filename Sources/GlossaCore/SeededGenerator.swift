// The project's one seeded generator: LoRA init and data order in training, drop masks in
// composing, sampling in decoding and random test models all derive from a seed through it,
// so the same inputs and seed give bit-identical results.

/// SplitMix64: tiny, fast, fully specified, and its whole state is one UInt64, which
/// makes checkpointing the generator trivial.
public struct SeededGenerator: RandomNumberGenerator, Sendable, Codable, Equatable {
    public private(set) var state: UInt64
    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform Float in [lo, hi) from the top 24 bits (exactly representable steps).
    public mutating func uniform(_ lo: Float, _ hi: Float) -> Float {
        let u = Float(next() >> 40) / Float(1 << 24)
        return lo + (hi - lo) * u
    }

    /// Uniform Double in [0, 1) from the top 53 bits.
    public mutating func unitDouble() -> Double { Double(next() >> 11) / Double(1 << 53) }

    /// Standard normal by Box-Muller (tests and random models only).
    public mutating func normal() -> Float {
        let u1 = max(unitDouble(), 1e-300)
        let u2 = unitDouble()
        return Float((-2 * _log(u1)).squareRoot() * _cos(2 * Double.pi * u2))
    }
}

import Foundation
@inline(__always) private func _log(_ x: Double) -> Double { Foundation.log(x) }
@inline(__always) private func _cos(_ x: Double) -> Double { Foundation.cos(x) }
