import Dispatch

/// Runs `body(0..<n)` with up to `width` iterations at once (chunks of `width`, each on
/// `concurrentPerform`); results in index order, so reductions over them are deterministic.
func concurrentMap<T: Sendable>(_ n: Int, width: Int, _ body: @Sendable (Int) -> T) -> [T] {
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
