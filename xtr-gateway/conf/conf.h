/*
 * The configuration of xtr-gateway: what conf/parse.c reads from the
 * Cisco-like `router lisp` file and conf/printconf.c prints back, one
 * struct per block; the engines read their part of it.
 */
#ifndef XTR_GATEWAY_CONF_CONF_H
#define XTR_GATEWAY_CONF_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <net/if.h>

#include "lib/lisp_addr.h"
#include "lib/lisp_msg.h"

#define XTR_SITE_NAME_MAX   64
#define XTR_KEY_MAX	    128
#define XTR_IFNAME_MAX	    64 /* interface names as configured (IOS names may exceed Linux's 15) */
#define XTR_LISTEN_MAX	    8
#define XTR_TTL_MAX_MINUTES (7u * 24 * 60)

/* Configuration (parse.c fills it, printconf.c prints it) */

struct xtr_conf_prefix {
	struct lisp_prefix p;
	bool accept_more_specifics;
};

struct xtr_conf_site {
	char name[XTR_SITE_NAME_MAX];
	char *description; /* NULL when none */
	uint8_t key[XTR_KEY_MAX];
	size_t keylen;
	bool has_key;
	bool strict_nonce;
	struct xtr_conf_prefix *prefixes;
	size_t nprefixes;
	struct lisp_addr *allowed; /* allowed-locator; none = any */
	size_t nallowed;
};

/* xtr-id HEX [site-id N]: an identity a subscriber may use (no site-id: with or without one) */
struct xtr_conf_xtr_id {
	uint8_t id[16];
	uint64_t site_id;
	bool has_site_id;
};

/*
 * subscriber NAME: an ITR or proxy-ITR that may subscribe to mappings
 * (RFC 9437): the xTR-IDs it subscribes with, the ITR-RLOCs it may name,
 * the key of its security association, how many subscriptions it may hold.
 */
struct xtr_conf_subscriber {
	char name[XTR_SITE_NAME_MAX];
	char *description; /* NULL when none */
	uint8_t key[XTR_KEY_MAX];
	size_t keylen;
	bool has_key;
	struct xtr_conf_xtr_id *ids;
	size_t nids;
	struct lisp_addr *rlocs; /* itr-rloc ADDRESS */
	size_t nrlocs;
	unsigned limit; /* subscription-limit N */
	unsigned line;
};
#define XTR_PROBE_MISSES_DEFAULT 3
#define XTR_PROBE_MS_MIN	 100
#define XTR_PROBE_MS_MAX	 3600000
#define XTR_SUB_LIMIT_DEFAULT	 10000
#define XTR_SUB_LIMIT_MAX	 1000000

/* A locator: an address, or the first address of a family on an interface. */
struct xtr_conf_locator {
	struct lisp_addr addr; /* afi NONE for the interface form */
	char ifname[XTR_IFNAME_MAX];
	uint16_t if_afi; /* the interface form: LISP_AFI_IPV4 or _IPV6 */
	uint8_t priority, weight;
};

struct xtr_conf_locset {
	char name[XTR_SITE_NAME_MAX];
	struct xtr_conf_locator *locs;
	size_t nlocs;
};

/* database-mapping: an EID-prefix of this ETR and its locators. */
struct xtr_conf_dbmap {
	struct lisp_prefix p;
	char locset[XTR_SITE_NAME_MAX]; /* "" for the inline form */
	struct xtr_conf_locator *locs;	/* the inline form */
	size_t nlocs;
	unsigned line;
	int dyn; /* index of the dynamic-eid it belongs to, -1: a plain database-mapping */
};

/*
 * dynamic-eid NAME: hosts seen with a source inside its database-mapping
 * prefixes are registered as /32 or /128 with the mapping's locators.
 */
struct xtr_conf_dyneid {
	char name[XTR_SITE_NAME_MAX];
	uint32_t iid;
	unsigned line;
	/* eid-notify authentication-key: first-hop routers may notify EIDs of this dynamic-eid */
	uint8_t notify_key[XTR_KEY_MAX];
	size_t notify_keylen;
	bool has_notify_key;
	/* learning data-plane: the data plane learns hosts too (so without an eid-notify key) */
	bool learn_data;
	unsigned learn_timeout; /* learning timeout N: a data-learned host silent that long goes */
	unsigned host_limit;	/* host-limit N: hosts learned at once, from any source */
	unsigned notify_peer_limit; /* eid-notify peer-limit N: first-hop routers at most */
	/* migration-hold MS [packets N] [bytes N] | no migration-hold: while a host's VM is leaving
	 * (its FHR says so), its packets are held that long at most, that many per host (ms 0: off) */
	unsigned hold_ms, hold_packets, hold_bytes;
};
#define XTR_NOTIFY_PEERS_DEFAULT 64
#define XTR_NOTIFY_PEERS_MAX	 4096

