#!/usr/bin/env python3
"""The GPU kit's bookkeeping (reproduce/gpu/run.sh calls it; standard library only).

  summary.py collect WORK OUT   read every finished step under WORK and (re)write
                                OUT/summary.json: one object per step, with its
                                status, time limit, seconds and numbers
  summary.py table WORK OUT     print the short table of the numbers (run.sh's last output)
  summary.py unpack ARCHIVE DIR extract a .tar.xz (Python's lzma: no xz needed)
  summary.py verify KIT ROOT    check the unpacked binaries and the tree's scripts
                                against KIT/MANIFEST.json (prints warnings)

Every step writes WORK/steps/<name>.meta.json (bash: status, rc, seconds,
limit) and leaves its outputs in WORK; collect turns them into numbers. It
never fails on a missing or broken output: the step's entry then says why.
"""
import glob
import hashlib
import json
import math
import os
import re
import sys
import tarfile
import lzma

PEAK_DATASHEET = 989.0  # H200 SXM dense bf16 TFLOP/s (datasheet)
PEAK_MEASURED = 790.0  # an 8192^3 bf16 matmul measured on such a machine (device README)


def load(path, default=None):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return default


def read(path):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def gpu_samples(work, step):
    """Peak and baseline memory.used (MiB) and mean utilisation from the
    nvidia-smi sampler run.sh keeps during a step."""
    rows = []
    for line in read(os.path.join(work, "gpu", step + ".csv")).splitlines():
        parts = [p.strip() for p in line.split(",")]
        try:
            rows.append((float(parts[-2]), float(parts[-1])))
        except (ValueError, IndexError):
            continue
    if not rows:
        return None
    mem = [r[0] for r in rows]
    util = [r[1] for r in rows]
    return {"samples": len(rows), "memory_used_mib_first": mem[0], "memory_used_mib_peak": max(mem),
            "utilization_pct_mean": round(sum(util) / len(util), 1), "utilization_pct_peak": max(util)}


def env_step(work):
    log = read(os.path.join(work, "logs", "env.log"))
    out = {}
    m = re.search(r"^backend: (.*)$", log, re.M)
    if m:
        out["backend"] = m.group(1)
    m = re.search(r"^  (.*), device 0: (.*)$", log, re.M)
    if m:
        out["platform"], out["device"] = m.group(1), m.group(2)
    m = re.search(r"created in (\S+)", log)
    if m:
        out["backend_created_in"] = m.group(1)
    for label, key in (("first call", "matmul_first_call"), ("second call", "matmul_second_call")):
        m = re.search(label + r"[^:]*: (\S+)", log)
        if m:
            out[key] = m.group(1)
    out["results_checked"] = "results checked: ok" in log
    smi = read(os.path.join(work, "logs", "nvidia-smi.csv")).strip()
    if smi:
        out["nvidia_smi"] = smi
    py = load(os.path.join(work, "python_env.json"))
    if py is not None:
        out["python"] = py
    return out


def parity_gen_step(work):
    return {"fullsize_meta": load(os.path.join(work, "fullsize", "fullsize_meta.json"))}


def parity_step(work):
    rep = load(os.path.join(work, "parity.json"))
    if rep is None:
        return {"error": "no parity JSON (the test did not get to write it)"}
    for c in rep.get("cases", []):
        c["compile_seconds_est"] = max(0.0, c.get("forward_first_seconds", 0) - c.get("forward_second_seconds", 0))
    return rep


def bench_rows_from_log(log):
    """The rows reproduce bench prints as each finishes (used when it was
    stopped before writing bench.json)."""
    rows = []
    for m in re.finditer(r"^bench (.+), batch (\d+): (\S+) examples/s \(median step (\S+) s\)$", log, re.M):
        rows.append({"label": m.group(1), "batch": int(m.group(2)), "examples_per_sec": float(m.group(3)),
                     "median_step_seconds": float(m.group(4)), "from": "stdout"})
    for m in re.finditer(r"^bench (.+?): (batch \d+: .*)$", log, re.M):
        if "examples/s" not in m.group(2):
            rows.append({"label": m.group(1), "error": m.group(2), "from": "stdout"})
    return rows


