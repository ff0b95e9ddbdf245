import Foundation
import GlossaCore
import OCI
import Store
import StoreTesting
import XCTest

/// Attachments (signatures) as OCI referrers, both ways the distribution spec allows:
/// the referrers API (a registry that answers a manifest PUT with `OCI-Subject`; here a
/// small in-memory registry, since Debian has no registry with the API) and the referrers
/// tag schema (the real docker-registry 2.8, which has no API).
final class ReferrersTests: XCTestCase {
    let attachment = OCIAttachment(artifactType: "application/vnd.glossa.signature.v1", mediaType: "application/vnd.glossa.signature.minisign.v1",
                                   data: Data("untrusted comment: test\nAAAA\ntrusted comment: t\nBBBB\n".utf8),
                                   annotations: ["org.glossa.signature.key": "0123456789ABCDEF"])

    func local() throws -> (LocalRegistry, URL, Digest) {
        let dir = try temporaryDirectory("referrers")
        let r = try LocalRegistry(root: dir.path)
        let base = try RegistryFixtures.publishBase(r)
        let e = try RegistryFixtures.publishExpert(r, base: base, name: "de-expert", version: "1.0.0", language: "de", seed: 7)
        return (r, dir, e)
    }

    /// Pushes the expert with `attachment` attached to it, then reads the attachments back
    /// into another registry's client; returns the push report and what was found.
    func roundTrip(registry address: String) async throws -> (PushReport, [OCIAttachment]) {
        let (a, dir, expert) = try local()
        defer { try? FileManager.default.removeItem(at: dir) }
        let target = try OCIReference(parsing: "oci://\(address)/glossa/de:1.0.0")
        let pusher = try RemoteRegistry(local: a, registry: address)
        let attachment = self.attachment
        let pushed = try await pusher.push("de-expert:1.0.0", to: target) { d in d == expert ? [attachment] : [] }
        XCTAssertEqual(pushed.attached.count, 1)
        // Pushing again attaches nothing twice.
        let again = try await pusher.push("de-expert:1.0.0", to: target) { d in d == expert ? [attachment] : [] }
        XCTAssertEqual(again.attached, pushed.attached)
        let found = try await pusher.attachments(of: pushed.manifestDigest, repository: "glossa/de",
                                                 artifactType: attachment.artifactType)
        // Another artifact type is not returned.
        let none = try await pusher.attachments(of: pushed.manifestDigest, repository: "glossa/de", artifactType: "application/x-other")
        XCTAssertEqual(none, [])
        return (pushed, found)
    }

    func testReferrersAPIWhenTheRegistryHasIt() async throws {
        let server = try ReferrersRegistry()
        defer { server.stop() }
        let (pushed, found) = try await roundTrip(registry: server.address)
        XCTAssertEqual(pushed.referrersMode, .api)
        XCTAssertEqual(found, [attachment])
        let tags = try await RegistryClient(registry: server.address).listTags(repository: "glossa/de")
        XCTAssertEqual(tags, ["1.0.0"], "no referrers tag on a registry with the API")
    }

    func testReferrersTagOnDockerRegistry() async throws {
        let reg = try TestRegistry()
        defer { reg.destroy() }
        let (pushed, found) = try await roundTrip(registry: reg.address)
        XCTAssertEqual(pushed.referrersMode, .tagSchema)
        XCTAssertEqual(found, [attachment])
        let client = try RegistryClient(registry: reg.address)
        let tag = RegistryClient.referrersTag(pushed.manifestDigest)
        XCTAssertEqual(tag, "sha256-" + pushed.manifestDigest.hex)
        let index = try JSONDecoder().decode(OCIImageIndex.self, from: try await client.getManifest(repository: "glossa/de", reference: tag).data)
        XCTAssertEqual(index.manifests.map(\.digest), pushed.attached)
        XCTAssertEqual(index.manifests.first?.artifactType, attachment.artifactType)
        XCTAssertEqual(index.manifests.first?.annotations, attachment.annotations)
        // The referrers index is not an artifact: listing skips it.
        let listed = try await RemoteRegistry(local: try LocalRegistry(root: try temporaryDirectory("empty").path), client: client)
            .list(repository: "glossa/de")
        XCTAssertEqual(listed.map(\.tag), ["1.0.0"])
    }
}

/// A minimal in-memory OCI registry with the referrers API (distribution-spec 1.1), in one
/// Python process on loopback: blobs (monolithic uploads), manifests by tag or digest, tags,
/// `OCI-Subject` on manifest PUTs, and `GET /v2/<name>/referrers/<digest>`.
final class ReferrersRegistry: @unchecked Sendable {
    let dir: URL
    private(set) var address = ""
    private var pid = ""

