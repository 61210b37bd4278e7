#!/bin/sh
# Firmware state the lab writes before a move and reads back after it (a UEFI guest with a vTPM):
#   write VALUE: the UEFI variable RehomeLab-<GUID> (efivarfs), TPM NV index 0x1500016 (tpm2-tools) and a boot entry
#                labelled "rehome-VALUE" (efibootmgr) all hold VALUE; prints "written VALUE"
#   read:        prints "efivar=V nv=V bootentry=V" (each "none" when absent)
set -eu
VAR=/sys/firmware/efi/efivars/RehomeLab-3b2a6c7e-1f0d-4c8e-9a51-5e0d2e4f7a10
NV=0x1500016
mountpoint -q /sys/firmware/efi/efivars || mount -t efivarfs efivarfs /sys/firmware/efi/efivars
case "$1" in
  write)
    value=$2
    [ -e "$VAR" ] && chattr -i "$VAR" && rm -f "$VAR"
    # Attributes NON_VOLATILE | BOOTSERVICE_ACCESS | RUNTIME_ACCESS (0x7), little endian, then the data.
    printf '\007\000\000\000%s' "$value" >"$VAR"
    tpm2_nvundefine -C o "$NV" >/dev/null 2>&1 || true
    tpm2_nvdefine -C o -s 32 -a "ownerread|ownerwrite" "$NV" >/dev/null
    printf '%-32s' "$value" | tpm2_nvwrite -C o -i - "$NV"
    for entry in $(efibootmgr | sed -n 's/^Boot\([0-9A-F]\{4\}\)[* ] rehome-.*/\1/p'); do
      efibootmgr -q -b "$entry" -B
    done
    efibootmgr -q -c -d /dev/vda -p 1 -L "rehome-$value" -l '\EFI\rehome\grubx64.efi'
    # Inactive: OVMF prunes active entries that match no bootable device of QEMU's boot order at each boot.
    entry=$(efibootmgr | sed -n "s/^Boot\([0-9A-F]\{4\}\)[* ] rehome-$value\b.*/\1/p")
    efibootmgr -q -b "$entry" -A
    echo "written $value"
    ;;
  read)
    efivar=none nv=none entry=none
    # efivarfs cannot seek: read through a pipe, the 4 attribute bytes dropped.
    [ -e "$VAR" ] && efivar=$(cat "$VAR" | tail -c +5)
    nv=$(tpm2_nvread -C o -s 32 "$NV" 2>/dev/null | tr -d ' \000') || nv=none
    entry=$(efibootmgr | sed -n 's/^Boot[0-9A-F]\{4\}[* ] rehome-\([^[:space:]]*\).*/\1/p' | head -n 1)
    echo "efivar=${efivar:-none} nv=${nv:-none} bootentry=${entry:-none}"
    ;;
esac
