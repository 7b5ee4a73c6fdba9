#!/usr/bin/env bash
# package.sh builds, on this machine, everything the GPU machine needs to run
# reproduce/gpu/run.sh: it has no Go and reaches nothing, so the binaries are
# built here (cgo, for XLA), checked to need no glibc newer than this
# machine's 2.36, stripped, and compressed together into one xz stream (the
# binaries share most of their code, so a solid archive is far smaller).
#
#   bash reproduce/gpu/package.sh [-head] [-no-peers]
#
#   -head      build from `git archive HEAD` instead of the working tree
#              (other people's half-done edits cannot break the build)
#   -no-peers  leave pyreft/pyvene out (the peer bench then fails)
#
# Writes .gpukit/ (git-ignored): bin.tar.xz (reproduce + the test binaries),
# peers.tar.xz (pyreft and pyvene, Python source only, from .peers/), and
# MANIFEST.json (sizes, sha256, git commit, Go version, build flags, glibc
# check, peer commits). Fails when the kit exceeds KIT_LIMIT_MIB (60).
# .peers/pyreft and .peers/pyvene are `git archive`s of the pyreft and pyvene
# repositories with a COMMIT file beside (see reproduce/gpu/README.md).
set -euo pipefail
ROOT=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)
cd "$ROOT"
KIT=${KIT:-$ROOT/.gpukit}
LIMIT_MIB=${KIT_LIMIT_MIB:-60}
GLIBC_MAX=2.36 # Debian 12, the oldest glibc the binaries may need

# The packages whose tests are carried: those that build and run graphs.
TEST_PKGS=(sdk/backend sdk/models/llava sdk/models/qwen2 sdk/models/siglip sdk/reft sdk/lora sdk/train sdk/eval sdk/experiment)
BUILD_FLAGS=(-trimpath "-ldflags=-s -w")

head=0 peers=1
for a in "$@"; do
	case $a in
	-head) head=1 ;;
	-no-peers) peers=0 ;;
	-h | --help) sed -n '2,20p' "$0"; exit 0 ;;
	*) echo "package.sh: unknown argument $a" >&2; exit 2 ;;
	esac
done

for tool in go objdump xz python3 tar sha256sum; do
	command -v $tool >/dev/null || { echo "package.sh: $tool is missing" >&2; exit 1; }
done

stage=$(mktemp -d "${TMPDIR:-/tmp}/gpukit.XXXXXX")
trap 'rm -rf "$stage"' EXIT
src=$ROOT
if [[ $head == 1 ]]; then
	src=$stage/src
	mkdir -p "$src"
	git archive HEAD | tar -x -C "$src"
fi
mkdir -p "$stage/bin" "$stage/kit"

