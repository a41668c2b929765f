# The lab's network (sourced by vmroam-lab): namespaces $LAB-<role>, links, addresses, routes.
#
#                     cl-a 203.0.113.10 (TENANT-A, instance-id 100)
#                     cl-b 203.0.113.10 (TENANT-B, instance-id 200)
#                       |
#                    branch (xTR, RLOC 192.0.2.20)
#                       |
#   core (Map-Server/Map-Resolver, proxy xTR, 192.0.2.1; the RLOC network's bridge, MTU 1600)
#                       |-- idle (a proxy-ITR that sends nothing: RLOC 192.0.2.21)
#                       | i0 203.0.113.129/25
#                     inet 203.0.113.200 (a non-LISP site, reaches TENANT-A through the proxy)
#           |                                        |
#   gw1 (DC1 site gateway, RLOC .10)         gw2 (DC2 site gateway, RLOC .11)
#     | s-a        | s-b                       | s-a        | s-b
#   fw-a1        fw-b1   tenant firewalls    fw-a2        fw-b2
#     |            |                           |            |
#   fhr-a1       fhr-b1  first-hop routers   fhr-a2       fhr-b2   (fhr-agent; br0, the
#     | up0        | up0   (same gateway IP    | up0        | up0    VMs' gateway)
#     +---- fab: br-a1   br-b1  and MAC per tenant in both DCs)  br-a2   br-b2 ----+
#                  |       |                                     |
#                vm-a    vm-b    198.51.100.10 both (overlapping tenants); vm-a moves
#
#   --guest qemu: tenant A's VM is a real guest on DC1's or DC2's hypervisor (lab/hypervisors.sh)
#
#       fhr-a1 (hv0 192.0.2.246)                    fhr-a2 (hv0 192.0.2.250)
#         | management link (hypervisor events)       | management link
#       hv1 (libvirtd, 192.0.2.245)  ==mig0==  hv2 (libvirtd, 192.0.2.249)
#         br-a: the guest's tap, up-a    192.0.2.241/.242  br-a: up-a (the tap after a move)
#           | up-a                         migration link    | up-a
#       fab br-a1 (port h-a1)                             fab br-a2 (port h-a2)
#
#   fab, tenant A:   br-a1 -- x-a1             x-a2 -- br-a2     (tenant B the same: x-b1, x-b2)
#                    |   |       |  layer-2 ext.   |      |
#                 vm-a  srv-a1  dci1 ==VXLAN== dci2  srv-a2   (esm only; VNI 100, over w0 IPv6)
#           198.51.100.20/25                          esm 198.51.100.30/25, asm .140/26
#
# Each tenant's traffic uses routing table <instance-id> on the gateways and the branch
# (ip rule by incoming interface, as a VRF would). The tenant firewalls send what comes up from
# the FHR (iif t0) to the gateway (table 50), so that a packet the FHR sends up toward a host of
# the VM's old subnet is not routed straight back down to it.
# Extended subnet (esm): 198.51.100.0/25 in both DCs, and one layer-2 domain per tenant: each
# DC's bridge br-<t><dc> has a port (x-<t><dc>) to its DC interconnect (namespace dci<dc>, as an
# OTV or VXLAN-EVPN edge), which carries the segment to the other DC's in a VXLAN tunnel (VNI =
# the instance-id) over their own IPv6 link, with FHRP isolation as OTV is configured for it:
# the bridge table "fhrp" in fab drops, on the
# extension's ports, frames from or to the tenant's gateway MAC and ARP from or for the gateway
# IP 198.51.100.1, so that each DC's hosts see only their own DC's FHR. Across subnets (asm): no
# extension; DC2's VM subnet is 198.51.100.128/26, its FHRs answer ARP for the rest by proxy.
# srv-a1 and srv-a2 are hosts that stay in their DC on tenant A's VM subnets ("servers").

