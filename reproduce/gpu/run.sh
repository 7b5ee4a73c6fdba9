#!/usr/bin/env bash
# run.sh runs visreft's GPU evidence from the kit reproduce/gpu/package.sh
# built (.gpukit/), one step after another, each under its own time limit,
# inside one overall budget. After every step it rewrites $OUT/summary.json
# (all numbers so far), $OUT/run.log (every step's log) and
# $OUT/details.tar.gz (each step's raw outputs), so a run stopped part-way
# still returns what it measured; the short table comes last.
#
#   bash reproduce/gpu/run.sh          on the GPU machine (README.md: the device command)
#   bash reproduce/gpu/run.sh -smoke   anywhere: pure Go (go:ops_sequential), tiny sizes
#
# Steps, most valuable first (name: default limit in seconds):
#   unpack      10  binaries and pyreft/pyvene out of the kit, checked against MANIFEST.json
#   env         30  (a) reproduce env: the backend sdk/backend chose and a graph run there
#   parity_gen  60  (c) fullsize.py: random full-size nanoLLaVA + transformers' outputs on the GPU, f32 and bf16
#   parity     150  (c) TestFullSizeParity on the GPU: logit errors, greedy tokens, compile times
#   bench      200  (d) reproduce bench -preset paper, batch 1, with -peer: pyreft / PEFT / PyTorch
#   tests       30  (b) the carried test binaries (each in its package folder)
#   bench_best  60  (d) the same at the larger batch (KIT_BEST_BATCH, default 8), with what is left
# The first six sum to the 480 s budget: bench_best runs only on time the
# others left unused.
# (e) compile seconds and extrapolated full runs are derived from (c) and (d)
# in summary.json's "derived" and the table.
#
# Environment: OUT (default: a new temp folder), KIT (default .gpukit),
# KIT_WORK (scratch, default a temp folder: the 2 GB checkpoint goes there),
# KIT_PYTHON (the python with torch, default python3), KIT_TOTAL (overall
# budget, default 480 s), KIT_BUDGETS ("bench=240,tests=0": per-step limits;
# 0 skips a step), KIT_BEST_BATCH, KIT_BENCH_FLAGS (added to both benches),
# KIT_PARITY_XLA_FLAGS (XLA_FLAGS for the parity step only, e.g.
# --xla_gpu_autotune_level=0 to compile faster; unset by default).
# Exit status: 0, or 1 when a step failed (in -smoke also when one timed out).
# Nothing sets the PJRT plugin path: sdk/backend must find it (step env says
# what it found).
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
MODE=full
for a in "$@"; do
	case $a in
	-smoke) MODE=smoke ;;
	-h | --help) sed -n '2,36p' "$0"; exit 0 ;;
	*) echo "run.sh: unknown argument $a" >&2; exit 2 ;;
	esac
done

KIT=${KIT:-$ROOT/.gpukit}
OUT=${OUT:-$(mktemp -d "${TMPDIR:-/tmp}/visreft-gpu-out.XXXXXX")}
WORK=${KIT_WORK:-$(mktemp -d "${TMPDIR:-/tmp}/visreft-gpu.XXXXXX")}
PY=${KIT_PYTHON:-python3}
SYSPY=$(command -v python3) # the kit's own scripts need only the standard library
TOTAL=${KIT_TOTAL:-480}
BEST=${KIT_BEST_BATCH:-8}
mkdir -p "$OUT" "$WORK"/{logs,steps,gpu,results,cache,bin,peers}
BIN=$WORK/bin
START=$SECONDS