t0=$SECONDS
echo "== build (CGO_ENABLED=1 ${BUILD_FLAGS[*]}) from ${src}"
(cd "$src" && CGO_ENABLED=1 GOEXPERIMENT=simd go build "${BUILD_FLAGS[@]}" -o "$stage/bin/reproduce" ./reproduce)
for p in "${TEST_PKGS[@]}"; do # one at a time: the build machine has 2 cores
	name=${p//\//_}.test
	(cd "$src" && CGO_ENABLED=1 GOEXPERIMENT=simd go test -c "${BUILD_FLAGS[@]}" -o "$stage/bin/$name" "./$p")
	[[ -f $stage/bin/$name ]] || { echo "package.sh: ./$p has no tests" >&2; exit 1; }
done
echo "   built in $((SECONDS - t0)) s"

echo "== glibc symbol versions (objdump -T; none may exceed GLIBC_$GLIBC_MAX)"
bad=0
: >"$stage/glibc.txt"
for f in "$stage"/bin/*; do
	vers=$(objdump -T "$f" | grep -o 'GLIBC_[0-9][0-9.]*' | sed 's/GLIBC_//' | sort -uV)
	top=$(tail -n1 <<<"$vers")
	over=
	for v in $vers; do # newer than GLIBC_MAX: sorts after it
		[[ $(printf '%s\n%s\n' "$v" "$GLIBC_MAX" | sort -V | tail -n1) == "$GLIBC_MAX" ]] || over+=" $v"
	done
	printf '%s %s\n' "$(basename "$f")" "${top:-none}" >>"$stage/glibc.txt"
	printf '   %-28s newest GLIBC_%s\n' "$(basename "$f")" "${top:-none}"
	if [[ -n $over ]]; then
		echo "   $(basename "$f") needs glibc $over: newer than $GLIBC_MAX" >&2
		bad=1
	fi
done
[[ $bad == 0 ]] || { echo "package.sh: a binary needs a glibc newer than $GLIBC_MAX" >&2; exit 1; }

echo "== compress binaries (xz, one solid stream)"
t0=$SECONDS
(cd "$stage/bin" && ls | sort >"$stage/bin.list" && tar -cf - -T "$stage/bin.list") |
	xz -T1 --lzma2=preset=9e,dict=192MiB -c >"$stage/kit/bin.tar.xz"
echo "   compressed in $((SECONDS - t0)) s"

if [[ $peers == 1 ]]; then
	echo "== peers (pyreft, pyvene: Python sources from .peers/)"
	for p in pyreft pyvene; do
		if [[ ! -f .peers/$p/COMMIT || ! -d .peers/$p/$p ]]; then
			echo "package.sh: .peers/$p is missing: git archive the $p repository into .peers/$p" \
				"and write its commit to .peers/$p/COMMIT (reproduce/gpu/README.md), or pass -no-peers" >&2
			exit 1
		fi
	done
	(cd .peers && find pyreft/pyreft pyvene/pyvene -name '*.py' | sort >"$stage/peers.list" &&
		ls pyreft/LICENSE pyreft/COMMIT pyvene/LICENSE pyvene/COMMIT >>"$stage/peers.list" &&
		tar -cf - -T "$stage/peers.list") | xz -9 -c >"$stage/kit/peers.tar.xz"
fi

echo "== manifest"
rm -rf "$KIT"
mkdir -p "$KIT"
cp "$stage"/kit/* "$KIT"/
KIT=$KIT STAGE=$stage SRC=$src HEADBUILD=$head LIMIT_MIB=$LIMIT_MIB GLIBC_MAX=$GLIBC_MAX \
	TEST_PKGS="${TEST_PKGS[*]}" BUILD_FLAGS="CGO_ENABLED=1 ${BUILD_FLAGS[*]}" python3 - <<'EOF'
import hashlib, json, os, subprocess, time

env = os.environ
kit, stage, root = env["KIT"], env["STAGE"], os.getcwd()


def sha(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for b in iter(lambda: f.read(1 << 20), b""):
            h.update(b)
    return h.hexdigest()


def git(*a):
    return subprocess.run(["git", *a], capture_output=True, text=True).stdout.strip()


glibc = dict(line.split() for line in open(os.path.join(stage, "glibc.txt")))
bins = []
for name in sorted(os.listdir(os.path.join(stage, "bin"))):
    p = os.path.join(stage, "bin", name)
    pkg = "reproduce" if name == "reproduce" else name[:-len(".test")].replace("_", "/")
    bins.append({"name": name, "package": "./" + pkg, "bytes": os.path.getsize(p), "sha256": sha(p),
                 "newest_glibc": glibc[name]})
peers = {}
for p in ("pyreft", "pyvene"):
    c = os.path.join(root, ".peers", p, "COMMIT")
    if os.path.exists(c):
        peers[p] = dict(line.split(" ", 1) for line in open(c).read().splitlines() if " " in line)
# Tracked files run.sh uses from the working tree on the device: their
# hashes let run.sh warn when the tree differs from the one packaged.
scripts = ["reproduce/gpu/run.sh", "reproduce/gpu/summary.py", "reproduce/peers/bench.py",
           "testdata/gen/models/fullsize.py", "testdata/gen/models/make_fixtures.py"]
files = [{"name": n, "bytes": os.path.getsize(os.path.join(kit, n)), "sha256": sha(os.path.join(kit, n))}
         for n in sorted(os.listdir(kit))]
dirty = git("status", "--porcelain", "--untracked-files=no").splitlines()
m = {
    "made": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    "git_commit": git("rev-parse", "HEAD"),
    "source": "git archive HEAD" if env["HEADBUILD"] == "1" else "working tree",
    "working_tree_changes": dirty if env["HEADBUILD"] != "1" else [],
    "go": subprocess.run(["go", "version"], capture_output=True, text=True).stdout.strip(),
    "modules": subprocess.run(["go", "list", "-m", "github.com/gomlx/gomlx", "github.com/gomlx/go-xla"],
                              capture_output=True, text=True, cwd=env["SRC"]).stdout.split("\n")[:2],
    "build_flags": env["BUILD_FLAGS"],
    "glibc_max_allowed": env["GLIBC_MAX"],
    "test_packages": env["TEST_PKGS"].split(),
    "binaries": bins,
    "peers": peers,
    "scripts": {s: sha(os.path.join(root, s)) for s in scripts if os.path.exists(os.path.join(root, s))},
    "files": files,
}
total = sum(f["bytes"] for f in files)
m["kit_bytes"] = total
m["limit_bytes"] = int(env["LIMIT_MIB"]) << 20
with open(os.path.join(kit, "MANIFEST.json"), "w") as f:
    json.dump(m, f, indent=1)
raw = sum(b["bytes"] for b in bins)
for f in files:
    print(f"   {f['name']:<16} {f['bytes'] / 2**20:8.2f} MiB")
print(f"   binaries {raw / 2**20:.1f} MiB uncompressed, {len(bins)} of them; kit {total / 2**20:.2f} MiB"
      f" (limit {env['LIMIT_MIB']} MiB)")
EOF
total=$(du -cb "$KIT"/* | tail -n1 | cut -f1)
if ((total > LIMIT_MIB * 1024 * 1024)); then
	echo "package.sh: the kit is $((total / 1024 / 1024)) MiB, over the ${LIMIT_MIB} MiB limit" >&2
	exit 1
fi
echo "== kit ready: $KIT ($((total / 1024)) KiB); carry it with the device call: carry [\".gpukit\"]"
