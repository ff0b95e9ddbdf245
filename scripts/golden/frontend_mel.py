#!/usr/bin/env python3
"""Golden log-mel features from Hugging Face WhisperFeatureExtractor.

Writes Tests/WhisperTests/Golden/mel/mel_golden.json. The input clips are either
synthetic (a formula the Swift test recomputes: sines, a chirp and integer-LCG noise)
or a short espeak-ng utterance stored as 16 kHz int16 PCM (base64), so the Swift test
feeds exactly the samples HF saw. Per clip we keep a subset of frames in full plus
statistics of the whole [mel, 3000] matrix (sum, mean, min, max, per-mel means),
which keeps the file small while still pinning every frame.

Run: .venv/bin/python scripts/golden/frontend_mel.py   (needs numpy, transformers; espeak-ng, sox)
"""
import base64, json, os, subprocess, sys, tempfile
import numpy as np
from transformers import WhisperFeatureExtractor

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "Tests/WhisperTests/Golden/mel/mel_golden.json")
SR = 16000
FRAMES = [0, 1, 2, 3, 50, 99, 100, 101, 149, 150, 151, 500, 1000, 1499, 1500, 2000, 2500, 2997, 2998, 2999]


def lcg_noise(n, seed):
    """Uniform noise in [-1, 1): x_{k+1} = (1103515245 x_k + 12345) mod 2^31, value = x / 2^30 - 1.
    The Swift test implements the same recurrence."""
    out = np.empty(n, dtype=np.float64)
    x = seed
    for i in range(n):
        x = (1103515245 * x + 12345) % (1 << 31)
        out[i] = x / float(1 << 30) - 1.0
    return out


def synthetic(name):
    # Formulas are mirrored in Tests/WhisperTests/MelGoldenTests.swift (computed in f64, cast to f32).
    if name == "tones_1p5s":
        t = np.arange(int(1.5 * SR), dtype=np.float64) / SR
        x = 0.5 * np.sin(2 * np.pi * 440.0 * t) + 0.25 * np.sin(2 * np.pi * 1234.5 * t)
    elif name == "chirp_noise_30s":
        t = np.arange(30 * SR, dtype=np.float64) / SR
        # Linear chirp 100 Hz -> 7000 Hz over 30 s, plus quiet noise.
        x = 0.3 * np.sin(2 * np.pi * (100.0 * t + 0.5 * (6900.0 / 30.0) * t * t)) + 0.01 * lcg_noise(len(t), 42)
    elif name == "noise_35s":
        # Longer than a window: HF truncates to 30 s.
        x = 0.1 * lcg_noise(35 * SR, 7)
    elif name == "silence_5s":
        x = np.zeros(5 * SR, dtype=np.float64)
    else:
        raise ValueError(name)
    return x.astype(np.float32)


def espeak_clip():
    with tempfile.TemporaryDirectory() as d:
        raw, wav = os.path.join(d, "a.wav"), os.path.join(d, "b.wav")
        subprocess.run(["espeak-ng", "-v", "de", "-w", raw, "Guten Morgen, wie geht es dir heute?"], check=True)
        subprocess.run(["sox", raw, "-r", "16000", "-c", "1", "-b", "16", "-e", "signed-integer", wav], check=True)
        data = open(wav, "rb").read()
    # Canonical 44-byte header from sox; PCM after the "data" chunk.
    i = data.index(b"data")
    n = int.from_bytes(data[i + 4:i + 8], "little")
    pcm = np.frombuffer(data[i + 8:i + 8 + n], dtype="<i2")
    return pcm


def features(fe, audio):
    # As WhisperFeatureExtractor.__call__: [n, 1] columns, pad/truncate to 30 s with zeros.
    padded = fe.pad({"input_features": [np.asarray([audio]).T]}, max_length=30 * SR, padding="max_length",
                    truncation=True, return_tensors="np")["input_features"]
    batch = padded.transpose(2, 0, 1)[0]
    # The numpy (f64 STFT) path explicitly: __call__ switches to torch f32 when torch is importable.
    return fe._np_extract_fbank_features(batch, "cpu")[0].astype(np.float32)


def summarise(feat):
    return {
        "frames": FRAMES,
        "values": [[round(float(v), 6) for v in feat[:, f]] for f in FRAMES],  # [len(FRAMES)][mel]
        "sum": float(feat.astype(np.float64).sum()),
        "min": float(feat.min()),
        "max": float(feat.max()),
        "mel_means": [round(float(v), 7) for v in feat.astype(np.float64).mean(axis=1)],
        "frame_means_every_10": [round(float(v), 7) for v in feat.astype(np.float64).mean(axis=0)[::10]],
    }


def main():
    clips = []
    for mels in (80, 128):
        fe = WhisperFeatureExtractor(feature_size=mels)
        names = ["tones_1p5s", "chirp_noise_30s", "noise_35s", "silence_5s"] if mels == 80 else ["chirp_noise_30s"]
        for name in names:
            feat = features(fe, synthetic(name))
            clips.append({"name": name, "mels": mels, "source": "synthetic", **summarise(feat)})
        pcm = espeak_clip()
        feat = features(fe, pcm.astype(np.float32) / 32768.0)
        clips.append({"name": "espeak_de", "mels": mels, "source": "pcm16",
                      "pcm16_base64": base64.b64encode(pcm.astype("<i2").tobytes()).decode(), **summarise(feat)})
    meta = {"generator": "scripts/golden/frontend_mel.py",
            "reference": "transformers.WhisperFeatureExtractor._np_extract_fbank_features",
            "transformers": __import__("transformers").__version__, "numpy": np.__version__}
    with open(OUT, "w") as f:
        json.dump({"meta": meta, "clips": clips}, f, separators=(",", ":"))
    print(f"wrote {OUT} ({os.path.getsize(OUT)} bytes, {len(clips)} clips)")


if __name__ == "__main__":
    sys.exit(main())
