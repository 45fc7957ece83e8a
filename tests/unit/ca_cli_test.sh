#!/usr/bin/env bash
# zeqvpnctl's mesh-certificate commands, offline, in a temporary directory:
# ca init (modes, never replacing), pubkey --signing, ca sign (defaults and
# option errors), cert show (text, --json, lists), cert verify (each verdict
# and its exit code) and ca revoke (serials, another CA's list refused).
#   bash tests/unit/ca_cli_test.sh PATH/TO/zeqvpnctl
set -euo pipefail
CTL=$(readlink -f "${1:?usage: ca_cli_test.sh ZEQVPNCTL}")
WORK=$(mktemp -d /tmp/zeqvpn-ca-cli.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"

fail() { echo "FAIL: $*"; exit 1; }
# expect CODE CMD...: runs CMD, fails unless it exits with CODE; output in $OUT.
expect() {
  local code=$1 rc=0
  shift
  OUT=$("$@" 2>&1) || rc=$?
  [ "$rc" = "$code" ] || fail "exit $rc (wanted $code): $*: $OUT"
}

expect 0 "$CTL" ca init --name test-ca --dir ca
[ "$(stat -c %a ca/ca.key)" = 600 ] || fail "ca.key mode $(stat -c %a ca/ca.key)"
[ "$(stat -c %a ca)" = 700 ] || fail "CA directory mode $(stat -c %a ca)"
FP=$(sed -n 's/^fingerprint //p' <<<"$OUT")
[ ${#FP} = 64 ] || fail "ca init printed no fingerprint: $OUT"
KEY_BEFORE=$(cat ca/ca.key)
expect 1 "$CTL" ca init --name again --dir ca
[ "$(cat ca/ca.key)" = "$KEY_BEFORE" ] || fail "ca init replaced ca.key"
expect 2 "$CTL" ca init --name "bad name" --dir ca-bad
expect 0 "$CTL" ca init --name other-ca --dir ca2

"$CTL" genkey > node.key
chmod 600 node.key
PUB=$("$CTL" pubkey < node.key)
SIG=$("$CTL" pubkey --signing < node.key)
[ "$PUB" != "$SIG" ] && [ ${#SIG} = 44 ] || fail "pubkey --signing: $SIG"
[ "$SIG" = "$("$CTL" pubkey --signing < node.key)" ] || fail "pubkey --signing is not deterministic"

sign() { "$CTL" ca sign --ca-key ca/ca.key --name alpha --public-key "$PUB" --signing-key "$SIG" "$@"; }
expect 0 sign --address 10.77.0.1/24 --address fd77::1/64 --groups ops,eu --out alpha.crt
expect 0 "$CTL" cert show alpha.crt
grep -Eq "allowed ips +10.77.0.1/32, fd77::1/128" <<<"$OUT" || fail "default allowed_ips: $OUT"
grep -Eq "roles +node$" <<<"$OUT" || fail "default roles: $OUT"
grep -q "expires in 36[45] days" <<<"$OUT" || fail "default validity: $OUT"
grep -Eq "issuer +$FP" <<<"$OUT" || fail "issuer is not the CA's fingerprint: $OUT"
expect 0 "$CTL" cert show alpha.crt --json
python3 -c 'import json,sys; j=json.loads(sys.argv[1]); assert j["kind"] == "certificate" and j["groups"] == ["ops", "eu"], j' "$OUT" ||
  fail "cert show --json: $OUT"
expect 0 "$CTL" cert verify alpha.crt --ca ca/ca.pub
[ "$OUT" = valid ] || fail "cert verify said: $OUT"
# Stdout without --out, and the option errors.
sign --address 10.77.0.1/24 > stdout.crt || fail "ca sign to stdout"
grep -q -- "-----BEGIN ZEQVPN CERTIFICATE-----" stdout.crt || fail "ca sign wrote no armour to stdout"
expect 2 sign --address 10.77.0.1/24 --allowed-ips 10.0.0.1/8
grep -q "host bits set; write 10.0.0.0/8" <<<"$OUT" || fail "host bits: $OUT"
expect 2 sign --address 10.77.0.1/24 --valid 3x
expect 2 sign --address nowhere
expect 2 sign --address 10.77.0.1/24 --roles admin
expect 2 "$CTL" ca sign --ca-key ca/ca.key --name alpha --public-key "$PUB" --signing-key "$PUB" --address 10.0.0.1

# Verdicts at chosen Zeqonds.
expect 0 sign --address 10.77.0.1/24 --not-before 1000 --valid 777s --out short.crt  # Zeqonds 1000 to 2000
expect 1 "$CTL" cert verify short.crt --ca ca/ca.pub --now 999
[[ $OUT == not_yet_valid:* ]] || fail "before not_before: $OUT"
expect 0 "$CTL" cert verify short.crt --ca ca/ca.pub --now 1000
expect 0 "$CTL" cert verify short.crt --ca ca/ca.pub --now 1999
expect 1 "$CTL" cert verify short.crt --ca ca/ca.pub --now 2000
[[ $OUT == expired:* ]] || fail "at not_after: $OUT"
expect 1 "$CTL" cert verify alpha.crt --ca ca2/ca.pub
[[ $OUT == unknown_issuer:* ]] || fail "another CA: $OUT"
expect 0 "$CTL" cert verify alpha.crt --ca ca2/ca.pub --ca ca/ca.pub

# Revocation.
expect 2 "$CTL" ca revoke --ca-key ca/ca.key --list revoked.crl
expect 0 "$CTL" ca revoke --ca-key ca/ca.key --list revoked.crl --cert short.crt
grep -q "serial 1, 1 entries (1 new)" <<<"$OUT" || fail "first revoke: $OUT"
expect 0 "$CTL" cert verify alpha.crt --ca ca/ca.pub --list revoked.crl
expect 1 "$CTL" cert verify short.crt --ca ca/ca.pub --list revoked.crl --now 1500
[[ $OUT == revoked:* ]] || fail "revoked by fingerprint: $OUT"
expect 0 "$CTL" ca revoke --ca-key ca/ca.key --list revoked.crl --public-key "$PUB"
grep -q "serial 2, 2 entries (1 new)" <<<"$OUT" || fail "second revoke: $OUT"
expect 1 "$CTL" cert verify alpha.crt --ca ca/ca.pub --list revoked.crl
[[ $OUT == revoked:*"public key"* ]] || fail "revoked by key: $OUT"
expect 0 "$CTL" cert show revoked.crl
grep -Eq "serial +2$" <<<"$OUT" || fail "cert show of a list: $OUT"
expect 1 "$CTL" ca revoke --ca-key ca2/ca.key --list revoked.crl --public-key "$PUB"
expect 1 "$CTL" ca revoke --ca-key ca2/ca.key --list other.crl --cert alpha.crt
[ ! -e other.crl ] || fail "a list was written for a certificate of another CA"
ls | grep -q tmp && fail "a temporary file was left: $(ls)"

# The CA key's mode and a damaged certificate.
chmod 640 ca/ca.key
expect 1 sign --address 10.77.0.1/24
grep -q "run \`chmod 600 ca/ca.key\`" <<<"$OUT" || fail "open CA key: $OUT"
chmod 600 ca/ca.key
sed -i '3s/^./*/' alpha.crt
expect 1 "$CTL" cert verify alpha.crt --ca ca/ca.pub
grep -q "certificate file alpha.crt: line 3:" <<<"$OUT" || fail "damaged armour: $OUT"
echo "ca_cli: all passed"
