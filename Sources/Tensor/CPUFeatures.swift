import CBLAS

/// The widest x86 SIMD level this CPU *and* operating system can use (checked with CPUID
/// and XGETBV, so a kernel that does not save ZMM state reports AVX2, not AVX-512).
public enum SIMDLevel: Int, Sendable, Comparable, CustomStringConvertible {
    case baseline = 0, avx2 = 1, avx512 = 2

    /// Probes the running CPU.
    public static var current: SIMDLevel {
        let bits = glossa_cpu_simd_level()
        if bits & 2 != 0 { return .avx512 }
        if bits & 1 != 0 { return .avx2 }
        return .baseline
    }

    /// The OpenBLAS core type whose kernels fit this level: OpenBLAS 0.3.21 (Debian 12)
    /// misdetects some AVX-512 CPUs as Prescott (~24 GFLOPS sgemm instead of ~190 here).
    /// `nil` means "let OpenBLAS detect" (nothing better is known).
    public var openBLASCoreType: String? {
        switch self {
        case .avx512: return "SkylakeX"
        case .avx2: return "Haswell"
        case .baseline: return nil
        }
    }

    public static func < (a: SIMDLevel, b: SIMDLevel) -> Bool { a.rawValue < b.rawValue }
    public var description: String { ["baseline", "avx2", "avx512"][rawValue] }
}
