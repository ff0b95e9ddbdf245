#!/usr/bin/env python3
"""Measure zipnn (PyPI) on the tensors dump_tensors.py wrote; one JSON line per set.

Each tensor is compressed on its own (as the store does, one blob per tensor) with
zipnn's defaults for its dtype; the decompressed bytes are checked against the input.
usage: zipnn_bench.py DATA_DIR  ->  {"set","raw","compressed","compress_s","decompress_s"} lines
"""
import json, os, sys, time, warnings
warnings.filterwarnings("ignore")
import zipnn

DT = {"F16": "float16", "BF16": "bfloat16", "F32": "float32"}


def main():
    data = sys.argv[1]
    index = json.load(open(os.path.join(data, "index.json")))
    sets = {}
    for e in index:
        raw = open(os.path.join(data, e["file"]), "rb").read()
        dt = DT[e["dtype"]]
        # A fresh codec per tensor: reusing one across inputs of different sizes
        # returned wrong bytes in zipnn 0.5 (seen here on decoder/embeddings/weight).
        z = zipnn.ZipNN(input_format="byte", bytearray_dtype=dt)
        # zipnn 0.5 reorders the sign bit of f32/bf16 input *in place*, so hand it a copy.
        scratch = bytearray(raw)
        t0 = time.process_time(); c = z.compress(scratch); t1 = time.process_time()
        d = z.decompress(c); t2 = time.process_time()
        assert bytes(d) == raw, e["name"]
        s = sets.setdefault(e["set"], {"set": e["set"], "raw": 0, "compressed": 0, "compress_s": 0.0, "decompress_s": 0.0})
        s["raw"] += len(raw); s["compressed"] += len(c); s["compress_s"] += t1 - t0; s["decompress_s"] += t2 - t1
    for s in sets.values():
        print(json.dumps(s))


if __name__ == "__main__":
    main()
