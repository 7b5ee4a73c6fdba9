#!/usr/bin/env python3
"""Golden fixtures for visreft's model parity tests, made by HF transformers.

Builds tiny random Qwen2, SigLIP and nanoLLaVA-architecture models whose
tensors carry nanoLLaVA's exact names, runs them on fixed inputs, and writes
for each model (in testdata/models/<name>/):

  model.safetensors   the weights, nanoLLaVA names (f32)
  config.json         the configs (text, vision, projector)
  bf16/model.safetensors, bf16/config.json  the same weights cast to bf16
                      by torch (the dtype nanoLLaVA's checkpoint is stored in)
  golden.safetensors  inputs and outputs: input_ids, pixel_values, logits,
                      hidden_<i> (HF hidden_states), vision_hidden_<i>,
                      image_features, inputs_embeds; text_* for a
                      text-only, left-padded batch run through Qwen2 alone;
                      generated (greedy, 6 new tokens, from inputs_embeds)
  golden_bf16.safetensors  the same outputs with the model cast to bf16

Pinned: Debian sid's python3-transformers 5.12.1 and python3-torch 2.14.1
(CPU, f32 for determinism), made in a sid chroot by
testdata/gen/debian-sid.sh; the GPU machine's transformers 5.17 / torch 2.11
also work. The versions that ran are in each file's metadata.

  testdata/gen/debian-sid.sh /srv/sid          # once: chroot with transformers
  testdata/gen/debian-sid.sh /srv/sid python3 testdata/gen/models/make_fixtures.py
"""
import argparse
import json
import os

import torch
import transformers
from safetensors.torch import save_file
from transformers import Qwen2Config, Qwen2ForCausalLM, SiglipVisionConfig, SiglipVisionModel

EXPECTED = {"transformers": "5.12.1", "torch": "2.14.1"}

IMAGE_TOKEN = -200


def tiny_qwen2():
    return Qwen2Config(vocab_size=96, hidden_size=32, intermediate_size=48, num_hidden_layers=3,
                       num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256,
                       rope_theta=10000.0, rms_norm_eps=1e-6, tie_word_embeddings=False,
                       hidden_act="silu", attn_implementation="eager")


def tiny_siglip():
    # 3 layers, nanoLLaVA keeps all but the last: 2 run. 30 pixels at patch 7:
    # the convolution drops the last 2 rows and columns, as so400m drops 6 of 384.
    return SiglipVisionConfig(hidden_size=16, intermediate_size=40, num_hidden_layers=3,
                              num_attention_heads=2, num_channels=3, image_size=30, patch_size=7,
                              hidden_act="gelu_pytorch_tanh", layer_norm_eps=1e-6,
                              attn_implementation="eager")


class Projector(torch.nn.Sequential):
    """mlp2x_gelu: indices 0 and 2 are the Linears, as in nanoLLaVA."""

    def __init__(self, vis, hid):
        super().__init__(torch.nn.Linear(vis, hid), torch.nn.GELU(), torch.nn.Linear(hid, hid))


class VisionTowerHolder(torch.nn.Module):
    """Gives the names model.vision_tower.vision_tower.vision_model.*

    transformers 4.x nests the transformer as SiglipVisionModel.vision_model;
    5.x keeps it at the top (and maps old names when loading), so it is
    wrapped here to keep nanoLLaVA's names either way."""

    def __init__(self, cfg):
        super().__init__()
        model = SiglipVisionModel(cfg)
        self.run = model
        if hasattr(model, "vision_model"):
            self.vision_tower, inner = model, model.vision_model
        else:
            self.vision_tower, inner = torch.nn.Module(), model
            self.vision_tower.vision_model = model
        inner.encoder.layers = torch.nn.ModuleList(list(inner.encoder.layers)[:-1])
        inner.head = torch.nn.Identity()

    def state_dict(self, *args, **kwargs):
        return self.vision_tower.state_dict(prefix="vision_tower.")

    def forward(self, pixel_values):
        out = self.run(pixel_values, output_hidden_states=True)
        return out.hidden_states[-1], out.hidden_states  # raw last kept layer, no post_layernorm