def buckets(lengths):
    """How many 16-token buckets sdk/experiment pads these lengths into."""
    if not lengths:
        return 0
    lo, hi = min(lengths), max(lengths)
    n, b = 0, (lo + 15) // 16 * 16
    while True:
        n += 1
        if b >= hi:
            return n
        b += 16


def bench_step(work, step):
    res_dir = os.path.join(work, "results", step)

    def find(name):  # reproduce may nest results by preset, model and data
        hits = sorted(glob.glob(os.path.join(res_dir, "**", name), recursive=True))
        return hits[0] if hits else os.path.join(res_dir, name)

    rec = load(find("bench.json"))
    out = {"gpu": gpu_samples(work, step)}
    peers = load(find("bench_peer.json"), [])  # bench.py's own rows (more fields than Go keeps)
    spec = load(find("bench_peer_spec.json"))
    if rec is None:
        out["visreft"] = bench_rows_from_log(read(os.path.join(work, "logs", step + ".log")))
        out["note"] = "bench.json missing (stopped early?): rows parsed from the log"
    else:
        out["backend"] = rec.get("backend")
        out["data"] = (rec.get("config") or {}).get("data")
        out["visreft"] = [dict(r.get("result") or {}, label=r.get("label"), error=r.get("error", ""))
                          for r in (rec.get("results") or {}).get("visreft") or []]
    out["peers"] = peers
    lengths = [len(e["ids"]) for e in (spec or {}).get("examples", [])]
    if lengths:
        out["spec_lengths"] = {"n": len(lengths), "min": min(lengths), "max": max(lengths),
                               "buckets_16": buckets(lengths)}
    return out


def derive(summary):
    """Step (e): tokens/s, MFU against the measured matmul rate, compile
    seconds per bucket and full training runs extrapolated from bench rows."""
    rows = []
    for step in ("bench", "bench_best"):
        b = summary.get(step, {}).get("numbers") or {}
        n_train = (b.get("data") or {}).get("train")
        spec = b.get("spec_lengths") or {}
        peers = b.get("peers") or []
        for r in b.get("visreft") or []:
            if not r.get("examples_per_sec"):
                continue
            method = r.get("method") or (r.get("label") or "?").split()[0].lower()  # "ReFT (LoReFT r4, ...)" -> reft
            x = {"step": step, "method": method, "batch": r.get("batch"),
                 "examples_per_sec": r["examples_per_sec"], "median_step_seconds": r.get("median_step_seconds")}
            if r.get("mean_seq_len"):
                x["tokens_per_sec"] = r["examples_per_sec"] * r["mean_seq_len"]
            if r.get("achieved_tflops"):
                x["tflops"] = r["achieved_tflops"]
                x["mfu_datasheet"] = r["achieved_tflops"] / PEAK_DATASHEET
                x["mfu_measured_matmul"] = r["achieved_tflops"] / PEAK_MEASURED
            first, med = r.get("first_step_seconds"), r.get("median_step_seconds")
            if first is not None and med is not None:
                # The first step compiles its bucket's graph (and moves the
                # weights): its excess over a steady step is that compile.
                x["compile_seconds_first_bucket_est"] = max(0.0, first - med)
                x["compiles"] = r.get("compiles")
                if n_train:
                    steps = math.ceil(n_train / max(1, r["batch"] or 1))
                    nb = max(r.get("compiles") or 1, spec.get("buckets_16") or 1)
                    x["full_run"] = {"train_examples": n_train, "steps": steps, "buckets_assumed": nb,
                                     "seconds_est": steps * med + nb * x["compile_seconds_first_bucket_est"],
                                     "assumes": "every step at the median; one compile per 16-token bucket, each as long as the "
                                                "first; buckets from the bench's sequences only (a lower bound); evaluation not included"}
            for p in peers:
                if p.get("method") == method and p.get("batch") == r.get("batch") and not p.get("skipped"):
                    x["peer"] = p.get("peer")
                    x["peer_examples_per_sec"] = p.get("examples_per_sec")
                    x["peer_tokens_per_sec"] = p.get("tokens_per_sec")
                    x["peer_gpu_peak_allocated_gib"] = (p.get("gpu_peak_allocated_bytes") or 0) / 2**30 or None
                    if p.get("examples_per_sec"):
                        x["visreft_over_peer"] = r["examples_per_sec"] / p["examples_per_sec"]
            rows.append(x)
    for c in (summary.get("parity", {}).get("numbers") or {}).get("cases", []) or []:
        rows.append({"step": "parity", "method": "forward " + c.get("dtype", "?"),
                     "compile_seconds_first_bucket_est": c.get("compile_seconds_est"),
                     "median_step_seconds": c.get("forward_second_seconds")})
    return rows


