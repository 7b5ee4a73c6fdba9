#!/usr/bin/env python3
"""Full-size nanoLLaVA parity (random weights): the whole architecture at its
real sizes, built with HF transformers, for sdk/models/llava's
TestFullSizeParity (which runs only when VISREFT_FULLSIZE_DIR names the
output folder: 2 GB of weights, not committed).

Writes OUT/model.safetensors (bf16, nanoLLaVA's 714 tensor names, as the hub
checkpoint stores them), OUT/config.json (nanoLLaVA's fields: no
vision_config, so the Go side must derive so400m from mm_vision_tower), and
OUT/golden.safetensors: inputs (input_ids with -200, pixel_values
[1, 3, 384, 384]) and outputs computed in float32 from the bf16 weights:
vision_out, image_features, hidden_<i> at the last 16 positions, logits at
the last 8 positions, and 8 greedily generated tokens (KV cache, no eos).

  testdata/gen/debian-sid.sh /srv/sid python3 testdata/gen/models/fullsize.py --out /some/dir
"""
import argparse
import json
import os
import sys

import torch
import transformers
from safetensors.torch import save_file
from transformers import Qwen2Config, Qwen2ForCausalLM, SiglipVisionConfig

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_fixtures import IMAGE_TOKEN, Projector, VisionTowerHolder, splice  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    torch.manual_seed(0)
    tcfg = Qwen2Config(vocab_size=151936, hidden_size=1024, intermediate_size=2816, num_hidden_layers=24,
                       num_attention_heads=16, num_key_value_heads=16, max_position_embeddings=32768,
                       rope_theta=1e6, rms_norm_eps=1e-6, tie_word_embeddings=False, hidden_act="silu",
                       attn_implementation="eager")
    vcfg = SiglipVisionConfig(hidden_size=1152, intermediate_size=4304, num_hidden_layers=27,
                              num_attention_heads=16, num_channels=3, image_size=384, patch_size=14,
                              hidden_act="gelu_pytorch_tanh", layer_norm_eps=1e-6, attn_implementation="eager")
    model = Qwen2ForCausalLM(tcfg).eval()  # transformers' own init (std 0.02)
    tower = VisionTowerHolder(vcfg).eval()
    proj = Projector(1152, 1024).eval()
    with torch.no_grad():  # SigLIP's init leaves the patch conv tiny; give it unit-scale outputs
        tower.run.get_input_embeddings().weight.normal_(0, 0.05)
        # With transformers' init (std 0.02) the image features swamp the text
        # embeddings and greedy decoding repeats one token whatever the input;
        # unit-scale text embeddings make the continuation depend on the text.
        model.model.embed_tokens.weight.normal_(0, 1.0)
    weights = {k: v.to(torch.bfloat16).contiguous() for k, v in model.state_dict().items()}
    weights.update({"model.vision_tower." + k: v.to(torch.bfloat16).contiguous() for k, v in tower.state_dict().items()})
    weights.update({"model.mm_projector." + k: v.to(torch.bfloat16).contiguous() for k, v in proj.state_dict().items()})
    # Compute in f32 from exactly the stored bf16 values.
    for m, prefix in ((model, ""), (tower, "model.vision_tower."), (proj, "model.mm_projector.")):
        m.load_state_dict({k[len(prefix):]: v.float() for k, v in weights.items() if k.startswith(prefix) and
                           (prefix or not k.startswith("model.vision_tower.") and not k.startswith("model.mm_projector."))},
                          strict=False)
    g = torch.Generator().manual_seed(4)
    pixels = torch.rand((1, 3, 384, 384), generator=g) * 2 - 1
    ids = torch.tensor([[151644, 8948, 198, 16141, 279, 3405, 151645, 151644, 872, 198, IMAGE_TOKEN, 198,
                         3838, 374, 279, 1894, 30, 151645, 151644, 77091, 198]])
    with torch.no_grad():
        vis, _ = tower(pixels)
        feats = proj(vis)
        embeds = splice(model.model.embed_tokens, ids, feats)
        out = model(inputs_embeds=embeds, output_hidden_states=True)
        gen = model.generate(inputs_embeds=embeds, attention_mask=torch.ones(embeds.shape[:2], dtype=torch.long),
                             max_new_tokens=8, do_sample=False, eos_token_id=None, pad_token_id=0)
    res = {"input_ids": ids, "pixel_values": pixels, "vision_out": vis, "image_features": feats,
           "logits_last8": out.logits[:, -8:], "generated": gen[:, -8:].to(torch.int64)}
    for i, h in enumerate(out.hidden_states):
        res[f"hidden_{i}_last16"] = h[:, -16:]
    res = {k: v.contiguous().clone() for k, v in res.items()}
    os.makedirs(args.out, exist_ok=True)
    meta = {"transformers": transformers.__version__, "torch": torch.__version__, "script": "testdata/gen/models/fullsize.py"}
    save_file(weights, os.path.join(args.out, "model.safetensors"), metadata=meta)
    save_file(res, os.path.join(args.out, "golden.safetensors"), metadata=meta)
    cfg = tcfg.to_dict()
    cfg.update({"mm_hidden_size": 1152, "mm_projector_type": "mlp2x_gelu",
                "mm_vision_tower": "google/siglip-so400m-patch14-384", "architectures": ["LlavaQwen2ForCausalLM"],
                "model_type": "llava-qwen2", "torch_dtype": "bfloat16"})
    with open(os.path.join(args.out, "config.json"), "w") as f:
        json.dump(cfg, f, indent=1, sort_keys=True, default=str)
    print("wrote", args.out, len(weights), "tensors")


if __name__ == "__main__":
    main()
