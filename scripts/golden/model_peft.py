#!/usr/bin/env python3
"""Golden logits for LoRA in the runtime, from transformers + peft (the real libraries).

A tiny Whisper (d 32, 2 + 2 layers, 4 heads, FFN 64, vocab 96, 8 mel bins, 16 / 24
positions) built exactly as `TinyWhisper.make(seed: 3, dimensions: ...)` builds it (the
numpy twin in peft_check.py), loaded by transformers from a folder, gets a PEFT LoRA on
every supported target (q/k/v/out_proj of encoder self-attention, decoder self- and
cross-attention, fc1, fc2): rank 4, alpha 8, with a rank/alpha pattern on decoder layer 1's
fc1 (rank 2, alpha 6), rsLoRA off. Factor `lora_A` [r, in] / `lora_B` [out, r] of canonical
module M holds VALUE_SCALE * uniform(-1, 1) drawn like TinyWhisper's values (SplitMix64
seeded VALUE_SEED ^ FNV-1a("M.lora_A") / "M.lora_B"), so the Swift test rebuilds the model
and the adapter from this record and no weights are committed.

Writes Tests/WhisperTests/Golden/model/peft_tiny.json: dims and seeds, each module's rank
and PEFT-resolved scale, the decoder tokens, and PEFT's logits [T, vocab] (row-major, f32
compute) without and with the adapter for features[m, t] = ((m*31 + t*17) % 101) / 50 - 1.

Run: .venv/bin/python scripts/golden/model_peft.py   (needs torch, transformers, peft:
scripts/setup.sh --bench)
"""
import json, os, pathlib, sys, tempfile
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peft_check import tiny_tensors, stream  # the numpy twin of TinyWhisper

ROOT = pathlib.Path(__file__).resolve().parents[2]
OUT = ROOT / "Tests/WhisperTests/Golden/model/peft_tiny.json"
SEED = 3
DIMS = dict(d=32, enc=2, dec=2, heads=4, ffn=64, vocab=96, mels=8, src=16, tgt=24)
TOKENS = [1, 5, 17, 40, 33, 9]
VALUE_SEED = 99
VALUE_SCALE = np.float32(0.3)


def features():
    m = np.arange(DIMS["mels"])[:, None]; t = np.arange(2 * DIMS["src"])[None, :]
    return (((m * 31 + t * 17) % 101).astype(np.float32) / np.float32(50) - np.float32(1))[None]


def main():
    import torch
    from safetensors.numpy import save_file
    from transformers import WhisperConfig, WhisperForConditionalGeneration
    from peft import LoraConfig, get_peft_model
    D = DIMS
    folder = pathlib.Path(tempfile.mkdtemp())
    save_file(tiny_tensors(SEED, D), str(folder / "model.safetensors"), metadata={"format": "pt"})
    WhisperConfig(vocab_size=D["vocab"], num_mel_bins=D["mels"], d_model=D["d"], encoder_layers=D["enc"],
                  decoder_layers=D["dec"], encoder_attention_heads=D["heads"], decoder_attention_heads=D["heads"],
                  encoder_ffn_dim=D["ffn"], decoder_ffn_dim=D["ffn"], max_source_positions=D["src"],
                  max_target_positions=D["tgt"], activation_function="gelu", scale_embedding=False,
                  tie_word_embeddings=True, decoder_start_token_id=1, pad_token_id=0, eos_token_id=2,
                  bos_token_id=1).save_pretrained(str(folder))
    model, info = WhisperForConditionalGeneration.from_pretrained(str(folder), output_loading_info=True)
    bad = {k: v for k, v in info.items() if k in ("missing_keys", "unexpected_keys", "mismatched_keys") and v}
    if bad: sys.exit(f"transformers did not load the tiny base cleanly: {bad}")
    model = model.eval()
    feats, tokens = torch.from_numpy(features()), torch.tensor([TOKENS])
    with torch.no_grad():
        logits_base = model(input_features=feats, decoder_input_ids=tokens).logits[0]

    config = LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "k_proj", "v_proj", "out_proj", "fc1", "fc2"],
                        lora_dropout=0.0, rank_pattern={"model.decoder.layers.1.fc1": 2},
                        alpha_pattern={"model.decoder.layers.1.fc1": 6})
    peft_model = get_peft_model(model, config).eval()
    modules = {}
    with torch.no_grad():
        for name, module in peft_model.named_modules():
            if hasattr(module, "lora_A") and "default" in module.lora_A:
                canon = name.removeprefix("base_model.model.")
                for factor in ["lora_A", "lora_B"]:
                    w = getattr(module, factor)["default"].weight
                    values = VALUE_SCALE * stream(VALUE_SEED, f"{canon}.{factor}", w.numel())
                    w.copy_(torch.from_numpy(values.reshape(tuple(w.shape))))
                modules[canon] = {"rank": module.r["default"], "scale": float(module.scaling["default"])}
        logits_lora = peft_model(input_features=feats, decoder_input_ids=tokens).logits[0]
    import peft, transformers
    record = {"dims": D, "base_seed": SEED, "value_seed": VALUE_SEED, "value_scale": float(VALUE_SCALE),
              "features": "[mels, 2 * src] f32: ((m*31 + t*17) % 101) / 50 - 1", "tokens": TOKENS,
              "modules": dict(sorted(modules.items())),
              "logits_base": [float(x) for x in logits_base.reshape(-1)],
              "logits_lora": [float(x) for x in logits_lora.reshape(-1)],
              "versions": {"torch": torch.__version__, "peft": peft.__version__, "transformers": transformers.__version__}}
    OUT.write_text(json.dumps(record) + "\n")
    print("wrote", OUT, "modules", len(modules), "max|logits_lora - base|", float((logits_lora - logits_base).abs().max()))


if __name__ == "__main__":
    main()
