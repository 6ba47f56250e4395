#!/usr/bin/env bash
# Build the hems SD card image (Debian 13 "trixie", arm64) for the Raspberry Pi 4, or its QEMU test variant.
#
#   images/build.sh [pi|test]        (run as root; output in images/out/<variant>/)
#
# Steps: hems wheel + arm64 dependency wheels -> Debian root file system with mmdebstrap (arm64
# binaries run through qemu-user-static and binfmt_misc) -> FAT boot partition with mtools and an
# ext4 root partition with `mkfs.ext4 -d` (no loop mounts) -> MBR disk image -> xz + sha256 (pi).
#
# The Debian part (mmdebstrap: the slow part under emulation) depends only on the package list, the
# setup/essential hooks and the mirror: it is kept as a tar in the cache (HEMS_IMAGE_CACHE, default
# ~/.cache/hems-image, outside the work tree so a fresh clone reuses it) and reused while those are
# unchanged and it is younger than BASE_MAX_AGE_DAYS (7: security updates come in weekly). The
# release variant (pi) builds it afresh unless BASE_CACHE=1.
#
# Environment: SUITE (trixie, or bookworm for a Debian 12 image), MIRROR, SECURITY_MIRROR (default: the mirror this machine's apt uses),
# PYTHON (a Python with pip, default .venv/bin/python), SOURCE_DATE_EPOCH (default: last commit),
# KEEP_ROOTFS=1 (keep images/out/VARIANT/rootfs), REUSE_ROOTFS=1 (assemble the disk again from
# a kept root file system), BASE_CACHE=0|1, HEMS_IMAGE_CACHE, RAUC_KEY/RAUC_CERT/RAUC_KEYRING
# (update signing key, its certificate and the keyring the image trusts; default: development
# keys made in images/out/keys), VERSION (the image and bundle version).
set -euo pipefail

VARIANT=${1:-pi}
case "$VARIANT" in pi|test) ;; *) echo "usage: $0 [pi|test]" >&2; exit 2 ;; esac

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
OUT="$HERE/out/$VARIANT"
WHEELS="$HERE/out/wheels"
CACHE=${HEMS_IMAGE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/hems-image}
export PYTHON=${PYTHON:-$REPO/.venv/bin/python}
case "$VARIANT" in pi) BASE_CACHE=${BASE_CACHE:-0} ;; *) BASE_CACHE=${BASE_CACHE:-1} ;; esac
BASE_MAX_AGE_DAYS=${BASE_MAX_AGE_DAYS:-7}
SUITE=${SUITE:-trixie}
case "$SUITE" in            # the Python of the image's Debian release: the venv's wheels and bytecode
    trixie) IMAGE_PY=3.13 ;;
    bookworm) IMAGE_PY=3.11 ;;
    *) echo "SUITE: trixie or bookworm, not $SUITE" >&2; exit 2 ;;
esac
export IMAGE_PY IMAGE_ABI=cp${IMAGE_PY/./}
BOOT_MIB=256          # FAT boot partition (firmware, kernel, initramfs, hems/config.toml)
BOOT_START_MIB=4
SLOT_MIB=${SLOT_MIB:-1536}  # each of the two root slots (A: the image's, B: the first update's)
DATA_MIB=64           # shared data partition (/data: history, settings); grown to the card at first boot
DISK_ID=4845d5a1      # MBR disk id: partitions are PARTUUID=4845d5a1-01..04
IMAGE_NAME=hems-$VARIANT

log() { printf '%s [build %s] %s\n' "$(date -u +%H:%M:%S)" "$VARIANT" "$*" >&2; }
die() { log "error: $*"; exit 1; }

host_mirror() {
    # The first Debian URI of this machine's apt sources that serves $1 (a suite), if any.
    local suite=$1 f
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        awk -v s="$suite" '/^URIs:/{u=$2} /^Suites:/{for(i=2;i<=NF;i++) if($i==s) {print u; exit}}' "$f"
    done | head -n1
    grep -hE "^deb +[^ ]+ +$suite( |$)" /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null \
        | awk '{print $2}' | head -n1 || true
}

