#!/usr/bin/env python3
"""End-to-end pyreft fixture: loads visreft's ReFT export into pyreft.

Reads testdata/reft/qwen2_e2e/ (written by sdk/reft's TestPyreftEndToEnd with
VISREFT_UPDATE_PYREFT_E2E=1): reft_config.json, pyreft.safetensors (from
reft.ExportPyreft) and locations.json (input ids and, per intervention in
reft_config.json order, each example's positions). Builds the pyreft model on
transformers' Qwen2 loaded from testdata/models/qwen2_tied exactly as
sdk/reft/PYREFT.md tells users to, loads the export with strict=True and
writes golden.safetensors: base_logits (no intervention) and reft_logits.

pyreft and pyvene are source checkouts (fetched, never committed); `datasets`
is not packaged for Debian, and pyreft imports it only for its dataset and
trainer helpers, so an empty stand-in module satisfies the import.

  testdata/gen/debian-sid.sh /srv/sid python3 testdata/gen/reft/pyreft_e2e.py \\
      --pyreft-src .peers/pyreft --pyvene-src .peers/pyvene
"""
import argparse
import importlib.machinery
import json
import os
import sys
import types

import torch

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pyreft-src", required=True)
    ap.add_argument("--pyvene-src", required=True)
    ap.add_argument("--dir", default=os.path.join(ROOT, "testdata", "reft", "qwen2_e2e"))
    ap.add_argument("--model", default=os.path.join(ROOT, "testdata", "models", "qwen2_tied"))
    args = ap.parse_args()
    sys.path[:0] = [args.pyvene_src, args.pyreft_src]
    if "datasets" not in sys.modules:
        try:
            import datasets  # noqa: F401
        except ImportError:
            d = types.ModuleType("datasets")
            d.__spec__ = importlib.machinery.ModuleSpec("datasets", None)
            d.Dataset, d.load_dataset = object, None
            sys.modules["datasets"] = d
    import pyreft
    import pyvene
    import transformers
    from safetensors.torch import load_file, save_file

    cfg = json.load(open(os.path.join(args.dir, "reft_config.json")))
    loc = json.load(open(os.path.join(args.dir, "locations.json")))
    model = transformers.AutoModelForCausalLM.from_pretrained(args.model, dtype=torch.float32,
                                                              attn_implementation="eager").eval()
    kinds = {k: getattr(pyreft, k.capitalize().replace("reft", "reftIntervention"))
             for k in ("loreft", "noreft", "consreft", "lobireft", "direft", "nodireft")}
    reps = [{"layer": it["layer"], "component": "block_output", "low_rank_dimension": it["rank"],
             "intervention": kinds[it["type"]](embed_dim=it["hidden_size"], low_rank_dimension=it["rank"],
                                               dtype=torch.float32, act_fn=s["act"] or None, dropout=s["dropout"],
                                               add_bias=s["add_bias"])}
            for it in cfg["interventions"] for s in [cfg["specs"][it["spec"]]]]
    reft_model = pyreft.get_reft_model(model, pyreft.ReftConfig(representations=reps))
    weights = load_file(os.path.join(args.dir, "pyreft.safetensors"))
    used = set()
    for key, iv in reft_model.interventions.items():
        iv = iv[0] if isinstance(iv, tuple) else iv
        sd = {n[len(key) + 1:]: t for n, t in weights.items() if n.startswith(key + ".")}
        iv.load_state_dict(sd, strict=True)
        used.update(key + "." + n for n in sd)
        iv.eval()
    assert used == set(weights), "export tensors no intervention took: %s" % sorted(set(weights) - used)
    reft_model.eval()
    ids = torch.tensor(loc["input_ids"])
    with torch.no_grad():
        base = model(input_ids=ids).logits
        _, out = reft_model({"input_ids": ids}, unit_locations={"sources->base": (None, loc["unit_locations"])})
    meta = {"transformers": transformers.__version__, "torch": torch.__version__,
            "pyvene": getattr(pyvene, "__version__", "source"), "script": "testdata/gen/reft/pyreft_e2e.py",
            "interventions": ",".join(sorted(reft_model.interventions))}
    save_file({"base_logits": base.contiguous().clone(), "reft_logits": out.logits.contiguous().clone()},
              os.path.join(args.dir, "golden.safetensors"), metadata=meta)
    print("wrote", os.path.join(args.dir, "golden.safetensors"), "interventions:", meta["interventions"])
    print("max |reft - base| =", float((out.logits - base).abs().max()))


if __name__ == "__main__":
    main()
