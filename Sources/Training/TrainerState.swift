import DurableFiles
import Foundation
import GlossaCore

/// Everything needed to continue a run after a kill and end with the same bits as an
/// uninterrupted run: parameters, Adam moments, the data order and cursor, the RNG, and the
/// early-stopping bookkeeping.
public struct TrainerState: Sendable, Equatable {
    /// Optimizer steps done.
    public var step: Int
    /// Current epoch (0-based) and position in its shuffled order.
    public var epoch: Int
    public var cursor: Int
    public var order: [Int]
    public var rng: SeededGenerator
    public var params: LoRAParameters
    public var adam: AdamWState
    public var best: LoRAParameters?
    public var bestDevLoss: Double?
    public var bestStep: Int
    public var evalsWithoutImprovement: Int
    public var tokensSeen: Int
    public var lastTrainLoss: Double?
    public var stoppedEarly: Bool
    /// Digest of the config and data this state belongs to; resuming elsewhere is refused.
    public var fingerprint: String

    static let magic = Array("GLOSSA-TRAINER-STATE-1\n".utf8)

    struct Header: Codable {
        var step, epoch, cursor: Int
        var order: [Int]
        var rng: SeededGenerator
        var names: [String]
        var ranks: [Int]
        var scales: [Float]
        var sizesA: [Int]
        var sizesB: [Int]
        var adamT: Int
        var hasBest: Bool
        var bestDevLoss: Double?
        var bestStep, evalsWithoutImprovement, tokensSeen: Int
        var lastTrainLoss: Double?
        var stoppedEarly: Bool
        var fingerprint: String
    }

    /// Binary form: magic, u64 header length, JSON header, then f32 LE values of params, Adam m,
    /// Adam v and (if any) best params, factor by factor (A then B).
    public func serialized() -> Data {
        let p = params
        let header = Header(step: step, epoch: epoch, cursor: cursor, order: order, rng: rng, names: p.names,
                            ranks: p.factors.map(\.rank), scales: p.factors.map(\.scale),
                            sizesA: p.factors.map(\.a.count), sizesB: p.factors.map(\.b.count), adamT: adam.t,
                            hasBest: best != nil, bestDevLoss: bestDevLoss, bestStep: bestStep,
                            evalsWithoutImprovement: evalsWithoutImprovement, tokensSeen: tokensSeen,
                            lastTrainLoss: lastTrainLoss, stoppedEarly: stoppedEarly, fingerprint: fingerprint)
        let json = try! JSONEncoder().encode(header)   // plain value types: cannot fail
        var out = Data(Self.magic)
        var n = UInt64(json.count).littleEndian
        withUnsafeBytes(of: &n) { out.append(contentsOf: $0) }
        out.append(json)
        for set in [params, adam.m, adam.v] + (best.map { [$0] } ?? []) {
            for f in set.factors {
                f.a.withUnsafeBytes { out.append(contentsOf: $0) }
                f.b.withUnsafeBytes { out.append(contentsOf: $0) }
            }
        }
        return out
    }

    /// Parses `serialized()` output; `path` only names the source in errors.
    public init(serialized data: Data, path: String) throws(TrainingError) {
        let bytes = [UInt8](data)
        let m = Self.magic.count
        guard bytes.count >= m + 8, Array(bytes[0..<m]) == Self.magic else { throw .checkpoint(path: path, reason: "not a Glossa trainer state") }
        var len: UInt64 = 0
        for i in 0..<8 { len |= UInt64(bytes[m + i]) << (8 * UInt64(i)) }
        guard Int(len) <= bytes.count - m - 8 else { throw .checkpoint(path: path, reason: "truncated header") }
        let start = m + 8, end = start + Int(len)
        let h: Header
        do { h = try JSONDecoder().decode(Header.self, from: Data(bytes[start..<end])) } catch {
            throw .checkpoint(path: path, reason: "bad header: \(error)")
        }
        var offset = end
        let floatsPerSet = zip(h.sizesA, h.sizesB).reduce(0) { $0 + $1.0 + $1.1 }
        let sets = 3 + (h.hasBest ? 1 : 0)
        guard bytes.count - offset == 4 * floatsPerSet * sets else {
            throw .checkpoint(path: path, reason: "expected \(4 * floatsPerSet * sets) bytes of values, found \(bytes.count - offset) (truncated write?)")
        }
        func read(_ n: Int) -> [Float] {
            var v = [Float](repeating: 0, count: n)
            v.withUnsafeMutableBytes { dst in bytes.withUnsafeBytes { src in
                dst.copyMemory(from: UnsafeRawBufferPointer(rebasing: src[offset..<(offset + 4 * n)]))
            } }
            offset += 4 * n
            return v
        }
        func readSet() -> LoRAParameters {
            var fs: [LoRAFactors] = []
            for k in h.names.indices {
                let a = read(h.sizesA[k]); let b = read(h.sizesB[k])
                fs.append(LoRAFactors(a: a, b: b, rank: h.ranks[k], scale: h.scales[k]))
            }
            return LoRAParameters(names: h.names, factors: fs)
        }
        params = readSet()
        var adam = AdamWState(like: params)
        adam.m = readSet(); adam.v = readSet(); adam.t = h.adamT
        self.adam = adam
        best = h.hasBest ? readSet() : nil
        step = h.step; epoch = h.epoch; cursor = h.cursor; order = h.order; rng = h.rng
        bestDevLoss = h.bestDevLoss; bestStep = h.bestStep; evalsWithoutImprovement = h.evalsWithoutImprovement
        tokensSeen = h.tokensSeen; lastTrainLoss = h.lastTrainLoss; stoppedEarly = h.stoppedEarly; fingerprint = h.fingerprint
    }

    init(params: LoRAParameters, rng: SeededGenerator, fingerprint: String) {
        self.step = 0; self.epoch = 0; self.cursor = 0; self.order = []; self.rng = rng
        self.params = params; self.adam = AdamWState(like: params); self.best = nil; self.bestDevLoss = nil
        self.bestStep = 0; self.evalsWithoutImprovement = 0; self.tokensSeen = 0; self.lastTrainLoss = nil
        self.stoppedEarly = false; self.fingerprint = fingerprint
    }

    /// Writes the state crash-safely (`AtomicFileWriter`: temporary beside it, fsync, rename,
    /// directory fsync): a kill leaves the old state or the new one, never a torn file.
    public func write(to url: URL) throws(TrainingError) {
        do { try AtomicFileWriter.write(serialized(), to: url.path) } catch {
            throw .checkpoint(path: url.path, reason: "write failed: \(error)")
        }
    }

    /// Reads a state written by `write(to:)`.
    public static func read(from url: URL) throws(TrainingError) -> TrainerState {
        let data: Data
        do { data = try Data(contentsOf: url) } catch { throw .checkpoint(path: url.path, reason: "cannot read: \(error)") }
        return try TrainerState(serialized: data, path: url.path)
    }
}
