#!/usr/bin/env python3
"""The Python side of `go run ./reproduce bench -peer ...`: the same training
steps in PyTorch + transformers, timed the same way, for the visreft/peer ratios.

Reads the spec reproduce writes (results/bench_peer_spec.json): the model's
configs, the exact sequences visreft trained on (image patches marked -1,
labels in transformers' convention), ReFT's interventions and positions, and
the runs to time. Builds nanoLLaVA's architecture with random weights
(transformers' Qwen2 and SigLIP, the mlp2x_gelu projector), then per run:

  reft  pyreft's LoreftIntervention via pyreft.get_reft_model (pyreft and
        pyvene from source: VISREFT_PYREFT_SRC, VISREFT_PYVENE_SRC), as
        pyreft's trainer computes the loss (labels through the model)
  lora  PEFT's LoRA (r 8, alpha 16, q_proj/v_proj) when peft is importable
        (or from source: VISREFT_PEFT_SRC, its src/ folder)
  full  plain PyTorch: the decoder and projector trained, the tower frozen

each with AdamW, `warmup` untimed steps then `steps` timed ones; image
features are computed once when visreft cached them, else every step.
Writes a JSON list of rows: peer, method, batch, examples_per_sec,
median_step_seconds (or skipped: why), tokens_per_sec, the device, dtype and
attention used, and on CUDA torch's peak allocated / reserved GPU memory.

The environment may override where and how it runs:
  VISREFT_PEER_DEVICE  auto (default: cuda when available, else cpu), cpu, cuda
  VISREFT_PEER_DTYPE   the spec's dtype unless set: float32, bfloat16, or
                       bf16-autocast (f32 weights, bf16 autocast: mixed precision)
  VISREFT_PEER_ATTN    transformers' attention: eager on the CPU, sdpa on CUDA
On CUDA each step is timed between torch.cuda.synchronize() calls.
"""
import argparse
import contextlib
import gc
import importlib.machinery
import json
import os
import statistics
import sys
import time
import types

import torch
import transformers
from transformers import Qwen2Config, Qwen2ForCausalLM, SiglipVisionConfig, SiglipVisionModel

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "bf16-autocast": torch.float32}


def device_of():
    d = os.environ.get("VISREFT_PEER_DEVICE", "auto")
    if d == "auto":
        d = "cuda" if torch.cuda.is_available() else "cpu"
    return torch.device(d)


DEVICE = device_of()


def dtype_name(spec):
    return os.environ.get("VISREFT_PEER_DTYPE") or spec["dtype"]


def attn():
    return os.environ.get("VISREFT_PEER_ATTN") or ("sdpa" if DEVICE.type == "cuda" else "eager")