#define XTR_DYN_TIMEOUT_DEFAULT	   300 /* s */
#define XTR_DYN_TIMEOUT_MIN	   10
#define XTR_DYN_TIMEOUT_MAX	   604800
#define XTR_DYN_HOST_LIMIT_DEFAULT 4096
#define XTR_MHOLD_MS_DEFAULT	   2000
#define XTR_MHOLD_MS_MAX	   10000
#define XTR_MHOLD_PACKETS_DEFAULT  4096
#define XTR_MHOLD_PACKETS_MAX	   65536
#define XTR_MHOLD_BYTES_DEFAULT	   (8u << 20)
#define XTR_MHOLD_BYTES_MAX	   (256u << 20)

/* interface NAME: lisp mobility DYN, lisp extended-subnet-mode */
struct xtr_conf_iface {
	char name[XTR_IFNAME_MAX];
	char mobility[XTR_SITE_NAME_MAX]; /* "" when none */
	bool extended_subnet;
	unsigned line;
};

/* ipv4|ipv6 use-petr ADDRESS [priority P weight W] */
struct xtr_conf_petr {
	struct lisp_addr addr;
	uint8_t priority, weight;
	unsigned line;
};

#define XTR_PETR_MAX	   8
#define XTR_DP_IFNAME	   "lisp0"
#define XTR_DP_MTU_DEFAULT 1500
#define XTR_DP_WORKERS_MAX 64 /* dataplane workers N */

/* map-cache PREFIX map-request|drop|native-forward */
struct xtr_conf_mapcache {
	struct lisp_prefix p;
	uint8_t act; /* enum lisp_act */
};

/* eid-table default|vrf NAME instance-id N */
struct xtr_conf_eidtable {
	uint32_t iid;
	char vrf[XTR_SITE_NAME_MAX]; /* "" for default */
};

/*
 * ipv4|ipv6 etr map-server ADDRESS key [0|hex] KEY [hash-function sha1|sha2]
 * [notify-nonce random]
 */
struct xtr_conf_ms {
	struct lisp_addr addr;
	uint8_t key[XTR_KEY_MAX];
	size_t keylen;
	uint8_t alg;	    /* LISP_ALG_HMAC_SHA256_128 (sha2, default) or _SHA1_96 (sha1) */
	bool random_nonces; /* its unsolicited Map-Notify nonces are random (a third party's) */
	bool proxy_reply;   /* it answers Map-Requests for our EIDs itself (P bit) */
	unsigned line;
};

/* The Map-Server and Map-Resolver part: what ms/ reads (ms_configure()). */
struct xtr_conf_msmr {
	struct xtr_conf_site **sites;
	size_t nsites;
	struct xtr_conf_subscriber **subscribers;
	size_t nsubscribers;
	bool ms_v4, ms_v6, mr_v4, mr_v6; /* ipv4|ipv6 map-server|map-resolver */
};

/* map-reply rate-limit PPS [burst N] [total PPS]: answers per destination, all together */
struct xtr_conf_ratelimit {
	double rate, burst, total;
};

/*
 * The ITR part: what the map-cache reads (mc_configure()); the data plane
 * routes the static map-cache prefixes too.
 */
struct xtr_conf_itr {
	struct lisp_addr *map_resolvers; /* ipv4|ipv6 itr map-resolver ADDRESS */
	unsigned *map_resolver_lines;
	size_t nmap_resolvers;
	struct xtr_conf_mapcache *mapcache; /* static entries */
	size_t nmapcache;
	size_t map_cache_limit; /* dataplane map-cache-limit */
	/* dataplane map-request-limit [per-instance-id] N: resolutions outstanding */
	size_t mr_limit, mr_limit_iid;
	/* rloc-probing interval MS [misses N]: every locator cached probed (0: off) */
	unsigned probe_ms, probe_misses;
	/* itr subscribe xtr-id HEX site-id N authentication-key [0|hex] KEY (RFC 9437) */
	bool subscribe;
	uint8_t sub_xtr_id[16];
	uint64_t sub_site_id;
	uint8_t sub_key[XTR_KEY_MAX];
	size_t sub_keylen;
};

