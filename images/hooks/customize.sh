#!/bin/sh
# mmdebstrap customize hook: install hems and the image's own files into the new root file system.
#   customize.sh ROOT VARIANT WHEEL_DIR
# Environment: PYTHON (the build host's Python with pip), IMAGE_PY/IMAGE_ABI (the image's Python), RAUC_KEYRING (the CA certificates the
# image trusts for update bundles), HEMS_IMAGE_VERSION, DISK_ID (the MBR disk id, 8 hex digits).
set -eu
root=$1
variant=$2
wheels=$3
here=$(cd "$(dirname "$0")/.." && pwd)
in_root() { chroot "$root" "$@"; }
say() { echo "customize: $*" >&2; }

say "image files"
cp -a "$here/rootfs/." "$root/"
echo hems > "$root/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\thems\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' > "$root/etc/hosts"

say "CA certificates (the package's own script, run natively in a private mount namespace)"
rm "$root/usr/sbin/update-ca-certificates"
in_root dpkg-divert --quiet --local --rename --remove /usr/sbin/update-ca-certificates
unshare --mount --propagation private sh -eu -c '
    root=$1
    for path in /usr/share/ca-certificates /usr/local/share/ca-certificates /etc/ssl/certs; do
        mkdir -p "$root$path" "$path" && mount --bind "$root$path" "$path"
    done
    mount --bind "$root/etc/ca-certificates.conf" /etc/ca-certificates.conf
    sh "$root/usr/sbin/update-ca-certificates" --fresh --hooksdir "" >/dev/null
' sh "$root"
test -s "$root/etc/ssl/certs/ca-certificates.crt"

say "hems user and venv (wheels installed by the build host's pip for arm64/CPython $IMAGE_PY)"
in_root useradd --system --user-group --home-dir /var/lib/hems --no-create-home \
    --shell /usr/sbin/nologin --groups dialout hems
in_root python3 -m venv --without-pip /opt/hems/venv
site=$root/opt/hems/venv/lib/python$IMAGE_PY/site-packages
[ -d "$site" ] || { echo "customize: no $site: the image's Python is not $IMAGE_PY" >&2; exit 1; }
"$PYTHON" -m pip install -q --no-index --find-links "$wheels" --no-compile --disable-pip-version-check \
    --target "$site" --platform manylinux2014_aarch64 --platform manylinux_2_17_aarch64 \
    --platform manylinux_2_28_aarch64 --python-version "$IMAGE_PY" --implementation cp --abi "$IMAGE_ABI" \
    --only-binary=:all: hems
rm -rf "$site/bin"
"$PYTHON" "$here/hooks/console_scripts.py" "$site" /opt/hems/venv "$root/opt/hems/venv/bin"
in_root chown -R hems:hems /opt/hems
in_root /opt/hems/venv/bin/hems --help >/dev/null
install -d -m 0750 -o 0 -g "$(in_root getent group hems | cut -d: -f3)" "$root/etc/hems"

say "updates: RAUC A/B slots and signed bundles, unattended security upgrades"
case "$variant" in test) compatible=hems-qemu-arm64 ;; *) compatible=hems-pi-arm64 ;; esac
install -d -m 0755 "$root/etc/rauc"
install -m 0644 "$RAUC_KEYRING" "$root/etc/rauc/keyring.pem"
cat > "$root/etc/rauc/system.conf" <<CONF
# RAUC: two root slots (partitions 2 and 3), the boot folder of each chosen by the Raspberry Pi
# firmware's tryboot (the custom backend), bundles signed by a key of keyring.pem.
[system]
compatible=$compatible
bootloader=custom
statusfile=/data/rauc.status
bundle-formats=plain

[handlers]
bootloader-custom-backend=/usr/local/lib/hems-image/rauc-tryboot

[keyring]
path=/etc/rauc/keyring.pem

[slot.rootfs.0]
device=/dev/disk/by-partuuid/$DISK_ID-02
type=ext4
bootname=A
resize=true

[slot.rootfs.1]
device=/dev/disk/by-partuuid/$DISK_ID-03
type=ext4
bootname=B
resize=true
CONF
mkdir -p "$root/etc/hems-image" "$root/data" "$root/var/lib/hems-image"
echo "$DISK_ID" > "$root/etc/hems-image/disk-id"
echo "$HEMS_IMAGE_VERSION" > "$root/etc/hems-image-version"

say "services"
in_root systemctl enable systemd-networkd systemd-resolved systemd-timesyncd avahi-daemon nftables \
    hems-setup.service hems.service hems-config-error.service hems-boot-check.service hems-reboot.path \
    hems-grow-data.service \
    apt-daily.timer apt-daily-upgrade.timer
in_root systemctl disable ssh.service ssh.socket 2>/dev/null || true
in_root systemctl mask e2scrub_all.timer >/dev/null
ln -sf /run/systemd/resolve/stub-resolv.conf "$root/etc/resolv.conf"

say "no secrets or identity baked into the image"
rm -f "$root"/etc/ssh/ssh_host_*
: > "$root/etc/machine-id"
rm -f "$root/var/lib/dbus/machine-id"
in_root passwd --lock root >/dev/null
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/log/*.log

say "boot partition"
# Debian's raspi-firmware hook copies the kernel, initramfs, device trees and firmware to
# /boot/firmware and writes config.txt and cmdline.txt from /etc/default/raspi-firmware.
in_root env DEB_MAINT_PARAMS=configure /etc/kernel/postinst.d/z50-raspi-firmware \
    "$(ls "$root/lib/modules" | sort -V | tail -n1)"
grep -q "root=LABEL=RASPIROOT" "$root/boot/firmware/cmdline.txt"
# A/B: slot A's kernel, initramfs, device trees and cmdline.txt in slot-a/, config.txt names it
# (os_prefix); the firmware files stay at the top. A kernel update in a running slot refreshes its
# own folder (the raspi-firmware hooks below).
fw=$root/boot/firmware
sed -e 's/ *root=[^ ]*//' "$fw/cmdline.txt" | tr -d '\n' > "$root/etc/hems-image/cmdline"
"$here/rootfs/usr/local/lib/hems-image/slot-boot-files" "$root" A "$fw"
rm -f "$fw"/vmlinuz-* "$fw"/initrd.img-* "$fw"/bcm27*.dtb "$fw/cmdline.txt"
sed -i -e 's/^kernel=vmlinuz-.*/kernel=vmlinuz/' -e 's/^initramfs initrd\.img-[^ ]*/initramfs initrd.img/' "$fw/config.txt"
printf '\n# A/B root slots: the kernel, initramfs, device trees and cmdline.txt of the committed slot\nos_prefix=slot-a/\n' \
    >> "$fw/config.txt"
echo "A=good" > "$fw/hems-slots.txt"
for hook in /etc/kernel/postinst.d/z50-raspi-firmware /etc/initramfs/post-update.d/z50-raspi-firmware; do
    [ -e "$root$hook" ] || continue
    cat > "$root$hook" <<'HOOK'
#!/bin/sh
# hems image (A/B root slots): a new kernel or initramfs goes to the running slot's folder.
exec /usr/local/lib/hems-image/slot-boot-files / "$(/usr/local/lib/hems-image/rauc-tryboot get-current)"
HOOK
done
mkdir -p "$root/boot/firmware/hems"
cp -a "$here/boot/." "$root/boot/firmware/"
mkdir -p "$root/usr/local/share/doc/hems-image"
cp "$here/README.md" "$root/usr/local/share/doc/hems-image/README.md"
ls "$root/boot/firmware" >&2
