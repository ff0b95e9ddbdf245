#!/usr/bin/env python3
"""Peer side of bench/transcribe: CTranslate2 (what faster-whisper runs; float32, 2 threads)
on the same golden log-mel windows as whisper-bench. Prints JSON lines like whisper-bench.

  .venv/bin/python bench/transcribe/ct2_bench.py <model-dir> <golden-dir> [--repeat R] [--threads T]
"""
import argparse, json, os, resource, time
import numpy as np
import ctranslate2
from safetensors.numpy import load_file

ap = argparse.ArgumentParser()
ap.add_argument("model"); ap.add_argument("golden")
ap.add_argument("--repeat", type=int, default=3); ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--beams", default="1,5")
a = ap.parse_args()

def rss():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

t0 = time.perf_counter()
model = ctranslate2.models.Whisper(a.model, device="cpu", compute_type="float32", intra_threads=a.threads, inter_threads=1)
print(json.dumps({"what": "load", "seconds": time.perf_counter() - t0, "peak_rss_mib": rss()}))
meta = json.load(open(os.path.join(a.golden, "ct2.json")))
windows = []
for c in meta["clips"]:
    part = load_file(os.path.join(a.golden, f"features_{c['lang']}.safetensors"))[f"clip{c['index']}"].astype(np.float32)
    feats = np.full((80, 3000), np.float32(c["fill"]), dtype=np.float32)
    feats[:, :part.shape[1]] = part
    windows.append((f"{c['lang']}/clip{c['index']}", c, ctranslate2.StorageView.from_array(feats[None])))

times = []
for _ in range(max(1, a.repeat)):
    s = time.perf_counter(); model.encode(windows[0][2], to_cpu=True); times.append(time.perf_counter() - s)
print(json.dumps({"what": "encoder", "best_s": min(times), "mean_s": sum(times) / len(times)}))

for beam in [int(b) for b in a.beams.split(",")]:
    total, tokens, outputs = 0.0, 0, {}
    for name, c, sv in windows:
        s = time.perf_counter()
        r = model.generate(sv, [c["prompt"]], beam_size=beam, patience=1, length_penalty=1, suppress_blank=True,
                           suppress_tokens=[-1], max_length=448, return_scores=True, return_no_speech_prob=True)[0]
        total += time.perf_counter() - s
        tokens += len(r.sequences_ids[0]); outputs[name] = r.sequences_ids[0]
    print(json.dumps({"what": "transcribe", "beam": beam, "windows": len(windows), "total_s": total, "tokens": tokens,
                      "peak_rss_mib": rss(), "tokens_by_clip": outputs}))
