#!/usr/bin/env python3
"""Golden values for the trainer: a tiny random Whisper with PEFT LoRA in transformers.

Writes Tests/TrainingTests/Golden/peft_tiny_step.json with the base tensors (HF names),
the LoRA factors (canonical module names), a batch of two utterances (different lengths,
padded like a Hugging Face collator), the mean token loss, every LoRA gradient, and the
factors after one clipped AdamW step. The Swift trainer must reproduce all of them.

Run: .venv/bin/python scripts/golden/train_peft_tiny.py   (needs torch, transformers, peft)
"""
import json, os, sys
import torch
from transformers import WhisperConfig, WhisperForConditionalGeneration
from peft import LoraConfig, get_peft_model

torch.manual_seed(1234)
cfg = WhisperConfig(vocab_size=64, num_mel_bins=4, d_model=8, encoder_layers=2, encoder_attention_heads=2,
                    decoder_layers=2, decoder_attention_heads=2, encoder_ffn_dim=16, decoder_ffn_dim=16,
                    max_source_positions=4, max_target_positions=16, pad_token_id=1, bos_token_id=50,
                    eos_token_id=49, decoder_start_token_id=50, dropout=0.0, attention_dropout=0.0,
                    activation_dropout=0.0, scale_embedding=False)
model = WhisperForConditionalGeneration(cfg).eval()
with torch.no_grad():  # non-trivial layer norms and biases (HF init sets gamma=1, beta=0, biases 0)
    for n, p in model.named_parameters():
        if "layer_norm" in n and n.endswith("weight"): p.copy_(1 + 0.1 * torch.randn_like(p))
        elif n.endswith("bias"): p.copy_(0.05 * torch.randn_like(p))
        elif "embed_positions" in n: p.copy_(0.1 * torch.randn_like(p))
base = {k: v.detach().clone() for k, v in model.state_dict().items() if k != "proj_out.weight"}

targets = ["q_proj", "k_proj", "v_proj", "out_proj", "fc1", "fc2"]
lcfg = LoraConfig(r=2, lora_alpha=4, target_modules=targets, lora_dropout=0.0, bias="none")
pm = get_peft_model(model, lcfg)
prefix = "base_model.model."
lora = {}
with torch.no_grad():
    for n, p in pm.named_parameters():
        if "lora_B" in n: p.copy_(0.3 * torch.randn_like(p))   # nonzero B: every factor gets a gradient
for n, p in pm.named_parameters():
    if "lora_" in n:
        mod = n[len(prefix):].replace(".lora_A.default.weight", "").replace(".lora_B.default.weight", "")
        lora.setdefault(mod, {})["A" if "lora_A" in n else "B"] = p

# Two utterances: SOT, lang, transcribe, notimestamps, transcript..., EOT; loss on transcript + EOT.
SOT, EOT, TR, NT, LANG = 50, 49, 51, 52, 53
transcripts = [[3, 4, 5, 60], [10, 11]]
T = 4 + max(len(t) for t in transcripts)
dec_in, labels = [], []
for t in transcripts:
    inp = [SOT, LANG, TR, NT] + t
    lab = [-100, -100, -100] + t + [EOT]
    pad = T - len(inp)
    dec_in.append(inp + [EOT] * pad)
    labels.append(lab + [-100] * pad)
feats = torch.randn(2, 4, 8)
pm.train()
out = pm(input_features=feats, decoder_input_ids=torch.tensor(dec_in), labels=torch.tensor(labels))
out.loss.backward()
grads = {m: {"A": f["A"].grad.flatten().tolist(), "B": f["B"].grad.flatten().tolist()} for m, f in lora.items()}
before = {m: {"A": f["A"].detach().flatten().tolist(), "B": f["B"].detach().flatten().tolist()} for m, f in lora.items()}

params = [p for f in lora.values() for p in (f["A"], f["B"])]
norm = torch.nn.utils.clip_grad_norm_(params, max_norm=0.1)
opt = torch.optim.AdamW(params, lr=1e-2, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.1)
opt.step()
after = {m: {"A": f["A"].detach().flatten().tolist(), "B": f["B"].detach().flatten().tolist()} for m, f in lora.items()}

golden = {
    "config": {"num_mel_bins": 4, "d_model": 8, "encoder_layers": 2, "encoder_attention_heads": 2, "encoder_ffn_dim": 16,
               "decoder_layers": 2, "decoder_attention_heads": 2, "decoder_ffn_dim": 16, "vocab_size": 64,
               "max_source_positions": 4, "max_target_positions": 16, "suppress_tokens": [], "begin_suppress_tokens": []},
    "special": {"sot": SOT, "eot": EOT, "transcribe": TR, "notimestamps": NT, "language": LANG},
    "tensors": {k: {"shape": list(v.shape), "values": v.flatten().tolist()} for k, v in base.items()},
    "lora": {"rank": 2, "alpha": 4, "targets": targets, "before": before, "grads": grads, "after": after},
    "features": feats.flatten().tolist(), "transcripts": transcripts,
    "loss": out.loss.item(), "grad_norm": norm.item(),
    "adamw": {"lr": 1e-2, "weight_decay": 0.1, "clip": 0.1},
    "versions": {"torch": torch.__version__, "peft": __import__("peft").__version__,
                 "transformers": __import__("transformers").__version__},
}
dst = os.path.join(os.path.dirname(__file__), "../../Tests/TrainingTests/Golden/peft_tiny_step.json")
with open(dst, "w") as f:
    json.dump(golden, f)
print(f"wrote {os.path.normpath(dst)}: loss {out.loss.item():.6f}, grad norm {norm.item():.6f}", file=sys.stderr)
