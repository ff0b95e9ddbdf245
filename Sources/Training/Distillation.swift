import Foundation
import Tensor

// Knowledge distillation of a student LoRA from language experts (teacher for each utterance =
// the expert of its language), per logits row r of the student (z) and teacher (z^t):
//
//   transcript rows (r >= transcriptTargetRow, target y_r >= 0):
//     loss_r = T^2 KL(p_r || q_r) + lambda CE(z_r, y_r),   p = softmax(z^t / T), q = softmax(z / T)
//     dz_r   = T (q_r - p_r) + lambda (softmax(z_r) - onehot(y_r))
//   the language row (r < transcriptTargetRow, y_r = the language token):
//     loss_r = CE(z_r, y_r)                dz_r = softmax(z_r) - onehot(y_r)
//     the teachers never learned language ID (their training ignored that row), so the
//     student learns it from the reference label alone;
//   rows without a target: no loss.
//
// T^2 keeps the KL gradient's size independent of T (Hinton et al. 2015). The KL term is 0,
// and its gradient too, when the student's logits equal the teacher's.

/// Distillation hyper-parameters, recorded in the composite's recipe.
public struct DistillationConfig: Codable, Sendable, Equatable {
    /// Softmax temperature T of both distributions in the KL term.
    public var temperature: Double = 2
    /// lambda: weight of the cross-entropy on the reference tokens.
    public var ceWeight: Double = 0.5
    public init(temperature: Double = 2, ceWeight: Double = 0.5) { self.temperature = temperature; self.ceWeight = ceWeight }
}

/// Row-wise softmax of logits [rows, V] at `temperature`: softmax(z / T) with Tensor's row
/// kernel (the one the runtime and the cross-entropy use).
public func softmaxRows(_ logits: [Float], vocab v: Int, temperature: Float) -> [Float] {
    var p = logits
    let rows = logits.count / v, inv = 1 / temperature
    p.withUnsafeMutableBufferPointer { pp in
        for r in 0..<rows {
            let row = pp.baseAddress! + r * v
            if temperature != 1 { for j in 0..<v { row[j] *= inv } }
            Compute.softmaxRow(row, valid: v, cols: v)
        }
    }
    return p
}

/// Loss (summed over rows, f64) and unscaled dlogits [rows, V] of the distillation objective
/// above. `logits` and `teacherProbs` are [rows, V] from row `firstRow` of the sequence;
/// `targets` holds those rows' targets. `count` is the number of rows with a loss.
func distillationLoss(logits: [Float], teacherProbs: [Float], targets: [Int], firstRow: Int, vocab v: Int,
                      temperature t: Float, ceWeight lambda: Float) -> (lossSum: Double, count: Int, probs: [Float]) {
    let rows = targets.count
    precondition(logits.count == rows * v && teacherProbs.count == rows * v,
                 "distillationLoss: logits \(logits.count), teacher \(teacherProbs.count) for \(rows) x \(v)")
    let q = softmaxRows(logits, vocab: v, temperature: t)
    let p1 = t == 1 ? q : softmaxRows(logits, vocab: v, temperature: 1)
    var grad = [Float](repeating: 0, count: rows * v)
    var loss = 0.0, count = 0
    for r in 0..<rows where targets[r] >= 0 {
        let y = targets[r], base = r * v
        let isTranscript = firstRow + r >= transcriptTargetRow
        let ceW: Float = isTranscript ? lambda : 1
        // CE(z, y) = -log softmax(z)_y; the probability is clamped so a vanishing one stays finite.
        loss += Double(ceW) * -log(max(Double(p1[base + y]), 1e-30))
        for j in 0..<v { grad[base + j] = ceW * p1[base + j] }
        grad[base + y] -= ceW
        if isTranscript {
            var kl = 0.0
            for j in 0..<v {
                let pj = teacherProbs[base + j]
                if pj > 0 { kl += Double(pj) * (log(Double(pj)) - log(max(Double(q[base + j]), 1e-30))) }
                grad[base + j] += t * (q[base + j] - pj)
            }
            loss += Double(t * t) * kl
        }
        count += 1
    }
    return (loss, count, grad)
}
