import Tensor

// Array-level GELU for the training graph: the kernels are `Compute.gelu` and
// `Compute.geluBackward` (Tensor/Ops/GELU.swift), shared with the runtime.

/// Element-wise forward over any shape (the input is kept by the caller for backward).
func geluForward(_ c: Compute, _ x: [Float]) -> [Float] {
    var y = x
    y.withUnsafeMutableBufferPointer { c.gelu($0.baseAddress!, count: $0.count) }
    return y
}

/// Backward: dx = dy * gelu'(x), x being the forward input.
func geluBackward(_ c: Compute, _ dy: [Float], x: [Float]) -> [Float] {
    var dx = uninitializedFloats(x.count)
    dx.withUnsafeMutableBufferPointer { dp in x.withUnsafeBufferPointer { xp in dy.withUnsafeBufferPointer { gp in
        c.geluBackward(dy: gp.baseAddress!, x: xp.baseAddress!, dx: dp.baseAddress!, count: dp.count)
    } } }
    return dx
}
