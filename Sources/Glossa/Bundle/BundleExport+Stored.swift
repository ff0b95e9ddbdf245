import Foundation
import GlossaCore
import Store

extension Registry {
    /// Writes a bundle the registry holds (pulled from an OCI registry, e.g. after a skopeo
    /// copy) back out as it is: the same manifest bytes and blobs, so the same bundle digest,
    /// in the layer order a fresh export uses (base tensors by name, each adapter's modules by
    /// name, the tokenizer, files), so the same OCI manifest digest too when the signature is
    /// the same. The stored signature is kept (the first by file name); `--sign` replaces it.
    func exportStoredBundle(_ m: BundleManifest, digest: Digest, request: BundleExportRequest, to path: String, context: String,
                            progress: (Int, Int) -> Void) throws(GlossaError) -> BundleExportResult {
        if request.languages != nil || request.name != nil {
            throw GlossaError(.invalidInput, "\(context): \(m.name):\(m.version) is a bundle and is written out as it is; "
                              + "--languages and --name apply to bundles made from experts or composites (export those instead)")
        }
        let bytes: [UInt8]
        do { bytes = try store.blob(digest) } catch { throw Self.wrap(error, context) }
        let signature: MinisignSignature?
        if let key = request.signingKey {
            let comment = MinisignSignature.defaultTrustedComment(fileName: "\(m.name)-\(m.version).bundle.json")
            do { signature = try MinisignSignature.sign(bytes, with: key, trustedComment: comment) } catch { throw GlossaError(.failure, "\(context): cannot sign: \(error)") }
        } else {
            signature = try signatures(of: digest).first?.signature
        }
        let writer: BundleWriter
        do { writer = try BundleWriter(destination: URL(fileURLWithPath: path), force: request.force) } catch { throw error.glossa(context) }
        do {
            var blobs: [(Digest, String, String?)] = m.model.tensors.sorted(by: { $0.key < $1.key }).map { ($0.value.digest, BundleLayout.tensorMediaType, nil) }
            for a in m.adapters {
                for (_, p) in a.tensors.sorted(by: { $0.key < $1.key }) {
                    blobs += [(p.a.digest, BundleLayout.tensorMediaType, nil), (p.b.digest, BundleLayout.tensorMediaType, nil)]
                }
            }
            blobs.append((m.model.tokenizer, BundleLayout.tokenizerMediaType, "tokenizer.json"))
            blobs += m.files.sorted(by: { $0.key < $1.key }).map { ($0.value.digest, $0.value.mediaType, $0.key) }
            for (i, (d, type, title)) in blobs.enumerated() {
                try writer.put(Data(try store.blob(d)), mediaType: type, title: title)
                progress(i + 1, blobs.count + 1)
            }
            let (bundleDigest, ociDigest) = try writer.finish(manifest: m, manifestBytes: bytes, signature: signature)
            progress(blobs.count + 1, blobs.count + 1)
            return BundleExportResult(path: path, digest: bundleDigest.description, ociDigest: ociDigest.description, name: m.name,
                                      version: m.version, languages: m.languages, routing: m.routing.mode,
                                      adapters: m.adapters.map(\.label), bytes: Self.diskBytes(path),
                                      signedBy: signature?.keyIDText)
        } catch let e as BundleError {
            writer.abandon(); throw e.glossa(context)
        } catch let e as StoreError {
            writer.abandon(); throw Self.wrap(e, context)
        } catch {
            writer.abandon(); throw GlossaError(.failure, "\(context): \(error)")
        }
    }
}
