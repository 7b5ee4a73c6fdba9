#!/bin/bash
# A reference environment for the golden fixtures without PyPI: a Debian sid
# chroot with Debian's own HF transformers, torch (CPU), safetensors and
# tokenizers, all from a Debian mirror (OpenBLAS, since
# torch on the reference BLAS is single-threaded and far slower).
#
#   testdata/gen/debian-sid.sh [--mirror URI] ROOT  make ROOT once (root, debootstrap)
#   testdata/gen/debian-sid.sh ROOT CMD [ARG...]    run CMD in the repository inside it
#   testdata/gen/debian-sid.sh --print-mirror       print the mirror it would use, and stop
#
# The mirror (only needed to make ROOT) is, in order: --mirror URI,
# $DEBIAN_MIRROR, or the first Debian archive in this machine's own apt
# sources (/etc/apt/sources.list, /etc/apt/sources.list.d/*.list one-line
# "deb" entries and *.sources deb822 "URIs:" fields); it stops with an error
# if none of them gives one.
#
# Fixtures committed from it were made with python3-transformers 5.12.1-2,
# python3-torch 2.14.1+dfsg-1, python3-safetensors 0.8.0-1 (sid, 2026-11):
# the generators record the versions that ran in their files' metadata and
# warn when they differ from those.
set -euo pipefail
usage='usage: debian-sid.sh [--mirror URI] ROOT [CMD ARG...] | debian-sid.sh [--mirror URI] --print-mirror'

# apt_mirror prints the first Debian archive URI of the apt sources under
# ${APT_ETC:-/etc/apt}, in apt's own reading order (sources.list, then
# sources.list.d/ by name; other file names there, such as *.disabled, are
# not read by apt either). Only "deb" entries count, not deb-src, and not
# deb822 stanzas with "Enabled: no". A Debian archive is an http(s), ftp or
# file URI whose path ends in /debian, or /debian/<snapshot timestamp>: so
# debian-security and third-party repositories are passed over.
apt_mirror() {
	local etc=${APT_ETC:-/etc/apt} f
	local files=()
	[[ -f $etc/sources.list ]] && files+=("$etc/sources.list")
	for f in "$etc"/sources.list.d/*; do
		[[ -f $f && ( $f == *.list || $f == *.sources ) ]] && files+=("$f")
	done
	for f in "${files[@]}"; do
		if [[ $f == *.sources ]]; then
			# deb822: stanzas separated by blank lines; continuation lines start with a blank.
			awk '
				function flush() {
					if (types ~ /(^|[ \t])deb([ \t]|$)/ && tolower(enabled) != "no") {
						n = split(uris, u, /[ \t]+/)
						for (i = 1; i <= n; i++) if (u[i] != "") print u[i]
					}
					types = ""; uris = ""; enabled = ""; key = ""
				}
				/^#/ { next }
				/^[ \t]*$/ { flush(); next }
				/^[ \t]/ { if (key == "uris") uris = uris " " $0; else if (key == "types") types = types " " $0; next }
				{
					key = tolower(substr($0, 1, index($0, ":") - 1)); val = substr($0, index($0, ":") + 1)
					if (key == "uris") uris = val; else if (key == "types") types = val; else if (key == "enabled") enabled = val
					gsub(/[ \t]/, "", enabled)
				}
				END { flush() }' "$f"
		else
			# one-line: deb [ options ] URI suite [component...]
			awk '{
				sub(/#.*/, "")
				if ($1 != "deb") next
				i = 2
				if ($i ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
				if (i <= NF) print $i
			}' "$f"
		fi
	done | grep -m1 -E '^(https?|ftp|file):.*(^|/)debian(/[0-9]{8}T[0-9]{6}Z)?/?$' || true
}

# resolve_mirror keeps the mirror given, else takes apt's, else stops.
resolve_mirror() {
	mirror=${mirror:-$(apt_mirror)}
	[[ -n $mirror ]] && return
	echo "debian-sid.sh: no Debian mirror: none in ${APT_ETC:-/etc/apt}/sources.list{,.d/*.list,.d/*.sources};" \
		"set DEBIAN_MIRROR=URI or pass --mirror URI (a Debian archive, e.g. http://HOST/debian)" >&2
	exit 1
}

mirror=${DEBIAN_MIRROR:-}
print=
while [[ ${1:-} == -* ]]; do
	case $1 in
	--mirror) mirror=${2:?$usage}; shift 2 ;;
	--mirror=*) mirror=${1#--mirror=}; shift ;;
	--print-mirror) print=1; shift ;;
	*) echo "debian-sid.sh: unknown option $1" >&2; echo "$usage" >&2; exit 2 ;;
	esac
done
if [[ -n $print ]]; then
	resolve_mirror
	echo "$mirror"
	exit 0
fi
root=${1:?$usage}
shift
repo=$(cd "$(dirname "$0")/../.." && pwd)
pkgs="python3-transformers python3-torch python3-safetensors python3-tokenizers python3-numpy libopenblas0-pthread"
# what pyvene, pyreft and PEFT (source checkouts, not packaged) import
pkgs+=" python3-matplotlib python3-seaborn python3-networkx python3-tqdm python3-accelerate python3-psutil python3-yaml"
apt_opts=(-o Acquire::Check-Valid-Until=false) # the mirror's sid Release may be past its date

if [[ ! -x $root/usr/bin/python3 ]] || ! chroot "$root" python3 -c 'import transformers, torch, safetensors' 2>/dev/null; then
	if [[ ! -d $root/etc ]]; then
		resolve_mirror
		command -v debootstrap >/dev/null || apt-get install -y debootstrap
		echo "debian-sid.sh: debootstrap sid from $mirror" >&2
		debootstrap --variant=minbase sid "$root" "$mirror"
	fi
	cp /etc/resolv.conf "$root/etc/resolv.conf"
	chroot "$root" apt-get "${apt_opts[@]}" update
	chroot "$root" env DEBIAN_FRONTEND=noninteractive apt-get "${apt_opts[@]}" install -y --no-install-recommends $pkgs
fi
chroot "$root" dpkg-query -W -f '${Package} ${Version}\n' $pkgs
[[ $# -gt 0 ]] || exit 0

mkdir -p "$root/repo" "$root/proc"
mountpoint -q "$root/proc" || mount -t proc proc "$root/proc"
mount --bind "$repo" "$root/repo"
trap 'umount "$root/repo"' EXIT
chroot "$root" env HOME=/tmp HF_HUB_OFFLINE=1 bash -c 'cd /repo && "$@"' -- "$@"
