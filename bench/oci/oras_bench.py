"""oras-py side of bench/oci: push and pull the same file sets the Swift bench used.
usage: oras_bench.py REGISTRY WORKDIR REGISTRY_LOG
  -> prints one JSON line per phase {phase, seconds, bytes, requests}; requests are counted
     in the registry's access log, exactly as the Swift side counts its own.
Files: WORKDIR/base/* (one artifact) and WORKDIR/experts/NN/* (20 artifacts)."""
import json, os, sys, time, shutil
import oras.client

reg, work, log = sys.argv[1], sys.argv[2], sys.argv[3]

def requests_logged():
    with open(log, errors="replace") as f:
        return sum(1 for l in f if 'HTTP/1.1" ' in l and "level=" not in l)
c = oras.client.OrasClient(hostname=reg, insecure=True)
MT = "application/vnd.glossa.blob.frame.v1"

def files_of(d):
    return sorted(os.path.join(d, f) for f in os.listdir(d))

def size_of(fs):
    return sum(os.path.getsize(f) for f in fs)

def phase(name, fn, nbytes):
    r0 = requests_logged()
    t = time.perf_counter(); fn(); dt = time.perf_counter() - t
    time.sleep(0.3)  # the registry logs a request after answering it
    print(json.dumps({"phase": name, "seconds": dt, "bytes": nbytes, "requests": requests_logged() - r0}), flush=True)

# oras-py records paths relative to the working directory as layer titles.
os.chdir(work)
base = [os.path.relpath(f) + ":" + MT for f in files_of(os.path.join(work, "base"))]
bsize = size_of(files_of(os.path.join(work, "base")))
phase("base push", lambda: c.push(target=f"{reg}/oras/base:v1", files=base, quiet=True, disable_path_validation=True), bsize)
out = os.path.join(work, "oras-out"); shutil.rmtree(out, ignore_errors=True); os.makedirs(out)
phase("base pull", lambda: c.pull(target=f"{reg}/oras/base:v1", outdir=out), bsize)

edirs = sorted(os.listdir(os.path.join(work, "experts")))
esize = sum(size_of(files_of(os.path.join(work, "experts", e))) for e in edirs)
def push_experts():
    for e in edirs:
        fs = [os.path.relpath(f) + ":" + MT for f in files_of(os.path.join(work, "experts", e))]
        c.push(target=f"{reg}/oras/experts:{e}", files=fs, quiet=True, disable_path_validation=True)
def pull_experts():
    for e in edirs:
        o = os.path.join(out, "e" + e); os.makedirs(o, exist_ok=True)
        c.pull(target=f"{reg}/oras/experts:{e}", outdir=o)
phase("20 experts push", push_experts, esize)
phase("20 experts pull", pull_experts, esize)
phase("base re-push", lambda: c.push(target=f"{reg}/oras/base:v1", files=base, quiet=True, disable_path_validation=True), bsize)
