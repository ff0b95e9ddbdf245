import Foundation
import XCTest

/// Two HTTP servers on 127.0.0.1, different ports (so different origins), run by one
/// Python process (python3 is part of every supported set-up; scripts/setup.sh). Every
/// request is logged with its `Authorization` header to `requests.log`.
///   registry: demands Basic (mode "basic") or a Bearer token from the storage host's
///             /token (mode "bearer"); answers blob GETs with 307 to storage, tag lists
///             with a `Link` to a second page on storage, upload POSTs with a `Location`
///             on storage.
///   storage:  serves /token, the blob, the second tag page and the upload PUT.
/// Mode "open" needs no auth and also serves oversized answers under `t/big` (and an
/// 8 MiB chunked blob under `t/chunked`); mode
/// "bigtoken" sends clients to a token service whose reply is 5 MiB.
final class OriginPair: @unchecked Sendable {
    let dir: URL
    private(set) var registry = ""
    private var pid: String = ""

    struct Request: Decodable { var server: String; var method: String; var path: String; var authorization: String? }

    init(mode: String) throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/python3") else {
            throw Peer.missing("python3 is not installed; run scripts/setup.sh (Debian package python3)")
        }
        dir = try temporaryDirectory("origins")
        let script = dir.appendingPathComponent("origins.py")
        try Self.script.write(to: script, atomically: true, encoding: .utf8)
        let (code, out) = spawn(["/bin/bash", "-c", "python3 \"$0\" \"$1\" \"$2\" >\"$1/server.log\" 2>&1 & echo $!", script.path, dir.path, mode])
        guard code == 0 else { throw TestRegistryError.startFailed(out) }
        pid = out.trimmingCharacters(in: .whitespacesAndNewlines)
        let ports = dir.appendingPathComponent("ports")
        for _ in 0..<100 {
            if let text = try? String(contentsOf: ports, encoding: .utf8), text.hasSuffix("\n") {
                registry = "127.0.0.1:" + text.split(separator: " ")[0]
                return
            }
            usleep(50_000)
        }
        stop()
        throw TestRegistryError.startFailed("loopback test servers did not start: \((try? String(contentsOf: dir.appendingPathComponent("server.log"), encoding: .utf8)) ?? "")")
    }

    func requests(server: String) -> [Request] {
        let text = (try? String(contentsOf: dir.appendingPathComponent("requests.log"), encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { try? JSONDecoder().decode(Request.self, from: Data($0.utf8)) }.filter { $0.server == server }
    }

    func stop() {
        if let p = Int32(pid) { kill(p, SIGKILL) }
        try? FileManager.default.removeItem(at: dir)
    }

    static let script = #"""
import base64, hashlib, json, os, sys, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse, parse_qs

d, mode = sys.argv[1], sys.argv[2]
blob = b"glossa redirect test blob\n"
lock = threading.Lock()
basic = "Basic " + base64.b64encode(b"alice:s3cret").decode()
big_manifest = b'{"schemaVersion":2,"pad":"' + b"a" * (5 << 20) + b'"}'

class Base(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_name = "?"
    def log_message(self, *a): pass
    def reply(self, code, headers=(), body=b""):
        self.send_response(code)
        for k, v in headers: self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD": self.wfile.write(body)
    def handle_any(self):
        with lock, open(os.path.join(d, "requests.log"), "a") as f:
            f.write(json.dumps({"server": self.server_name, "method": self.command, "path": self.path,
                                "authorization": self.headers.get("Authorization")}) + "\n")
        n = int(self.headers.get("Content-Length") or 0)
        if n: self.rfile.read(n)
        self.route()
    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = handle_any

class Storage(Base):
    server_name = "storage"
    def route(self):
        p = self.path
        if p.startswith("/bigtoken"):
            return self.reply(200, [("Content-Type", "application/json")], json.dumps({"token": "t", "pad": "a" * (5 << 20)}).encode())
        if p.startswith("/token"):
            return self.reply(200, [("Content-Type", "application/json")], json.dumps({"token": "tok-123", "expires_in": 300}).encode())
        if p == "/storage/blob": return self.reply(200, [("Content-Type", "application/octet-stream")], blob)
        if p.startswith("/v2/t/r/tags/list"):
            return self.reply(200, [("Content-Type", "application/json")], json.dumps({"name": "t/r", "tags": ["b"]}).encode())
        if p.startswith("/upload/1"):
            digest = parse_qs(urlparse(p).query).get("digest", [""])[0]
            return self.reply(201, [("Docker-Content-Digest", digest)])
        self.reply(404)

storage = ThreadingHTTPServer(("127.0.0.1", 0), Storage)
other = "http://127.0.0.1:%d" % storage.server_address[1]

class Registry(Base):
    server_name = "registry"
    def route(self):
        auth = self.headers.get("Authorization")
        if mode == "basic" and auth != basic:
            return self.reply(401, [("WWW-Authenticate", 'Basic realm="test"')], b'{"errors":[{"code":"UNAUTHORIZED"}]}')
        if mode == "bearer" and auth != "Bearer tok-123":
            return self.reply(401, [("WWW-Authenticate", 'Bearer realm="%s/token",service="test"' % other)])
        if mode == "bigtoken" and auth is None:
            return self.reply(401, [("WWW-Authenticate", 'Bearer realm="%s/bigtoken",service="test"' % other)])
        p = self.path
        # Oversized answers (mode "open"): a 5 MiB manifest, an 8 MiB blob whatever was
        # asked for, a 10 MiB error body.
        if p.startswith("/v2/t/big/manifests/"):
            return self.reply(200, [("Content-Type", "application/vnd.oci.image.manifest.v1+json")], big_manifest)
        if p.startswith("/v2/t/chunked/blobs/") and self.command == "GET":
            # No Content-Length: only counting the bytes as they arrive can stop it.
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            try:
                for _ in range(128):
                    self.wfile.write(b"10000\r\n" + bytes(1 << 16) + b"\r\n")
                self.wfile.write(b"0\r\n\r\n")
            except OSError:
                pass
            return
        if p.startswith("/v2/t/big/blobs/") and self.command == "GET":
            return self.reply(200, [("Content-Type", "application/octet-stream")], bytes(8 << 20))
        if p.startswith("/v2/t/big/tags/list"):
            return self.reply(404, [("Content-Type", "application/json")], b"x" * (10 << 20))
        if p == "/v2/": return self.reply(200, [("Content-Type", "application/json")], b"{}")
        if p.startswith("/v2/t/r/blobs/uploads/"): return self.reply(202, [("Location", other + "/upload/1")])
        if "/blobs/" in p and self.command == "HEAD": return self.reply(404)
        if "/blobs/" in p: return self.reply(307, [("Location", other + "/storage/blob")])
        if p.startswith("/v2/t/r/tags/list"):
            return self.reply(200, [("Content-Type", "application/json"), ("Link", '<%s/v2/t/r/tags/list?last=a>; rel="next"' % other)],
                              json.dumps({"name": "t/r", "tags": ["a"]}).encode())
        self.reply(404)

registry = ThreadingHTTPServer(("127.0.0.1", 0), Registry)
for s in (storage, registry): threading.Thread(target=s.serve_forever, daemon=True).start()
with open(os.path.join(d, "ports.tmp"), "w") as f: f.write("%d %d\n" % (registry.server_address[1], storage.server_address[1]))
os.rename(os.path.join(d, "ports.tmp"), os.path.join(d, "ports"))
threading.Event().wait()
"""#
}
