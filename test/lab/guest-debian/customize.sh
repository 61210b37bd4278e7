#!/bin/sh
# mmdebstrap --customize-hook for the Debian lab guest: $1 is the root directory, $2 this directory.
set -eu
root=$1
src=$2
install -m 0755 "$src/rehome-agent.sh" "$root/usr/local/sbin/rehome-agent"
install -m 0755 "$src/rehome-agent-handler.sh" "$root/usr/local/sbin/rehome-agent-handler"
install -m 0755 "$src/firmware-state.sh" "$root/usr/local/sbin/firmware-state"
install -m 0755 "$src/rehome-signal.sh" "$root/usr/local/sbin/rehome-signal"
echo rehome-lab-debian >"$root/etc/hostname"
printf '/dev/vda1 / ext4 defaults 0 1\n' >"$root/etc/fstab"
# The NIC is not ens2 on q35: match every en* NIC. The lab's dnsmasq leases by MAC.
cat >"$root/etc/systemd/network/20-lab.network" <<'UNIT'
[Match]
Name=en*

[Network]
DHCP=ipv4

[DHCPv4]
ClientIdentifier=mac
UNIT
cat >"$root/etc/systemd/system/rehome-agent.service" <<'UNIT'
[Unit]
Description=rehome lab counter agent
After=local-fs.target

[Service]
ExecStart=/usr/local/sbin/rehome-agent
StandardOutput=tty
TTYPath=/dev/ttyS0
TTYReset=no
TTYVHangup=no
Restart=always

[Install]
WantedBy=multi-user.target
UNIT
cat >"$root/etc/systemd/system/rehome-agent-handler.socket" <<'UNIT'
[Unit]
Description=rehome lab agent port

[Socket]
ListenStream=7777
Accept=yes

[Install]
WantedBy=sockets.target
UNIT
cat >"$root/etc/systemd/system/rehome-agent-handler@.service" <<'UNIT'
[Unit]
Description=rehome lab agent connection

[Service]
ExecStart=/usr/local/sbin/rehome-agent-handler
StandardInput=socket
StandardOutput=socket
StandardError=journal
UNIT
cat >"$root/etc/systemd/system/rehome-signal.service" <<'UNIT'
[Unit]
Description=rehome maintenance signal reader (templates/GUEST-SIGNAL.md)

[Service]
ExecStart=/usr/local/sbin/rehome-signal
Restart=always

[Install]
WantedBy=multi-user.target
UNIT
chroot "$root" systemctl enable systemd-networkd rehome-agent.service rehome-agent-handler.socket rehome-signal.service
# The console belongs to the agent's lines: no login prompt on ttyS0.
chroot "$root" systemctl mask serial-getty@ttyS0.service
rm -rf "$root/var/cache/apt/"*.bin "$root/var/lib/apt/lists/"* "$root/var/log/"*.log
