#!/bin/sh
# Runs on the Vagrant host (from the Vagrantfile, once): the fleet CA, per-host certificates and a
# throwaway operator key, made once in OUT_DIR. Usage: make-fleet.sh OUT_DIR NAME=ADDRESS...
set -eu
OUT="${1:?usage: make-fleet.sh OUT_DIR NAME=ADDRESS...}"
here="$(cd "$(dirname "$0")" && pwd)"
sh "$here/../test/lab/make-pki.sh" "$@"
[ -f "$OUT/operator_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C rehome-vagrant-operator -f "$OUT/operator_ed25519"
