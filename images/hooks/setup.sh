#!/bin/sh
# mmdebstrap setup hook: files that must exist before the packages are installed.
#   setup.sh ROOT VARIANT
set -eu
root=$1
variant=$2

echo hems > "$root/etc/hostname"
mkdir -p "$root/etc/initramfs-tools/conf.d" "$root/etc/initramfs-tools/hooks"
if [ "$variant" = test ]; then
    # A small initramfs with only what QEMU's virt machine needs: built in seconds, not minutes.
    echo MODULES=list > "$root/etc/initramfs-tools/conf.d/hems-modules.conf"
    cat > "$root/etc/initramfs-tools/hooks/hems-virtio" <<'HOOK'
#!/bin/sh
[ "$1" = prereqs ] && exit 0
. /usr/share/initramfs-tools/hook-functions
for m in virtio_mmio virtio_pci virtio_blk virtio_net virtio_rng ext4 crc32c_generic; do
    manual_add_modules "$m"
done
for m in virtio_mmio virtio_blk; do force_load "$m"; done
HOOK
    chmod 755 "$root/etc/initramfs-tools/hooks/hems-virtio"
fi
