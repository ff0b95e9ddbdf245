#!/usr/bin/env python3
"""Golden greedy tokens of transformers on a merged Hugging Face folder Glossa exported
(`glossa export --format hf`), for Tests/GlossaTests/HFExportGoldenTests.swift.

Run through scripts/golden/hf_export_tokens.sh, which has the XCTest write the folder
(real whisper-base + the test's seeded synthetic expert, merged, f32). Inputs are the 27
log-mel windows committed for ModelGoldenTests (Tests/WhisperTests/Golden/model: f16 features
of espeak-ng speech in 9 languages, padded to 3000 frames with the clip's `fill`).

Decoding is pure greedy as `glossa transcribe --beam 1 --no-fallback` does it, written out
step by step so the rules are visible: prompt [SOT, language, transcribe, notimestamps];
every step suppresses generation_config.json's suppress_tokens, the first step also its
begin_suppress_tokens (blank and end-of-text); stop at end-of-text or after 224 steps.
Recorded per clip: the tokens (end-of-text excluded) and, per step, the log-prob margin
between the best and second-best token, so the test accepts a divergence only at a near tie.
Each clip is also decoded the way a transformers user would, `model.generate(features,
language=..., task="transcribe")` with greedy settings, which needs the folder's
generation_config.json (lang_to_id, task_to_id, no_timestamps_token_id); the script fails
unless that gives the same tokens as the loop above.

Run: .venv/bin/python scripts/golden/hf_export_tokens.py HF_DIR OUT_JSON   (needs torch, transformers)
"""
import json, os, sys
import numpy as np
import torch
import transformers
from safetensors.numpy import load_file
from transformers import WhisperForConditionalGeneration
from transformers.modeling_outputs import BaseModelOutput

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
FEATURES = os.path.join(ROOT, "Tests", "WhisperTests", "Golden", "model")
EOT, MAX_STEPS = 50257, 224


def greedy(model, window, prompt, suppress, begin_suppress):
    with torch.no_grad():
        enc = BaseModelOutput(last_hidden_state=model.model.encoder(torch.from_numpy(window)[None]).last_hidden_state)
        tokens, margins, past, step_input = [], [], None, torch.tensor([prompt])
        for step in range(MAX_STEPS):
            out = model(encoder_outputs=enc, decoder_input_ids=step_input, past_key_values=past, use_cache=True)
            past = out.past_key_values
            logits = out.logits[0, -1].double()
            logits[suppress] = -float("inf")
            if step == 0:
                logits[begin_suppress] = -float("inf")
            top = torch.topk(torch.log_softmax(logits, -1), 2)
            margins.append(round(float(top.values[0] - top.values[1]), 6))
            token = int(top.indices[0])
            if token == EOT:
                break
            tokens.append(token)
            step_input = torch.tensor([[token]])
    return tokens, margins


def main():
    hf_dir, out_path = sys.argv[1], sys.argv[2]
    model, info = WhisperForConditionalGeneration.from_pretrained(hf_dir, output_loading_info=True)
    problems = {k: v for k, v in info.items() if k in ("missing_keys", "unexpected_keys", "mismatched_keys") and v}
    if problems:
        sys.exit(f"transformers did not load {hf_dir} cleanly: {problems}")
    model = model.float().eval()
    torch.set_num_threads(2)
    gen = json.load(open(os.path.join(hf_dir, "generation_config.json")))
    index = json.load(open(os.path.join(FEATURES, "ct2.json")))
    clips = []
    for clip in index["clips"]:
        part = load_file(os.path.join(FEATURES, f"features_{clip['lang']}.safetensors"))[f"clip{clip['index']}"]
        window = np.full((80, 3000), clip["fill"], dtype=np.float32)
        window[:, : clip["frames"]] = part.astype(np.float32)
        tokens, margins = greedy(model, window, clip["prompt"], gen["suppress_tokens"], gen["begin_suppress_tokens"])
        with torch.no_grad():
            out = model.generate(torch.from_numpy(window)[None], language=clip["lang"], task="transcribe",
                                 do_sample=False, num_beams=1, max_new_tokens=MAX_STEPS)
        generated = out[0].tolist()
        if generated[: len(clip["prompt"])] == clip["prompt"]:   # older transformers return the prompt too
            generated = generated[len(clip["prompt"]):]
        while generated and generated[-1] == EOT:                # end-of-text, and the padding after it
            generated.pop()
        if generated != tokens:
            sys.exit(f"{clip['lang']}/{clip['index']}: generate(language=...) gave {generated}, the greedy loop {tokens}")
        clips.append({"lang": clip["lang"], "index": clip["index"], "tokens": tokens, "top2_margins": margins})
        print(f"{clip['lang']}/{clip['index']}: {len(tokens)} tokens", file=sys.stderr)
    doc = {"transformers": f"transformers {transformers.__version__}, torch {torch.__version__}, float32", "clips": clips}
    with open(out_path, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