ROLES=(core inet branch idle cl-a cl-b gw1 gw2 fw-a1 fw-b1 fw-a2 fw-b2 fhr-a1 fhr-b1 fhr-a2 fhr-b2 fab vm-b srv-a1 srv-a2 dci1 dci2)
# tenant A's VM: a namespace (--guest netns) or a real guest on the hypervisors (--guest qemu)
if [ "${GUEST:-netns}" = qemu ]; then ROLES+=(hv1 hv2); else ROLES+=(vm-a); fi
# --multihomed: a second site gateway in each DC (gw1b RLOC .12, gw2b .13), on the same tenant
# firewalls (their eth1), in the same site (site-id: the Map-Server merges their registrations)
MULTIHOMED=${MULTIHOMED:-false}
if $MULTIHOMED; then ROLES+=(gw1b gw2b); fi
# the gateways of DC i
gws_of() { if $MULTIHOMED; then echo "gw$1 gw$1b"; else echo "gw$1"; fi; }

n() { echo "$LAB-$1"; }

# A tenant's instance-id, the base of its transfer networks (last octet), its gateway MAC.
iid_of() { [ "$1" = a ] && echo 100 || echo 200; }
t_base() { [ "$1" = a ] && echo 192 || echo 200; } # gw-fw .B+1/.B+2, fw-fhr .B+5/.B+6 (/30s)
t_base2() { [ "$1" = a ] && echo 208 || echo 212; } # the second gateway: gwb-fw .B+1/.B+2
gwmac_of() { [ "$1" = a ] && echo 02:00:5e:00:01:0a || echo 02:00:5e:00:01:0b; }
# SERVERS: tenant A's hosts that stay in their DC (srv-a<DC>); srv_net SERVER MODE: its
# address/prefix length and its default gateway.
SERVERS=(srv-a1 srv-a2)
srv_net() {
	case $1/$2 in
	srv-a1/*) echo 198.51.100.20/25 198.51.100.1 ;;
	srv-a2/esm) echo 198.51.100.30/25 198.51.100.1 ;;
	srv-a2/asm) echo 198.51.100.140/26 198.51.100.129 ;;
	esac
}

# gw_net MODE DC RLOC BASE: the ip -b commands of a site gateway of DC with RLOC, its links to
# the tenant firewalls numbered from BASE (t_base: the first gateway, t_base2: the second)
gw_net() {
	local mode=$1 i=$2 rloc=$3 base=$4 t b l iid
	echo "link set lo up"
	echo "addr add $rloc/24 dev eth0"
	echo "link set eth0 up"
	for t in a b; do
		b=$(t_base $t)
		l=$($base $t)
		iid=$(iid_of $t)
		echo "addr add 198.51.100.$((l + 1))/30 dev s-$t"
		echo "link set s-$t up"
		# the FHR's uplink network: the eid-notify channel, main table
		echo "route add 198.51.100.$((b + 4))/30 via 198.51.100.$((l + 2))"
		if [ "$mode" = asm ] && [ "$i" = 2 ]; then
			echo "route add 198.51.100.128/26 via 198.51.100.$((l + 2)) table $iid"
		else
			echo "route add 198.51.100.0/25 via 198.51.100.$((l + 2)) table $iid"
		fi
		echo "rule add iif s-$t lookup $iid pref $iid"
		echo "rule add iif lisp0.$iid lookup $iid pref $iid"
	done
}

topology() {
	local mode=$1 r t i b iid
	for r in "${ROLES[@]}"; do
		ip netns add "$(n "$r")"
	done
	# every link in one batch (created directly inside the namespaces)
	{
		for r in branch idle $(gws_of 1) $(gws_of 2); do
			echo "link add r-$r netns $(n core) mtu 1600 type veth peer name eth0 netns $(n "$r") mtu 1600"
		done
		echo "link add i0 netns $(n core) type veth peer name eth0 netns $(n inet)"
		for t in a b; do
			echo "link add c$t""0 netns $(n branch) type veth peer name eth0 netns $(n "cl-$t")"
			for i in 1 2; do
				echo "link add s-$t netns $(n "gw$i") type veth peer name eth0 netns $(n "fw-$t$i")"
				if $MULTIHOMED; then
					echo "link add s-$t netns $(n "gw${i}b") type veth peer name eth1 netns $(n "fw-$t$i")"
				fi
				echo "link add t0 netns $(n "fw-$t$i") type veth peer name eth0 netns $(n "fhr-$t$i")"
				echo "link add u-$t$i netns $(n fab) type veth peer name up0 netns $(n "fhr-$t$i")"
			done
			if [ "$t" = a ] && [ "${GUEST:-netns}" = qemu ]; then
				# each DC's hypervisor: its bridge's uplink is a port of the tenant's DC
				# bridge; a management link to the tenant's FHR (hypervisor events)
				for i in 1 2; do
					echo "link add h-a$i netns $(n fab) type veth peer name up-a netns $(n "hv$i")"
					echo "link add mgmt netns $(n "hv$i") type veth peer name hv0 netns $(n "fhr-a$i")"
				done
			else
				echo "link add vm-$t netns $(n fab) type veth peer name eth0 netns $(n "vm-$t")"
			fi
			# the layer-2 extension (esm): each DC's bridge to its DC interconnect
			if [ "$mode" = esm ]; then
				for i in 1 2; do
					echo "link add x-$t$i netns $(n fab) type veth peer name f-$t netns $(n "dci$i")"
				done
			fi
		done
		# the interconnects' own link (the WAN between the DCs: the VXLAN tunnels' underlay)
		[ "$mode" = esm ] && echo "link add w0 netns $(n dci1) mtu 1600 type veth peer name w0 netns $(n dci2) mtu 1600"
		for r in "${SERVERS[@]}"; do
			echo "link add $r netns $(n fab) type veth peer name eth0 netns $(n "$r")"
		done
		# the hypervisors' migration link
		if [ "${GUEST:-netns}" = qemu ]; then
			echo "link add mig0 netns $(n hv1) type veth peer name mig0 netns $(n hv2)"
		fi
	} | ip -b -
	nsip core <<-B
		link set lo up
		link add br0 mtu 1600 type bridge
		addr add 192.0.2.1/24 dev br0
		link set br0 up
		link set r-branch master br0 up
		link set r-idle master br0 up
		link set r-gw1 master br0 up
		link set r-gw2 master br0 up
		$($MULTIHOMED && printf 'link set r-gw1b master br0 up\nlink set r-gw2b master br0 up' || true)
		addr add 203.0.113.129/25 dev i0
		link set i0 up
		route add 203.0.113.128/25 dev i0 table 100
		rule add iif i0 lookup 100 pref 100
		rule add iif lisp0.100 lookup 100 pref 100
	B
	nsip idle <<-B
		link set lo up
		addr add 192.0.2.21/24 dev eth0
		link set eth0 up
	B
	nsip inet <<-B
		link set lo up
		addr add 203.0.113.200/25 dev eth0
		link set eth0 up
		route add default via 203.0.113.129
	B
	nsip branch <<-B
		link set lo up
		addr add 192.0.2.20/24 dev eth0
		link set eth0 up
		addr add 203.0.113.1/25 dev ca0
		link set ca0 up
		addr add 203.0.113.1/25 dev cb0
		link set cb0 up
		route add 203.0.113.0/25 dev ca0 table 100
		route add 203.0.113.0/25 dev cb0 table 200
		rule add iif ca0 lookup 100 pref 100
		rule add iif lisp0.100 lookup 100 pref 100
		rule add iif cb0 lookup 200 pref 200
		rule add iif lisp0.200 lookup 200 pref 200
	B
	for t in a b; do
		nsip "cl-$t" <<-B
			link set lo up
			addr add 203.0.113.10/25 dev eth0
			link set eth0 up
			route add default via 203.0.113.1
		B
	done
	for i in 1 2; do
		gw_net "$mode" "$i" "192.0.2.1$((i - 1))" t_base | nsip "gw$i"
		if $MULTIHOMED; then gw_net "$mode" "$i" "192.0.2.1$((i + 1))" t_base2 | nsip "gw${i}b"; fi
		for t in a b; do
			b=$(t_base $t)
			nsip "fw-$t$i" <<-B
				link set lo up
				addr add 198.51.100.$((b + 2))/30 dev eth0
				link set eth0 up
				addr add 198.51.100.$((b + 5))/30 dev t0
				link set t0 up
				route add default via 198.51.100.$((b + 1))
				route add 198.51.100.0/24 via 198.51.100.$((b + 6))
				route add default via 198.51.100.$((b + 1)) table 50
				rule add iif t0 lookup 50 pref 50
			B
			if $MULTIHOMED; then
				# both gateways, a flow each way (a gateway whose link is down is skipped)
				ip netns exec "$(n "fw-$t$i")" sysctl -qw net.ipv4.conf.all.ignore_routes_with_linkdown=1
				nsip "fw-$t$i" <<-B
					addr add 198.51.100.$(($(t_base2 $t) + 2))/30 dev eth1
					link set eth1 up
					route replace default table 50 nexthop via 198.51.100.$((b + 1)) dev eth0 nexthop via 198.51.100.$(($(t_base2 $t) + 1)) dev eth1
					route add 198.51.100.$b/30 dev eth0 table 50
					route add 198.51.100.$(t_base2 $t)/30 dev eth1 table 50
				B
			fi
			local vmnet=198.51.100.1/25
			[ "$mode" = asm ] && [ "$i" = 2 ] && vmnet=198.51.100.129/26
			nsip "fhr-$t$i" <<-B
				link set lo up
				addr add 198.51.100.$((b + 6))/30 dev eth0
				link set eth0 up
				route add default via 198.51.100.$((b + 5))
				link add br0 type bridge
				link set br0 address $(gwmac_of $t)
				addr add $vmnet dev br0
				link set br0 up
				link set up0 master br0 up
			B
		done
	done
	{
		echo "link set lo up"
		for t in a b; do
			for i in 1 2; do
				echo "link add br-$t$i type bridge"
				echo "link set br-$t$i up"
				echo "link set u-$t$i master br-$t$i up"
			done
			if [ "$t" = a ] && [ "${GUEST:-netns}" = qemu ]; then
				echo "link set h-a1 master br-a1 up"
				echo "link set h-a2 master br-a2 up"
			else
				echo "link set vm-$t master br-$t""1 up"
			fi
			if [ "$mode" = esm ]; then
				echo "link set x-$t""1 master br-$t""1 up"
				echo "link set x-$t""2 master br-$t""2 up"
			fi
		done
		for r in "${SERVERS[@]}"; do
			echo "link set $r master br-${r#srv-} up"
		done
	} | nsip fab
	if [ "$mode" = esm ]; then
		dci
		fhrp_filter
	fi
	local addr gw
	for r in "${SERVERS[@]}"; do
		read -r addr gw <<<"$(srv_net "$r" "$mode")"
		nsip "$r" <<-B
			link set lo up
			addr add $addr dev eth0
			link set eth0 up
			route add default via $gw
		B
	done
	[ "${GUEST:-netns}" = qemu ] && hypervisors
	for t in a b; do
		[ "$t" = a ] && [ "${GUEST:-netns}" = qemu ] && continue
		nsip "vm-$t" <<-B
			link set lo up
			addr add 198.51.100.10/25 dev eth0
			link set eth0 up
			route add default via 198.51.100.1
		B
	done
	for r in core branch $(gws_of 1) $(gws_of 2) fw-a1 fw-b1 fw-a2 fw-b2 fhr-a1 fhr-b1 fhr-a2 fhr-b2; do
		ip netns exec "$(n "$r")" sysctl -qw net.ipv4.ip_forward=1 \
			net.bridge.bridge-nf-call-iptables=0 2>/dev/null ||
			ip netns exec "$(n "$r")" sysctl -qw net.ipv4.ip_forward=1
	done
}

# dci: the DC interconnects (esm), one namespace per DC, as an OTV or VXLAN-EVPN edge: per
# tenant a bridge joining the DC's segment (f-<t>, from fab) and a VXLAN tunnel (VNI = the
# instance-id, UDP 4789) to the other DC's interconnect over their IPv6 link (2001:db8:dc::/64),
# without MAC learning (a point-to-point pseudowire).
dci() {
	local i t
	for i in 1 2; do
		{
			echo "link set lo up"
			echo "addr add 2001:db8:dc::$i/64 dev w0 nodad"
			echo "link set w0 up"
			for t in a b; do
				echo "link add vx-$t type vxlan id $(iid_of $t) local 2001:db8:dc::$i remote 2001:db8:dc::$((3 - i)) dstport 4789"
				echo "link add dbr-$t type bridge"
				echo "link set vx-$t master dbr-$t up"
				echo "link set f-$t master dbr-$t up"
				# a pseudowire (as EVPN-VPWS): MACs are learned by the DCs' bridges, which
				# forget a port's when it goes, not by the interconnect, whose entries
				# would point at the DC a silent VM left until its frames cross
				echo "link set vx-$t type bridge_slave learning off"
				echo "link set f-$t type bridge_slave learning off"
				echo "link set dbr-$t up"
			done
		} | nsip "dci$i"
	done
}

# fhrp_filter: FHRP isolation on the layer-2 extension (esm), as OTV is configured for it: on
# the extension's ports, in or out, frames from or to the tenant's gateway MAC, and ARP from or
# for its gateway IP, are dropped (counted per rule, chain ext-<tenant>).
fhrp_filter() {
	local t
	{
		echo "table bridge fhrp {"
		echo "	chain forward {"
		echo "		type filter hook forward priority 0; policy accept;"
		for t in a b; do
			echo "		iifname { x-$t""1, x-$t""2 } jump ext-$t"
			echo "		oifname { x-$t""1, x-$t""2 } jump ext-$t"
		done
		echo "	}"
		for t in a b; do
			echo "	chain ext-$t {"
			echo "		ether saddr $(gwmac_of $t) counter drop comment \"from the gateway MAC\""
			echo "		ether daddr $(gwmac_of $t) counter drop comment \"to the gateway MAC\""
			echo "		arp saddr ip 198.51.100.1 counter drop comment \"ARP from the gateway IP\""
			echo "		arp daddr ip 198.51.100.1 counter drop comment \"ARP for the gateway IP\""
			echo "	}"
		done
		echo "}"
	} | ip netns exec "$(n fab)" nft -f -
}

# hypervisors (--guest qemu): hvN's bridge br-a (the guest's tap joins it) with its uplink to
# fab's br-aN, the migration link (192.0.2.240/30), the management link to fhr-aN
# (192.0.2.244/30 in DC1, .248/30 in DC2: the hypervisor .1, the FHR .2)
hypervisors() {
	local i
	for i in 1 2; do
		nsip "hv$i" <<-B
			link set lo up
			link add br-a type bridge
			link set br-a up
			link set up-a master br-a up
			addr add 192.0.2.24$i/30 dev mig0
			link set mig0 up
			addr add 192.0.2.$((245 + 4 * (i - 1)))/30 dev mgmt
			link set mgmt up
		B
		nsip "fhr-a$i" <<-B
			addr add 192.0.2.$((246 + 4 * (i - 1)))/30 dev hv0
			link set hv0 up
		B
		ip netns exec "$(n "hv$i")" sysctl -qw net.bridge.bridge-nf-call-iptables=0 2>/dev/null || true
	done
}

# nsip ROLE: ip commands from stdin, one process, in ROLE's namespace.
nsip() { ip -n "$(n "$1")" -b -; }
