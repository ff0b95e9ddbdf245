import Foundation

/// `withUnsafeBytes` that keeps typed throws (Foundation's versions are `rethrows`,
/// which widens the error to `any Error`).
func withBytes<R>(of data: Data, _ body: (UnsafeRawBufferPointer) throws(TensorIOError) -> R) throws(TensorIOError) -> R {
    let r: Result<R, TensorIOError> = data.withUnsafeBytes { raw in
        Result { () throws(TensorIOError) -> R in try body(raw) }
    }
    return try r.get()
}

func withBytes<R>(of bytes: [UInt8], _ body: (UnsafeRawBufferPointer) throws(TensorIOError) -> R) throws(TensorIOError) -> R {
    let r: Result<R, TensorIOError> = bytes.withUnsafeBytes { raw in
        Result { () throws(TensorIOError) -> R in try body(raw) }
    }
    return try r.get()
}
