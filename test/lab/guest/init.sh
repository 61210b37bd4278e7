#!/bin/busybox sh
# The lab guest's init (PID 1 of the initramfs). Prints progress on the serial console.
/bin/busybox --install -s /bin
export PATH=/bin
mkdir -p /proc /sys /dev /tmp /data /run
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
echo "init: start"
# Order matters: virtio before virtio_ring fails with "unknown symbol".
for m in virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci virtio_blk \
  failover net_failover virtio_net virtio_console button evdev; do
  insmod "/lib/modules/$m.ko" || echo "init: insmod $m failed"
done

i=0
until [ -b /dev/vda ] || [ "$i" -gt 100 ]; do sleep 0.05; i=$((i + 1)); done
mount -t ext4 -o data=ordered /dev/vda /data || echo "init: mount /dev/vda failed"

# Power button (virsh shutdown / reboot --mode acpi): power off at its first event.
for dev in /sys/class/input/event*; do
  if grep -q "Power Button" "$dev/device/name" 2>/dev/null; then
    (dd if="/dev/input/${dev##*/}" of=/dev/null bs=24 count=1 2>/dev/null
      echo "init: power button"; sync; poweroff -f) &
  fi
done

ip link set lo up
ip link set eth0 up
udhcpc -i eth0 -s /etc/udhcpc.sh -t 30 -T 1 -A 1 -n -q || echo "init: dhcp failed"
ip=$(cat /run/ip 2>/dev/null)
echo "init: eth0 $ip"
# Gratuitous ARP, so the switch learns the MAC's new port at once after a move.
[ -n "$ip" ] && arping -U -c 2 -w 2 -I eth0 "$ip" >/dev/null 2>&1 &

# rehome's maintenance signal: print each line of the named virtio-serial port, which rehome hot-plugs while a
# move is pending ("SIGNAL <json>"). No udev here, so find the port by its name in sysfs. The port stays open:
# while the guest side is closed, QEMU drops what the host writes.
(while :; do
  for port in /sys/class/virtio-ports/vport*; do
    [ "$(cat "$port/name" 2>/dev/null)" = org.rehome.maintenance.0 ] || continue
    exec 3<"/dev/${port##*/}" || continue
    while [ -e "$port" ]; do
      if IFS= read -r line <&3; then echo "SIGNAL $line"; else
        [ -n "$line" ] && echo "SIGNAL $line"
        sleep 0.2
      fi
    done
    exec 3<&-
  done
  sleep 0.5
done) &

exec /bin/sh /agent.sh
