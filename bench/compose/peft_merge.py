"""The peer: PEFT's add_weighted_adapter on the same adapters, timed per combination type.

usage: peft_merge.py ADAPTERS_DIR N REPEATS CONFIG_JSON > result.json
Prints {"method": [seconds of each repeat]} for cat, svd (PEFT's weighted sum of deltas + SVD,
our `linear`), ties_svd (our `ties`) and dare_linear_svd (our `dare`), density 0.5, rank 16,
weights 1/N; 2 threads. The model is a randomly initialised WhisperForConditionalGeneration of
the same shapes (merging touches only the LoRA factors)."""
import json
import sys
import time

import torch
from peft import PeftModel
from transformers import WhisperConfig, WhisperForConditionalGeneration

folder, n, repeats, cfg_path = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
torch.set_num_threads(2)
c = json.load(open(cfg_path))
config = WhisperConfig(d_model=c.get("d_model", 512), encoder_layers=c.get("encoder_layers", 6), decoder_layers=c.get("decoder_layers", 6),
                       encoder_attention_heads=c.get("encoder_attention_heads", 8), decoder_attention_heads=c.get("decoder_attention_heads", 8),
                       encoder_ffn_dim=c.get("encoder_ffn_dim", 2048), decoder_ffn_dim=c.get("decoder_ffn_dim", 2048),
                       vocab_size=c.get("vocab_size", 51865))
model = WhisperForConditionalGeneration(config)
names = [f"e{i}" for i in range(n)]
peft = PeftModel.from_pretrained(model, f"{folder}/expert0", adapter_name=names[0])
for i in range(1, n):
    peft.load_adapter(f"{folder}/expert{i}", adapter_name=names[i])
weights = [1.0 / n] * n
out = {}
for method, ctype, extra in [("cat", "cat", {}), ("linear", "svd", {"svd_rank": 16}),
                             ("ties", "ties_svd", {"svd_rank": 16, "density": 0.5}),
                             ("dare", "dare_linear_svd", {"svd_rank": 16, "density": 0.5})]:
    times = []
    for r in range(repeats):
        name = f"{method}{r}"
        t0 = time.perf_counter()
        peft.add_weighted_adapter(names, weights, name, combination_type=ctype, **extra)
        times.append(time.perf_counter() - t0)
        peft.delete_adapter(name)
    out[method] = times
print(json.dumps(out))
