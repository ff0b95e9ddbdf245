import Foundation

extension PEFTAdapter {
    /// Parses the bytes of an `adapter_config.json` kept elsewhere (e.g. a registry blob):
    /// its fields and the file order of `rank_pattern` / `alpha_pattern` keys, which decides
    /// PEFT's first-match resolution of per-module ranks and alphas.
    public static func parseStoredConfig(_ bytes: [UInt8], source: String) throws(TensorIOError)
        -> (raw: [String: JSONValue], patternOrder: [String]) {
        let raw: [String: JSONValue]
        do {
            guard let o = try JSONValue.parse(Data(bytes)).object else {
                throw TensorIOError.adapter(path: source, key: nil, message: "top level is not a JSON object")
            }
            raw = o
        } catch let e as TensorIOError {
            throw e
        } catch {
            throw .adapter(path: source, key: nil, message: "not valid JSON (\(error))")
        }
        let order = (JSONKeyOrder.keys(ofObjectAt: "rank_pattern", in: bytes) ?? [])
            + (JSONKeyOrder.keys(ofObjectAt: "alpha_pattern", in: bytes) ?? [])
        return (raw, order)
    }
}
