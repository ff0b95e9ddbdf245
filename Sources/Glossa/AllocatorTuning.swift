import CMalloc

/// Process-wide settings of glibc's allocator for commands that run the model.
///
/// Why: a clip's buffers are large and short-lived (the encoder's workspace is about 40 MB,
/// each clip's cross-attention K/V 37 MB), and several clips are in flight on several threads.
/// glibc keeps freed memory in per-thread arenas and, after each large free, raises its mmap
/// threshold (up to 32 MB), so later large buffers come from arenas that never shrink. `glossa
/// eval --batch 4` on 24 clips peaked at 1050 MB that way; with a fixed 1 MB threshold (large
/// buffers are mapped and returned to the system when freed) and one arena per worker, 761 MB.
///
/// Not for training: a step frees and reallocates hundreds of MB of tape, which glibc's
/// default (a threshold that rises after large frees) serves from memory it keeps; with a
/// fixed 1 MB threshold each of those buffers is mapped and page-faulted in again every
/// step, 11% of an encoder+decoder LoRA step on whisper-base.
public enum AllocatorTuning {
    /// Applies the settings above for `workers` threads that allocate. Call once, at start-up,
    /// before the threads exist (Linux with glibc, as the package builds only there).
    public static func forModelWork(workers: Int) {
        _ = mallopt(M_MMAP_THRESHOLD, 1 << 20)
        _ = mallopt(M_ARENA_MAX, Int32(max(2, workers)))
    }
}
