#!/usr/bin/env python3
"""Full-size nanoLLaVA parity (random weights): the whole architecture at its
real sizes, built with HF transformers, for sdk/models/llava's
TestFullSizeParity (which runs only when VISREFT_FULLSIZE_DIR names the
output folder: 2 GB of weights, not committed).

Writes OUT/model.safetensors (bf16, nanoLLaVA's 714 tensor names, as the hub
checkpoint stores them), OUT/config.json (nanoLLaVA's fields: no
vision_config, so the Go side must derive so400m from mm_vision_tower), and
per compute dtype a golden file of inputs (input_ids with -200,
pixel_values [1, 3, 384, 384]) and outputs computed from the bf16 weights:
vision_out, image_features, hidden_<i> at the last 16 positions, logits at
the last 8 positions, and 8 greedily generated tokens (KV cache, no eos):

  f32   OUT/golden.safetensors       (f32 compute; TF32 off on CUDA)
  bf16  OUT/golden_bf16.safetensors  (the model cast to bf16, bf16 compute)

--device cuda builds and runs the model on the GPU (random init there takes
seconds), so the reference is transformers on the same GPU visreft runs on;
the CPU default keeps the committed behaviour (CPU, f32 only). --tiny writes
a tiny model of the same format (vision_config included, ids folded into a
160-word vocabulary) for the GPU kit's smoke run (reproduce/gpu/testdata).

  testdata/gen/debian-sid.sh /srv/sid python3 testdata/gen/models/fullsize.py --out /some/dir
  python3 testdata/gen/models/fullsize.py --out /tmp/fs --device cuda --dtypes f32,bf16
"""
import argparse
import json
import os
import sys
import time

import torch
import transformers
from safetensors.torch import save_file
from transformers import Qwen2Config, Qwen2ForCausalLM, SiglipVisionConfig

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_fixtures import IMAGE_TOKEN, Projector, VisionTowerHolder, splice  # noqa: E402

DTYPES = {"f32": torch.float32, "bf16": torch.bfloat16}
GOLDEN = {"f32": "golden.safetensors", "bf16": "golden_bf16.safetensors"}
TINY_VOCAB = 160


def configs(tiny):
    if tiny:
        tcfg = Qwen2Config(vocab_size=TINY_VOCAB, hidden_size=32, intermediate_size=48, num_hidden_layers=2,
                           num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256,
                           rope_theta=1e6, rms_norm_eps=1e-6, tie_word_embeddings=False, hidden_act="silu",
                           attn_implementation="eager")
        vcfg = SiglipVisionConfig(hidden_size=16, intermediate_size=40, num_hidden_layers=3,
                                  num_attention_heads=2, num_channels=3, image_size=30, patch_size=7,
                                  hidden_act="gelu_pytorch_tanh", layer_norm_eps=1e-6, attn_implementation="eager")
        return tcfg, vcfg
    tcfg = Qwen2Config(vocab_size=151936, hidden_size=1024, intermediate_size=2816, num_hidden_layers=24,
                       num_attention_heads=16, num_key_value_heads=16, max_position_embeddings=32768,
                       rope_theta=1e6, rms_norm_eps=1e-6, tie_word_embeddings=False, hidden_act="silu",
                       attn_implementation="eager")
    vcfg = SiglipVisionConfig(hidden_size=1152, intermediate_size=4304, num_hidden_layers=27,
                              num_attention_heads=16, num_channels=3, image_size=384, patch_size=14,
                              hidden_act="gelu_pytorch_tanh", layer_norm_eps=1e-6, attn_implementation="eager")
    return tcfg, vcfg


