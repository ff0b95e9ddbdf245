#!/usr/bin/env python3
"""Dump the codec benchmark's tensors as raw little-endian files plus index.json.

Reads a CTranslate2 Whisper model.bin (layout in DESIGN.md section 4) directly, so the
benchmark needs no other Glossa branch. Writes four data sets into OUT:
  f16   every float tensor of whisper-base as stored (f16)
  bf16  the same values converted f16 -> f32 -> bf16 (round to nearest even)
  f32   the same values widened to f32
  lora  LoRA-like factors: A [16, in] ~ N(0, 0.02), B [out, 16] ~ N(0, 0.005) for the
        q/v projections of every layer, in f32 and f16 (seeded, so runs are comparable)
index.json lists {set, name, dtype, shape, file}.
usage: dump_tensors.py MODEL_BIN OUT_DIR
"""
import json, os, struct, sys
import numpy as np

DT = {0: np.float32, 1: np.int8, 2: np.int16, 3: np.int32, 4: np.float16, 5: "bf16"}


def read_ct2(path):
    f = open(path, "rb")
    def u32(): return struct.unpack("<I", f.read(4))[0]
    def u16(): return struct.unpack("<H", f.read(2))[0]
    def s():
        n = u16(); b = f.read(n); return b[:-1].decode()
    version = u32(); assert version == 6, version
    s(); u32()
    out = {}
    for _ in range(u32()):
        name = s(); rank = f.read(1)[0]
        dims = struct.unpack("<%dI" % rank, f.read(4 * rank)) if rank else ()
        dtype = f.read(1)[0]; nbytes = u32(); data = f.read(nbytes)
        if DT[dtype] is np.float16:
            out[name] = np.frombuffer(data, np.float16).reshape(dims)
    return out


def to_bf16_bits(x32):
    u = x32.view(np.uint32).astype(np.uint64)
    rounded = (u + 0x7FFF + ((u >> 16) & 1)) >> 16
    return rounded.astype(np.uint16)


def main():
    model, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    index = []
    def put(kind, name, dtype, shape, raw):
        fn = f"{kind}-{len(index):04d}.bin"
        open(os.path.join(out, fn), "wb").write(raw)
        index.append({"set": kind, "name": name, "dtype": dtype, "shape": list(shape), "file": fn})
    tensors = read_ct2(model)
    for name, t in sorted(tensors.items()):
        put("f16", name, "F16", t.shape, t.astype("<f2").tobytes())
        x32 = t.astype(np.float32)
        put("f32", name, "F32", t.shape, x32.astype("<f4").tobytes())
        put("bf16", name, "BF16", t.shape, to_bf16_bits(x32).astype("<u2").tobytes())
    rng = np.random.default_rng(0)
    d, r = 512, 16
    for side in ("encoder", "decoder"):
        for layer in range(6):
            for proj in ("q_proj", "v_proj"):
                a = rng.normal(0, 0.02, (r, d)).astype(np.float32)
                b = rng.normal(0, 0.005, (d, r)).astype(np.float32)
                n = f"{side}.{layer}.{proj}"
                put("lora-f32", n + ".lora_A", "F32", a.shape, a.astype("<f4").tobytes())
                put("lora-f32", n + ".lora_B", "F32", b.shape, b.astype("<f4").tobytes())
                put("lora-f16", n + ".lora_A", "F16", a.shape, a.astype("<f2").tobytes())
                put("lora-f16", n + ".lora_B", "F16", b.shape, b.astype("<f2").tobytes())
    json.dump(index, open(os.path.join(out, "index.json"), "w"), indent=1)
    print(f"wrote {len(index)} tensors to {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
