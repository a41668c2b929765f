#!/usr/bin/env bash
# Independent wire check: tshark's LISP dissector must read back the field values we meant
# (written by tshark_gen beside the pcap), the UDP/IP checksums must verify, and the MACs
# must equal what openssl computes over the message with its authentication data zeroed.
# The eid-notify channel: Wireshark's own protobuf dissector reads each Envelope from
# proto/eid_notify.proto (through packaging/wireshark/vmroam_notify.lua, which strips the
# framing), and its HMAC must equal what openssl computes over the datagram before it.
# usage: check.sh TSHARK_GEN WORKDIR
set -eu
gen=$1
dir=$2
if ! command -v tshark >/dev/null; then
	echo "tshark is not installed (packaging/deps.sh installs it): this check cannot run" >&2
	exit 1
fi
mkdir -p "$dir"
"$gen" "$dir/lisp.pcap" "$dir/expect"

# tshark fills a field named twice only once: each is asked for once
fixed="udp.payload lisp.auth lisp.authlen"
notify_re='^(pbf[.]|vmroam_notify[.]|notify_hmac)'
fields="$fixed $(awk -v re="$notify_re" '$1 > 0 && $2 != "hmac" && $2 !~ re { print $2 }' "$dir/expect" | sort -u |
	grep -v -x -e udp.payload -e lisp.auth -e lisp.authlen)"
args=(-e frame.number)
for f in $fields; do args+=(-e "$f"); done
tshark -r "$dir/lisp.pcap" -o udp.check_checksum:TRUE -o ip.check_checksum:TRUE \
	-T fields -E separator='|' -E occurrence=a -E aggregator=, "${args[@]}" \
	>"$dir/decoded" 2>"$dir/tshark.err" || { cat "$dir/tshark.err" >&2; exit 1; }

declare -A got
col=1
for f in $fields; do
	while IFS='|' read -r -a row; do
		got["${row[0]} $f"]=${row[$col]-}
	done <"$dir/decoded"
	col=$((col + 1))
done

# the eid-notify frames, decoded as JSON: "FRAME FIELD VALUE[,VALUE...]" in document order
top=$(cd "$(dirname "$0")/../.." && pwd)
conf=$(mktemp -d)
trap 'rm -rf "$conf"' EXIT
printf 'protobuf.pbf_as_hf: TRUE\n' >"$conf/preferences"
printf '"%s","TRUE"\n' "$top/proto" >"$conf/protobuf_search_paths"
WIRESHARK_CONFIG_DIR=$conf tshark -X lua_script:"$top/packaging/wireshark/vmroam_notify.lua" \
	-r "$dir/lisp.pcap" -Y 'udp.port == 4349 || udp.port == 4350' -T json --no-duplicate-keys \
	2>"$dir/tshark-notify.err" |
	jq -r '.[] | ._source.layers as $l | $l.frame["frame.number"] as $f
		| [$l | paths(scalars) as $p | {k: ($p | map(select(type == "string")) | last),
		   v: getpath($p)}]
		| group_by(.k) | map("\($f) \(.[0].k) \(map(.v) | join(","))") | .[]' \
	>"$dir/notify.decoded" || { cat "$dir/tshark-notify.err" >&2; exit 1; }
declare -A ng
while read -r f k v; do ng["$f $k"]=$v; done <"$dir/notify.decoded"

fail=0 checked=0
key=$(awk '$1 == 0 && $2 == "key" { print $3 }' "$dir/expect")
nkey=$(awk '$1 == 0 && $2 == "notify_key" { print $3 }' "$dir/expect")
while read -r frame field value; do
	[ "$frame" -gt 0 ] || continue
	if [ "$field" = notify_hmac ]; then
		payload=$(tr -d : <<<"${ng["$frame udp.payload"]-}")
		mac=$(tr -d : <<<"${ng["$frame vmroam_notify.hmac"]-}")
		want=$(perl -e 'print pack("H*", $ARGV[0])' "${payload:0:$((${#payload} - 64))}" |
			openssl dgst -sha256 -hmac "$nkey" -r | cut -d' ' -f1)
		if [ -z "$mac" ] || [ "$mac" != "$want" ]; then
			echo "FAIL frame $frame: eid-notify MAC '$mac', openssl computes $want" >&2
			fail=$((fail + 1))
		fi
	elif [[ $field =~ $notify_re ]]; then
		if [ "${ng["$frame $field"]-}" != "$value" ]; then
			echo "FAIL frame $frame: $field = '${ng["$frame $field"]-}', meant '$value'" >&2
			fail=$((fail + 1))
		fi
	elif [ "$field" = hmac ]; then
		payload=$(awk -F, '{ print $NF }' <<<"${got["$frame udp.payload"]}")
		mac=${got["$frame lisp.auth"]}
		alen=${got["$frame lisp.authlen"]}
		zeroed=${payload:0:32}$(printf '0%.0s' $(seq 1 $((alen * 2))))${payload:$((32 + alen * 2))}
		want=$(perl -e 'print pack("H*", $ARGV[0])' "$zeroed" |
			openssl dgst -"$value" -hmac "$key" -r | cut -d' ' -f1)
		want=${want:0:$((alen * 2))}
		if [ "$mac" != "$want" ]; then
			echo "FAIL frame $frame: MAC $mac, openssl computes $want" >&2
			fail=$((fail + 1))
		fi
	elif [ "${got["$frame $field"]-}" != "$value" ]; then
		echo "FAIL frame $frame: $field = '${got["$frame $field"]-}', meant '$value'" >&2
		fail=$((fail + 1))
	fi
	checked=$((checked + 1))
done <"$dir/expect"

echo "tshark wire check: $((checked - fail)) passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$checked" -gt 50 ]