    init() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/python3") else {
            throw Peer.missing("python3 is not installed; run scripts/setup.sh (Debian package python3)")
        }
        dir = try temporaryDirectory("referrers-api")
        let script = dir.appendingPathComponent("registry.py")
        try Self.script.write(to: script, atomically: true, encoding: .utf8)
        let (code, out) = spawn(["/bin/bash", "-c", "python3 \"$0\" \"$1\" >\"$1/server.log\" 2>&1 & echo $!", script.path, dir.path])
        guard code == 0 else { throw TestRegistryError.startFailed(out) }
        pid = out.trimmingCharacters(in: .whitespacesAndNewlines)
        for _ in 0..<100 {
            if let text = try? String(contentsOf: dir.appendingPathComponent("port"), encoding: .utf8), text.hasSuffix("\n") {
                address = "127.0.0.1:" + text.trimmingCharacters(in: .whitespacesAndNewlines)
                return
            }
            usleep(50_000)
        }
        stop()
        throw TestRegistryError.startFailed("referrers registry did not start: \((try? String(contentsOf: dir.appendingPathComponent("server.log"), encoding: .utf8)) ?? "")")
    }

    func stop() {
        if let p = Int32(pid) { kill(p, SIGKILL) }
        try? FileManager.default.removeItem(at: dir)
    }

    static let script = #"""
import hashlib, json, re, sys, threading, uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse, parse_qs

d = sys.argv[1]
blobs, manifests, tags, referrers, uploads = {}, {}, {}, {}, {}
lock = threading.Lock()
INDEX = "application/vnd.oci.image.index.v1+json"

def sha(b): return "sha256:" + hashlib.sha256(b).hexdigest()

class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def send(self, status, body=b"", headers=None, head=False):
        self.send_response(status)
        for k, v in (headers or {}).items(): self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head: self.wfile.write(body)
    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""
    def route(self, head=False):
        u = urlparse(self.path); p = u.path
        if p == "/v2/": return self.send(200, b"{}")
        m = re.match(r"^/v2/(.+)/blobs/(sha256:[0-9a-f]{64})$", p)
        if m:
            b = blobs.get(m.group(2))
            if b is None: return self.send(404, b'{"errors":[{"code":"BLOB_UNKNOWN"}]}', head=head)
            return self.send(200, b, {"Docker-Content-Digest": m.group(2)}, head=head)
        m = re.match(r"^/v2/(.+)/manifests/(.+)$", p)
        if m:
            ref = m.group(2); dg = ref if ref.startswith("sha256:") else tags.get((m.group(1), ref))
            if dg is None or dg not in manifests: return self.send(404, b'{"errors":[{"code":"MANIFEST_UNKNOWN"}]}', head=head)
            data, mt = manifests[dg]
            return self.send(200, data, {"Content-Type": mt, "Docker-Content-Digest": dg}, head=head)
        m = re.match(r"^/v2/(.+)/referrers/(sha256:[0-9a-f]{64})$", p)
        if m:
            body = json.dumps({"schemaVersion": 2, "mediaType": INDEX, "manifests": referrers.get((m.group(1), m.group(2)), [])}).encode()
            return self.send(200, body, {"Content-Type": INDEX})
        m = re.match(r"^/v2/(.+)/tags/list$", p)
        if m:
            names = sorted(t for (r, t) in tags if r == m.group(1))
            return self.send(200, json.dumps({"name": m.group(1), "tags": names}).encode())
        self.send(404, b"404 page not found", head=head)
    def do_GET(self): self.route()
    def do_HEAD(self): self.route(head=True)
    def do_POST(self):
        p = urlparse(self.path).path
        m = re.match(r"^/v2/(.+)/blobs/uploads/$", p)
        if not m: return self.send(404)
        self.body()
        u = str(uuid.uuid4()); uploads[u] = b""
        self.send(202, b"", {"Location": "/upload/" + u, "Range": "0-0"})
    def do_PUT(self):
        u = urlparse(self.path); p = u.path; data = self.body()
        m = re.match(r"^/upload/(.+)$", p)
        if m:
            want = parse_qs(u.query)["digest"][0]; b = uploads.pop(m.group(1), b"") + data
            if sha(b) != want: return self.send(400, b'{"errors":[{"code":"DIGEST_INVALID"}]}')
            blobs[want] = b
            return self.send(201, b"", {"Docker-Content-Digest": want, "Location": "/v2/x/blobs/" + want})
        m = re.match(r"^/v2/(.+)/manifests/(.+)$", p)
        if not m: return self.send(404)
        repo, ref = m.group(1), m.group(2); dg = sha(data); doc = json.loads(data)
        mt = self.headers.get("Content-Type")
        with lock:
            manifests[dg] = (data, mt)
            if not ref.startswith("sha256:"): tags[(repo, ref)] = dg
            headers = {"Docker-Content-Digest": dg}
            subject = doc.get("subject")
            if subject:
                entry = {"mediaType": mt, "digest": dg, "size": len(data),
                         "artifactType": doc.get("artifactType") or doc["config"]["mediaType"]}
                if doc.get("annotations"): entry["annotations"] = doc["annotations"]
                lst = referrers.setdefault((repo, subject["digest"]), [])
                if all(e["digest"] != dg for e in lst): lst.append(entry)
                headers["OCI-Subject"] = subject["digest"]
        self.send(201, b"", headers)

s = ThreadingHTTPServer(("127.0.0.1", 0), H)
open(d + "/port", "w").write(str(s.server_address[1]) + "\n")
s.serve_forever()
"""#
}
