#!/bin/sh
# udhcpc hook: put the leased address on the interface.
case "$1" in
  bound | renew)
    ip addr flush dev "$interface"
    ip addr add "$ip/${mask:-24}" dev "$interface"
    [ -n "$router" ] && ip route add default via "${router%% *}" dev "$interface"
    echo "$ip" >/run/ip
    ;;
  deconfig) ip addr flush dev "$interface" ;;
esac
exit 0
