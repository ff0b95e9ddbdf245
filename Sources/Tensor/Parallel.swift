import Dispatch

/// Splits `0..<count` into `parts` contiguous ranges run concurrently (at most `parts`
/// threads). Used for element-wise kernels, which OpenBLAS does not thread for us.
@inline(__always)
func parallelRanges(_ count: Int, parts: Int, minPerPart: Int = 4096, _ body: (Range<Int>) -> Void) {
    let p = max(1, min(parts, count / max(1, minPerPart)))
    if p <= 1 { body(0..<count); return }
    // The ranges are disjoint and `concurrentPerform` returns only when all are done, so
    // the caller's (pointer-capturing, non-Sendable) body is safe to share here.
    nonisolated(unsafe) let work = body
    DispatchQueue.concurrentPerform(iterations: p) { i in
        let lo = count * i / p, hi = count * (i + 1) / p
        work(lo..<hi)
    }
}

/// Runs `body(0..<n)` with up to `width` iterations at once (chunks of `width`, each on
/// `concurrentPerform`); results in index order, so reductions over them are deterministic.
public func concurrentMap<T: Sendable>(_ n: Int, width: Int, _ body: @Sendable (Int) -> T) -> [T] {
    if width <= 1 || n <= 1 { return (0..<n).map(body) }
    let slots = ResultSlots<T>(count: n)
    var start = 0
    while start < n {
        let chunk = min(width, n - start)
        let base = start
        DispatchQueue.concurrentPerform(iterations: chunk) { j in slots.set(base + j, body(base + j)) }
        start += chunk
    }
    return slots.values()
}

/// Fixed-size result buffer written by concurrent iterations, each at its own index.
/// @unchecked Sendable: every index is written by exactly one iteration, and read only
/// after `concurrentPerform` has returned (which orders the writes before the reads).
final class ResultSlots<T>: @unchecked Sendable {
    private let buffer: UnsafeMutableBufferPointer<T?>
    init(count: Int) { buffer = .allocate(capacity: count); buffer.initialize(repeating: nil) }
    func set(_ i: Int, _ v: T) { buffer[i] = v }
    func values() -> [T] { buffer.map { $0! } }
    deinit { buffer.deinitialize(); buffer.deallocate() }
}
