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
/// Training needs the opposite (`forTraining`): a step frees and reallocates hundreds of MB
/// of tape, and every buffer glibc maps or hands back to the system is page-faulted in, and
/// zeroed by the kernel, again the next step.
public enum AllocatorTuning {
    /// Applies the settings above for `workers` threads that allocate. Call once, at start-up,
    /// before the threads exist (Linux with glibc, as the package builds only there).
    public static func forModelWork(workers: Int) {
        _ = mallopt(M_MMAP_THRESHOLD, 1 << 20)
        _ = mallopt(M_ARENA_MAX, Int32(max(2, workers)))
    }

    /// Settings for training (`glossa train`, distillation): buffers up to 32 MB (the most
    /// glibc allows; above it, the encoder's attention probabilities are pooled by the
    /// trainer) come from the heap, and freed memory stays there for the next step instead of
    /// being trimmed back to the system. glibc's default raises its mmap threshold after large
    /// frees but still trims the heap's top once over twice that threshold, so the kernel
    /// zeroed pages (perf: `clear_page_erms`) for about a tenth of an encoder+decoder LoRA step
    /// on whisper-base; `TrainBench 2 enc_dec 2x1`, 3 alternating runs: 8.39 / 8.44 s per step
    /// (min / median) with the defaults, 7.25 / 7.89 s with these. The cost: the process keeps
    /// its peak step memory until it exits.
    public static func forTraining() {
        _ = mallopt(M_MMAP_THRESHOLD, 32 << 20)
        _ = mallopt(M_TRIM_THRESHOLD, Int32.max)
    }
}
