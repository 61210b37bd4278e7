#!/bin/sh
# Provisions one rehome lab host: libvirt config, the NBD TLS certificates and sshd.
# Used by the namespace lab (test/lab/lab.ts, with REHOME_ROOT set) and by vagrant/Vagrantfile (real hosts, no root).
#
# Environment:
#   REHOME_ROOT            prefix of the host's private tree (namespace lab); empty on a real host
#   REHOME_HOST_NAME       host name, e.g. lab-a (required)
#   REHOME_CERT_SRC        dir holding ca-cert.pem, server-cert.pem, server-key.pem, client-cert.pem, client-key.pem
#   REHOME_CERT_DIR        where the host sees its certs (qemu.conf nbd_tls_x509_cert_dir); default /etc/pki/qemu
#   REHOME_AUTHORIZED_KEY  file with the operator's public key, installed for root
#   REHOME_NO_CGROUPS      1: cgroup_controllers = [ ] (hosts inside namespaces cannot see cgroups)
set -eu

ROOT="${REHOME_ROOT:-}"
NAME="${REHOME_HOST_NAME:?REHOME_HOST_NAME is required}"
CERT_SRC="${REHOME_CERT_SRC:?REHOME_CERT_SRC is required}"
CERT_DIR="${REHOME_CERT_DIR:-/etc/pki/qemu}"
AUTHORIZED_KEY="${REHOME_AUTHORIZED_KEY:?REHOME_AUTHORIZED_KEY is required}"
NO_CGROUPS="${REHOME_NO_CGROUPS:-0}"

# qemu.conf: set KEY to VALUE, replacing an earlier (or commented) setting.
set_qemu_conf() {
  conf="$ROOT/etc/libvirt/qemu.conf"
  sed -i "/^#\{0,1\} *$1 *=/d" "$conf"
  printf '%s = %s\n' "$1" "$2" >>"$conf"
}

provision_libvirt() {
  if [ -n "$ROOT" ]; then
    mkdir -p "$ROOT/etc" "$ROOT/run" "$ROOT/var/lib/libvirt/images" "$ROOT/var/lib/libvirt/boot" \
      "$ROOT/var/log/libvirt/qemu" "$ROOT/var/cache/libvirt"
    rm -rf "$ROOT/etc/libvirt"
    cp -a /etc/libvirt "$ROOT/etc/libvirt"
    # A host must not start libvirt's default NAT network (virbr0 + its own dnsmasq).
    rm -f "$ROOT"/etc/libvirt/qemu/networks/autostart/*.xml
  fi
  set_qemu_conf nbd_tls_x509_cert_dir "\"$CERT_DIR\""
  if [ "$NO_CGROUPS" = 1 ]; then set_qemu_conf cgroup_controllers '[ ]'; fi
}

provision_certs() {
  dir="$ROOT$CERT_DIR"
  mkdir -p "$dir"
  chmod 0755 "$dir"
  for f in ca-cert.pem server-cert.pem client-cert.pem; do install -m 0644 "$CERT_SRC/$f" "$dir/$f"; done
  for f in server-key.pem client-key.pem; do install -m 0640 -g libvirt-qemu "$CERT_SRC/$f" "$dir/$f"; done
}

provision_sshd() {
  mkdir -p "$ROOT/etc/ssh" "$ROOT/root/.ssh"
  chmod 0700 "$ROOT/root/.ssh"
  install -m 0600 "$AUTHORIZED_KEY" "$ROOT/root/.ssh/authorized_keys"
  if [ -z "$ROOT" ]; then
    cat >/etc/ssh/sshd_config.d/50-rehome.conf <<EOF
PermitRootLogin prohibit-password
PubkeyAuthentication yes
EOF
    return
  fi
  key="$ROOT/etc/ssh/ssh_host_ed25519_key"
  [ -f "$key" ] || ssh-keygen -q -t ed25519 -N '' -C "root@$NAME" -f "$key"
  cat >"$ROOT/etc/ssh/sshd_config" <<EOF
HostKey $key
PidFile /run/sshd.pid
AuthorizedKeysFile $ROOT/root/.ssh/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
# The lab tree may live under a world-writable dir such as /tmp (REHOME_LAB_DIR).
StrictModes no
Subsystem sftp internal-sftp
EOF
}

restart_services() {
  # Only on a real host; the namespace lab starts its daemons itself.
  [ -z "$ROOT" ] || return 0
  hostnamectl set-hostname "$NAME" 2>/dev/null || true
  systemctl restart ssh libvirtd
}

provision_libvirt
provision_certs
provision_sshd
restart_services
