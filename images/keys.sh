#!/bin/sh
# Make a development signing key for update bundles: a CA (its certificate is the keyring the
# image trusts) and a signing certificate issued by it.
#   images/keys.sh DIR       -> DIR/ca.key.pem DIR/ca.cert.pem DIR/signing.key.pem DIR/signing.cert.pem
# A release uses the project's own CA, kept offline (see images/README.md, "Update keys").
set -eu
dir=$1
mkdir -p "$dir"
umask 077
cd "$dir"
[ -s ca.key.pem ] && [ -s signing.key.pem ] && { echo "keys.sh: keeping the keys in $dir" >&2; exit 0; }
ext=$(mktemp)
trap 'rm -f "$ext"' EXIT
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 7300 \
    -subj "/O=hems/CN=hems update CA (development)" -keyout ca.key.pem -out ca.cert.pem \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -subj "/O=hems/CN=hems update signing (development)" -keyout signing.key.pem -out signing.csr 2>/dev/null
printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n' > "$ext"
openssl x509 -req -in signing.csr -CA ca.cert.pem -CAkey ca.key.pem -CAcreateserial -days 3650 \
    -extfile "$ext" -out signing.cert.pem 2>/dev/null
rm -f signing.csr ca.cert.srl
chmod 644 ca.cert.pem signing.cert.pem
echo "keys.sh: new development keys in $dir" >&2
