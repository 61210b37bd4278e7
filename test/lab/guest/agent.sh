#!/bin/sh
# The lab guest's agent. Keeps a boot count and a counter on the disk (/data), with fsync.
# Console protocol: "BOOT boot=B resume=N" once per boot (N = last counter found on disk),
# then "ACK boot=B n=N" for each counter value after it is on the disk.
# TCP 7777: "status" -> "boot=B counter=N" (last acknowledged), "reboot" -> reboot -f.
boot=$(($(cat /data/boot 2>/dev/null || echo 0) + 1))
echo "$boot" >/data/boot.new
sync /data/boot.new
mv /data/boot.new /data/boot
sync -f /data
n=$(tail -n 1 /data/counter 2>/dev/null)
n=${n:-0}
echo "$boot" >/run/boot
echo "$n" >/run/acked
echo "BOOT boot=$boot resume=$n"

nc -ll -p 7777 -e /agent-handler.sh &

while :; do
  n=$((n + 1))
  # Acknowledged only once written and synced: a failed write (an I/O error while the kernel powers off) is not.
  if echo "$n" >>/data/counter && sync /data/counter; then
    echo "$n" >/run/acked
    echo "ACK boot=$boot n=$n"
  else
    echo "WRITE-FAILED boot=$boot n=$n"
  fi
  sleep 0.2
done