/*
 * The data plane's own settings (dataplane/); it reads the map-cache
 * prefixes, eid-tables, database-mappings and proxy roles from the rest.
 */
struct xtr_conf_dp {
	char ifname[IF_NAMESIZE]; /* dataplane interface NAME: the EID-side TUN */
	unsigned mtu;		  /* dataplane mtu N: the RLOC-side MTU */
	unsigned workers;	  /* dataplane workers N (0: one per online CPU) */
	/* dataplane hold-queue-limit [per-instance-id] N: packets held for a Map-Reply */
	size_t hold_limit, hold_limit_iid;
	struct xtr_conf_petr petrs[XTR_PETR_MAX]; /* ipv4|ipv6 use-petr */
	size_t npetrs;
};

struct xtr_conf {
	struct xtr_conf_msmr msmr;
	/* map-server address: the control sockets of every role; none = wildcard */
	struct lisp_addr listen[XTR_LISTEN_MAX];
	size_t nlisten;
	/* ETR */
	bool etr_v4, etr_v6;
	struct xtr_conf_locset *locsets;
	size_t nlocsets;
	struct xtr_conf_dbmap *dbmaps;
	size_t ndbmaps;
	struct xtr_conf_eidtable *eidtables;
	size_t neidtables;
	struct xtr_conf_ms *map_servers;
	size_t nmap_servers;
	/* ITR */
	bool itr_v4, itr_v6;
	struct xtr_conf_itr itr;
	/* dynamic EIDs and the interfaces that learn them */
	struct xtr_conf_dyneid *dyneids;
	size_t ndyneids;
	struct xtr_conf_iface *ifaces;
	size_t nifaces;
	/* proxy xTR (the use-petr lines are in dp) */
	struct lisp_addr proxy_itr4, proxy_itr6; /* afi NONE when not a PITR */
	bool proxy_etr_v4, proxy_etr_v6;
	struct xtr_conf_dp dp;
	struct xtr_conf_ratelimit reply; /* the Map-Server's and the ETR's Map-Replies */
	/* site-id N: the Site-ID of our Map-Registers; the gateways of one DC share it (0: none) */
	uint64_t site_id;
	/* metrics listen ADDRESS port N (port 0: off) */
	struct lisp_addr metrics_addr;
	uint16_t metrics_port;
};

/* True if the configuration has a data-plane role (ITR, ETR, PITR or PETR). */
bool xtr_conf_dataplane(const struct xtr_conf *c);
/* True if dynamic-eid d learns hosts from the data plane (no eid-notify key, or said so). */
bool xtr_conf_learns_data(const struct xtr_conf_dyneid *d);

#define XTR_MAP_CACHE_LIMIT_DEFAULT 100000
#define XTR_HOLD_LIMIT_DEFAULT	    256
#define XTR_HOLD_LIMIT_IID_DEFAULT  64
#define XTR_HOLD_LIMIT_MAX	    4096
#define XTR_MR_LIMIT_DEFAULT	    1024
#define XTR_MR_LIMIT_IID_DEFAULT    256
#define XTR_MR_LIMIT_MAX	    16384
#define XTR_REPLY_RATE_DEFAULT	    100
#define XTR_REPLY_BURST_DEFAULT	    200
#define XTR_REPLY_TOTAL_DEFAULT	    10000
#define XTR_REPLY_RATE_MAX	    1000000
#define XTR_REPLY_TOTAL_MAX	    10000000
#define XTR_REPLY_DESTINATIONS	    4096 /* destinations each engine's limiter remembers */

/* conf/parse.c */
/* Reads path into a new config; on error NULL and the message ("FILE:LINE: ...") in err. */
struct xtr_conf *xtr_conf_load(const char *path, char *err, size_t errlen);
/* The same from a string (tests, fuzzing). */
struct xtr_conf *xtr_conf_parse_string(const char *name, const char *text, char *err,
				       size_t errlen);
void xtr_conf_free(struct xtr_conf *c);

/* conf/printconf.c */
/* Prints the canonical form of c (it parses back to the same config). */
void xtr_conf_print(const struct xtr_conf *c, FILE *f);

#endif /* XTR_GATEWAY_CONF_CONF_H */
