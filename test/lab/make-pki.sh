#!/bin/sh
# Makes the fleet CA and, per host, x509 server and client certificates for NBD over TLS.
# Usage: make-pki.sh OUT_DIR NAME=ADDRESS...   (e.g. lab-a=10.203.0.11)
# Writes OUT_DIR/ca-{cert,key}.pem and OUT_DIR/NAME/{ca-cert,server-cert,server-key,client-cert,client-key}.pem.
# Idempotent: an existing CA or host certificate is kept.
set -eu

OUT="${1:?usage: make-pki.sh OUT_DIR NAME=ADDRESS...}"
shift
mkdir -p "$OUT"
umask 077

if [ ! -f "$OUT/ca-cert.pem" ]; then
  certtool --generate-privkey --key-type ecdsa --outfile "$OUT/ca-key.pem" 2>/dev/null
  cat >"$OUT/ca.info" <<EOF
cn = rehome fleet CA
ca
cert_signing_key
expiration_days = 3650
EOF
  certtool --generate-self-signed --load-privkey "$OUT/ca-key.pem" --template "$OUT/ca.info" \
    --outfile "$OUT/ca-cert.pem" 2>/dev/null
fi

# issue NAME ADDRESS ROLE USAGE: a cert for the host NAME, signed by the fleet CA.
issue() {
  dir="$OUT/$1"
  [ -f "$dir/$3-cert.pem" ] && return 0
  certtool --generate-privkey --key-type ecdsa --outfile "$dir/$3-key.pem" 2>/dev/null
  {
    echo "cn = $1"
    echo "organization = rehome"
    echo "dns_name = $1"
    [ -n "$2" ] && echo "ip_address = $2"
    echo "$4"
    echo "signing_key"
    echo "expiration_days = 3650"
  } >"$dir/$3.info"
  certtool --generate-certificate --load-privkey "$dir/$3-key.pem" --load-ca-certificate "$OUT/ca-cert.pem" \
    --load-ca-privkey "$OUT/ca-key.pem" --template "$dir/$3.info" --outfile "$dir/$3-cert.pem" 2>/dev/null
}

for spec in "$@"; do
  name="${spec%%=*}"
  address="${spec#*=}"
  [ "$address" = "$spec" ] && address=""
  mkdir -p "$OUT/$name"
  cp "$OUT/ca-cert.pem" "$OUT/$name/ca-cert.pem"
  issue "$name" "$address" server tls_www_server
  issue "$name" "$address" client tls_www_client
done
