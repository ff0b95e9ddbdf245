import GlossaCore

/// Scratch f32 buffers for one model call, carved from a single allocation, as llm.c and
/// whisper.cpp lay out their activations: one scope instead of a closure per buffer.
///
///     withWorkspace([rows * d, rows * ffn]) { w in
///         let (h, f) = (w[0], w[1])      // [rows, d], [rows, ffn]
///         ...
///     }
///
/// Buffers start uninitialised, each on a 64-byte boundary (a cache line; whole SIMD16
/// loads), and are valid only inside `body`. A large workspace (the encoder's is ~27 MB for
/// a 30 s window) asks for huge pages: it is a fresh mapping each call, faulted in as used.
public func withWorkspace<R>(_ counts: [Int], _ body: ([UnsafeMutablePointer<Float>]) throws -> R) rethrows -> R {
    let line = 16   // floats per 64 bytes
    var offsets: [Int] = [], total = 0
    for n in counts {
        precondition(n >= 0, "withWorkspace: negative buffer size \(n)")
        offsets.append(total)
        total += (n + line - 1) / line * line
    }
    return try withUnsafeTemporaryAllocation(byteCount: max(1, total) * 4, alignment: 64) { raw in
        HugePages.advise(raw)
        let base = raw.baseAddress!.bindMemory(to: Float.self, capacity: total)
        return try body(offsets.map { base + $0 })
    }
}
