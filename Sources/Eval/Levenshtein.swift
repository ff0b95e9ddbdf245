/// Minimum-edit alignment with the same tie-breaking as rapidfuzz's
/// `Levenshtein.editops` (which jiwer uses), so S/D/I counts match jiwer, not only
/// their sum: the common prefix and suffix are matched first, then the backtrace from
/// the end prefers a deletion, then an insertion, then the diagonal.
///
/// Time and memory O(n * m) on the part left after removing the common affixes.
public enum Levenshtein {
    public static func align<T: Equatable>(reference r: [T], hypothesis h: [T]) -> EditCounts {
        var prefix = 0
        while prefix < r.count && prefix < h.count && r[prefix] == h[prefix] { prefix += 1 }
        var suffix = 0
        while suffix < r.count - prefix && suffix < h.count - prefix && r[r.count - 1 - suffix] == h[h.count - 1 - suffix] {
            suffix += 1
        }
        let a = r[prefix..<(r.count - suffix)], b = h[prefix..<(h.count - suffix)]
        let n = a.count, m = b.count
        var counts = EditCounts(hits: prefix + suffix)
        if n == 0 { counts.insertions = m; return counts }
        if m == 0 { counts.deletions = n; return counts }
        // d[col + row * (n + 1)] = distance between a[..<col] and b[..<row].
        let stride = n + 1
        var d = [Int32](repeating: 0, count: stride * (m + 1))
        for c in 0...n { d[c] = Int32(c) }
        let ai = Array(a), bi = Array(b)
        for row in 1...m {
            d[row * stride] = Int32(row)
            for col in 1...n {
                let diag = d[(row - 1) * stride + col - 1] + (ai[col - 1] == bi[row - 1] ? 0 : 1)
                let del = d[row * stride + col - 1] + 1
                let ins = d[(row - 1) * stride + col] + 1
                d[row * stride + col] = min(diag, del, ins)
            }
        }
        var col = n, row = m
        while row != 0 && col != 0 {
            if d[row * stride + col] - d[row * stride + col - 1] == 1 {
                counts.deletions += 1; col -= 1
            } else {
                row -= 1
                if row != 0 && d[row * stride + col] - d[row * stride + col - 1] == -1 {
                    counts.insertions += 1
                } else {
                    col -= 1
                    if ai[col] == bi[row] { counts.hits += 1 } else { counts.substitutions += 1 }
                }
            }
        }
        counts.deletions += col
        counts.insertions += row
        return counts
    }
}