def randomize(module, seed, std=0.2):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in sorted(module.named_parameters()):
            noise = torch.randn(p.shape, generator=g) * std
            p.copy_(1 + noise if ("norm" in name and name.endswith("weight")) else noise)


def splice(embed, ids, feats):
    """nanoLLaVA's prepare_inputs_labels_for_multimodal for one image per row."""
    rows = []
    for b in range(ids.shape[0]):
        parts, row = [], ids[b]
        pos = (row == IMAGE_TOKEN).nonzero().flatten().tolist()
        assert len(pos) == 1
        p = pos[0]
        parts.append(embed(row[:p]))
        parts.append(feats[b])
        parts.append(embed(row[p + 1:]))
        rows.append(torch.cat(parts, 0))
    return torch.stack(rows, 0)


def run(model, tower, proj, ids, pixels, dtype):
    model, tower, proj = model.to(dtype), tower.to(dtype), proj.to(dtype)
    with torch.no_grad():
        vis, vis_hidden = tower(pixels.to(dtype))
        feats = proj(vis)
        embeds = splice(model.model.embed_tokens, ids, feats)
        out = model(inputs_embeds=embeds, output_hidden_states=True)
    inner = tower.vision_tower.vision_model
    res = {"image_features": feats, "vision_out": vis, "inputs_embeds": embeds, "logits": out.logits,
           "vision_post_layernorm": inner.post_layernorm(vis)}  # plain SigLIP's last_hidden_state
    for i, h in enumerate(out.hidden_states):
        res[f"hidden_{i}"] = h
    for i, h in enumerate(vis_hidden):
        res[f"vision_hidden_{i}"] = h
    return {k: v.float().contiguous().clone() for k, v in res.items()}


def text_batch(model, dtype):
    """Text only, left-padded: Qwen2 alone, positions counted from each
    row's first real token (as generate() does)."""
    ids = torch.tensor([[11, 23, 5, 70, 8, 31, 2], [0, 0, 0, 64, 4, 19, 88]])
    mask = torch.tensor([[1] * 7, [0, 0, 0, 1, 1, 1, 1]])
    pos = (mask.cumsum(-1) - 1).clamp(min=0)
    with torch.no_grad():
        out = model.to(dtype)(input_ids=ids, attention_mask=mask, position_ids=pos)
    return {"text_input_ids": ids, "text_attention_mask": mask, "text_logits": out.logits.float().contiguous()}


def generated(model, tower, proj, ids, pixels, dtype):
    """Greedy continuation of the multimodal prompts: 6 new tokens, no eos."""
    model, tower, proj = model.to(dtype), tower.to(dtype), proj.to(dtype)
    with torch.no_grad():
        feats = proj(tower(pixels.to(dtype))[0])
        embeds = splice(model.model.embed_tokens, ids, feats)
        out = model.generate(inputs_embeds=embeds, attention_mask=torch.ones(embeds.shape[:2], dtype=torch.long),
                             max_new_tokens=6, do_sample=False, eos_token_id=None, pad_token_id=0)
    return out[:, -6:].to(torch.int64).contiguous()


