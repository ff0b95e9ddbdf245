import Foundation

extension ModelSourceResolver {
    /// True when `--model text` names a bundle (a folder holding `oci-layout`, or a `.tar`)
    /// rather than a registry REF, by the rule folders follow: an argument that looks like a
    /// path is a bundle when one is there; a bare name is one only when the registry has no
    /// such REF.
    public func isBundle(_ text: String) -> Bool {
        guard BundleLayout.isBundle(text) else { return false }
        if Self.looksLikePath(text) { return true }
        let registered = FileManager.default.fileExists(atPath: registryPath.path)
            && (try? Registry(root: registryPath).resolve(text)) != nil
        return !registered
    }
}
