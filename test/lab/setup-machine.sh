#!/usr/bin/env bash
# Everything a fresh Debian 12 machine (root, no systemd) needs for rehome's tests and its lab:
# the hypervisor stack that the lab hosts run, then the npm dependencies and a build.
set -euo pipefail
cd "$(dirname "$0")/../.."

packages=(
  qemu-system-x86 qemu-utils seabios ipxe-qemu
  libvirt-daemon-system libvirt-clients
  openssh-server openssh-client iproute2 dnsmasq-base gnutls-bin
  busybox-static linux-image-cloud-amd64 cpio e2fsprogs
  python3 procps psmisc gcc libc6-dev
  # The Debian lab guest (test/lab/debian-guest.ts): built from Debian's packages onto a GPT disk, booted by OVMF
  # (UEFI, NVRAM) with a vTPM (swtpm) or by SeaBIOS.
  mmdebstrap fdisk ovmf swtpm swtpm-tools
  # The PostgreSQL store's tests: test/pg/with-postgres.ts starts a private cluster (initdb, pg_ctl) per test run.
  postgresql
)
# No system cluster: the tests run their own, as the postgres user, in a temp dir on a unix socket.
mkdir -p /etc/postgresql-common/createcluster.d
echo 'create_main_cluster = false' >/etc/postgresql-common/createcluster.d/rehome-tests.conf
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# vagrant: `vagrant validate` of vagrant/Vagrantfile, and test/lab/vagrant.test.ts brings one of its hosts up in the lab
# under TCG (the three-host lab with nested KVM needs hardware).
if ! dpkg-query -W -f='${Status}' vagrant-libvirt 2>/dev/null | grep -q 'install ok installed'; then
  echo "setup: installing vagrant vagrant-libvirt" >&2
  export DEBIAN_FRONTEND=noninteractive
  [ ${#missing[@]} -gt 0 ] || apt-get update -q
  apt-get install -y -q --no-install-recommends vagrant vagrant-libvirt
fi

npm ci --no-audit --no-fund
npm run build
