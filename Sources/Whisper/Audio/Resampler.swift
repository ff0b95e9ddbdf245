import CSoxr

/// Streaming sample-rate converter for mono f32 audio, backed by libsoxr at its
/// high-quality setting (`SOXR_HQ`: 20-bit precision, linear phase, 91% bandwidth).
///
/// Feed blocks with `process(_:)`, then call `flush()` once the input has ended to
/// drain the filter's delay line. The total output length is `round(n * out / in)`.
/// Not thread-safe: one resampler per stream.
public final class Resampler {
    public let inputRate: Double
    public let outputRate: Double
    private let handle: soxr_t

    /// - Throws: `ResamplerError` when soxr rejects the rates (for example a rate of zero).
    public init(inputRate: Double, outputRate: Double) throws(ResamplerError) {
        guard inputRate > 0, outputRate > 0, inputRate.isFinite, outputRate.isFinite else {
            throw ResamplerError(message: "invalid rates \(inputRate) Hz -> \(outputRate) Hz")
        }
        var error: soxr_error_t? = nil
        // nil specs: f32 interleaved in and out, SOXR_HQ quality (see soxr.h).
        guard let h = soxr_create(inputRate, outputRate, 1, &error, nil, nil, nil), error == nil else {
            let text = error.map { String(cString: $0) } ?? "unknown error"
            throw ResamplerError(message: "soxr_create(\(inputRate) -> \(outputRate)): \(text)")
        }
        self.inputRate = inputRate
        self.outputRate = outputRate
        self.handle = h
    }

    deinit { soxr_delete(handle) }

    /// Converts one block; returns whatever output the filter can produce so far.
    public func process(_ input: [Float]) throws(ResamplerError) -> [Float] {
        if input.isEmpty { return [] }
        // Output capacity: the ratio plus slack for the filter's buffered samples.
        let capacity = Int((Double(input.count) * outputRate / inputRate).rounded(.up)) + 64
        var out = [Float](repeating: 0, count: capacity)
        var total = 0
        var consumed = 0
        while consumed < input.count {
            var idone = 0
            var odone = 0
            let err: soxr_error_t? = input.withUnsafeBufferPointer { inp in
                out.withUnsafeMutableBufferPointer { o in
                    soxr_process(handle, inp.baseAddress! + consumed, input.count - consumed, &idone,
                                 o.baseAddress! + total, capacity - total, &odone)
                }
            }
            if let err { throw ResamplerError(message: String(cString: err)) }
            consumed += idone
            total += odone
            if total == capacity { out.append(contentsOf: [Float](repeating: 0, count: capacity)); }
            if idone == 0 && odone == 0 { break }
        }
        out.removeSubrange(total...)
        return out
    }

    /// Signals the end of input and returns the remaining output.
    public func flush() throws(ResamplerError) -> [Float] {
        var result: [Float] = []
        var block = [Float](repeating: 0, count: 4096)
        while true {
            var odone = 0
            let err: soxr_error_t? = block.withUnsafeMutableBufferPointer { o in
                soxr_process(handle, nil, 0, nil, o.baseAddress!, o.count, &odone)
            }
            if let err { throw ResamplerError(message: String(cString: err)) }
            if odone == 0 { break }
            result.append(contentsOf: block[0..<odone])
        }
        return result
    }
}

/// A libsoxr failure, with soxr's own message.
public struct ResamplerError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String
    public var description: String { "resampler: \(message)" }
}
