import DurableFiles

extension StoreError {
    /// The one place a failed durable write (`DurableFiles`) becomes a Store error.
    init(_ e: FileWriteError) { self = .io(operation: e.operation, path: e.path, errno: e.errno) }
}