MIRROR=${MIRROR:-$(host_mirror "$SUITE" | head -n1)}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
SECURITY_MIRROR=${SECURITY_MIRROR:-$(host_mirror "$SUITE-security" | head -n1)}
SECURITY_MIRROR=${SECURITY_MIRROR:-http://deb.debian.org/debian-security}
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git -C "$REPO" log -1 --format=%ct 2>/dev/null || date +%s)}
HEMS_VERSION=$(sed -n 's/^__version__ = "\(.*\)"$/\1/p' "$REPO/hems/__init__.py")
export HEMS_IMAGE_VERSION=${VERSION:-$HEMS_VERSION+$(git -C "$REPO" log -1 --format=%cd.%h --date=format:%Y%m%d 2>/dev/null || echo local)}
export DISK_ID

signing_keys() {
    # The update signing key: RAUC_KEY/RAUC_CERT/RAUC_KEYRING for a release, else development keys.
    if [ -z "${RAUC_KEY:-}" ]; then
        "$HERE/keys.sh" "$HERE/out/keys"
        export RAUC_KEY=$HERE/out/keys/signing.key.pem RAUC_CERT=$HERE/out/keys/signing.cert.pem
        export RAUC_KEYRING=${RAUC_KEYRING:-$HERE/out/keys/ca.cert.pem}
        log "updates: signed with the DEVELOPMENT key in images/out/keys (not for a release)"
    fi
    [ -s "${RAUC_KEYRING:-}" ] || die "RAUC_KEYRING: the CA certificate(s) the image trusts is missing"
    export RAUC_KEYRING
}

check_host() {
    [ "$(id -u)" = 0 ] || die "run as root (mmdebstrap root mode, file ownership in the image)"
    local tool
    for tool in mmdebstrap sfdisk mkfs.vfat mcopy mkfs.ext4 xz rauc mksquashfs openssl; do
        command -v "$tool" >/dev/null || die "$tool not found: install the IMAGE_DEBS of the Makefile"
    done
    [ -x "$PYTHON" ] || die "$PYTHON not found: run make venv (or set PYTHON)"
    # arm64 binaries in the chroot run through qemu-user-static, registered with binfmt_misc.
    if [ "$(dpkg --print-architecture)" != arm64 ]; then
        if [ ! -e /proc/sys/fs/binfmt_misc/status ]; then
            mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc || die "cannot mount binfmt_misc"
        fi
        if [ ! -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]; then
            update-binfmts --enable qemu-aarch64 || die "cannot register qemu-aarch64 with binfmt_misc"
        fi
        grep -qx enabled /proc/sys/fs/binfmt_misc/qemu-aarch64 || die "binfmt qemu-aarch64 is disabled"
    fi
}

build_wheels() {
    # The hems wheel from this tree, plus every dependency as an arm64 binary wheel for the image's CPython.
    log "wheels: hems from $REPO, dependencies for manylinux aarch64 $IMAGE_ABI"
    rm -rf "$WHEELS" && mkdir -p "$WHEELS"
    export PIP_CACHE_DIR="$CACHE/pip" PIP_DISABLE_PIP_VERSION_CHECK=1
    "$PYTHON" -m pip wheel -q --no-deps -w "$WHEELS" "$REPO"
    "$PYTHON" -m pip download -q -d "$WHEELS" --only-binary=:all: \
        --platform manylinux2014_aarch64 --platform manylinux_2_17_aarch64 \
        --platform manylinux_2_28_aarch64 --python-version "$IMAGE_PY" --implementation cp --abi "$IMAGE_ABI" \
        "$WHEELS"/hems-*.whl
    ls "$WHEELS" >&2
}

# No fake-hwclock: systemd-timesyncd already moves the clock forward at boot to the time it last
# saved (the Pi 4 has no RTC), and Debian 13's fake-hwclock 0.14 sets the saved, older time even
# where a real clock is right (a Pi 5 RTC, QEMU).
PACKAGES=(
    systemd-sysv udev dbus kmod netbase iproute2 iputils-ping procps less nano
    systemd-timesyncd systemd-resolved
    linux-image-arm64 initramfs-tools raspi-firmware firmware-brcm80211 wpasupplicant
    avahi-daemon libnss-mdns nftables openssh-server
    python3 python3-venv ca-certificates fdisk e2fsprogs dosfstools
    rauc rauc-service squashfs-tools unattended-upgrades
)

