#!/bin/sh
# Runs COMMAND holding the machine's lab lock: the lab's namespaces, bridge and addresses are machine-wide, so one
# lab per machine. If an ancestor already holds the lock (`flock /tmp/rehome-lab.lock npm test`), COMMAND runs as it
# is: flock from a child opens the file anew, and would wait for its own parent forever.
# Usage: sh test/lab/lab-lock.sh COMMAND [ARG...]
set -eu
lock=${REHOME_LAB_LOCK:-/tmp/rehome-lab.lock}
if [ $# -eq 0 ]; then
  echo "usage: lab-lock.sh COMMAND [ARG...]" >&2
  exit 2
fi
: >>"$lock"
inode=$(stat -c %i "$lock")
# /proc/locks: "N: FLOCK ADVISORY WRITE PID MAJ:MIN:INODE 0 EOF"; waiters have "->" in the second field.
holders=$(awk -v inode="$inode" '$2 == "FLOCK" { split($6, id, ":"); if (id[3] == inode) print $5 }' /proc/locks)

pid=$$
while [ "${pid:-0}" -gt 1 ]; do
  for holder in $holders; do
    if [ "$holder" = "$pid" ]; then exec "$@"; fi
  done
  pid=$(awk '/^PPid:/ { print $2 }' "/proc/$pid/status" 2>/dev/null || echo 0)
done

for holder in $holders; do
  echo "lab-lock: waiting for $lock, held by pid $holder: $(tr '\0' ' ' <"/proc/$holder/cmdline" 2>/dev/null)" >&2
done
exec flock "$lock" "$@"
