#!/usr/bin/env bash
# Regenerates the fuzz key and the signed seeds of the `webhook` and `serve` targets: a fresh
# throwaway RSA key (its private half never leaves a temporary folder), its public half in
# keys/webhook-public.pem (the targets' fixed key), and deliveries shaped like Wix's signed
# with it (claims `data` a JSON string whose `data` and `identity` are JSON strings again).
#
#   fuzz/make-webhook-seeds.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
openssl genrsa -out "$tmp/private.pem" 2048 2>/dev/null
openssl rsa -in "$tmp/private.pem" -pubout -out keys/webhook-public.pem 2>/dev/null

b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }
# A JWT of `claims` (JSON text) with header `header`, RS256-signed with the throwaway key.
jwt() {
    local signing_input
    signing_input="$(printf '%s' "$1" | b64url).$(printf '%s' "$2" | b64url)"
    printf '%s.%s' "$signing_input" \
        "$(printf '%s' "$signing_input" | openssl dgst -sha256 -sign "$tmp/private.pem" -binary | b64url)"
}
# Far in the future, so the seeds stay valid: 2100-01-01.
exp=4102444800
iat=1765000000
header='{"alg":"RS256","typ":"JWT","kid":"qG1kD2dz"}'
site=3bbcabc7-8a9e-4b8e-9c1f-0123456789ab
app=5bc2062d-0000-4000-8000-00000000a99a
# Claims `data` of an event: eventType instanceId data identity [accountInfo], each layer a
# JSON string as Wix sends it.
envelope() {
    python3 -c 'import json, sys
e = {"eventType": sys.argv[1], "instanceId": sys.argv[2], "data": sys.argv[3], "identity": sys.argv[4]}
if len(sys.argv) > 5: e["accountInfo"] = sys.argv[5]
print(json.dumps({"data": json.dumps(e)}))' "$@"
}
claims() { # envelope exp|none: with iat, and exp unless none
    python3 -c 'import json, sys
c = json.loads(sys.argv[1]); c["iat"] = int(sys.argv[2])
if sys.argv[3] != "none": c["exp"] = int(sys.argv[3])
print(json.dumps(c, separators=(",", ":")))' "$1" "$iat" "$2"
}
identity='{"identityType":"APP","appId":"'$app'"}'
installed=$(envelope AppInstalled "$site" '{"appId":"'$app'","originInstanceId":"07864c16-0000-4000-8000-000000000000"}' "$identity")
removed=$(envelope AppRemoved "$site" '{"appId":"'$app'"}' "$identity")
order=$(envelope wix.ecom.v1.order_created "$site" '{"entityId":"o-1","createdEvent":{"entity":{"number":"10001","priceSummary":{"total":{"amount":"12.50"}}}}}' '{"identityType":"MEMBER","memberId":"m-1"}' '{"siteUrl":"https://example.wixsite.com/shop"}')
expired=$(claims "$installed" 1765000060)
without_exp=$(claims "$installed" none)

w=corpus/webhook
s=corpus/serve
mkdir -p "$w" "$s"
rm -f "$w"/signed-* "$s"/webhook-signed-*
# The webhook target's first byte: 0 verify, 2 verify ignoring expiry, 1 decode claims.
n=0
for c in "$(claims "$installed" $exp)" "$(claims "$removed" $exp)" "$(claims "$order" $exp)" "$expired" "$without_exp"; do
    n=$((n + 1))
    token=$(jwt "$header" "$c")
    { printf '\x00'; printf '%s' "$token"; } >"$w/signed-$n"
    { printf '\x02'; printf '%s' "$token"; } >"$w/signed-$n-ignore-expiry"
    { printf '\x01'; printf '%s' "$c"; } >"$w/signed-$n-claims"
    # The serve target's first byte: 1 the webhook receiver.
    { printf '\x01'; printf 'POST /webhook HTTP/1.1\r\nHost: abc.trycloudflare.com\r\nContent-Type: text/plain\r\nContent-Length: %d\r\nX-Forwarded-For: 203.0.113.7\r\n\r\n%s' "${#token}" "$token"; } >"$s/webhook-signed-$n"
done
# The same delivery chunked, and one signed HS256 with the public key (the confusion attack).
token=$(jwt "$header" "$(claims "$installed" $exp)")
{ printf '\x01'; printf 'POST /webhook HTTP/1.1\r\nHost: localhost:8080\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n0\r\n\r\n' "${#token}" "$token"; } >"$s/webhook-signed-chunked"
hs_input="$(printf '%s' '{"alg":"HS256","typ":"JWT"}' | b64url).$(claims "$installed" $exp | b64url)"
hs_sig=$(printf '%s' "$hs_input" | openssl dgst -sha256 -hmac "$(cat keys/webhook-public.pem)" -binary | b64url)
{ printf '\x00'; printf '%s.%s' "$hs_input" "$hs_sig"; } >"$w/signed-hs256-with-the-public-key"
echo "wrote keys/webhook-public.pem, $w/signed-* and $s/webhook-signed-*"
