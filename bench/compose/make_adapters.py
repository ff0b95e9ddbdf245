"""Writes N random PEFT LoRA adapters with whisper-base shapes (r16, alpha 32, q/k/v/out/fc1/fc2
of encoder and decoder) as PEFT folders: the same inputs for Glossa and for PEFT.

usage: make_adapters.py OUT N CONFIG_JSON   (CONFIG_JSON: models/whisper-base-ct2/config.json
or any Whisper config.json with d_model, encoder/decoder layers and ffn dims)"""
import json
import os
import sys

import numpy as np
from safetensors.numpy import save_file

out, n, cfg_path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
cfg = json.load(open(cfg_path))
d = cfg.get("d_model", 512)
layers = {"encoder": cfg.get("encoder_layers", 6), "decoder": cfg.get("decoder_layers", 6)}
ffn = {"encoder": cfg.get("encoder_ffn_dim", 2048), "decoder": cfg.get("decoder_ffn_dim", 2048)}
r = 16
for e in range(n):
    rng = np.random.default_rng(e)
    tensors = {}
    for stack, count in layers.items():
        for i in range(count):
            mods = ["self_attn." + p for p in ("q_proj", "k_proj", "v_proj", "out_proj")]
            if stack == "decoder":
                mods += ["encoder_attn." + p for p in ("q_proj", "k_proj", "v_proj", "out_proj")]
            mods += ["fc1", "fc2"]
            for m in mods:
                inp, outp = (d, ffn[stack]) if m == "fc1" else (ffn[stack], d) if m == "fc2" else (d, d)
                key = f"base_model.model.model.{stack}.layers.{i}.{m}"
                tensors[key + ".lora_A.weight"] = (rng.standard_normal((r, inp)) / np.sqrt(inp)).astype(np.float32)
                tensors[key + ".lora_B.weight"] = (0.01 * rng.standard_normal((outp, r))).astype(np.float32)
    folder = os.path.join(out, f"expert{e}")
    os.makedirs(folder, exist_ok=True)
    save_file(tensors, os.path.join(folder, "adapter_model.safetensors"))
    json.dump({"peft_type": "LORA", "r": r, "lora_alpha": 32, "target_modules": ["q_proj", "k_proj", "v_proj", "out_proj", "fc1", "fc2"],
               "bias": "none", "task_type": None, "base_model_name_or_path": "openai/whisper-base", "use_rslora": False,
               "rank_pattern": {}, "alpha_pattern": {}, "lora_dropout": 0.0, "fan_in_fan_out": False, "inference_mode": True},
              open(os.path.join(folder, "adapter_config.json"), "w"))
