import Foundation

/// Learning-rate schedule: linear warmup to the peak, then decay to `minRatio * peak`.
public struct LRSchedule: Codable, Sendable, Equatable {
    public enum Decay: String, Codable, Sendable { case cosine, linear, constant }
    public var peak: Double
    public var warmupSteps: Int
    public var totalSteps: Int
    public var decay: Decay
    public var minRatio: Double

    public init(peak: Double, warmupSteps: Int, totalSteps: Int, decay: Decay = .cosine, minRatio: Double = 0) {
        self.peak = peak; self.warmupSteps = warmupSteps; self.totalSteps = totalSteps; self.decay = decay; self.minRatio = minRatio
    }

    /// Rate for 0-based optimizer step `step`. Warmup reaches the peak at step warmup-1
    /// ((step+1)/warmup, so the first update is not wasted at rate 0); decay then runs from
    /// the peak at step `warmupSteps` to `minRatio * peak` at the last step.
    public func rate(at step: Int) -> Double {
        if step < warmupSteps { return peak * Double(step + 1) / Double(warmupSteps) }
        let span = max(1, totalSteps - 1 - warmupSteps)
        let progress = min(1, Double(step - warmupSteps) / Double(span))
        let f: Double
        switch decay {
        case .constant: f = 1
        case .linear: f = 1 - progress
        case .cosine: f = 0.5 * (1 + cos(Double.pi * progress))
        }
        return peak * (minRatio + (1 - minRatio) * f)
    }
}
