#!/usr/bin/env python3
"""PyTorch + peft side of the training-step benchmark (bench/train/run.sh runs both sides).

whisper-base dimensions (random weights: step time does not depend on the values), LoRA r=16
on q/k/v/out/fc1/fc2, batch 4, 30 s of features (3000 frames), 32 label tokens per utterance,
CPU, 2 threads. Prints one JSON object: seconds per optimizer step for
  enc_dec        adapters in encoder and decoder
  dec_only       decoder-only adapters, encoder recomputed each step (under no_grad, as a
                 plain peft training loop does: it needs no encoder gradient)
  dec_only_cached decoder-only adapters, encoder outputs precomputed (what caching buys)
"""
import json, sys, time
import torch
from transformers import WhisperConfig, WhisperForConditionalGeneration
from transformers.modeling_outputs import BaseModelOutput
from peft import LoraConfig, get_peft_model

steps = int(sys.argv[1]) if len(sys.argv) > 1 else 2
torch.set_num_threads(2)
torch.manual_seed(0)
cfg = WhisperConfig(vocab_size=51865, num_mel_bins=80, d_model=512, encoder_layers=6, encoder_attention_heads=8,
                    decoder_layers=6, decoder_attention_heads=8, encoder_ffn_dim=2048, decoder_ffn_dim=2048,
                    max_source_positions=1500, max_target_positions=448, dropout=0.0)
B, LABELS = 4, 32
feats = torch.randn(B, 80, 3000)
prompt = [50258, 50266, 50359, 50363]
gen = torch.Generator().manual_seed(1)
body = torch.randint(0, 50000, (B, LABELS - 1), generator=gen)
dec_in = torch.cat([torch.tensor(prompt).repeat(B, 1), body], dim=1)                     # [B, 35]
labels = torch.cat([torch.full((B, 3), -100), body, torch.full((B, 1), 50257)], dim=1)  # [B, 35], 32 with loss

def make(dec_only):
    m = WhisperForConditionalGeneration(cfg)
    m.config.use_cache = False
    targets = ["q_proj", "k_proj", "v_proj", "out_proj", "fc1", "fc2"]
    if dec_only:
        targets = r".*decoder\.layers\.\d+\.(self_attn|encoder_attn)\.(q_proj|k_proj|v_proj|out_proj)|.*decoder\.layers\.\d+\.(fc1|fc2)"
    pm = get_peft_model(m, LoraConfig(r=16, lora_alpha=32, target_modules=targets, lora_dropout=0.0))
    pm.train()
    opt = torch.optim.AdamW([p for p in pm.parameters() if p.requires_grad], lr=1e-4)
    return pm, opt

def step(pm, opt, mode, enc_cache=None):
    opt.zero_grad()
    if mode == "enc_dec":
        loss = pm(input_features=feats, decoder_input_ids=dec_in, labels=labels).loss
    elif mode == "dec_only":
        with torch.no_grad():
            enc = pm.base_model.model.model.encoder(feats).last_hidden_state
        loss = pm(encoder_outputs=BaseModelOutput(last_hidden_state=enc), decoder_input_ids=dec_in, labels=labels).loss
    else:
        loss = pm(encoder_outputs=BaseModelOutput(last_hidden_state=enc_cache), decoder_input_ids=dec_in, labels=labels).loss
    loss.backward()
    torch.nn.utils.clip_grad_norm_([p for p in pm.parameters() if p.requires_grad], 1.0)
    opt.step()
    return loss.item()

out = {"threads": torch.get_num_threads(), "torch": torch.__version__, "batch": B, "label_tokens": LABELS, "steps": steps}
for mode in ["enc_dec", "dec_only", "dec_only_cached"]:
    pm, opt = make(mode != "enc_dec")
    cache = None
    if mode == "dec_only_cached":
        with torch.no_grad():
            cache = pm.base_model.model.model.encoder(feats).last_hidden_state
    step(pm, opt, mode, cache)  # warm-up (allocations, thread pool)
    t = time.perf_counter()
    for _ in range(steps):
        step(pm, opt, mode, cache)
    out[mode] = (time.perf_counter() - t) / steps
    print(f"torch {mode}: {out[mode]:.2f} s/step", file=sys.stderr, flush=True)
print(json.dumps(out))
