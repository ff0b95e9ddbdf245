import Foundation
import GlossaCore
import Tensor

/// Static fusion methods. All of them work on the experts' weight deltas
/// dW_e = s_e B_e A_e, never on A and B separately (PEFT's `linear` mixes A and B, which is
/// not a weighted sum of deltas).
///
/// - `cat`: exact. A = [A_1; ...; A_E] (ranks stacked), B = [w_1 s_1 B_1, ..., w_E s_E B_E];
///   B A = sum_e w_e dW_e with rank = the sum of the ranks.
/// - `linear`: D = sum_e w_e dW_e, truncated by SVD to the target rank.
/// - `ties`: each dW_e trimmed to its `density` fraction of largest magnitudes (T_e), the sign
///   of every entry elected as sign(sum_e w_e T_e), then the disjoint weighted mean
///   sum_{e agrees} w_e T_e / sum_{e agrees} w_e over the experts whose trimmed entry is
///   non-zero with the elected sign; truncated by SVD.
/// - `dare`: each entry of dW_e dropped with probability 1 - density and the kept ones divided
///   by density (T_e), then D = sum_e w_e T_e; truncated by SVD. The drop mask of expert e at
///   module m comes from `dareGenerator(seed:module:expert:)`, drawn in row-major order.
public enum FusionMethod: String, Sendable, CaseIterable, Codable {
    case cat, linear, ties, dare
}

/// What a static fusion needs besides the experts.
public struct FusionOptions: Sendable, Equatable {
    public var method: FusionMethod
    /// One per expert; nil means 1/E each (an average).
    public var weights: [Double]?
    /// Target rank of `linear`, `ties` and `dare` (nil: the largest input rank).
    public var rank: Int?
    /// Fraction of entries kept by `ties` and `dare`, in (0, 1].
    public var density: Double
    /// Seeds `dare`'s drop masks.
    public var seed: UInt64

    public init(method: FusionMethod, weights: [Double]? = nil, rank: Int? = nil, density: Double = 0.5, seed: UInt64 = 0) {
        self.method = method; self.weights = weights; self.rank = rank; self.density = density; self.seed = seed
    }

    /// The weights to use for `count` experts, checked.
    public func resolvedWeights(count: Int) throws(ComposeError) -> [Double] {
        let w = weights ?? [Double](repeating: 1 / Double(max(count, 1)), count: count)
        guard w.count == count else { throw .weightCount(expected: count, got: w.count) }
        for (i, v) in w.enumerated() where !v.isFinite { throw .badWeight(index: i, value: v) }
        return w
    }

    func validate(count: Int) throws(ComposeError) {
        _ = try resolvedWeights(count: count)
        if let rank, rank < 1 { throw .badRank(rank) }
        if method == .ties || method == .dare, !(density > 0 && density <= 1) { throw .badDensity(density) }
    }
}

/// Merge math on LoRA factors. Pure: no I/O; BLAS/LAPACK for products and SVDs.
///
/// Modules are independent, so `workers` of them are composed at once. Callers should run
/// BLAS single-threaded meanwhile: OpenBLAS's threaded SVD of these small matrices gains
/// little, and on a busy machine its threads wait on each other (a 6 s `linear` of two
/// experts took 409 s with 2 BLAS threads while other jobs ran).
public struct Composer: Sendable {
    public let blas: BLASLibrary
    public var workers: Int
    public init(blas: BLASLibrary, workers: Int = 1) { self.blas = blas; self.workers = max(1, workers) }

    /// `body(i)` for every module index, `workers` at a time, results in module order;
    /// `progress` after each batch. The first error (in module order) is thrown.
    func eachModule<T: Sendable>(_ count: Int, progress: (Int, Int) -> Void,
                                 _ body: @Sendable (Int) throws(ComposeError) -> T) throws(ComposeError) -> [T] {
        var out: [T] = []
        out.reserveCapacity(count)
        var start = 0
        while start < count {
            let n = min(workers, count - start), base = start
            let batch = concurrentMap(n, width: workers) { j -> Result<T, ComposeError> in
                do throws(ComposeError) { return .success(try body(base + j)) } catch { return .failure(error) }
            }
            for r in batch { out.append(try r.get()) }
            start += n
            progress(start, count)
        }
        return out
    }

    /// Fuses `inputs` into one adapter. `progress(done, total)` is called after each module.
    public func fuse(_ inputs: [ComposeInput], _ options: FusionOptions,
                     progress: (Int, Int) -> Void = { _, _ in }) throws(ComposeError) -> FusedAdapter {
        let deltas = try ExpertDeltas(inputs)
        try options.validate(count: deltas.count)
        let w = try options.resolvedWeights(count: deltas.count)
        let target = options.rank ?? deltas.maxRank
        let results = try eachModule(deltas.modules.count, progress: progress) { i throws(ComposeError) -> (FusedModule, Double?) in
            let module = deltas.modules[i]
            let (outF, inF) = deltas.shape(module)
            switch options.method {
            case .cat:
                return (concatenated(deltas, module, weights: w), nil)
            case .linear:
                // The weighted sum is exactly the cat product; its rank is at most the sum of ranks.
                let cat = concatenated(deltas, module, weights: w)
                return try truncate(cat.dense(blas: blas), module, outF: outF, inF: inF, rank: min(target, cat.rank))
            case .ties:
                return try truncate(ties(deltas, module, weights: w, density: options.density), module, outF: outF, inF: inF, rank: target)
            case .dare:
                return try truncate(dare(deltas, module, weights: w, density: options.density, seed: options.seed), module,
                                    outF: outF, inF: inF, rank: target)
            }
        }
        var out = FusedAdapter(modules: [:])
        for (module, (m, err)) in zip(deltas.modules, results) {
            out.modules[module] = m
            if let err { out.truncationError[module] = err }
        }
        return out
    }