def outputs(model, tower, proj, ids, pixels, dtype):
    """transformers' outputs with the model cast to dtype (from bf16 values,
    so the cast to either dtype is exact), stored as f32 on the CPU."""
    model, tower, proj = model.to(dtype), tower.to(dtype), proj.to(dtype)
    with torch.no_grad():
        vis, _ = tower(pixels.to(dtype))
        feats = proj(vis)
        embeds = splice(model.model.embed_tokens, ids, feats)
        out = model(inputs_embeds=embeds, output_hidden_states=True)
        gen = model.generate(inputs_embeds=embeds, attention_mask=torch.ones(embeds.shape[:2], dtype=torch.long,
                                                                              device=embeds.device),
                             max_new_tokens=8, do_sample=False, eos_token_id=None, pad_token_id=0)
    res = {"input_ids": ids, "pixel_values": pixels, "vision_out": vis, "image_features": feats,
           "logits_last8": out.logits[:, -8:], "generated": gen[:, -8:].to(torch.int64)}
    for i, h in enumerate(out.hidden_states):
        res[f"hidden_{i}_last16"] = h[:, -16:]
    return {k: (v.float() if v.is_floating_point() else v).cpu().contiguous().clone() for k, v in res.items()}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--device", default="cpu", help="cpu (default), cuda, or auto (cuda when available)")
    ap.add_argument("--dtypes", default="f32", help="compute dtypes of the golden files, comma-separated: f32, bf16")
    ap.add_argument("--tiny", action="store_true", help="a tiny model in the same format (smoke runs)")
    args = ap.parse_args()
    device = args.device
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    names = [d.strip() for d in args.dtypes.split(",") if d.strip()]
    for d in names:
        if d not in DTYPES:
            ap.error(f"--dtypes: {d!r} is not one of {sorted(DTYPES)}")
    # The f32 reference is f32: no TF32 in matmuls or in the patch convolution.
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    t0 = time.perf_counter()
    torch.manual_seed(0)
    tcfg, vcfg = configs(args.tiny)
    with torch.device(device):  # initialise where it runs: seconds on a GPU, not minutes
        model = Qwen2ForCausalLM(tcfg).eval()  # transformers' own init (std 0.02)
        tower = VisionTowerHolder(vcfg).eval()
        proj = Projector(vcfg.hidden_size, tcfg.hidden_size).eval()
    with torch.no_grad():  # SigLIP's init leaves the patch conv tiny; give it unit-scale outputs
        tower.run.get_input_embeddings().weight.normal_(0, 0.05)
        # With transformers' init (std 0.02) the image features swamp the text
        # embeddings and greedy decoding repeats one token whatever the input;
        # unit-scale text embeddings make the continuation depend on the text.
        model.model.embed_tokens.weight.normal_(0, 1.0)
    weights = {k: v.to(torch.bfloat16).contiguous() for k, v in model.state_dict().items()}
    weights.update({"model.vision_tower." + k: v.to(torch.bfloat16).contiguous() for k, v in tower.state_dict().items()})
    weights.update({"model.mm_projector." + k: v.to(torch.bfloat16).contiguous() for k, v in proj.state_dict().items()})
    # Compute from exactly the stored bf16 values.
    for m, prefix in ((model, ""), (tower, "model.vision_tower."), (proj, "model.mm_projector.")):
        m.load_state_dict({k[len(prefix):]: v.float() for k, v in weights.items() if k.startswith(prefix) and
                           (prefix or not k.startswith("model.vision_tower.") and not k.startswith("model.mm_projector."))},
                          strict=False)
    t_build = time.perf_counter() - t0
    g = torch.Generator().manual_seed(4)
    pixels = torch.rand((1, 3, vcfg.image_size, vcfg.image_size), generator=g) * 2 - 1
    ids = [151644, 8948, 198, 16141, 279, 3405, 151645, 151644, 872, 198, IMAGE_TOKEN, 198,
           3838, 374, 279, 1894, 30, 151645, 151644, 77091, 198]
    if args.tiny:
        ids = [i if i == IMAGE_TOKEN else i % TINY_VOCAB for i in ids]
    ids = torch.tensor([ids])
    meta = {"transformers": transformers.__version__, "torch": torch.__version__, "script": "testdata/gen/models/fullsize.py",
            "device": device, "tf32": "off"}
    if device.startswith("cuda"):
        meta["gpu"] = torch.cuda.get_device_name()
    os.makedirs(args.out, exist_ok=True)
    timings = {"build_s": round(t_build, 3)}
    for d in names:  # f32 before bf16: the f32 model still holds the exact bf16 values
        t0 = time.perf_counter()
        res = outputs(model, tower, proj, ids.to(device), pixels.to(device), DTYPES[d])
        timings[f"outputs_{d}_s"] = round(time.perf_counter() - t0, 3)
        save_file(res, os.path.join(args.out, GOLDEN[d]), metadata={**meta, "dtype": d})
        print(f"{d}: generated {res['generated'][0].tolist()}", flush=True)
    t0 = time.perf_counter()
    save_file(weights, os.path.join(args.out, "model.safetensors"), metadata=meta)
    timings["save_weights_s"] = round(time.perf_counter() - t0, 3)
    cfg = tcfg.to_dict()
    cfg.update({"mm_hidden_size": vcfg.hidden_size, "mm_projector_type": "mlp2x_gelu",
                "mm_vision_tower": "google/siglip-so400m-patch14-384", "architectures": ["LlavaQwen2ForCausalLM"],
                "model_type": "llava-qwen2", "torch_dtype": "bfloat16"})
    if args.tiny:
        cfg["mm_vision_tower"] = "tiny-random-siglip"
        cfg["vision_config"] = vcfg.to_dict()
    with open(os.path.join(args.out, "config.json"), "w") as f:
        json.dump(cfg, f, indent=1, sort_keys=True, default=str)
    with open(os.path.join(args.out, "fullsize_meta.json"), "w") as f:
        json.dump({**meta, "dtypes": names, "tensors": len(weights), **timings}, f, indent=1)
    print("wrote", args.out, len(weights), "tensors on", device, json.dumps(timings), flush=True)


if __name__ == "__main__":
    main()
