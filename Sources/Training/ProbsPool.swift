import Foundation
import Tensor

/// Keeps the encoder's attention-probability buffers ([H, S, S] f32: 72 MB per layer on
/// whisper-base) for the next step instead of freeing them.
///
/// Why: glibc maps every block over 32 MB afresh and unmaps it on free, so each training
/// step page-faulted the 6 x 72 MB of probabilities of each utterance back in (0.25 s of a
/// 2.3 s encoder+decoder step on whisper-base, `TrainBench 1 profile`). Smaller buffers come
/// from memory glibc keeps. One pool per graph, shared by the utterances it runs at once.
final class ProbsPool: @unchecked Sendable {
    private let lock = NSLock()
    private var free: [[Float]] = []
    /// Buffers kept at most: the encoder layers of a few utterances in flight.
    private let capacity: Int
    /// Smallest buffer (floats) worth keeping.
    private let keepFrom: Int

    init(capacity: Int, keepFrom: Int = ProbsPool.worthKeeping) { self.capacity = capacity; self.keepFrom = keepFrom }

    /// Buffers held now.
    var count: Int { lock.lock(); defer { lock.unlock() }; return free.count }

    /// A buffer of exactly `count` floats, contents unspecified (attention writes all of it).
    func take(_ count: Int) -> [Float] {
        lock.lock()
        let i = free.firstIndex { $0.count == count }
        let reused = i.map { free.remove(at: $0) }
        lock.unlock()
        return reused ?? uninitializedFloats(count)
    }

    /// Takes `buffer` back (leaving it empty) when it is large enough to be worth keeping.
    func give(_ buffer: inout [Float]) {
        guard buffer.count >= keepFrom else { buffer = []; return }
        var b: [Float] = []
        swap(&b, &buffer)
        lock.lock()
        if free.count < capacity { free.append(b) }
        lock.unlock()
    }

    /// Below this (floats) glibc's heap serves frees and reallocations without faults.
    static let worthKeeping = (32 << 20) / MemoryLayout<Float>.stride
}
