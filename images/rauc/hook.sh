#!/bin/sh
# RAUC bundle hook, run by the device after a slot was written (slot-post-install): copy the new
# slot's kernel, initramfs and device trees to its folder on the boot partition, where the
# Raspberry Pi firmware (os_prefix) finds them, and write its cmdline.txt.
set -eu
case "$1" in
slot-post-install)
    [ "$RAUC_SLOT_CLASS" = rootfs ] || exit 0
    exec /usr/local/lib/hems-image/slot-boot-files "$RAUC_SLOT_MOUNT_POINT" "$RAUC_SLOT_BOOTNAME"
    ;;
esac
