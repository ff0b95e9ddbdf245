import Foundation
import Tensor

// Softmax cross-entropy over the vocabulary, no label smoothing.
//
//   loss_t = logsumexp(z_t) - z_t[y_t]            for targets y_t >= 0
//   dz_t   = gradScale * (softmax(z_t) - onehot(y_t)),   0 for ignored rows (y_t < 0)
//
// Ignored positions are the prompt tokens (SOT, language, task, notimestamps predictions).

/// Target value that marks a position without loss (PyTorch's `ignore_index` role).
public let ignoreTarget = -1

/// Forward. logits [T, V], targets [T]. Returns the summed loss over non-ignored rows (in
/// Double, to keep gradient checks clean), the count of those rows, and softmax probabilities
/// [T, V] for backward (rows of ignored targets are left as logits: backward zeroes them).
func crossEntropyForward(_ logits: [Float], targets: [Int], vocab v: Int) -> (lossSum: Double, count: Int, probs: [Float]) {
    let t = targets.count
    precondition(logits.count == t * v, "crossEntropy: logits \(logits.count) != \(t) x \(v)")
    var probs = logits
    var loss: Double = 0
    var count = 0
    probs.withUnsafeMutableBufferPointer { pp in
        for r in 0..<t where targets[r] >= 0 {
            precondition(targets[r] < v, "crossEntropy: target \(targets[r]) outside vocabulary \(v)")
            // The runtime's softmax row (Tensor's kernel); its max and sum give the loss.
            let (mx, s) = Compute.softmaxRow(pp.baseAddress! + r * v, valid: v, cols: v)
            loss += Double(mx) + log(Double(s)) - Double(logits[r * v + targets[r]])
            count += 1
        }
    }
    return (loss, count, probs)
}

/// Backward in place: `probs` becomes dlogits = gradScale * (p - onehot), zero on ignored rows.
func crossEntropyBackward(_ probs: inout [Float], targets: [Int], vocab v: Int, gradScale: Float) {
    probs.withUnsafeMutableBufferPointer { pp in
        for r in 0..<targets.count {
            let row = pp.baseAddress! + r * v
            if targets[r] < 0 {
                for j in 0..<v { row[j] = 0 }
            } else {
                for j in 0..<v { row[j] *= gradScale }
                row[targets[r]] -= gradScale
            }
        }
    }
}