def collect(work, out):
    order = load(os.path.join(work, "steps", "order.json"), [])
    summary = {"kit": load(os.path.join(work, "kit_manifest.json")), "mode": load(os.path.join(work, "mode.json"))}
    for name in order:
        meta = load(os.path.join(work, "steps", name + ".meta.json"))
        if meta is None:
            summary[name] = {"status": "not run"}
            continue
        entry = dict(meta)
        if meta.get("status") not in ("skipped",):
            try:
                if name == "env":
                    entry["numbers"] = env_step(work)
                elif name == "parity_gen":
                    entry["numbers"] = parity_gen_step(work)
                elif name == "parity":
                    entry["numbers"] = parity_step(work)
                elif name in ("bench", "bench_best"):
                    entry["numbers"] = bench_step(work, name)
                elif name == "tests":
                    entry["numbers"] = load(os.path.join(work, "tests.json"))
            except Exception as e:  # a broken output must not stop the summary
                entry["collect_error"] = f"{type(e).__name__}: {e}"
        g = gpu_samples(work, name)
        if g and name not in ("bench", "bench_best"):
            entry["gpu"] = g
        summary[name] = entry
    summary["derived"] = derive(summary)
    tmp = os.path.join(out, "summary.json.tmp")
    with open(tmp, "w") as f:
        json.dump(summary, f, indent=1, default=str)
    os.replace(tmp, os.path.join(out, "summary.json"))
    return summary


def fmt(x, spec=".3g"):
    if x is None or x == "":
        return "-"
    if isinstance(x, float):
        return format(x, spec)
    return str(x)


