#!/usr/bin/env python3
"""Golden logits for LoRA in the runtime, from transformers + peft (the real libraries).

A tiny random Hugging Face Whisper (d 32, 2+2 layers) gets a PEFT LoRA on every supported
target (q/k/v/out_proj of encoder self-attention, decoder self- and cross-attention, fc1, fc2)
with random non-zero A and B, rank 4, alpha 8, a rank_pattern override and rsLoRA off.
Writes Tests/WhisperTests/Golden/model/peft_tiny.safetensors with:
  base.<canonical name>        the base weights (f32)
  lora.<module>.A / .B         lora_A [r, in] / lora_B [out, r] per module (canonical module path)
  scale.<module>               [1] alpha/r resolved by peft for that module
  features [n_mels, 2*positions], tokens [T] (int32 as f32), logits_base [T, vocab], logits_lora [T, vocab]
Run: .venv/bin/python scripts/golden/model_peft.py
"""
import os
import torch
from safetensors.torch import save_file
from transformers import WhisperConfig, WhisperForConditionalGeneration
from peft import LoraConfig, get_peft_model

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "Tests", "WhisperTests", "Golden", "model", "peft_tiny.safetensors")
torch.manual_seed(0)
cfg = WhisperConfig(vocab_size=96, num_mel_bins=8, d_model=32, encoder_layers=2, decoder_layers=2,
                    encoder_attention_heads=4, decoder_attention_heads=4, encoder_ffn_dim=64, decoder_ffn_dim=64,
                    max_source_positions=16, max_target_positions=24, activation_function="gelu",
                    decoder_start_token_id=1, pad_token_id=0, eos_token_id=2, bos_token_id=1)
model = WhisperForConditionalGeneration(cfg).eval()
with torch.no_grad():
    for n, p in model.named_parameters():
        if "embed_positions" in n and "encoder" in n:
            continue
        p.copy_(torch.randn_like(p) * (0.5 if "layer_norm" not in n else 0.1) + (1.0 if n.endswith("layer_norm.weight") else 0.0))
base = {k: v.detach().clone().contiguous() for k, v in model.state_dict().items() if k != "proj_out.weight"}
features = torch.randn(1, 8, 32)
tokens = torch.tensor([[1, 5, 17, 40, 33, 9]])
with torch.no_grad():
    logits_base = model(input_features=features, decoder_input_ids=tokens).logits[0]

targets = ["q_proj", "k_proj", "v_proj", "out_proj", "fc1", "fc2"]
lcfg = LoraConfig(r=4, lora_alpha=8, target_modules=targets, init_lora_weights=False, lora_dropout=0.0,
                  rank_pattern={"model.decoder.layers.1.fc1": 2}, alpha_pattern={"model.decoder.layers.1.fc1": 6})
peft_model = get_peft_model(model, lcfg).eval()
out = {f"base.{k}": v for k, v in base.items()}
for name, module in peft_model.named_modules():
    if hasattr(module, "lora_A") and "default" in getattr(module, "lora_A", {}):
        canon = name.replace("base_model.model.", "", 1)
        with torch.no_grad():
            module.lora_B["default"].weight.copy_(torch.randn_like(module.lora_B["default"].weight) * 0.2)
        out[f"lora.{canon}.A"] = module.lora_A["default"].weight.detach().clone().contiguous()
        out[f"lora.{canon}.B"] = module.lora_B["default"].weight.detach().clone().contiguous()
        out[f"scale.{canon}"] = torch.tensor([float(module.scaling["default"])])
with torch.no_grad():
    logits_lora = peft_model(input_features=features, decoder_input_ids=tokens).logits[0]
out.update({"features": features[0].contiguous(), "tokens": tokens[0].float(), "logits_base": logits_base.contiguous(),
            "logits_lora": logits_lora.contiguous()})
save_file({k: v.float().contiguous() for k, v in out.items()}, OUT)
print("wrote", OUT, "modules", sum(k.startswith("scale.") for k in out), "max|logits_lora - base|",
      float((logits_lora - logits_base).abs().max()))
