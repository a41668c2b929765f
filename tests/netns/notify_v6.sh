#!/usr/bin/env bash
# The eid-notify channel over IPv6: the FHR names its gateway by an IPv6 address, the gateway
# checks that receiver against the address the datagram arrived at (IPV6_PKTINFO) and answers
# from it; a VM's arrival is learned and registered, and the two ends agree (digests).
#
#   ms (2001:db8::1) == gw (2001:db8::10) == fhr (2001:db8::50; br0 198.51.100.1/25) -- vm
#
# usage: notify_v6.sh BUILD_BIN_DIR
set -eu
BIN=$(realpath "$1")
. "$(dirname "$0")/lib.sh"

star gw=10 fhr=50
fhr_lan fhr 198.51.100.1/25 vm 198.51.100.10
# a second address on the gateway: its answers must come from the one the FHR sends to
ip -n "$(ns gw)" addr add 2001:db8::51/64 dev eth0 nodad # (the kernel would pick it: longest match)

cat >"$WORK/ms.conf" <<CONF
router lisp
 site DC
  authentication-key dc-key
  eid-prefix instance-id 4100 198.51.100.0/24 accept-more-specifics
 ipv4 map-server
 ipv4 map-resolver
CONF
cat >"$WORK/gw.conf" <<CONF
router lisp
 locator-set RLOC
  192.0.2.10 priority 1 weight 100
  exit
 eid-table vrf TENANT-A instance-id 4100
  dynamic-eid VMS
   database-mapping 198.51.100.0/25 locator-set RLOC
   eid-notify authentication-key tenant-a-key
   exit
  exit
 ipv4 etr
 ipv4 etr map-server 192.0.2.1 key dc-key
CONF
cat >"$WORK/fhr.conf" <<CONF
router lisp
 fhr-id fhr-v6
 eid-table vrf TENANT-A instance-id 4100
  dynamic-eid VMS
   database-mapping 198.51.100.0/25
   eid-notify 2001:db8::10 key tenant-a-key
   exit
  exit
interface br0
 lisp mobility VMS
 lisp extended-subnet-mode
CONF
daemons ms gw
bg fhr "$BIN/fhr-agent" -f "$WORK/fhr.conf" -s "$WORK/fhr.sock" 2>>"$WORK/fhr.log"
retry 5 test -S "$WORK/fhr.sock"
fhr_j() {
	local q=$1
	shift
	"$BIN/fhrctl" -s "$WORK/fhr.sock" -j "$@" | jq -e "$q" >/dev/null
}
check "gateway: the FHR is up, from its IPv6 address" retry 5 jctl gw \
	'.eid_notify_peers[] | select(.id=="fhr-v6") | .up and .address=="2001:db8::50"' \
	show lisp eid-notify
check "FHR: the gateway (2001:db8::10) is up" retry 5 fhr_j \
	'.eid_notify_peers[] | select(.address=="2001:db8::10") | .up' show lisp eid-notify
nsx vm arping -q -U -c 1 -w 1 -I eth0 198.51.100.10 || true
check "gateway: the VM learned from the FHR over IPv6, registered" retry 5 jctl gw \
	'.dynamic_eids[] | select(.eid=="198.51.100.10/32") | .source=="fhr" and .registered' \
	show lisp dynamic-eid
check "both ends agree (digests)" retry 5 jctl gw \
	'.eid_notify_peers[] | select(.id=="fhr-v6") | .in_sync and .eids==1' show lisp eid-notify
check "FHR: the EID held by the gateway, in sync" retry 5 fhr_j \
	'.eid_notify_peers[] | select(.address=="2001:db8::10") | .eids==1 and .in_sync and .refused==0' \
	show lisp eid-notify
check "gateway: nothing refused as misdirected" jctl gw \
	'.statistics.notify_misdirected==0 and .statistics.notify_stale_session==0' \
	show lisp statistics
finish