unmount_below() {
    # What an interrupted build may have left mounted in the root file system (proc, sys, dev).
    local target
    for target in $(findmnt -rn -o TARGET | grep -F "$1/" | sort -r || true); do
        umount -l "$target" || true
    done
}

mmdebstrap_args() {
    # Everything that decides the Debian base (hashed for the cache key; no output path).
    printf '%s\n' --arch=arm64 --variant=minbase --mode=root --format=tar \
        --components="main non-free-firmware" \
        --include="$(IFS=,; echo "${PACKAGES[*]}")" \
        --aptopt='Acquire::Languages "none"' \
        --dpkgopt='path-exclude=/usr/share/man/*' \
        --dpkgopt='path-exclude=/usr/share/doc/*' \
        --dpkgopt='path-include=/usr/share/doc/*/copyright' \
        --dpkgopt='path-exclude=/usr/share/locale/*' \
        --dpkgopt='path-exclude=/usr/share/info/*' \
        --dpkgopt='path-exclude=/usr/lib/modules/*/kernel/sound/*' \
        --dpkgopt='path-exclude=/usr/lib/modules/*/kernel/drivers/media/*' \
        --dpkgopt='path-exclude=/usr/lib/modules/*/kernel/drivers/infiniband/*' \
        --dpkgopt='path-exclude=/usr/lib/modules/*/kernel/drivers/gpu/drm/amd/*' \
        --dpkgopt='path-exclude=/usr/lib/modules/*/kernel/drivers/gpu/drm/nouveau/*' \
        --dpkgopt='path-exclude=/usr/lib/modules/*/kernel/drivers/gpu/drm/radeon/*' \
        --setup-hook="$HERE/hooks/setup.sh \"\$1\" $VARIANT" \
        --essential-hook="$HERE/hooks/essential.sh \"\$1\""
}

base_key() {
    # the checkout's own path is left out, so every clone of the same sources shares the cache
    { mmdebstrap_args | sed "s#$HERE#images#g"; echo "$SUITE $MIRROR $SECURITY_MIRROR"
      cat "$HERE/hooks/setup.sh" "$HERE/hooks/essential.sh"; } | sha256sum | cut -c1-16
}

build_base() {
    # The Debian root file system as a tar, from the cache when it is there and fresh.
    local tar=$CACHE/base-$VARIANT-$(base_key).tar
    if [ "$BASE_CACHE" = 1 ] && [ -s "$tar" ] \
        && [ -z "$(find "$tar" -mtime +"$BASE_MAX_AGE_DAYS" 2>/dev/null)" ]; then
        log "base: cached $tar"
        BASE_TAR=$tar
        return
    fi
    mkdir -p "$CACHE"
    find "$CACHE" -maxdepth 1 -name "base-$VARIANT-*.tar" ! -name "$(basename "$tar")" -delete
    log "base: mmdebstrap $SUITE arm64 from $MIRROR"
    local args=()
    mapfile -t args < <(mmdebstrap_args)
    mmdebstrap "${args[@]}" "$SUITE" "$tar.part" \
        "deb $MIRROR $SUITE main non-free-firmware" \
        "deb $MIRROR $SUITE-updates main non-free-firmware" \
        "deb $SECURITY_MIRROR $SUITE-security main non-free-firmware"
    mv "$tar.part" "$tar"
    BASE_TAR=$tar
}

in_root_ns() {
    # ROOT CMD...: CMD in a private mount namespace with /proc, /sys and /dev of the host mounted
    # in ROOT, as mmdebstrap gives its hooks.
    local root=$1; shift
    unshare --mount --propagation private sh -eu -c '
        root=$1; shift
        mount -t proc proc "$root/proc"
        mount --rbind /sys "$root/sys"
        mount --rbind /dev "$root/dev"
        "$@"
    ' sh "$root" "$@"
}

compile_python() {
    # ROOT DIR...: byte-compile DIRs (paths inside ROOT) for the image's Python: by the build
    # host's CPython when it is that version (fast), else by the image's own under emulation.
    # unchecked-hash: the venv is read-only, replaced only whole by an update, so Python need
    # not stat or hash the sources at every start.
    local root=$1; shift
    local args=(-m compileall -q -j 2 --invalidation-mode unchecked-hash)
    if "python$IMAGE_PY" -c "import sys; sys.exit(sys.version[:${#IMAGE_PY}] != '$IMAGE_PY')" 2>/dev/null; then
        "python$IMAGE_PY" "${args[@]}" -s "$root" -p / "${@/#/$root}" >/dev/null
    else
        in_root_ns "$root" chroot "$root" "/usr/bin/python$IMAGE_PY" "${args[@]}" "$@" >/dev/null
    fi
}

