#!/usr/bin/env bash
# Starts or stops a real Docker Distribution registry (Debian's docker-registry) on loopback,
# for OCI tests and benchmarks. All state lives in DIR:
#   DIR/config.yml   generated config (filesystem storage, deletes enabled, fixed http secret
#                    so upload sessions survive a restart)
#   DIR/storage/     the registry's root directory (tests edit blobs here to simulate damage)
#   DIR/htpasswd     bcrypt user file when --auth is given
#   DIR/port DIR/pid DIR/registry.log
#   with --token: DIR/token_server.py (Docker-style token service on another loopback port,
#                 RS256 JWTs with an x5c self-signed cert the registry trusts), DIR/token.log
#                 (one line per token issued: user and scopes), DIR/token.pid
#
#   scripts/oci-test-registry.sh start DIR [--port N] [--auth USER:PASSWORD | --token USER:PASSWORD]
#       prints 127.0.0.1:PORT once /v2/ answers; reuses DIR/port on a restart
#       --auth: htpasswd Basic auth; --token: Bearer token flow (anonymous users get pull only)
#   scripts/oci-test-registry.sh stop DIR
set -euo pipefail

cmd=${1:?usage: oci-test-registry.sh start|stop DIR [--port N] [--auth USER:PASSWORD]}
dir=${2:?missing DIR}
shift 2
port=""; auth=""; token=""
while (($#)); do
  case "$1" in
    --port) port=$2; shift 2 ;;
    --auth) auth=$2; shift 2 ;;
    --token) token=$2; shift 2 ;;
    *) echo "oci-test-registry: unknown option $1" >&2; exit 2 ;;
  esac
done

stop() {
  if [[ -f "$dir/pid" ]]; then
    pid=$(cat "$dir/pid")
    if kill -0 "$pid" 2>/dev/null; then
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$dir/pid"
  fi
  if [[ -f "$dir/token.pid" ]]; then
    tpid=$(cat "$dir/token.pid")
    kill "$tpid" 2>/dev/null || true
    # A caller that blocks SIGTERM (threads of a test process) passes the mask on: insist.
    for _ in $(seq 1 20); do kill -0 "$tpid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$tpid" 2>/dev/null || true
    rm -f "$dir/token.pid"
  fi
}

free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# A Docker-style token service (https://distribution.github.io/distribution/spec/auth/token/):
# GET /token?service=S&scope=repository:NAME:pull,push[&scope=...] with optional Basic auth
# -> {"token","access_token","expires_in"}. The named user gets what it asks for; anonymous
# callers get pull only; a wrong password gets 401.
write_token_server() {
  cat > "$dir/token_server.py" <<'PY'
import base64, json, os, subprocess, sys, time, uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse, parse_qs

port, d, user, password = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
pem = open(os.path.join(d, "token.crt")).read()
der_b64 = "".join(l for l in pem.splitlines() if "CERTIFICATE" not in l)

def b64u(b): return base64.urlsafe_b64encode(b).rstrip(b"=").decode()

def sign(claims):
    head = b64u(json.dumps({"typ": "JWT", "alg": "RS256", "x5c": [der_b64]}).encode())
    body = b64u(json.dumps(claims).encode())
    sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", os.path.join(d, "token.key")],
                         input=f"{head}.{body}".encode(), capture_output=True, check=True).stdout
    return f"{head}.{body}.{b64u(sig)}"

class H(BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_GET(self):
        q = parse_qs(urlparse(self.path).query)
        who = None
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Basic "):
            u, _, p = base64.b64decode(auth[6:]).decode().partition(":")
            if u != user or p != password:
                self.send_response(401); self.send_header("Content-Length", "0"); self.end_headers(); return
            who = u
        access = []
        for scope in q.get("scope", []):
            typ, _, rest = scope.partition(":")
            name, _, actions = rest.rpartition(":")
            acts = actions.split(",") if who else [a for a in actions.split(",") if a == "pull"]
            access.append({"type": typ, "name": name, "actions": acts})
        now = int(time.time())
        tok = sign({"iss": "glossa-test-issuer", "sub": who or "", "aud": q.get("service", [""])[0],
                    "exp": now + 300, "nbf": now - 10, "iat": now, "jti": str(uuid.uuid4()), "access": access})
        with open(os.path.join(d, "token.log"), "a") as f:
            f.write(json.dumps({"user": who, "scopes": q.get("scope", [])}) + "\n")
        body = json.dumps({"token": tok, "access_token": tok, "expires_in": 300}).encode()
        self.send_response(200); self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)

ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()
PY
}

