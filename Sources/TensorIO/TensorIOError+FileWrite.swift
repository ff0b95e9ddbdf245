import DurableFiles
import Foundation

extension TensorIOError {
    /// The one place a failed durable write (`DurableFiles`) becomes a TensorIO error.
    init(_ e: FileWriteError) { self = .fileSystem(path: e.path, operation: e.operation, message: e.message) }
}

/// `AtomicFileWriter.write` with TensorIO's error type.
func writeAtomically(_ data: Data, to path: String) throws(TensorIOError) {
    do { try AtomicFileWriter.write(data, to: path) } catch { throw TensorIOError(error) }
}
