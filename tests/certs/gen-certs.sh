#!/bin/sh
# gen-certs.sh OUTDIR DOMAIN
#
# Generates a throw-away test PKI for DOMAIN into OUTDIR with certtool
# (gnutls-bin). ECDSA P-256 keys, so it takes well under a second.
#
#   ca.pem, ca-key.pem              test CA (trust anchor for tests)
#   server.pem, server-key.pem      leaf for DOMAIN, conference.DOMAIN,
#                                   upload.DOMAIN (DNS SANs), signed by the CA
#   server-bundle.pem               server.pem + server-key.pem (ejabberd)
#
# Deliberately bad certificates, each NAME.pem + NAME-key.pem:
#   wrongname       valid chain, SAN other.invalid only
#   expired         validity 2020-2021
#   notyet          validity 2090-2091
#   selfsigned      self-signed leaf for DOMAIN
#   unknownca       signed by unknown-ca.pem (a second CA, not in ca.pem)
#   leafsigned      leaf for DOMAIN issued by a non-CA leaf that the test CA
#                   signed; leafsigned-chain.pem = leaf + that issuing leaf
#   v1intermediate  leaf for DOMAIN issued by an X.509 v1 (no extensions,
#                   hence no basicConstraints) intermediate signed by the CA;
#                   v1intermediate-chain.pem = leaf + intermediate
# Identity-form certificates (signed by the CA; CN never equals DOMAIN, so a
# CN fallback cannot make them match):
#   wildcard        DNS SAN *.DOMAIN only (matches sub.DOMAIN, not DOMAIN)
#   srvid           only an SRV-ID otherName (id-on-dnsSRV) _xmpp-client.DOMAIN
#   xmppaddr        only an id-on-xmppAddr otherName DOMAIN
#
# Idempotent: if OUTDIR already holds a complete set for DOMAIN it does
# nothing. Prints nothing on success.
set -eu