case "$cmd" in
  stop) stop; exit 0 ;;
  start) ;;
  *) echo "oci-test-registry: unknown command $cmd" >&2; exit 2 ;;
esac

command -v docker-registry >/dev/null || { echo "oci-test-registry: docker-registry not installed; run scripts/setup.sh" >&2; exit 3; }
. "$(dirname "$0")/venv.sh"  # PY: free ports, the token service
mkdir -p "$dir/storage"
stop
if [[ -z "$port" && -f "$dir/port" ]]; then port=$(cat "$dir/port"); fi
if [[ -z "$port" ]]; then
  port=$(free_port)
fi
echo "$port" > "$dir/port"

auth_block=""
if [[ -n "$auth" ]]; then
  command -v htpasswd >/dev/null || { echo "oci-test-registry: htpasswd missing (apt-get install apache2-utils)" >&2; exit 3; }
  htpasswd -Bbn "${auth%%:*}" "${auth#*:}" > "$dir/htpasswd"
  auth_block="auth:
  htpasswd:
    realm: glossa-test
    path: $dir/htpasswd"
fi

if [[ -n "$token" ]]; then
  command -v openssl >/dev/null || { echo "oci-test-registry: openssl missing" >&2; exit 3; }
  if [[ ! -f "$dir/token.key" ]]; then
    openssl req -x509 -newkey rsa:2048 -nodes -keyout "$dir/token.key" -out "$dir/token.crt" \
      -days 2 -subj "/CN=glossa-test-token" >/dev/null 2>&1
  fi
  [[ -f "$dir/token.port" ]] || free_port > "$dir/token.port"
  tport=$(cat "$dir/token.port")
  write_token_server
  setsid "$PY" "$dir/token_server.py" "$tport" "$dir" "${token%%:*}" "${token#*:}" >>"$dir/token-server.log" 2>&1 < /dev/null &
  echo $! > "$dir/token.pid"
  for _ in $(seq 1 100); do
    "$PY" -c "import socket,sys; socket.create_connection(('127.0.0.1', int(sys.argv[1])), 1)" "$tport" 2>/dev/null && break
    sleep 0.1
  done
  auth_block="auth:
  token:
    realm: http://127.0.0.1:$tport/token
    service: glossa-test-registry
    issuer: glossa-test-issuer
    rootcertbundle: $dir/token.crt"
fi

cat > "$dir/config.yml" <<YAML
version: 0.1
log:
  level: info
  accesslog:
    disabled: false
storage:
  filesystem:
    rootdirectory: $dir/storage
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: 127.0.0.1:$port
  secret: glossa-test-secret-not-for-production
$auth_block
YAML

# setsid: the registry must not die with the caller's process group, and must not hold
# the caller's stdout open.
setsid docker-registry serve "$dir/config.yml" >>"$dir/registry.log" 2>&1 < /dev/null &
echo $! > "$dir/pid"

for _ in $(seq 1 100); do
  code=$("$PY" - "$port" <<'PY' 2>/dev/null || true
import sys, urllib.request, urllib.error
try:
    print(urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/v2/", timeout=1).status)
except urllib.error.HTTPError as e:
    print(e.code)
except Exception:
    print(0)
PY
)
  if [[ "$code" == "200" || "$code" == "401" ]]; then echo "127.0.0.1:$port"; exit 0; fi
  kill -0 "$(cat "$dir/pid")" 2>/dev/null || break
  sleep 0.1
done
echo "oci-test-registry: registry did not start; see $dir/registry.log" >&2
tail -5 "$dir/registry.log" >&2 || true
stop
exit 1
