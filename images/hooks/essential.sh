#!/bin/sh
# mmdebstrap essential hook (after the essential packages, before the rest): skip two steps that
# are slow under emulation and whose result the image must not ship anyway or that run natively.
#   essential.sh ROOT
set -eu
root=$1

# update-ca-certificates forks hundreds of processes: stubbed here, run natively by customize.sh.
chroot "$root" dpkg-divert --quiet --local --rename \
    --divert /usr/sbin/update-ca-certificates.hems-build --add /usr/sbin/update-ca-certificates
printf '#!/bin/sh\nexit 0\n' > "$root/usr/sbin/update-ca-certificates"
chmod 755 "$root/usr/sbin/update-ca-certificates"

# SSH host keys must be made on each Pi, never shipped: placeholders stop openssh-server's
# postinst from generating them (RSA under emulation takes minutes); customize.sh deletes them.
mkdir -p "$root/etc/ssh"
for kind in rsa ecdsa ed25519; do
    : > "$root/etc/ssh/ssh_host_${kind}_key"
done
