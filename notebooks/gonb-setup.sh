#!/usr/bin/env bash
# The set-up of a visreft notebook, run by its first cell through GoNB's `!*`
# (in the folder of the notebook's Go module):
#   !*bash ${GONB_DIR}/gonb-setup.sh module@version ...
# It points the module at this checkout's sdk/ and pins the modules given.
# Quiet: go's messages go to visreft-setup.log there; it prints one line on
# success, and on failure go's messages and the error (exit status non-zero).
set -uo pipefail
mod=github.com/visreft/visreft
if [ -z "${GONB_DIR:-}" ]; then
  echo "gonb-setup.sh: GONB_DIR is not set: run it from a GoNB cell as !*bash \${GONB_DIR}/gonb-setup.sh ..." >&2
  exit 2
fi
root=$(cd "$GONB_DIR/.." && pwd)
log="$(pwd)/visreft-setup.log"
if { go mod edit -require "$mod@v0.0.0-00010101000000-000000000000" -replace "$mod=$root" &&
     go get "$@"; } >"$log" 2>&1; then
  pins=""
  for p in "$@"; do pins="$pins ${p##*/}"; done
  echo "visreft set up: sdk/ from $root;$pins; $(go env GOVERSION)"
else
  rc=$?
  cat "$log" >&2
  echo "visreft set-up failed (exit status $rc): go's messages are above (and in $log)" >&2
  exit "$rc"
fi
