import Foundation
import Synchronization
import Whisper

/// Runs jobs (one per clip or file) on `workers` groups of `batch` threads: one group per
/// core with BLAS single-threaded, and the threads of a group decode together through one
/// `DecodeBatcher` (each decoder step is one matrix-matrix pass for the group). Results come
/// back on the calling thread in job order, each as soon as it and those before it are done.
///
/// Threads, not a dispatch pool: a group's threads wait for each other at every step, so
/// all of them must run at once.
public enum BatchedWorkers {
    public static func run<T: Sendable>(count: Int, workers: Int, batch: Int, model: SpeechModel,
                                        job: @escaping @Sendable (Int, DecodeBatcher?) -> T,
                                        onResult: (Int, T) throws -> Void) rethrows {
        guard count > 0 else { return }
        let groups = max(1, min(workers, count))
        let threads = max(groups, min(groups * max(1, batch), count))
        let batchers = (0..<groups).map { _ in batch > 1 ? DecodeBatcher(model: model.model, compute: model.compute) : nil }
        let next = Atomic<Int>(0)
        let condition = NSCondition()
        nonisolated(unsafe) var results: [Int: T] = [:]   // guarded by `condition`
        for t in 0..<threads {
            let batcher = batchers[t % groups]
            let thread = Thread {
                while true {
                    let i = next.add(1, ordering: .relaxed).oldValue
                    if i >= count { return }
                    let r = job(i, batcher)
                    condition.lock(); results[i] = r; condition.broadcast(); condition.unlock()
                }
            }
            thread.stackSize = 8 << 20
            thread.start()
        }
        for i in 0..<count {
            condition.lock()
            while results[i] == nil { condition.wait() }
            let r = results.removeValue(forKey: i)!
            condition.unlock()
            try onResult(i, r)
        }
    }
}
