#!/bin/sh
# The Debian lab guest's counter agent (a systemd service): the busybox guest's protocol (test/lab/guest/agent.sh).
# Keeps a boot count and a counter on the root file system, with fsync. Console (ttyS0):
# "BOOT boot=B resume=N" once per boot, then "ACK boot=B n=N" for each counter value after it is on the disk.
# TCP 7777 is rehome-agent-handler.socket (Accept=yes: one rehome-agent-handler@.service per connection).
set -u
dir=/var/lib/rehome-agent
mkdir -p "$dir"
boot=$(($(cat "$dir/boot" 2>/dev/null || echo 0) + 1))
echo "$boot" >"$dir/boot.new"
sync "$dir/boot.new"
mv "$dir/boot.new" "$dir/boot"
sync -f "$dir"
n=$(tail -n 1 "$dir/counter" 2>/dev/null)
n=${n:-0}
echo "$boot" >/run/rehome-boot
echo "$n" >/run/rehome-acked
echo "BOOT boot=$boot resume=$n"
while :; do
  n=$((n + 1))
  # Acknowledged only once written and synced: a failed write (an I/O error while the kernel powers off) is not.
  if echo "$n" >>"$dir/counter" && sync "$dir/counter"; then
    echo "$n" >/run/rehome-acked
    echo "ACK boot=$boot n=$n"
  else
    echo "WRITE-FAILED boot=$boot n=$n"
  fi
  sleep 0.2
done
