import Foundation
import GlossaCore
import TensorIO

/// Turns a `--model` / `--expert` argument into weights: a folder on disk or a registry REF.
///
/// The rule: an argument that looks like a path (it contains `/`, or starts with `.` or `~`)
/// is a folder; a bare name is a registry REF, and only when the registry has no such REF is
/// a folder of that name in the working directory used. So `./whisper-base` never shadows
/// the registry's `whisper-base`.
public struct ModelSourceResolver: Sendable {
    public let registryPath: URL
    public init(registryPath: URL) { self.registryPath = registryPath }

    public static func looksLikePath(_ text: String) -> Bool {
        text.contains("/") || text.hasPrefix(".") || text.hasPrefix("~")
    }

    static func folderExists(_ text: String) -> Bool {
        var isDir: ObjCBool = false
        return FileManager.default.fileExists(atPath: text, isDirectory: &isDir) && isDir.boolValue
    }

    /// True when `text` names a folder to load rather than a registry REF (see the type's rule).
    func isFolder(_ text: String) -> Bool {
        if Self.looksLikePath(text) { return Self.folderExists(text) }
        guard Self.folderExists(text) else { return false }
        let registered = FileManager.default.fileExists(atPath: registryPath.path)
            && (try? Registry(root: registryPath).resolve(text)) != nil
        return !registered
    }

    /// The base model named by `text` and a printable origin (folder path or digest).
    public func checkpoint(_ text: String) throws(GlossaError) -> (WhisperCheckpoint, String) {
        if isFolder(text) {
            return (try SpeechModel.loadCheckpoint(folder: URL(fileURLWithPath: text)), text)
        }
        let registry = try Registry(root: registryPath)
        let (c, d) = try registry.loadBase(text)
        return (c, d.description)
    }

    /// The adapters named by `text` (an expert or composite REF, or a PEFT folder), checked
    /// against `base`. A composite routed by language gives its shared part and residuals.
    public func experts(_ text: String, base: WhisperCheckpoint, baseOrigin: String? = nil) throws(GlossaError) -> [LoadedExpert] {
        if isFolder(text) {
            let url = URL(fileURLWithPath: text)
            let adapter: PEFTAdapter
            do { adapter = try PEFTAdapter.load(folder: url) } catch { throw Registry.wrap(error, "Cannot read PEFT adapter \(text)") }
            do { try adapter.validate(against: base) } catch { throw Registry.wrap(error, "Adapter \(text) does not fit the base model") }
            let lang = adapter.rawConfig["glossa_language"]?.string ?? ""
            return [LoadedExpert(name: url.lastPathComponent, language: lang, id: text, weights: adapter.weights)]
        }
        let registry = try Registry(root: registryPath)
        let (adapters, baseDigest) = try registry.loadAdapters(text)
        if let baseOrigin, baseOrigin.hasPrefix("sha256:"), baseOrigin != baseDigest.description {
            throw GlossaError(.invalidInput, "\(text) was made for base \(baseDigest.short), not \(baseOrigin.prefix(19)); use --model \(baseDigest.short) or an adapter for this base")
        }
        for a in adapters {
            do { try a.weights.validate(against: base) } catch { throw Registry.wrap(error, "\(a.name) does not fit the base model") }
        }
        return adapters
    }
}
