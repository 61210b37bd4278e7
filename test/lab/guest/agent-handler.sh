#!/bin/sh
# One connection to the agent port: read a command, answer one line.
read -r cmd
case "$cmd" in
  reboot*)
    echo "rebooting boot=$(cat /run/boot)"
    # On the console (the agent's stderr): a guest that answered and never reset shows how far it got.
    echo "AGENT reboot -f after n=$(cat /run/acked)" >&2
    # The connection is closed first (every copy of the socket), so the caller has its answer and an end.
    exec </dev/null >/dev/null 2>&1
    sleep 0.1
    reboot -f
    echo "AGENT reboot -f returned $?" >/dev/console
    ;;
  *) echo "boot=$(cat /run/boot) counter=$(cat /run/acked)" ;;
esac
