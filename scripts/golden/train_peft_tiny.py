#!/usr/bin/env python3
"""Golden values for the trainer: a tiny Whisper with PEFT LoRA in transformers.

The base is built exactly as `TinyWhisper.make(seed: 5, dimensions: d 8, 2 + 2 layers,
2 heads, FFN 16, vocab 64, 4 mel bins, 4 / 16 positions)` builds it (the numpy twin in
peft_check.py) and loaded by transformers from a folder. Each LoRA factor of canonical
module M (rank 2, alpha 4, all six targets) holds 0.3 * uniform(-1, 1) drawn like
TinyWhisper's values (SplitMix64 seeded 77 ^ FNV-1a("M.lora_A") / "M.lora_B"; B non-zero, so
every factor gets a gradient), and the features of utterance u are
((u*7 + m*31 + t*17) % 101) / 50 - 1 at mel m, frame t. So no weights are committed: the
Swift test rebuilds all inputs from this record.

Writes Tests/TrainingTests/Golden/peft_tiny_step.json with the dims and seeds, a batch of two
utterances (different lengths, padded like a Hugging Face collator), the mean token loss,
every LoRA gradient, and the factors after one clipped AdamW step. The Swift trainer must
reproduce all of them.

Run: .venv/bin/python scripts/golden/train_peft_tiny.py   (needs torch, transformers, peft:
scripts/setup.sh --bench)
"""
import json, os, pathlib, sys, tempfile
import numpy as np
import torch
from safetensors.numpy import save_file
from transformers import WhisperConfig, WhisperForConditionalGeneration
from peft import LoraConfig, get_peft_model

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peft_check import tiny_tensors, stream  # the numpy twin of TinyWhisper

BASE_SEED, VALUE_SEED, VALUE_SCALE = 5, 77, np.float32(0.3)
D = dict(d=8, enc=2, dec=2, heads=2, ffn=16, vocab=64, mels=4, src=4, tgt=16)
folder = pathlib.Path(tempfile.mkdtemp())
save_file(tiny_tensors(BASE_SEED, D), str(folder / "model.safetensors"), metadata={"format": "pt"})
WhisperConfig(vocab_size=D["vocab"], num_mel_bins=D["mels"], d_model=D["d"], encoder_layers=D["enc"], encoder_attention_heads=D["heads"],
              decoder_layers=D["dec"], decoder_attention_heads=D["heads"], encoder_ffn_dim=D["ffn"], decoder_ffn_dim=D["ffn"],
              max_source_positions=D["src"], max_target_positions=D["tgt"], pad_token_id=1, bos_token_id=50,
              eos_token_id=49, decoder_start_token_id=50, dropout=0.0, attention_dropout=0.0,
              activation_dropout=0.0, scale_embedding=False, tie_word_embeddings=True).save_pretrained(str(folder))
model, info = WhisperForConditionalGeneration.from_pretrained(str(folder), output_loading_info=True)
bad = {k: v for k, v in info.items() if k in ("missing_keys", "unexpected_keys", "mismatched_keys") and v}
if bad: sys.exit(f"transformers did not load the tiny base cleanly: {bad}")
model = model.eval()

targets = ["q_proj", "k_proj", "v_proj", "out_proj", "fc1", "fc2"]
lcfg = LoraConfig(r=2, lora_alpha=4, target_modules=targets, lora_dropout=0.0, bias="none")
pm = get_peft_model(model, lcfg)
prefix = "base_model.model."
lora = {}
with torch.no_grad():
    for n, p in pm.named_parameters():
        if "lora_" in n:
            mod = n[len(prefix):].replace(".lora_A.default.weight", "").replace(".lora_B.default.weight", "")
            factor = "A" if "lora_A" in n else "B"
            p.copy_(torch.from_numpy((VALUE_SCALE * stream(VALUE_SEED, f"{mod}.lora_{factor}", p.numel())).reshape(tuple(p.shape))))
            lora.setdefault(mod, {})[factor] = p

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
u, m, t = np.meshgrid(np.arange(2), np.arange(D["mels"]), np.arange(2 * D["src"]), indexing="ij")
feats = torch.from_numpy(((u * 7 + m * 31 + t * 17) % 101).astype(np.float32) / np.float32(50) - np.float32(1))
pm.train()
out = pm(input_features=feats, decoder_input_ids=torch.tensor(dec_in), labels=torch.tensor(labels))
out.loss.backward()
grads = {m: {"A": f["A"].grad.flatten().tolist(), "B": f["B"].grad.flatten().tolist()} for m, f in lora.items()}

params = [p for f in lora.values() for p in (f["A"], f["B"])]
norm = torch.nn.utils.clip_grad_norm_(params, max_norm=0.1)
opt = torch.optim.AdamW(params, lr=1e-2, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.1)
opt.step()
after = {m: {"A": f["A"].detach().flatten().tolist(), "B": f["B"].detach().flatten().tolist()} for m, f in lora.items()}

golden = {
    "dims": D, "base_seed": BASE_SEED, "value_seed": VALUE_SEED, "value_scale": float(VALUE_SCALE),
    "special": {"sot": SOT, "eot": EOT, "transcribe": TR, "notimestamps": NT, "language": LANG},
    "lora": {"rank": 2, "alpha": 4, "targets": targets, "grads": grads, "after": after},
    "features": "[utterance, mels, 2 * src] f32: ((u*7 + m*31 + t*17) % 101) / 50 - 1", "transcripts": transcripts,
    "loss": out.loss.item(), "grad_norm": norm.item(),
    "adamw": {"lr": 1e-2, "weight_decay": 0.1, "clip": 0.1},
    "versions": {"torch": torch.__version__, "peft": __import__("peft").__version__,
                 "transformers": __import__("transformers").__version__},
}
dst = os.path.join(os.path.dirname(__file__), "../../Tests/TrainingTests/Golden/peft_tiny_step.json")
with open(dst, "w") as f:
    json.dump(golden, f)
print(f"wrote {os.path.normpath(dst)}: loss {out.loss.item():.6f}, grad norm {norm.item():.6f}", file=sys.stderr)
