#!/usr/bin/env bash
# Regenerates the TEST-ONLY CA and server certificate the fake Momento token service serves
# (token.momento.test, *.momento.test). Valid from 2000 for 100+ years so tests never rot and do not depend on
# the machine's clock. Never trust this CA outside tests.
set -euo pipefail
cd "$(dirname "$0")/certs"
START=20000101000000Z
END=21251231000000Z
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
touch "$tmp/index.txt"
echo 1000 > "$tmp/serial"
cat > "$tmp/ca.cnf" <<CNF
[ ca ]
default_ca = test_ca
[ test_ca ]
dir = $tmp
database = $tmp/index.txt
serial = $tmp/serial
new_certs_dir = $tmp
default_md = sha256
policy = any
unique_subject = no
copy_extensions = none
[ any ]
commonName = supplied
[ v3_ca ]
basicConstraints = critical,CA:TRUE,pathlen:0
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[ v3_server ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:token.momento.test,DNS:*.momento.test,DNS:momento.test,IP:127.0.0.1
authorityKeyIdentifier = keyid
subjectKeyIdentifier = hash
CNF

# P-256 keeps handshakes fast. `openssl ca` (not `req -x509`) because it can backdate -startdate.
openssl ecparam -name prime256v1 -genkey -noout -out ca.key
openssl req -new -key ca.key -subj "/CN=TVM fake Momento test CA (test only)" -out "$tmp/ca.csr"
openssl ca -batch -config "$tmp/ca.cnf" -selfsign -keyfile ca.key -in "$tmp/ca.csr" \
  -startdate "$START" -enddate "$END" -extensions v3_ca -notext -out ca.crt 2>/dev/null

openssl ecparam -name prime256v1 -genkey -noout -out server.key
openssl req -new -key server.key -subj "/CN=token.momento.test" -out "$tmp/server.csr"
openssl ca -batch -config "$tmp/ca.cnf" -cert ca.crt -keyfile ca.key -in "$tmp/server.csr" \
  -startdate "$START" -enddate "$END" -extensions v3_server -notext -out server.crt 2>/dev/null

chmod 644 ca.key server.key
openssl verify -CAfile ca.crt server.crt
