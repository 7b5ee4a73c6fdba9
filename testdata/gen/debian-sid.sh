#!/bin/bash
# A reference environment for the golden fixtures without PyPI: a Debian sid
# chroot with Debian's own HF transformers, torch (CPU), safetensors and
# tokenizers, all from deb.debian.org (OpenBLAS, since
# torch on the reference BLAS is single-threaded and far slower).
#
#   testdata/gen/debian-sid.sh ROOT              make ROOT once (root, debootstrap)
#   testdata/gen/debian-sid.sh ROOT CMD [ARG...] run CMD in the repository inside it
#
# Fixtures committed from it were made with python3-transformers 5.12.1-2,
# python3-torch 2.14.1+dfsg-1, python3-safetensors 0.8.0-1 (sid, 2026-11):
# the generators record the versions that ran in their files' metadata and
# warn when they differ from those.
set -euo pipefail
root=${1:?usage: debian-sid.sh ROOT [CMD ARG...]}
shift
repo=$(cd "$(dirname "$0")/../.." && pwd)
pkgs="python3-transformers python3-torch python3-safetensors python3-tokenizers python3-numpy libopenblas0-pthread"
# what pyvene, pyreft and PEFT (source checkouts, not packaged) import
pkgs+=" python3-matplotlib python3-seaborn python3-networkx python3-tqdm python3-accelerate python3-psutil python3-yaml"
apt_opts=(-o Acquire::Check-Valid-Until=false) # the mirror's sid Release may be past its date

if [[ ! -x $root/usr/bin/python3 ]] || ! chroot "$root" python3 -c 'import transformers, torch, safetensors' 2>/dev/null; then
	command -v debootstrap >/dev/null || apt-get install -y debootstrap
	[[ -d $root/etc ]] || debootstrap --variant=minbase sid "$root" http://deb.debian.org/debian
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