    /// `cat` at one module: ranks stacked, weights and scales folded into B.
    func concatenated(_ deltas: ExpertDeltas, _ module: String, weights w: [Double]) -> FusedModule {
        let (outF, inF) = deltas.shape(module)
        let present = deltas.factors[module]!.enumerated().compactMap { e, f in f.map { (e, $0) } }
        let total = present.reduce(0) { $0 + $1.1.rank }
        var a = [Float](), b = [Float](repeating: 0, count: outF * total)
        a.reserveCapacity(total * inF)
        var col = 0
        for (e, f) in present {
            a += f.a
            let k = Float(w[e]) * f.scale
            for i in 0..<outF { for j in 0..<f.rank { b[i * total + col + j] = k * f.b[i * f.rank + j] } }
            col += f.rank
        }
        return FusedModule(a: a, b: b, rank: total, inF: inF, outF: outF)
    }

    /// TIES at one module (see the type's comment), dense [out, in].
    func ties(_ deltas: ExpertDeltas, _ module: String, weights w: [Double], density: Double) -> [Float] {
        let trimmed = (0..<deltas.count).map { e in trimToDensity(deltas.dense(module, expert: e, weight: 1, blas: blas), density) }
        let n = trimmed[0].count
        var merged = [Float](repeating: 0, count: n)
        for j in 0..<n {
            var total = 0.0
            for e in trimmed.indices { total += w[e] * Double(trimmed[e][j]) }
            guard total != 0 else { continue }
            var num = 0.0, den = 0.0
            for e in trimmed.indices {
                let v = Double(trimmed[e][j])
                if v != 0 && (v > 0) == (total > 0) { num += w[e] * v; den += w[e] }
            }
            if den != 0 { merged[j] = Float(num / den) }
        }
        return merged
    }

    /// DARE at one module (see the type's comment), dense [out, in].
    func dare(_ deltas: ExpertDeltas, _ module: String, weights w: [Double], density: Double, seed: UInt64) -> [Float] {
        let (outF, inF) = deltas.shape(module)
        var merged = [Float](repeating: 0, count: outF * inF)
        for e in 0..<deltas.count where deltas.factors[module]![e] != nil {
            let d = deltas.dense(module, expert: e, weight: 1, blas: blas)
            var rng = Composer.dareGenerator(seed: seed, module: module, expert: e)
            let k = Float(w[e] / density)
            for j in 0..<d.count where Composer.keep(&rng, density) { merged[j] += k * d[j] }
        }
        return merged
    }

    /// The drop-mask stream of expert `e` at `module`: SplitMix64 seeded with
    /// seed XOR FNV-1a-64(module) XOR (e + 1) * 0x9E3779B97F4A7C15, so every (module, expert)
    /// has its own reproducible mask whatever order modules are processed in.
    public static func dareGenerator(seed: UInt64, module: String, expert e: Int) -> SeededGenerator {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in module.utf8 { h = (h ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        return SeededGenerator(seed: seed ^ h ^ (UInt64(e + 1) &* 0x9E37_79B9_7F4A_7C15))
    }

    /// One Bernoulli(density) draw: keep when a uniform double in [0, 1) is below density.
    @inline(__always)
    public static func keep(_ rng: inout SeededGenerator, _ density: Double) -> Bool {
        Double(rng.next() >> 11) / Double(1 << 53) < density
    }

    /// Keeps the ceil(density * n) largest magnitudes (every entry tied with the smallest
    /// kept magnitude is kept too) and zeroes the rest.
    func trimToDensity(_ d: [Float], _ density: Double) -> [Float] {
        let k = min(d.count, max(1, Int((density * Double(d.count)).rounded(.up))))
        if k >= d.count { return d }
        var mags = d.map { abs($0) }
        let threshold = nthLargest(&mags, k)
        return d.map { abs($0) >= threshold ? $0 : 0 }
    }

    /// Truncated SVD of dense `d` [outF, inF] to `rank` (capped at min(outF, inF)), as
    /// balanced factors, with the relative Frobenius error of the truncation.
    func truncate(_ d: [Float], _ module: String, outF: Int, inF: Int, rank: Int) throws(ComposeError) -> (FusedModule, Double?) {
        let r = max(1, min(rank, outF, inF))
        let svd: SVD
        do { svd = try blas.svd(d, rows: outF, cols: inF, what: module) } catch { throw .linearAlgebra(module: module, error) }
        let (b, a) = svd.balancedFactors(rank: r)
        return (FusedModule(a: a, b: b, rank: r, inF: inF, outF: outF), svd.truncationError(rank: r))
    }
}

/// The k-th largest value of `v` (1-based k), by quickselect; reorders `v`.
func nthLargest(_ v: inout [Float], _ k: Int) -> Float {
    precondition(k >= 1 && k <= v.count)
    var lo = 0, hi = v.count - 1
    let target = k - 1   // index in descending order
    while lo < hi {
        // Median of three as pivot: no quadratic case on sorted input.
        let mid = lo + (hi - lo) / 2
        let pivot = max(min(v[lo], v[mid]), min(max(v[lo], v[mid]), v[hi]))
        var i = lo, j = hi
        while i <= j {
            while v[i] > pivot { i += 1 }
            while v[j] < pivot { j -= 1 }
            if i <= j { v.swapAt(i, j); i += 1; j -= 1 }
        }
        if target <= j { hi = j } else if target >= i { lo = i } else { return v[target] }
    }
    return v[target]
}
