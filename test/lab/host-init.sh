#!/bin/sh
# Runs inside a lab host's namespaces (network + private mount + uts), under the subreaper holder.
# Usage: host-init.sh ROOT NAME ADDRESS
# Mounts the host's private tree over the paths libvirt uses, then starts virtlogd, libvirtd and sshd.
set -eu
ROOT="$1"
NAME="$2"
ADDRESS="$3"

hostname "$NAME"
for dir in run var/lib/libvirt etc/libvirt var/log/libvirt var/cache/libvirt; do
  mount --bind "$ROOT/$dir" "/$dir"
done
mkdir -p /run/sshd /run/libvirt /var/lib/libvirt/images /var/lib/libvirt/boot /var/log/libvirt/qemu

virtlogd -d
libvirtd -d
/usr/sbin/sshd -f "$ROOT/etc/ssh/sshd_config" -E "$ROOT/sshd.log" \
  -o "ListenAddress=$ADDRESS" -o "HostKey=$ROOT/etc/ssh/ssh_host_ed25519_key" -o UsePAM=no

i=0
until [ -S /run/libvirt/libvirt-sock ] && [ -s /run/libvirtd.pid ] && [ -s /run/sshd.pid ]; do
  i=$((i + 1))
  if [ "$i" -gt 200 ]; then
    echo "host-init: $NAME: daemons did not come up" >&2
    exit 1
  fi
  sleep 0.05
done
touch "$ROOT/ready"