def amp(spec):
    """The forward pass's autocast context (bf16-autocast only)."""
    if dtype_name(spec) == "bf16-autocast":
        return torch.autocast(DEVICE.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


def sync():
    if DEVICE.type == "cuda":
        torch.cuda.synchronize()


def build(spec):
    t, v = spec["text_config"], spec["vision_config"]
    tcfg = Qwen2Config(vocab_size=t["vocab_size"], hidden_size=t["hidden_size"],
                       intermediate_size=t["intermediate_size"], num_hidden_layers=t["num_hidden_layers"],
                       num_attention_heads=t["num_attention_heads"], num_key_value_heads=t["num_key_value_heads"],
                       rope_theta=t["rope_theta"], rms_norm_eps=t["rms_norm_eps"],
                       tie_word_embeddings=t["tie_word_embeddings"], attn_implementation=attn())
    vcfg = SiglipVisionConfig(hidden_size=v["hidden_size"], intermediate_size=v["intermediate_size"],
                              num_hidden_layers=v["num_hidden_layers"], num_attention_heads=v["num_attention_heads"],
                              num_channels=v["num_channels"], image_size=v["image_size"], patch_size=v["patch_size"],
                              hidden_act="gelu_pytorch_tanh", layer_norm_eps=1e-6, attn_implementation=attn())
    dtype = DTYPES[dtype_name(spec)]
    with torch.device(DEVICE):  # initialised where it runs
        llm = Qwen2ForCausalLM(tcfg).to(dtype)
        tower = SiglipVisionModel(vcfg).to(dtype)
        inner = getattr(tower, "vision_model", tower)
        inner.encoder.layers = torch.nn.ModuleList(list(inner.encoder.layers)[:spec["vision_layers_kept"]])
        proj = torch.nn.Sequential(torch.nn.Linear(spec["mm_hidden_size"], t["hidden_size"]), torch.nn.GELU(),
                                   torch.nn.Linear(t["hidden_size"], t["hidden_size"])).to(dtype)
    return llm, tower, proj, vcfg


def features_of(tower, proj, n, vcfg, dtype):
    px = torch.rand((n, 3, vcfg.image_size, vcfg.image_size), dtype=dtype, device=DEVICE) * 2 - 1
    out = tower(px, output_hidden_states=True).hidden_states[-1]  # last kept layer, no post_layernorm
    return proj(out)


def batch_inputs(llm, examples, feats, reft_slots=None):
    """Left-padded inputs_embeds, attention mask, positions and labels;
    ReFT positions shifted by each row's padding."""
    L = max(len(e["ids"]) for e in examples)
    emb = llm.get_input_embeddings()
    rows, masks, labels, locs = [], [], [], []
    for b, e in enumerate(examples):
        ids = torch.tensor([max(i, 0) for i in e["ids"]], device=DEVICE)
        x = emb(ids)
        img = [k for k, i in enumerate(e["ids"]) if i == -1]
        x = torch.cat([x[:img[0]], feats[b].to(x.dtype), x[img[-1] + 1:]], 0)
        pad = L - len(e["ids"])
        rows.append(torch.cat([torch.zeros(pad, x.shape[1], dtype=x.dtype, device=DEVICE), x], 0))
        masks.append([0] * pad + [1] * len(e["ids"]))
        labels.append([-100] * pad + e["labels"])
        if reft_slots is not None:
            locs.append([[p + pad for p in e["reft_positions"][s]] for s in reft_slots])
    mask = torch.tensor(masks, device=DEVICE)
    pos = (mask.cumsum(-1) - 1).clamp(min=0)
    return torch.stack(rows), mask, pos, torch.tensor(labels, device=DEVICE), locs


def time_steps(step, warmup, steps):
    """Seconds of the warm-up steps together, and of each timed step."""
    sync()
    t0 = time.perf_counter()
    for i in range(warmup):
        step(i)
    sync()
    warm = time.perf_counter() - t0
    times = []
    for i in range(warmup, warmup + steps):
        t0 = time.perf_counter()
        step(i)
        sync()
        times.append(time.perf_counter() - t0)
    return warm, times


def import_pyreft():
    for var in ("VISREFT_PYVENE_SRC", "VISREFT_PYREFT_SRC"):
        if os.environ.get(var):
            sys.path.insert(0, os.environ[var])
    try:
        import datasets  # noqa: F401
    except ImportError:  # pyreft imports it for its dataset helpers only
        d = types.ModuleType("datasets")
        d.__spec__ = importlib.machinery.ModuleSpec("datasets", None)
        d.Dataset, d.load_dataset = object, None
        sys.modules["datasets"] = d
    import pyreft
    return pyreft


def run_one(spec, run, llm, tower, proj, vcfg):
    dtype = DTYPES[dtype_name(spec)]
    bs, method = run["batch"], run["method"]
    exs = spec["examples"]
    need = bs * (spec["warmup"] + spec["steps"])
    if len(exs) < need:
        raise ValueError(f"spec has {len(exs)} examples, run needs {need}")
    cached = None
    if run["features_cached"]:
        with torch.no_grad(), amp(spec):
            cached = features_of(tower, proj, need, vcfg, dtype)

    def feats(i):
        if cached is not None:
            return cached[i * bs:(i + 1) * bs]
        return features_of(tower, proj, bs, vcfg, dtype)

    for p in list(llm.parameters()) + list(tower.parameters()) + list(proj.parameters()):
        p.requires_grad_(False)
    if method == "reft":
        pyreft = import_pyreft()
        h = spec["text_config"]["hidden_size"]
        reps = [{"layer": r["layer"], "component": "block_output", "low_rank_dimension": r["rank"],
                 "intervention": pyreft.LoreftIntervention(embed_dim=h, low_rank_dimension=r["rank"], dtype=dtype)}
                for r in spec["reft"]]
        model = pyreft.get_reft_model(llm, pyreft.ReftConfig(representations=reps), set_device=DEVICE.type != "cpu")
        params = [p for p in model.parameters() if p.requires_grad]
        slots = [r["slot"] for r in spec["reft"]]

        def step(i):
            with amp(spec):
                with torch.no_grad() if cached is not None else torch.enable_grad():
                    f = feats(i)
                embeds, mask, pos, labels, locs = batch_inputs(llm, exs[i * bs:(i + 1) * bs], f, slots)
                per_iv = [[locs[b][k] for b in range(bs)] for k in range(len(slots))]
                _, out = model({"inputs_embeds": embeds, "attention_mask": mask, "position_ids": pos},
                               unit_locations={"sources->base": (None, per_iv)}, labels=labels)
            out.loss.backward()
            opt.step()
            opt.zero_grad(set_to_none=True)
        peer = "pyreft"
    elif method == "lora":
        if os.environ.get("VISREFT_PEFT_SRC"):
            sys.path.insert(0, os.environ["VISREFT_PEFT_SRC"])
        try:
            import peft
        except ImportError as e:
            return {"peer": "peft", "method": method, "batch": bs, "features_cached": run["features_cached"],
                    "skipped": f"peft is not importable ({e})"}

        class Whole(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.llm, self.tower, self.proj = llm, tower, proj

        whole = peft.get_peft_model(Whole(), peft.LoraConfig(r=spec["lora"]["r"], lora_alpha=spec["lora"]["lora_alpha"],
                                                             target_modules=spec["lora"]["target_modules"]))
        params = [p for p in whole.parameters() if p.requires_grad]

        def step(i):
            with amp(spec):
                f = features_of(tower, proj, bs, vcfg, dtype)
                embeds, mask, pos, labels, _ = batch_inputs(llm, exs[i * bs:(i + 1) * bs], f)
                out = llm(inputs_embeds=embeds, attention_mask=mask, position_ids=pos, labels=labels)
            out.loss.backward()
            opt.step()
            opt.zero_grad(set_to_none=True)
        peer = "peft " + peft.__version__
    elif method == "full":
        params = list(llm.parameters()) + list(proj.parameters())
        for p in params:
            p.requires_grad_(True)

        def step(i):
            with amp(spec):
                with torch.no_grad():
                    px = torch.rand((bs, 3, vcfg.image_size, vcfg.image_size), dtype=dtype, device=DEVICE) * 2 - 1
                    vis = tower(px, output_hidden_states=True).hidden_states[-1]
                embeds, mask, pos, labels, _ = batch_inputs(llm, exs[i * bs:(i + 1) * bs], proj(vis))
                out = llm(inputs_embeds=embeds, attention_mask=mask, position_ids=pos, labels=labels)
            out.loss.backward()
            opt.step()
            opt.zero_grad(set_to_none=True)
        peer = "torch"
    else:
        raise ValueError(f"unknown method {method}")
    opt = torch.optim.AdamW(params, lr=1e-6)
    warm, times = time_steps(step, spec["warmup"], spec["steps"])
    timed = exs[spec["warmup"] * bs:(spec["warmup"] + spec["steps"]) * bs]
    row = {"peer": peer, "method": method, "batch": bs, "features_cached": run["features_cached"],
           "examples_per_sec": bs * len(times) / sum(times), "median_step_seconds": statistics.median(times),
           "tokens_per_sec": sum(len(e["ids"]) for e in timed) / sum(times), "warmup_seconds": warm,
           "device": str(DEVICE), "dtype": dtype_name(spec), "attn": attn()}
    if DEVICE.type == "cuda":
        row["gpu_peak_allocated_bytes"] = torch.cuda.max_memory_allocated()
        row["gpu_peak_reserved_bytes"] = torch.cuda.max_memory_reserved()
    return row


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--spec", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    spec = json.load(open(args.spec))
    torch.manual_seed(0)
    # Debian's torch starts with one OpenMP thread; use every core the
    # process may run on, as the Go side does.
    torch.set_num_threads(len(os.sched_getaffinity(0)))
    gpu = f", {torch.cuda.get_device_name()}" if DEVICE.type == "cuda" else ""
    print(f"peers: torch {torch.__version__} ({torch.get_num_threads()} threads), transformers {transformers.__version__}, "
          f"{DEVICE}{gpu}, {dtype_name(spec)}, attention {attn()}", file=sys.stderr)
    rows = []
    for run in spec["runs"]:
        if DEVICE.type == "cuda":
            gc.collect()
            torch.cuda.empty_cache()
            torch.cuda.reset_peak_memory_stats()
        llm, tower, proj, vcfg = build(spec)  # fresh weights per run, as visreft's bench
        try:
            row = run_one(spec, run, llm, tower, proj, vcfg)
        except torch.cuda.OutOfMemoryError as e:
            row = {"peer": "torch", "method": run["method"], "batch": run["batch"], "features_cached": run["features_cached"],
                   "skipped": f"out of GPU memory: {str(e).splitlines()[0]}"}
        del llm, tower, proj
        print("peer", json.dumps(row), file=sys.stderr)
        rows.append(row)
        write(rows, args.out)  # after every run: a run stopped later still leaves these
    write(rows, args.out)


def write(rows, path):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(rows, f, indent=1)
    os.replace(tmp, path)


if __name__ == "__main__":
    main()