compile_venv() {
    # The venv's bytecode is made at build time (the service cannot write to the venv). The
    # dependencies' bytecode depends only on their wheels and the Python: it is cached beside the
    # Debian base, so a build compiles only hems itself.
    local root=$1 site key cache started
    site=/opt/hems/venv/lib/python$IMAGE_PY/site-packages
    key=$( { echo "$IMAGE_PY"; ls "$WHEELS" | grep -v '^hems-'; } | sha256sum | cut -c1-16)
    cache=$CACHE/pyc-$IMAGE_ABI-$key.tar
    started=$(date +%s)
    if [ -s "$cache" ]; then
        tar -C "$root$site" -xf "$cache"
        compile_python "$root" "$site/hems" "$site/firmware_bridge" || die "compileall failed"
        log "rootfs: hems byte-compiled for Python $IMAGE_PY in $(( $(date +%s) - started )) s (dependencies from $cache)"
        return
    fi
    compile_python "$root" "$site" || die "compileall failed"
    mkdir -p "$CACHE"
    find "$CACHE" -maxdepth 1 -name "pyc-$IMAGE_ABI-*.tar" -delete
    (cd "$root$site" && find . -name __pycache__ -type d ! -path './hems/*' ! -path './firmware_bridge/*' -print0 \
        | tar --null -cf "$cache.part" -T -) && mv "$cache.part" "$cache"
    log "rootfs: venv byte-compiled for Python $IMAGE_PY in $(( $(date +%s) - started )) s"
}

build_rootfs() {
    # Base tar -> directory, then hems and the image's own files (hooks/customize.sh).
    local root=$OUT/rootfs
    unmount_below "$root"
    rm -rf "$root" && mkdir -p "$root"
    log "rootfs: unpacking the base"
    tar -C "$root" --numeric-owner --xattrs --xattrs-include='*' -xpf "$BASE_TAR"
    log "rootfs: hems and the image files"
    in_root_ns "$root" "$HERE/hooks/customize.sh" "$root" "$VARIANT" "$WHEELS"
    compile_venv "$root"
}

