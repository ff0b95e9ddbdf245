import GlossaCore
import Tensor

/// An expert as the composer sees it: a display name and its LoRA adapter.
public struct ComposeInput: Sendable {
    public var name: String
    public var adapter: LoRAWeights
    public init(name: String, adapter: LoRAWeights) { self.name = name; self.adapter = adapter }
}

/// One module's factors in f32: delta W = scale * B A, A [rank, inF], B [outF, rank].
struct Factors: Sendable {
    var a: [Float]
    var b: [Float]
    var rank: Int
    var inF: Int
    var outF: Int
    var scale: Float
}

/// The experts' factors, module by module. A module that some experts do not adapt counts
/// as a zero delta for them (`factors[module][e] == nil`).
struct ExpertDeltas: Sendable {
    /// Sorted module paths: the union over all experts.
    let modules: [String]
    /// module -> one entry per expert, in input order.
    let factors: [String: [Factors?]]
    let names: [String]

    init(_ inputs: [ComposeInput]) throws(ComposeError) {
        guard !inputs.isEmpty else { throw .noExperts }
        names = inputs.map(\.name)
        var table: [String: [Factors?]] = [:]
        var firstOwner: [String: (String, [Int])] = [:]
        for (e, input) in inputs.enumerated() {
            for (module, pair) in input.adapter.modules.sorted(by: { $0.key < $1.key }) {
                guard pair.a.shape.count == 2, pair.b.shape.count == 2, pair.a.shape[0] == pair.b.shape[1], pair.a.shape[0] > 0 else {
                    throw .badFactors(expert: input.name, module: module,
                                      reason: "lora_A \(pair.a.shape) and lora_B \(pair.b.shape) are not [r, in] and [out, r]")
                }
                let shape = [pair.b.shape[0], pair.a.shape[1]]
                if let (owner, s) = firstOwner[module], s != shape {
                    throw .shapeConflict(module: module, first: owner, firstShape: s, other: input.name, otherShape: shape)
                }
                firstOwner[module] = firstOwner[module] ?? (input.name, shape)
                let a: [Float], b: [Float]
                do { a = try HalfConversion.floats(from: pair.a); b = try HalfConversion.floats(from: pair.b) } catch {
                    throw .badFactors(expert: input.name, module: module, reason: "\(error)")
                }
                guard a.allSatisfy(\.isFinite), b.allSatisfy(\.isFinite), pair.scale.isFinite else {
                    throw .nonFinite(expert: input.name, module: module)
                }
                var row = table[module] ?? [Factors?](repeating: nil, count: inputs.count)
                row[e] = Factors(a: a, b: b, rank: pair.rank, inF: shape[1], outF: shape[0], scale: Float(pair.scale))
                table[module] = row
            }
        }
        modules = table.keys.sorted()
        factors = table
    }

    var count: Int { names.count }

    /// [out, in] of `module`.
    func shape(_ module: String) -> (out: Int, inF: Int) {
        let f = factors[module]!.first { $0 != nil }!!
        return (f.outF, f.inF)
    }

    /// The largest rank any expert has anywhere (the default target rank).
    var maxRank: Int { factors.values.flatMap { $0.compactMap { $0?.rank } }.max() ?? 1 }

    /// Dense weight delta of expert `e` at `module`, times `weight`: weight * scale * B A,
    /// row-major [out, in]; zeros when the expert does not adapt the module.
    func dense(_ module: String, expert e: Int, weight: Double, blas: BLASLibrary) -> [Float] {
        let (out, inF) = shape(module)
        var d = [Float](repeating: 0, count: out * inF)
        guard let f = factors[module]![e] else { return d }
        f.b.withUnsafeBufferPointer { bp in f.a.withUnsafeBufferPointer { ap in d.withUnsafeMutableBufferPointer { dp in
            blas.sgemm(m: out, n: inF, k: f.rank, alpha: Float(weight) * f.scale, a: bp.baseAddress!, lda: f.rank,
                       b: ap.baseAddress!, ldb: inF, c: dp.baseAddress!, ldc: inF)
        } } }
        return d
    }
}
