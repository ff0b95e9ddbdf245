import Tensor

// 1-D convolution of the Whisper encoder stem (forward only: no adapter sits below it,
// so no gradient ever has to flow through it), on the runtime's `Compute.conv1d`.
//
//   model.encoder.conv1.weight [d, n_mels, 3], stride 1, padding 1
//   model.encoder.conv2.weight [d, d, 3],      stride 2, padding 1

/// Input layout for `conv1dForward`.
enum ConvInputLayout { case channelsFirst /* [C, L], e.g. log-mel [n_mels, frames] */, timeFirst /* [L, C] */ }

/// Forward. x [C_in, L] or [L, C_in]; w [C_out, C_in, K]; b [C_out] -> y [L_out, C_out] time-major.
func conv1dForward(_ c: Compute, _ x: [Float], layout: ConvInputLayout, channels cIn: Int, length l: Int,
                   weight w: [Float], bias b: [Float], outChannels cOut: Int, kernel k: Int,
                   stride: Int, padding: Int) -> (y: [Float], length: Int) {
    let lOut = Compute.conv1dOutLength(l, kernel: k, stride: stride, padding: padding)
    let (cs, ts) = layout == .channelsFirst ? (l, 1) : (1, cIn)
    var y = uninitializedFloats(lOut * cOut)
    var scratch = uninitializedFloats(Compute.conv1dScratch(inChannels: cIn, kernel: k, outLength: lOut))
    y.withUnsafeMutableBufferPointer { yp in scratch.withUnsafeMutableBufferPointer { sp in
        c.conv1d(input: x, length: l, inChannels: cIn, timeStride: ts, channelStride: cs, weight: w, bias: b, outChannels: cOut,
                 kernel: k, stride: stride, padding: padding, out: yp.baseAddress!, scratch: sp.baseAddress!)
    } }
    return (y, lOut)
}