build_disk() {
    local root=$OUT/rootfs img=$OUT/$IMAGE_NAME.img
    local boot_img=$OUT/boot.vfat root_img=$OUT/rootfs.ext4 data_img=$OUT/data.ext4
    log "disk: boot partition (FAT32, ${BOOT_MIB} MiB)"
    rm -f "$boot_img" "$root_img" "$data_img" "$img"
    mkfs.vfat -F 32 -n RASPIFIRM -i "$DISK_ID" -C "$boot_img" $((BOOT_MIB * 1024)) >/dev/null
    (cd "$root/boot/firmware" && MTOOLS_SKIP_CHECK=1 mcopy -s -p -m -i "$boot_img" ./* ::/)
    # /boot/firmware stays an empty mount point in the root file system.
    cp "$root/boot/firmware/slot-a/vmlinuz" "$OUT/vmlinuz"
    cp "$root/boot/firmware/slot-a/initrd.img" "$OUT/initrd.img"
    find "$root/boot/firmware" -mindepth 1 -delete

    # Root slot A: used space + 25% + 64 MiB (RAUC and the first boot grow it to its slot).
    local used_kib root_mib
    used_kib=$(du -s --apparent-size -k "$root" | cut -f1)
    root_mib=$(( (used_kib * 5 / 4) / 1024 + 64 ))
    [ "$root_mib" -le "$SLOT_MIB" ] || die "root file system ${root_mib} MiB does not fit a ${SLOT_MIB} MiB slot"
    log "disk: root slot A (ext4, ${root_mib} MiB of ${SLOT_MIB} MiB, ${used_kib} KiB used)"
    mkfs.ext4 -q -L hems-root -U 5f0e7b2a-6f7d-4e7a-9b1c-68656d730001 -E root_owner=0:0 \
        -d "$root" "$root_img" "${root_mib}M"

    # Data: what both slots share (the hems user's directory, the image's state).
    local skel=$OUT/data-skel hems_ids
    hems_ids=$(awk -F: '$1 == "hems" {print $3 ":" $4}' "$root/etc/passwd")
    [ -n "$hems_ids" ] || die "no hems user in the root file system"
    rm -rf "$skel" && mkdir -p "$skel/hems" "$skel/hems-image"
    chown "$hems_ids" "$skel/hems" && chmod 0750 "$skel/hems"
    log "disk: data partition (ext4, ${DATA_MIB} MiB, grown at first boot)"
    mkfs.ext4 -q -L hems-data -E root_owner=0:0 -d "$skel" "$data_img" "${DATA_MIB}M"
    rm -rf "$skel"

    local a_mib=$((BOOT_START_MIB + BOOT_MIB)) b_mib data_mib total_mib
    b_mib=$((a_mib + SLOT_MIB)); data_mib=$((b_mib + SLOT_MIB)); total_mib=$((data_mib + DATA_MIB))
    truncate -s "${total_mib}M" "$img"
    printf 'label: dos\nlabel-id: 0x%s\n%s\n%s\n%s\n%s\n' "$DISK_ID" \
        "start=${BOOT_START_MIB}MiB, size=${BOOT_MIB}MiB, type=c, bootable" \
        "start=${a_mib}MiB, size=${SLOT_MIB}MiB, type=83" \
        "start=${b_mib}MiB, size=${SLOT_MIB}MiB, type=83" \
        "start=${data_mib}MiB, size=${DATA_MIB}MiB, type=83" | sfdisk -q "$img"
    dd if="$boot_img" of="$img" bs=1M seek="$BOOT_START_MIB" conv=notrunc,sparse status=none
    dd if="$root_img" of="$img" bs=1M seek="$a_mib" conv=notrunc,sparse status=none
    dd if="$data_img" of="$img" bs=1M seek="$data_mib" conv=notrunc,sparse status=none
    rm -f "$boot_img" "$data_img"
    log "disk: $img ($(du -h --apparent-size "$img" | cut -f1), $(du -h "$img" | cut -f1) allocated)"
}

build_bundle() {
    # The update bundle of this image: its root file system, signed (images/bundle.sh).
    local compatible=hems-pi-arm64 started
    [ "$VARIANT" = test ] && compatible=hems-qemu-arm64
    started=$(date +%s)
    "$HERE/bundle.sh" "$OUT/rootfs.ext4" "$HEMS_IMAGE_VERSION" "$OUT/$IMAGE_NAME.raucb" "$compatible"
    log "bundle: $OUT/$IMAGE_NAME.raucb ($(du -h "$OUT/$IMAGE_NAME.raucb" | cut -f1), version $HEMS_IMAGE_VERSION, $(( $(date +%s) - started )) s)"
    # the test variant keeps the root file system image: the tests make other bundles from it
    [ "$VARIANT" = test ] || rm -f "$OUT/rootfs.ext4"
}

finish() {
    local img=$OUT/$IMAGE_NAME.img
    rm -f "$OUT/SHA256SUMS" "$img.xz"
    if [ "$VARIANT" = pi ]; then
        log "compress: xz"
        rm -f "$img.xz"
        xz -T0 -6 -k "$img"
        (cd "$OUT" && sha256sum "$IMAGE_NAME.img.xz" "$IMAGE_NAME.img" "$IMAGE_NAME.raucb" > SHA256SUMS)
    fi
    unmount_below "$OUT/rootfs"
    [ "${KEEP_ROOTFS:-0}" = 1 ] || rm -rf "$OUT/rootfs"
    log "done: $(cd "$OUT" && ls -l --block-size=M | tail -n +2 | awk '{print $5, $9}' | tr '\n' ' ')"
}

start=$(date +%s)
check_host
signing_keys
if [ "${REUSE_ROOTFS:-0}" = 1 ] && [ -d "$OUT/rootfs/opt/hems/venv" ]; then
    log "rootfs: reusing $OUT/rootfs (REUSE_ROOTFS=1)"
else
    build_wheels
    build_base
    build_rootfs
fi
build_disk
build_bundle
finish
log "build time $(( $(date +%s) - start )) s"
