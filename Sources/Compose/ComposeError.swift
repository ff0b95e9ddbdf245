import Tensor

/// Why a composition was refused. Each case names the expert or module concerned and how
/// to fix the call; the facade wraps it once with the command's context.
public enum ComposeError: Error, CustomStringConvertible, Equatable {
    case noExperts
    case weightCount(expected: Int, got: Int)
    case badWeight(index: Int, value: Double)
    case badDensity(Double)
    case badRank(Int)
    /// Two experts give module `module` different [out, in] shapes.
    case shapeConflict(module: String, first: String, firstShape: [Int], other: String, otherShape: [Int])
    case badFactors(expert: String, module: String, reason: String)
    case nonFinite(expert: String, module: String)
    case linearAlgebra(module: String, LinearAlgebraError)

    public var description: String {
        switch self {
        case .noExperts: return "no experts to compose; give at least one with --experts or --languages"
        case .weightCount(let e, let g): return "--weights lists \(g) values for \(e) experts; give one weight per expert, in the same order"
        case .badWeight(let i, let v): return "weight \(i + 1) is \(v); weights must be finite"
        case .badDensity(let d): return "--density \(d) is outside (0, 1]; it is the fraction of each delta's entries kept (e.g. 0.5)"
        case .badRank(let r): return "--rank \(r) must be at least 1"
        case .shapeConflict(let m, let a, let sa, let b, let sb):
            return "\(m) is \(sa) in \(a) but \(sb) in \(b): the experts do not adapt the same model; compose experts of one base"
        case .badFactors(let e, let m, let r): return "\(e): \(m): \(r)"
        case .nonFinite(let e, let m): return "\(e): \(m) holds NaN or infinity; re-import or retrain that expert"
        case .linearAlgebra(let m, let e): return "\(m): \(e)"
        }
    }
}
