import Foundation
import GlossaCore

/// Turns a `--model` / `--expert` argument into weights: a folder on disk or a registry REF.
public struct ModelSourceResolver: Sendable {
    public let registryPath: URL
    public init(registryPath: URL) { self.registryPath = registryPath }

    static func isFolder(_ text: String) -> Bool {
        var isDir: ObjCBool = false
        return FileManager.default.fileExists(atPath: text, isDirectory: &isDir) && isDir.boolValue
    }

    /// The base model named by `text` and a printable origin.
    public func checkpoint(_ text: String) throws(GlossaError) -> (WhisperCheckpoint, String) {
        if Self.isFolder(text) {
            return (try SpeechModel.loadCheckpoint(folder: URL(fileURLWithPath: text)), text)
        }
        throw GlossaError(.notFound, "No model folder at '\(text)' and registry references are not available yet")
    }

    /// The expert named by `text`, checked against `base`.
    public func expert(_ text: String, base: WhisperCheckpoint) throws(GlossaError) -> LoadedExpert {
        throw GlossaError(.notFound, "Cannot load expert '\(text)': expert loading is not available yet")
    }
}
