#!/bin/sh
# Make a signed RAUC update bundle (format plain: the signature covers every byte) from a root
# file system image.
#   images/bundle.sh ROOTFS_EXT4 VERSION OUT.raucb [COMPATIBLE]
# Environment: RAUC_KEY, RAUC_CERT (the signing key and certificate; default: the development
# keys in images/out/keys, made by keys.sh when missing).
set -eu
rootfs=$1
version=$2
out=$3
compatible=${4:-hems-pi-arm64}
here=$(cd "$(dirname "$0")" && pwd)
if [ -z "${RAUC_KEY:-}" ]; then
    "$here/keys.sh" "$here/out/keys"
    RAUC_KEY=$here/out/keys/signing.key.pem
    RAUC_CERT=$here/out/keys/signing.cert.pem
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/hems-bundle.XXXXXX")
trap 'rm -rf "$work"' EXIT
# a hard link (same file system) or a copy: the bundle directory must hold the image itself
ln "$rootfs" "$work/rootfs.ext4" 2>/dev/null || cp --sparse=always "$rootfs" "$work/rootfs.ext4"
cp "$here/rauc/hook.sh" "$work/hook.sh"
cat > "$work/manifest.raucm" <<MANIFEST
[update]
compatible=$compatible
version=$version

[bundle]
format=plain

[hooks]
filename=hook.sh

[image.rootfs]
filename=rootfs.ext4
hooks=post-install
MANIFEST
rm -f "$out"
rauc bundle --cert="$RAUC_CERT" --key="$RAUC_KEY" --mksquashfs-args="-comp zstd -Xcompression-level 6" \
    "$work" "$out" >&2
