/// The facade's one error type: every lower-layer error is wrapped once here with the
/// context the user needs (which file, reference or digest) and a category the CLI maps to
/// an exit code.
public struct GlossaError: Error, CustomStringConvertible, Sendable {
    public enum Category: String, Sendable {
        /// Bad input data: malformed files, manifests, audio, adapters that do not fit.
        case invalidInput
        /// Unknown reference, missing file or blob.
        case notFound
        /// A remote registry is unreachable or refused.
        case unavailable
        /// Busy or interrupted; retrying may succeed.
        case busy
        /// Anything else.
        case failure
    }

    public let category: Category
    /// What failed, where, and how to fix it.
    public let message: String

    public init(_ category: Category, _ message: String) {
        self.category = category; self.message = message
    }

    public var description: String { message }
}
