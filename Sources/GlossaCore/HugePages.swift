import Glibc

/// Transparent huge pages for large, freshly allocated buffers that are about to be filled.
///
/// Why: a fresh buffer from malloc's mmap path is faulted in 4 KiB at a time, one kernel
/// entry per page. Decoding a large f32 tensor spent ~10% of its time in those faults; with
/// 2 MiB pages it is one fault per 512 of them (`bench/codec`: f32 decode +15-20%).
/// Only a hint (`MADV_HUGEPAGE`): where THP is `never`, or a page cannot be found, nothing
/// changes. Worth it only for buffers that are written whole right away.
public enum HugePages {
    /// 2 MiB, the x86-64 and arm64 (4 KiB granule) transparent huge page size.
    public static let size = 2 << 20

    /// Advises huge pages for every whole 2 MiB page inside `buffer` (nothing for buffers
    /// under two huge pages, which hold at most one whole page).
    public static func advise(_ buffer: UnsafeMutableRawBufferPointer) {
        guard let pages = wholePages(in: UnsafeRawBufferPointer(buffer)) else { return }
        _ = madvise(UnsafeMutableRawPointer(bitPattern: pages.lowerBound), pages.count, MADV_HUGEPAGE)
    }

    /// The whole 2 MiB pages inside `buffer` (what `advise` covers) as an address range.
    public static func wholePages(in buffer: UnsafeRawBufferPointer) -> Range<Int>? {
        guard buffer.count >= 2 * size, let base = buffer.baseAddress else { return nil }
        let first = (Int(bitPattern: base) + size - 1) & ~(size - 1)
        let end = (Int(bitPattern: base) + buffer.count) & ~(size - 1)
        return end > first ? first..<end : nil
    }
}