STEPS=(unpack env parity_gen parity bench tests bench_best)
declare -A LIMIT=([unpack]=10 [env]=30 [parity_gen]=60 [parity]=150 [bench]=200 [tests]=30 [bench_best]=60)
[[ $MODE == smoke ]] && LIMIT[tests]=90 # 2 slow cores run the test binaries far slower than the GPU machine's 16
IFS=, read -ra over <<<"${KIT_BUDGETS:-}"
for kv in "${over[@]}"; do
	[[ $kv == *=* && -n ${LIMIT[${kv%%=*}]+x} ]] || { echo "run.sh: KIT_BUDGETS: bad entry '$kv'" >&2; exit 2; }
	LIMIT[${kv%%=*}]=${kv#*=}
done
printf '%s\n' "${STEPS[@]}" | "$SYSPY" -c 'import json,sys; print(json.dumps(sys.stdin.read().split()))' >"$WORK/steps/order.json"

if [[ $MODE == smoke ]]; then
	export GOMLX_BACKEND=go:ops_sequential
else
	unset GOMLX_BACKEND # the automatic choice is what is being tested
fi
export VISREFT_CACHE=$WORK/cache PYTHONUNBUFFERED=1
HAVE_TORCH=0
"$PY" -c 'import torch, transformers' >/dev/null 2>&1 && HAVE_TORCH=1
HAVE_SMI=0
command -v nvidia-smi >/dev/null && nvidia-smi -L >/dev/null 2>&1 && HAVE_SMI=1

write_mode() {
	"$SYSPY" - "$WORK/mode.json" <<EOF
import json, sys
json.dump({"mode": "$MODE", "total_budget_s": $TOTAL, "elapsed_s": $((SECONDS - START)), "python": "$PY",
           "torch": bool($HAVE_TORCH), "nvidia_smi": bool($HAVE_SMI), "limits": {$(for s in "${STEPS[@]}"; do printf '"%s": %s, ' "$s" "${LIMIT[$s]}"; done)},
           "gomlx_backend": "${GOMLX_BACKEND:-(unset: automatic)}", "root": "$ROOT", "work": "$WORK"}, open(sys.argv[1], "w"), indent=1)
EOF
}

# publish: the numbers, the logs and the raw outputs into $OUT (3 files: the
# device returns at most 8), atomically, after every step.
publish() {
	write_mode
	"$SYSPY" "$ROOT/reproduce/gpu/summary.py" collect "$WORK" "$OUT" || echo "run.sh: summary failed" >&2
	for f in "$WORK"/logs/*.log; do
		[[ -f $f ]] && { echo "=== $(basename "$f")"; tail -c 2000000 "$f"; }
	done >"$OUT/run.log.tmp" && mv "$OUT/run.log.tmp" "$OUT/run.log"
	(cd "$WORK" && find logs steps gpu results parity.json tests.json python_env.json fullsize/fullsize_meta.json mode.json \
		-type f \( -name '*.json' -o -name '*.csv' -o -name '*.log' -o -name '*.txt' \) -size -20M 2>/dev/null |
		tar -czf "$OUT/details.tar.gz.tmp" -T - 2>/dev/null)
	mv "$OUT/details.tar.gz.tmp" "$OUT/details.tar.gz" 2>/dev/null
}

meta() { # name status rc seconds limit [note]
	"$SYSPY" -c 'import json,sys; n,s,rc,sec,lim,note=sys.argv[1:7]; json.dump({"status":s,"rc":int(rc),"seconds":float(sec),"limit":float(lim),"note":note}, open(sys.argv[7],"w"))' \
		"$1" "$2" "$3" "$4" "$5" "${6:-}" "$WORK/steps/$1.meta.json"
}

SAMPLER=
sampler_start() {
	[[ $HAVE_SMI == 1 ]] || return 0
	nvidia-smi --query-gpu=timestamp,memory.used,utilization.gpu --format=csv,noheader,nounits -lms 250 >"$WORK/gpu/$1.csv" 2>/dev/null &
	SAMPLER=$!
}
sampler_stop() {
	[[ -n $SAMPLER ]] && { kill "$SAMPLER" 2>/dev/null; wait "$SAMPLER" 2>/dev/null; }
	SAMPLER=
}

# step NAME FUNCTION: runs FUNCTION under min(its limit, what is left of the
# budget), its output in logs/NAME.log; a step left with under 10 s is skipped.
step() {
	local name=$1 fn=$2 left limit rc t0
	left=$((TOTAL - (SECONDS - START)))
	limit=${LIMIT[$name]}
	((limit > left)) && limit=$left
	if ((limit < 10)); then
		local why="no time left in the ${TOTAL} s budget"
		((LIMIT[$name] == 0)) && why="limit 0 (KIT_BUDGETS)"
		meta "$name" skipped 0 0 "$limit" "$why"
		echo "-- $name: skipped ($why)"
		publish
		return
	fi
	echo "-- $name (limit ${limit} s, $((SECONDS - START)) s elapsed)"
	sampler_start "$name"
	t0=$SECONDS
	STEP_LIMIT=$limit
	export STEP_LIMIT
	timeout -k 5 "$limit" bash -c "$(declare -f "$fn" skip_py); $fn" >"$WORK/logs/$name.log" 2>&1
	rc=$?
	sampler_stop
	local status=ok note=
	case $rc in
	0) status=ok ;;
	124 | 137) status=timeout note="stopped at its ${limit} s limit" ;;
	77) status=skipped note=$(tail -n1 "$WORK/logs/$name.log") ;;
	75) status=partial note=$(tail -n1 "$WORK/logs/$name.log") ;;
	*) status=failed note="exit $rc: $(grep -v '^\s*$' "$WORK/logs/$name.log" | tail -n1 | cut -c1-300)" ;;
	esac
	meta "$name" "$status" "$rc" "$((SECONDS - t0))" "$limit" "$note"
	echo "   $name: $status in $((SECONDS - t0)) s${note:+ ($note)}"
	publish
}

# skip_py: exit 77 (skipped) when the torch python is missing.
skip_py() {
	if [[ $HAVE_TORCH != 1 ]]; then
		echo "skipped: no torch here ($PY cannot import torch and transformers)"
		exit 77
	fi
}

export ROOT KIT WORK BIN PY SYSPY MODE BEST HAVE_TORCH HAVE_SMI
export KIT_BENCH_FLAGS=${KIT_BENCH_FLAGS:-}

# The binaries are built with -trimpath, so sdk/demo finds testdata/ at the
# relative path github.com/visreft/visreft: SHIM mirrors the tree with links
# and adds that link wherever a binary runs.
SHIM=$WORK/tree
export SHIM
shim_dir() {
	local rel=$1 cur="" d e p
	local parts=("")
	[[ -n $rel ]] && IFS=/ read -ra more <<<"$rel" && parts+=("${more[@]}")
	for p in "${parts[@]}"; do
		cur=${cur:+$cur/}$p
		d=$SHIM${cur:+/$cur}
		[[ -L $d ]] && rm "$d"
		if [[ ! -d $d ]]; then
			mkdir -p "$d"
			for e in "$ROOT${cur:+/$cur}"/* "$ROOT${cur:+/$cur}"/.[!.]*; do
				[[ -e $e && $(basename "$e") != .git ]] && ln -s "$e" "$d/$(basename "$e")"
			done
			mkdir -p "$d/github.com/visreft"
			ln -s "$ROOT" "$d/github.com/visreft/visreft"
		fi
	done
}

# ---- the steps ---------------------------------------------------------

do_unpack() {
	set -e
	[[ -f $KIT/bin.tar.xz ]] || { echo "no kit at $KIT: run reproduce/gpu/package.sh first"; exit 1; }
	"$SYSPY" "$ROOT/reproduce/gpu/summary.py" unpack "$KIT/bin.tar.xz" "$BIN"
	[[ -f $KIT/peers.tar.xz ]] && "$SYSPY" "$ROOT/reproduce/gpu/summary.py" unpack "$KIT/peers.tar.xz" "$WORK/peers"
	chmod +x "$BIN"/*
	cp "$KIT/MANIFEST.json" "$WORK/kit_manifest.json"
	"$SYSPY" "$ROOT/reproduce/gpu/summary.py" verify "$KIT" "$ROOT" "$BIN"
	ls -la "$BIN" "$WORK/peers"
}

do_env() {
	cd "$SHIM"
	if [[ $HAVE_SMI == 1 ]]; then
		nvidia-smi --query-gpu=name,driver_version,memory.total,memory.used,clocks.sm,clocks.max.sm,power.limit --format=csv \
			>"$WORK/logs/nvidia-smi.csv" 2>&1
	fi
	if [[ $HAVE_TORCH == 1 ]]; then
		timeout 20 "$PY" - "$WORK/python_env.json" <<'EOF' || echo "python probe failed"
import json, sys, importlib
info = {"python": sys.version.split()[0], "executable": sys.executable}
for m in ("torch", "transformers", "peft", "safetensors", "jax"):
    try:
        info[m] = importlib.import_module(m).__version__
    except Exception as e:
        info[m] = f"missing ({type(e).__name__})"
import torch
info["cuda"] = torch.cuda.is_available()
if info["cuda"]:
    info["gpu"] = torch.cuda.get_device_name()
    info["capability"] = ".".join(map(str, torch.cuda.get_device_capability()))
json.dump(info, open(sys.argv[1], "w"), indent=1)
print(json.dumps(info))
EOF
	else
		echo "no torch here: python packages not probed"
	fi
	"$BIN/reproduce" env
}

do_parity_gen() {
	if [[ $MODE == smoke && $HAVE_TORCH != 1 ]]; then
		# the committed tiny model of the same format stands in
		mkdir -p "$WORK/fullsize"
		cp "$ROOT"/reproduce/gpu/testdata/fullsize_tiny/* "$WORK/fullsize/"
		echo "skipped: no torch here; using the committed tiny fixture reproduce/gpu/testdata/fullsize_tiny"
		exit 77
	fi
	skip_py
	local args=(--out "$WORK/fullsize" --dtypes f32,bf16)
	if [[ $MODE == smoke ]]; then
		args+=(--tiny --device cpu)
	else
		args+=(--device cuda)
	fi
	"$PY" "$ROOT/testdata/gen/models/fullsize.py" "${args[@]}"
}

do_parity() {
	[[ -f $WORK/fullsize/golden.safetensors || -f $WORK/fullsize/golden_bf16.safetensors ]] ||
		{ echo "no full-size checkpoint (parity_gen did not finish)"; exit 1; }
	cd "$SHIM/sdk/models/llava"
	[[ -n ${KIT_PARITY_XLA_FLAGS:-} ]] && export XLA_FLAGS="${XLA_FLAGS:+$XLA_FLAGS }$KIT_PARITY_XLA_FLAGS"
	VISREFT_FULLSIZE_DIR=$WORK/fullsize VISREFT_FULLSIZE_DTYPES=f32,bf16 VISREFT_PARITY_JSON=$WORK/parity.json \
		"$BIN/sdk_models_llava.test" -test.run '^TestFullSizeParity$' -test.v -test.timeout "$((STEP_LIMIT - 5))s"
}

bench_cmd() { # NAME BATCHES: reproduce bench with the peers
	local name=$1 batches=$2 args
	cd "$SHIM"
	args=(bench -force -results "$WORK/results/$name" -plots "$WORK/results/$name/plots" -batches "$batches")
	if [[ $MODE == smoke ]]; then
		args+=(-preset demo -warmup 1 -steps 1)
	else
		args+=(-preset paper -warmup 1 -steps 4 -peak-tflops 989)
		export VISREFT_MODEL=random VISREFT_CVBENCH=synthetic
		# XLA preallocates a share of the GPU (its BFC pool); the peers run in
		# the same job afterwards, so XLA gets half the card, torch the rest.
		export XLA_CLIENT_MEM_FRACTION=${XLA_CLIENT_MEM_FRACTION:-0.5}
	fi
	if "$BIN/reproduce" -h 2>&1 | grep -q -- '-methods'; then
		[[ $name == bench ]] || args+=(-methods reft) # when the flag exists, the larger batch times ReFT only
	fi
	if [[ $HAVE_TORCH == 1 ]]; then
		args+=(-peer "$PY")
		export VISREFT_PYREFT_SRC=$WORK/peers/pyreft VISREFT_PYVENE_SRC=$WORK/peers/pyvene
		[[ $MODE == smoke ]] || export VISREFT_PEER_DTYPE=${VISREFT_PEER_DTYPE:-bf16-autocast}
	else
		echo "peers skipped: no torch here"
	fi
	# shellcheck disable=SC2086
	"$BIN/reproduce" "${args[@]}" $KIT_BENCH_FLAGS
}
do_bench() { bench_cmd bench 1; }
do_bench_best() { bench_cmd bench_best "$BEST"; }

do_tests() {
	# Each test binary in its package folder (relative testdata paths), the
	# full-size parity left to its own step; the budget is shared in order.
	local bins=(sdk_backend sdk_models_llava sdk_models_qwen2 sdk_models_siglip sdk_reft sdk_lora sdk_train sdk_eval sdk_experiment)
	local deadline=$((SECONDS + STEP_LIMIT - 3)) b pkg rc left t0 results=()
	for b in "${bins[@]}"; do
		pkg=${b//_//}
		left=$((deadline - SECONDS))
		if ((left < 3)); then
			results+=("{\"binary\": \"$b.test\", \"result\": \"not run (no time)\", \"seconds\": 0}")
			continue
		fi
		t0=$SECONDS
		# VISREFT_TEST_BACKEND=auto asks sdk/internal/testutil for the automatic
		# backend (CUDA here) once it honours that; until then tests run pure Go.
		(cd "$SHIM/$pkg" && VISREFT_TEST_BACKEND=${VISREFT_TEST_BACKEND:-auto} timeout -k 2 "$left" "$BIN/$b.test" -test.v -test.count=1 \
			>"$WORK/logs/test_$b.log" 2>&1)
		rc=$?
		local pass fail skip res
		pass=$(grep -c -- '^--- PASS' "$WORK/logs/test_$b.log")
		fail=$(grep -c -- '^--- FAIL' "$WORK/logs/test_$b.log")
		skip=$(grep -c -- '^--- SKIP' "$WORK/logs/test_$b.log")
		case $rc in 0) res=ok ;; 124 | 137) res=timeout ;; *) res="failed" ;; esac
		echo "$b: $res (rc $rc) in $((SECONDS - t0)) s: $pass passed, $fail failed, $skip skipped"
		grep -- '^--- FAIL' "$WORK/logs/test_$b.log" | head -5
		results+=("{\"binary\": \"$b.test\", \"result\": \"$res\", \"rc\": $rc, \"seconds\": $((SECONDS - t0)), \"passed\": $pass, \"failed\": $fail, \"skipped\": $skip}")
	done
	(
		IFS=,
		echo "{\"binaries\": [${results[*]}]}"
	) >"$WORK/tests.json"
	if grep -q '"result": "failed"' "$WORK/tests.json"; then
		echo "a test binary failed"
		exit 1
	fi
	if grep -q '"result": "timeout"\|"result": "not run' "$WORK/tests.json"; then
		echo "partial: not every test binary finished in the step's limit"
		exit 75
	fi
}

# ---- run ---------------------------------------------------------------

echo "== visreft GPU kit ($MODE): OUT=$OUT WORK=$WORK budget ${TOTAL} s, python $PY (torch: $HAVE_TORCH)"
shim_dir ""
for p in sdk/backend sdk/models/llava sdk/models/qwen2 sdk/models/siglip sdk/reft sdk/lora sdk/train sdk/eval sdk/experiment; do
	shim_dir "$p"
done
export -f shim_dir
export -f do_unpack do_env do_parity_gen do_parity bench_cmd do_bench do_bench_best do_tests
step unpack do_unpack
step env do_env
step parity_gen do_parity_gen
step parity do_parity
step bench do_bench
step tests do_tests
step bench_best do_bench_best
publish
rm -rf "$WORK/fullsize/model.safetensors" # 2 GB, not needed any more
echo
"$SYSPY" "$ROOT/reproduce/gpu/summary.py" table "$WORK" "$OUT"
bad=failed
[[ $MODE == smoke ]] && bad='failed|timeout'
if grep -qE "\"status\": \"($bad)\"" "$WORK"/steps/*.meta.json; then
	echo "run.sh: a step $(echo "$bad" | sed 's/|/ or /'): see $OUT/run.log"
	exit 1
fi
