// 1-D convolution of the Whisper encoder stem (forward only: no adapter sits below it,
// so no gradient ever has to flow through it).
//
//   model.encoder.conv1.weight [d, n_mels, 3], stride 1, padding 1
//   model.encoder.conv2.weight [d, d, 3],      stride 2, padding 1
//
// Computed as im2col + one GEMM: cols[L_out, C_in*K] (index c*K + k, matching the weight's
// [C_out, C_in, K] layout), y[L_out, C_out] = cols W^T + b. Output is time-major.

/// Input layout for `conv1dForward`.
enum ConvInputLayout { case channelsFirst /* [C, L], e.g. log-mel [n_mels, frames] */, timeFirst /* [L, C] */ }

/// Forward. x [C_in, L] or [L, C_in]; w [C_out, C_in, K]; b [C_out] -> y [L_out, C_out].
func conv1dForward(_ mm: any GEMMBackend, _ x: [Float], layout: ConvInputLayout, channels cIn: Int, length l: Int,
                   weight w: [Float], bias b: [Float], outChannels cOut: Int, kernel k: Int,
                   stride: Int, padding: Int) -> (y: [Float], length: Int) {
    let lOut = (l + 2 * padding - k) / stride + 1
    let (cs, ts) = layout == .channelsFirst ? (l, 1) : (1, cIn)
    let width = cIn * k
    var cols = [Float](repeating: 0, count: lOut * width)
    x.withUnsafeBufferPointer { xp in
        cols.withUnsafeMutableBufferPointer { cp in
            for o in 0..<lOut {
                let row = cp.baseAddress! + o * width
                for kk in 0..<k {
                    let pos = o * stride + kk - padding
                    guard pos >= 0 && pos < l else { continue }
                    for c in 0..<cIn { row[c * k + kk] = xp[c * cs + pos * ts] }
                }
            }
        }
    }
    var y = [Float](repeating: 0, count: lOut * cOut)
    for o in 0..<lOut { for c in 0..<cOut { y[o * cOut + c] = b[c] } }
    matmul(mm, cols, w, transB: true, m: lOut, n: cOut, k: width, beta: 1, into: &y)
    return (y, lOut)
}