def table(work, out):
    summary = load(os.path.join(out, "summary.json"))
    if summary is None:
        print("no summary")
        return
    order = load(os.path.join(work, "steps", "order.json"), [])
    mode = summary.get("mode") or {}
    print(f"== visreft GPU kit: {mode.get('mode', '?')} run, budget {mode.get('total_budget_s', '?')} s, "
          f"{mode.get('elapsed_s', '?')} s used")
    print(f"{'step':<11} {'status':<9} {'s':>6} {'limit':>6}  result")
    for name in order:
        e = summary.get(name) or {}
        n = e.get("numbers") or {}
        res = e.get("note", "")
        if name == "env" and n:
            res = f"{n.get('backend', '?')}; {n.get('device', '?')}; matmul+grad {n.get('matmul_second_call', '?')}"
        elif name == "parity" and n.get("cases"):
            res = "; ".join(
                f"{c['dtype']}: logits max abs {fmt(c['logits'].get('max_abs'))} rel {fmt(c['logits'].get('rel'))}"
                f" L2 {fmt(c['logits'].get('rel_l2'))}, tokens {'equal' if c.get('tokens_equal') else 'DIFFER'}"
                f"{'' if c.get('pass') else ' FAIL'}" for c in n["cases"])
        elif name == "parity" and n.get("error"):
            res = n["error"]
        elif name == "tests" and n:
            res = ", ".join(f"{t['binary'].replace('.test', '')} {t['result']}" for t in n.get("binaries", []))
        elif name in ("bench", "bench_best") and n:
            ok = [r for r in n.get("visreft") or [] if r.get("examples_per_sec")]
            res = f"{len(ok)} visreft rows, {len([p for p in n.get('peers') or [] if not p.get('skipped')])} peer rows"
            g = n.get("gpu")
            if g:
                res += f"; nvidia-smi peak {g['memory_used_mib_peak']:.0f} MiB"
        print(f"{name:<11} {e.get('status', '?'):<9} {fmt(e.get('seconds'), '.0f'):>6} {fmt(e.get('limit'), '.0f'):>6}  {res}")
    d = summary.get("derived") or []
    if d:
        print(f"{'run':<22} {'batch':>5} {'ex/s':>7} {'tok/s':>8} {'MFU989':>6} {'MFU790':>6} {'compile':>7} "
              f"{'full run':>8} {'peer':<8} {'peer ex/s':>9} {'ratio':>6}")
        for x in d:
            fr = (x.get("full_run") or {}).get("seconds_est")
            mfu = x.get("mfu_datasheet")
            mfu2 = x.get("mfu_measured_matmul")
            print(f"{(x['step'] + ' ' + str(x.get('method')))[:22]:<22} {fmt(x.get('batch')):>5} "
                  f"{fmt(x.get('examples_per_sec')):>7} {fmt(x.get('tokens_per_sec')):>8} "
                  f"{(fmt(100 * mfu, '.1f') + '%') if mfu else '-':>6} {(fmt(100 * mfu2, '.1f') + '%') if mfu2 else '-':>6} "
                  f"{fmt(x.get('compile_seconds_first_bucket_est'), '.1f'):>7} {fmt(fr, '.0f'):>8} "
                  f"{str(x.get('peer') or '-')[:8]:<8} {fmt(x.get('peer_examples_per_sec')):>9} {fmt(x.get('visreft_over_peer'), '.2f'):>6}")
    print("(seconds per step; compile = first step minus median step; full run = one epoch extrapolated, "
          "see summary.json 'derived'; MFU989/790: against the datasheet and the measured bf16 matmul)")


def unpack(archive, dest):
    os.makedirs(dest, exist_ok=True)
    with tarfile.open(fileobj=lzma.open(archive)) as t:
        try:
            t.extractall(dest, filter="data")
        except TypeError:  # Python before 3.12: no filter argument
            t.extractall(dest)


def sha(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for b in iter(lambda: f.read(1 << 20), b""):
            h.update(b)
    return h.hexdigest()


def verify(kit, root, bindir):
    m = load(os.path.join(kit, "MANIFEST.json"))
    if m is None:
        print("warning: no MANIFEST.json in", kit)
        return 1
    bad = 0
    for b in m.get("binaries", []):
        p = os.path.join(bindir, b["name"])
        if not os.path.exists(p) or sha(p) != b["sha256"]:
            print("error: binary", b["name"], "missing or not the one packaged")
            bad = 1
    for s, h in (m.get("scripts") or {}).items():
        p = os.path.join(root, s)
        if not os.path.exists(p) or sha(p) != h:
            print(f"warning: {s} differs from the tree the kit was packaged with (re-run package.sh)")
    return bad


def main():
    cmd = sys.argv[1] if len(sys.argv) > 1 else ""
    if cmd == "collect":
        collect(sys.argv[2], sys.argv[3])
    elif cmd == "table":
        table(sys.argv[2], sys.argv[3])
    elif cmd == "unpack":
        unpack(sys.argv[2], sys.argv[3])
    elif cmd == "verify":
        sys.exit(verify(sys.argv[2], sys.argv[3], sys.argv[4]))
    else:
        print(__doc__)
        sys.exit(2)


if __name__ == "__main__":
    main()
