import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Puts a folder built in a hidden sibling into place, for outputs that are folders
/// (bundles, exported models, the fetched base): readers see the old folder or the new
/// one, never a half-written one.
///
/// Write each file of the staging folder with `AtomicFileWriter` (so its bytes are
/// fsynced), then call `moveIntoPlace`.
public enum AtomicDirectory {
    /// A fresh hidden sibling of `destination` to build in: `<dir>/.<name>.tmp-<8 hex>`,
    /// on the destination's file system so the final rename is atomic. Not created.
    public static func stagingPath(for destination: String) -> String {
        parent(of: destination) + "/." + baseName(of: destination) + ".tmp-" + UUID().uuidString.prefix(8)
    }

    /// Renames the finished folder `staging` to `destination` and fsyncs their parent.
    ///
    /// rename(2) cannot replace a non-empty folder, so an existing `destination` is first
    /// renamed aside (`.<name>.old-<8 hex>`), put back if the second rename fails, and deleted
    /// only once the new folder is in place. A crash between the two renames leaves no
    /// `destination` and the old folder intact under its `.old-` name.
    public static func moveIntoPlace(_ staging: String, at destination: String) throws(FileWriteError) {
        var aside: String?
        if access(destination, F_OK) == 0 {
            let old = parent(of: destination) + "/." + baseName(of: destination) + ".old-" + UUID().uuidString.prefix(8)
            if rename(destination, old) != 0 { throw FileWriteError(operation: "move the old folder aside from", path: destination, errno: errno) }
            aside = old
        }
        if rename(staging, destination) != 0 {
            let e = FileWriteError(operation: "rename \(staging) to", path: destination, errno: errno)
            if let aside { _ = rename(aside, destination) }
            throw e
        }
        if let aside { try? FileManager.default.removeItem(atPath: aside) }
        try syncDirectory(parent(of: destination))
    }
}