if [ $# -ne 2 ]; then
  echo "usage: $0 OUTDIR DOMAIN" >&2
  exit 2
fi
OUT=$1
DOMAIN=$2

NAMES="server wrongname expired notyet selfsigned unknownca leafsigned v1intermediate wildcard srvid xmppaddr"
STAMP="$OUT/.gen-certs-$DOMAIN"

have_all() {
  [ -f "$STAMP" ] || return 1
  for f in ca.pem ca-key.pem unknown-ca.pem server-bundle.pem leafsigned-chain.pem v1intermediate-chain.pem; do
    [ -s "$OUT/$f" ] || return 1
  done
  for n in $NAMES; do
    [ -s "$OUT/$n.pem" ] && [ -s "$OUT/$n-key.pem" ] || return 1
  done
  return 0
}
have_all && exit 0

command -v certtool >/dev/null 2>&1 || {
  echo "gen-certs.sh: certtool not found (apt-get install gnutls-bin)" >&2
  exit 1
}

mkdir -p "$OUT"
W=$(mktemp -d "${TMPDIR:-/tmp}/gen-certs.XXXXXX")
LOG="$W/certtool.log"
trap 'rm -rf "$W"' EXIT
trap 'exit 1' INT TERM HUP

ct() {
  if ! certtool "$@" >>"$LOG" 2>&1; then
    echo "gen-certs.sh: certtool $* failed:" >&2
    tail -n 20 "$LOG" >&2
    exit 1
  fi
}

newkey() { ct --generate-privkey --key-type=ecdsa --curve=secp256r1 --no-text --outfile "$W/$1-key.pem"; }
# The bad and identity-form leaves share one key (what they test is the
# certificate, not the key); this keeps the script fast.
key() {
  if [ -f "$W/shared-leaf-key.pem" ]; then cp "$W/shared-leaf-key.pem" "$W/$1-key.pem"; else newkey "$1"; cp "$W/$1-key.pem" "$W/shared-leaf-key.pem"; fi
}

# tmpl NAME LINES...: write a template file
tmpl() {
  n=$1; shift
  printf '%s\n' "$@" >"$W/$n.tmpl"
}

# sign NAME ISSUER: NAME.pem signed by ISSUER.pem/ISSUER-key.pem
sign() {
  ct --generate-certificate --no-text --hash=sha256 \
    --load-privkey "$W/$1-key.pem" \
    --load-ca-certificate "$W/$2.pem" --load-ca-privkey "$W/$2-key.pem" \
    --template "$W/$1.tmpl" --outfile "$W/$1.pem"
}
selfsign() {
  ct --generate-self-signed --no-text --hash=sha256 \
    --load-privkey "$W/$1-key.pem" --template "$W/$1.tmpl" --outfile "$W/$1.pem"
}

LEAF_USAGE='tls_www_server
signing_key'
# SRV-ID value: IA5String (tag 0x16) "_xmpp-client.DOMAIN", as hex DER
srv="_xmpp-client.$DOMAIN"
srvhex=$(printf '%s' "$srv" | od -An -v -tx1 | tr -d ' \n')
srvlen=$(printf '%02x' "$(printf '%s' "$srv" | wc -c)")
# (lengths >= 128 would need long-form DER; domains in tests are short)
if [ "$(printf '%s' "$srv" | wc -c)" -ge 128 ]; then
  echo "gen-certs.sh: domain too long for the SRV-ID encoder" >&2
  exit 1
fi

# --- CAs -------------------------------------------------------------------
for c in ca unknown-ca; do
  newkey "$c"
  tmpl "$c" "cn = \"libxmpp $c\"" "organization = \"libxmpp tests\"" \
    ca cert_signing_key crl_signing_key "expiration_days = 3650" \
    "activation_date = \"$(date -u -d '-1 day' '+%Y-%m-%d %H:%M:%S')\""
  selfsign "$c"
done

now_minus_day=$(date -u -d '-1 day' '+%Y-%m-%d %H:%M:%S')

# --- good server certificate -----------------------------------------------
newkey server
tmpl server "cn = \"$DOMAIN\"" "dns_name = \"$DOMAIN\"" \
  "dns_name = \"conference.$DOMAIN\"" "dns_name = \"upload.$DOMAIN\"" \
  "$LEAF_USAGE" "expiration_days = 825" "activation_date = \"$now_minus_day\""
sign server ca

# --- bad certificates --------------------------------------------------------
key wrongname
tmpl wrongname 'cn = "other.invalid"' 'dns_name = "other.invalid"' "$LEAF_USAGE" \
  "expiration_days = 825" "activation_date = \"$now_minus_day\""
sign wrongname ca

key expired
tmpl expired "cn = \"$DOMAIN\"" "dns_name = \"$DOMAIN\"" "$LEAF_USAGE" \
  'activation_date = "2020-01-01 00:00:00"' 'expiration_date = "2021-01-01 00:00:00"'
sign expired ca

key notyet
tmpl notyet "cn = \"$DOMAIN\"" "dns_name = \"$DOMAIN\"" "$LEAF_USAGE" \
  'activation_date = "2090-01-01 00:00:00"' 'expiration_date = "2091-01-01 00:00:00"'
sign notyet ca

key selfsigned
tmpl selfsigned "cn = \"$DOMAIN\"" "dns_name = \"$DOMAIN\"" "$LEAF_USAGE" \
  "expiration_days = 825" "activation_date = \"$now_minus_day\""
selfsign selfsigned

key unknownca
tmpl unknownca "cn = \"$DOMAIN\"" "dns_name = \"$DOMAIN\"" "$LEAF_USAGE" \
  "expiration_days = 825" "activation_date = \"$now_minus_day\""
sign unknownca unknown-ca

# leaf signed by a leaf: the issuing cert is an end-entity (no CA flag)
newkey leafissuer
tmpl leafissuer 'cn = "libxmpp leaf that is not a CA"' 'dns_name = "leaf.invalid"' \
  "$LEAF_USAGE" "expiration_days = 825" "activation_date = \"$now_minus_day\""
sign leafissuer ca
key leafsigned
tmpl leafsigned "cn = \"$DOMAIN\"" "dns_name = \"$DOMAIN\"" "$LEAF_USAGE" \
  "expiration_days = 825" "activation_date = \"$now_minus_day\""
sign leafsigned leafissuer
cat "$W/leafsigned.pem" "$W/leafissuer.pem" >"$W/leafsigned-chain.pem"

# X.509 v1 intermediate (no extensions at all, so no basicConstraints CA)
newkey v1int
tmpl v1int 'cn = "libxmpp v1 intermediate"' "expiration_days = 825" \
  "activation_date = \"$now_minus_day\""
ct --generate-certificate --no-text --hash=sha256 --v1 \
  --load-privkey "$W/v1int-key.pem" \
  --load-ca-certificate "$W/ca.pem" --load-ca-privkey "$W/ca-key.pem" \
  --template "$W/v1int.tmpl" --outfile "$W/v1int.pem"
key v1intermediate
tmpl v1intermediate "cn = \"$DOMAIN\"" "dns_name = \"$DOMAIN\"" "$LEAF_USAGE" \
  "expiration_days = 825" "activation_date = \"$now_minus_day\""
sign v1intermediate v1int
cat "$W/v1intermediate.pem" "$W/v1int.pem" >"$W/v1intermediate-chain.pem"

# --- identity forms -----------------------------------------------------------
key wildcard
tmpl wildcard 'cn = "libxmpp wildcard test"' "dns_name = \"*.$DOMAIN\"" "$LEAF_USAGE" \
  "expiration_days = 825" "activation_date = \"$now_minus_day\""
sign wildcard ca

key srvid
tmpl srvid 'cn = "libxmpp srvid test"' \
  "other_name = \"1.3.6.1.5.5.7.8.7 16$srvlen$srvhex\"" "$LEAF_USAGE" \
  "expiration_days = 825" "activation_date = \"$now_minus_day\""
sign srvid ca

key xmppaddr
tmpl xmppaddr 'cn = "libxmpp xmppaddr test"' "xmpp_name = \"$DOMAIN\"" "$LEAF_USAGE" \
  "expiration_days = 825" "activation_date = \"$now_minus_day\""
sign xmppaddr ca

cat "$W/server.pem" "$W/server-key.pem" >"$W/server-bundle.pem"

# --- install ------------------------------------------------------------------
rm -f "$OUT"/.gen-certs-*
for f in ca.pem ca-key.pem unknown-ca.pem server-bundle.pem \
  leafsigned-chain.pem v1intermediate-chain.pem; do
  cp "$W/$f" "$OUT/$f"
done
for n in $NAMES; do
  cp "$W/$n.pem" "$OUT/$n.pem"
  cp "$W/$n-key.pem" "$OUT/$n-key.pem"
done
chmod 600 "$OUT"/*-key.pem "$OUT/server-bundle.pem"
: >"$STAMP"
