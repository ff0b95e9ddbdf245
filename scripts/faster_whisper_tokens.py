"""Pure greedy token ids from faster-whisper for a CTranslate2 Whisper folder.

    faster_whisper_tokens.py MODEL_DIR LANGUAGE AUDIO...

Loads MODEL_DIR with `faster_whisper.WhisperModel` (CPU, float32, 2 threads) and prints one
JSON line per file: {"file": path, "tokens": [ids]}, the text tokens of its 30 s windows in
order (no SOT prefix, no end-of-text). Decoding is what `glossa transcribe --beam 1
--no-fallback --language LANGUAGE` does: beam 1, temperature 0 only (no fallback, no
compression / log-prob / no-speech rules), no timestamps, no previous-text prompt, blank and
config.json suppress_ids suppressed, no VAD.

Each clip (at most 30 s) is padded with zeros to one full 30 s window before faster-whisper
sees it, so its front end computes the log-mel window OpenAI Whisper, transformers and Glossa
compute. Left to itself, faster-whisper pads a short clip with only 10 ms of audio and fills
the rest of the window with zeros of the normalised log-mel, i.e. other features than the
reference front end's: the comparison is about the exported weights, not that difference.
Used by the ct2 export agreement test
(Tests/GlossaTests/FasterWhisperAgreementTests.swift); needs faster-whisper in the venv
(scripts/requirements.txt).
"""
import json
import sys

import numpy as np
from faster_whisper import WhisperModel, decode_audio

WINDOW = 16_000 * 30  # samples in one 30 s window at 16 kHz


def main() -> None:
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    model_dir, language, files = sys.argv[1], sys.argv[2], sys.argv[3:]
    model = WhisperModel(model_dir, device="cpu", compute_type="float32", cpu_threads=2)
    for path in files:
        audio = decode_audio(path, sampling_rate=16_000)
        if len(audio) > WINDOW:
            sys.exit(f"{path}: {len(audio) / 16_000:.1f} s is longer than one 30 s window")
        audio = np.pad(audio, (0, WINDOW - len(audio)))
        segments, _ = model.transcribe(
            audio, language=language, task="transcribe", beam_size=1, best_of=1, temperature=0.0,
            without_timestamps=True, condition_on_previous_text=False, vad_filter=False,
            compression_ratio_threshold=None, log_prob_threshold=None, no_speech_threshold=None,
            suppress_blank=True, suppress_tokens=[-1], word_timestamps=False)
        tokens = [t for s in segments for t in s.tokens]
        print(json.dumps({"file": path, "tokens": tokens}), flush=True)


if __name__ == "__main__":
    main()
