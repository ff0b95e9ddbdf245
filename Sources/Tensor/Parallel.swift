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
