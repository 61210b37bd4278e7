#!/bin/sh
# mmdebstrap --customize-hook for the lab's Vagrant box (test/lab/vagrant-box.ts), after the Debian lab guest's own
# customize.sh: $1 is the root directory. Turns the lab guest into a Vagrant base box for the libvirt provider.
set -eu
root=$1

# The vagrant user: password "vagrant", Vagrant's insecure public key (replaced by a fresh key at the first
# `vagrant up`), passwordless sudo.
chroot "$root" useradd --create-home --shell /bin/bash vagrant
echo vagrant:vagrant | chroot "$root" chpasswd
install -d -m 0700 "$root/home/vagrant/.ssh"
cat >"$root/home/vagrant/.ssh/authorized_keys" <<'KEY'
ssh-rsa AAAAB3NzaC1yc2EAAAABIwAAAQEA6NF8iallvQVp22WDkTkyrtvp9eWW6A8YVr+kz4TjGYe7gHzIw+niNltGEFHzD8+v1I2YJ6oXevct1YeS0o9HZyN1Q9qgCgzUFtdOKLv6IedplqoPkcmF0aYet2PkEDo3MlTBckFXPITAMzF8dJSIFo9D8HfdOV0IAdx4O7PtixWKn5y2hMNG0zQPyUecp4pzC6kivAIhyfHilFR61RGL+GPXQ2MWZWFYbAGjyiYJnAmCP3NOTd0jMZEnDkbUvxhMmBYSdETk1rRgm+R4LOzFUGaHqHDLKLX+FIPKcF96hrucXzcWyLbIbEgE98OHlnVYCzRdK8jlqm8tehUc9c9WhQ== vagrant insecure public key
KEY
chmod 0600 "$root/home/vagrant/.ssh/authorized_keys"
chroot "$root" chown -R vagrant:vagrant /home/vagrant/.ssh
echo 'vagrant ALL=(ALL) NOPASSWD:ALL' >"$root/etc/sudoers.d/vagrant"
chmod 0440 "$root/etc/sudoers.d/vagrant"
printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' >"$root/etc/hosts"

# Every VM made from the box gets its own ssh host key, at its first boot: ed25519 only (an RSA key takes about a
# minute under TCG).
rm -f "$root"/etc/ssh/ssh_host_*
echo 'HostKey /etc/ssh/ssh_host_ed25519_key' >"$root/etc/ssh/sshd_config.d/10-box-host-key.conf"
cat >"$root/etc/systemd/system/rehome-ssh-host-keys.service" <<'UNIT'
[Unit]
Description=Make this VM's ssh host key
Before=ssh.service
ConditionPathExists=!/etc/ssh/ssh_host_ed25519_key

[Service]
Type=oneshot
ExecStart=/usr/bin/ssh-keygen -q -t ed25519 -N "" -f /etc/ssh/ssh_host_ed25519_key

[Install]
WantedBy=multi-user.target
UNIT
chroot "$root" systemctl enable rehome-ssh-host-keys.service ssh.service

# Vagrant writes its own 50-vagrant-<nic>.network for the networks it configures; systemd-networkd uses the first
# file that matches, so the guest's DHCP-on-every-NIC (which the management NIC needs) must sort after it.
mv "$root/etc/systemd/network/20-lab.network" "$root/etc/systemd/network/99-dhcp.network"

# A hypervisor, not a lab guest: no counter agent on the console, no maintenance signal reader; and no e2scrub
# (a minute of CPU at boot under TCG).
chroot "$root" systemctl disable rehome-agent.service rehome-agent-handler.socket rehome-signal.service
chroot "$root" systemctl mask e2scrub_reap.service e2scrub_all.timer
rm -rf "$root/var/cache/apt/"*.bin "$root/var/lib/apt/lists/"*
