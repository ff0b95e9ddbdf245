import Foundation
import GlossaCore
import TensorIO

/// Turns a `--model` / `--expert` argument into weights: a folder on disk or a registry REF.
public struct ModelSourceResolver: Sendable {
    public let registryPath: URL
    public init(registryPath: URL) { self.registryPath = registryPath }

    static func isFolder(_ text: String) -> Bool {
        var isDir: ObjCBool = false
        return FileManager.default.fileExists(atPath: text, isDirectory: &isDir) && isDir.boolValue
    }

    /// The base model named by `text` and a printable origin (folder path or digest).
    public func checkpoint(_ text: String) throws(GlossaError) -> (WhisperCheckpoint, String) {
        if Self.isFolder(text) {
            return (try SpeechModel.loadCheckpoint(folder: URL(fileURLWithPath: text)), text)
        }
        let registry = try Registry(root: registryPath)
        let (c, d) = try registry.loadBase(text)
        return (c, d.description)
    }

    /// The expert named by `text` (registry REF or PEFT folder), checked against `base`.
    public func expert(_ text: String, base: WhisperCheckpoint, baseOrigin: String? = nil) throws(GlossaError) -> LoadedExpert {
        if Self.isFolder(text) {
            let url = URL(fileURLWithPath: text)
            let adapter: PEFTAdapter
            do { adapter = try PEFTAdapter.load(folder: url) } catch { throw Registry.wrap(error, "Cannot read PEFT adapter \(text)") }
            do { try adapter.validate(against: base) } catch { throw Registry.wrap(error, "Adapter \(text) does not fit the base model") }
            let lang = adapter.rawConfig["glossa_language"]?.string ?? ""
            return LoadedExpert(name: url.lastPathComponent, language: lang, id: text, weights: adapter.weights)
        }
        let registry = try Registry(root: registryPath)
        let (m, w, d) = try registry.loadExpert(text)
        if let baseOrigin, baseOrigin.hasPrefix("sha256:"), baseOrigin != m.base.description {
            throw GlossaError(.invalidInput, "Expert \(m.name):\(m.version) was made for base \(m.base.short), not \(baseOrigin.prefix(19)); use --model \(m.base.short) or an expert for this base")
        }
        do { try w.validate(against: base) } catch { throw Registry.wrap(error, "Expert \(m.name):\(m.version) does not fit the base model") }
        return LoadedExpert(name: "\(m.name):\(m.version)", language: m.language, languages: m.coveredLanguages, id: d.description, weights: w)
    }
}
