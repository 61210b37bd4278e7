#!/bin/sh
# rehome's maintenance signal (templates/GUEST-SIGNAL.md): each line of the named virtio-serial port goes to the
# console as "SIGNAL <line>", to the journal, and to /run/rehome-maintenance.json (the latest line wins).
port=/dev/virtio-ports/org.rehome.maintenance.0
while :; do
  if [ -e "$port" ] && exec 3<"$port"; then
    while [ -e "$port" ]; do
      if IFS= read -r line <&3; then
        printf '%s\n' "$line" >/run/rehome-maintenance.json
        echo "SIGNAL $line"
        echo "SIGNAL $line" >/dev/ttyS0
      else
        sleep 0.2
      fi
    done
    exec 3<&-
  fi
  sleep 0.5
done
