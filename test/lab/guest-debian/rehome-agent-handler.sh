#!/bin/sh
# One connection to the agent port (stdin/stdout are the socket): read a command, answer one line.
#   status            -> "boot=B counter=N"
#   reboot            -> a plain in-guest `reboot` (systemd's whole shutdown sequence)
#   systemctl-reboot  -> `systemctl reboot`
#   fw-write VALUE    -> a UEFI variable, a TPM NV index and a boot entry holding VALUE (firmware-state.sh)
#   fw-read           -> what the firmware holds now, one line
read -r cmd arg
case "$cmd" in
  status) echo "boot=$(cat /run/rehome-boot) counter=$(cat /run/rehome-acked)" ;;
  reboot) echo "rebooting boot=$(cat /run/rehome-boot)"; systemd-run --no-block sh -c 'sleep 0.1; reboot' >/dev/null 2>&1 ;;
  systemctl-reboot)
    echo "rebooting boot=$(cat /run/rehome-boot)"
    systemd-run --no-block sh -c 'sleep 0.1; systemctl reboot' >/dev/null 2>&1
    ;;
  fw-write) /usr/local/sbin/firmware-state write "$arg" 2>&1 | tail -n 1 ;;
  fw-read) /usr/local/sbin/firmware-state read 2>&1 | tail -n 1 ;;
  *) echo "unknown command $cmd" ;;
esac