def qwen2_tied(root, meta):
    """A second text-only Qwen2 (Qwen1.5-0.5B style: tied embeddings,
    rope_theta 1e6, one kv head, max_window_layers) saved by save_pretrained,
    which drops the tied lm_head.weight as the hub checkpoints do."""
    cfg = Qwen2Config(vocab_size=80, hidden_size=24, intermediate_size=40, num_hidden_layers=4,
                      num_attention_heads=3, num_key_value_heads=1, max_position_embeddings=128,
                      rope_theta=1e6, rms_norm_eps=1e-6, tie_word_embeddings=True, hidden_act="silu",
                      attn_implementation="eager")
    model = Qwen2ForCausalLM(cfg).eval()
    randomize(model, 5)
    out_dir = os.path.join(root, "qwen2_tied")
    model.save_pretrained(out_dir, safe_serialization=True)
    ids = torch.tensor([[3, 14, 15, 92 % 80, 65, 35, 8, 9, 79], [2, 7, 1, 8, 2, 8, 18, 28, 45]])
    with torch.no_grad():
        out = model(input_ids=ids, output_hidden_states=True)
    res = {"input_ids": ids, "logits": out.logits.contiguous().clone()}
    for i, h in enumerate(out.hidden_states):
        res[f"hidden_{i}"] = h.contiguous().clone()
    save_file(res, os.path.join(out_dir, "golden.safetensors"), metadata=meta)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="testdata/models")
    args = ap.parse_args()
    for k, v in EXPECTED.items():
        got = {"transformers": transformers.__version__, "torch": torch.__version__}[k]
        if not got.startswith(v):
            print(f"warning: {k} {got}, fixtures were pinned to {v}")
    torch.manual_seed(0)
    tcfg, vcfg = tiny_qwen2(), tiny_siglip()
    model = Qwen2ForCausalLM(tcfg).eval()
    tower = VisionTowerHolder(vcfg).eval()
    proj = Projector(vcfg.hidden_size, tcfg.hidden_size).eval()
    randomize(model, 1)
    randomize(tower, 2)
    randomize(proj, 3)

    weights = {k: v.float().contiguous() for k, v in model.state_dict().items()}
    weights.update({"model.vision_tower." + k: v.float().contiguous() for k, v in tower.state_dict().items()})
    weights.update({"model.mm_projector." + k: v.float().contiguous() for k, v in proj.state_dict().items()})

    g = torch.Generator().manual_seed(4)
    pixels = torch.rand((2, 3, 30, 30), generator=g) * 2 - 1
    ids = torch.tensor([[5, 17, 3, IMAGE_TOKEN, 40, 41, 9, 2], [7, 7, 1, IMAGE_TOKEN, 90, 12, 60, 33]])

    out_dir = os.path.join(args.out, "nanollava_tiny")
    os.makedirs(out_dir, exist_ok=True)
    meta = {"transformers": transformers.__version__, "torch": torch.__version__, "script": "testdata/gen/models/make_fixtures.py"}
    save_file(weights, os.path.join(out_dir, "model.safetensors"), metadata=meta)
    os.makedirs(os.path.join(out_dir, "bf16"), exist_ok=True)
    save_file({k: v.to(torch.bfloat16) for k, v in weights.items()},
              os.path.join(out_dir, "bf16", "model.safetensors"), metadata=meta)
    inputs = {"input_ids": ids.to(torch.int64), "pixel_values": pixels.float()}
    for name, dtype in (("golden.safetensors", torch.float32), ("golden_bf16.safetensors", torch.bfloat16)):
        res = run(model, tower, proj, ids, pixels, dtype)
        res.update(inputs)
        res.update(text_batch(model, dtype))
        res["generated"] = generated(model, tower, proj, ids, pixels, dtype)
        save_file(res, os.path.join(out_dir, name), metadata=meta)
    # nanoLLaVA's format: the Qwen2 fields at top level plus the mm fields;
    # vision_config is visreft's extension (nanoLLaVA's tower is so400m).
    cfg = tcfg.to_dict()
    cfg.update({"mm_hidden_size": vcfg.hidden_size, "mm_projector_type": "mlp2x_gelu",
                "mm_vision_tower": "tiny-random-siglip", "vision_config": vcfg.to_dict()})
    for sub in ("", "bf16"):
        with open(os.path.join(out_dir, sub, "config.json"), "w") as f:
            json.dump(cfg, f, indent=1, sort_keys=True, default=str)
    qwen2_tied(args.out, meta)
    print("wrote", out_dir, "and", os.path.join(args.out, "qwen2_tied"))


if __name__ == "__main__":
    main()
