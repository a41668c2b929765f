/* xtrctl text output, in the layout of IOS `show lisp site`. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "xtr-gateway/ctl/xtrctl.h"

/* An age or duration as IOS prints it: HH:MM:SS, or 1d02h past a day. */
static const char *span(char *buf, size_t size, double secs)
{
	uint64_t s = secs < 0 ? 0 : (uint64_t)secs;

	if (s >= 86400)
		snprintf(buf, size, "%" PRIu64 "d%02" PRIu64 "h", s / 86400, s % 86400 / 3600);
	else
		snprintf(buf, size, "%02" PRIu64 ":%02" PRIu64 ":%02" PRIu64, s / 3600,
			 s % 3600 / 60, s % 60);
	return buf;
}

static const char *ago(char *buf, size_t size, double when, double now)
{
	if (when == 0) {
		snprintf(buf, size, "never");
		return buf;
	}
	return span(buf, size, now - when);
}

static uint32_t db_iid = UINT32_MAX; /* the eid-table whose header was printed last */

static void database(const Vmroam__Xtr__DatabaseMapping *dm, double now)
{
	char a[32];

	if (dm->instance_id != db_iid) {
		db_iid = dm->instance_id;
		printf("\nLISP ETR Mapping Database for EID-table instance-id %u\n", db_iid);
	}
	printf("\n%s", dm->eid_prefix);
	if (dm->dynamic_eid[0])
		printf(", dynamic-eid %s%s", dm->dynamic_eid,
		       dm->registered ? "" : " (not registered yet)");
	if (dm->locator_set[0])
		printf(", locator-set %s", dm->locator_set);
	printf("\n  %-40s %-8s %-16s %s\n", "Locator", "Pri/Wgt", "Source", "State");
	for (size_t i = 0; i < dm->n_locators; i++) {
		const Vmroam__Xtr__DbLocator *l = dm->locators[i];
		char src[64], pw[16];

		snprintf(src, sizeof(src), "%s%s%s", l->source, l->interface[0] ? " " : "",
			 l->interface);
		snprintf(pw, sizeof(pw), "%u/%u", l->priority, l->weight);
		printf("  %-40s %-8s %-16s %s\n", l->address[0] ? l->address : "--", pw, src,
		       l->up ? "site-self, reachable" : "no address");
	}
	for (size_t i = 0; i < dm->n_registrations; i++) {
		const Vmroam__Xtr__Registration *g = dm->registrations[i];

		printf("  Map-Server %s: %s, last registered %s, %" PRIu64 " Map-Registers sent\n",
		       g->map_server, g->registered ? "registered" : "not registered",
		       ago(a, sizeof(a), g->last_registered, now), g->attempts);
	}
}

static size_t rows; /* rows of a list printed: an empty one says so */

static void away(const Vmroam__Xtr__AwayEntry *e, double now)
{
	char since[32], ex[32];

	rows++;
	printf("%s instance-id %u, away since %s, expires in %s, told by Map-Server %s\n",
	       e->eid_prefix, e->instance_id, ago(since, sizeof(since), e->since, now),
	       span(ex, sizeof(ex), e->expires - now), e->map_server);
	for (size_t i = 0; i < e->n_locators; i++)
		printf("  now at %-40s %-5s %3u/%u\n", e->locators[i]->address,
		       e->locators[i]->up ? "up" : "down", e->locators[i]->priority,
		       e->locators[i]->weight);
	printf("  %" PRIu64 " packets re-encapsulated to the new site, %" PRIu64 " SMRs sent\n",
	       e->packets, e->smrs);
}

static bool sub_header, subscriber_header;

static void subscriber(const Vmroam__Xtr__Subscriber *w)
{
	if (!subscriber_header)
		printf("Subscribers (RFC 9437 publish/subscribe)\n");
	subscriber_header = true;
	printf("  %s: %" PRIu64 " subscriptions (limit %" PRIu64 ")\n", w->name, w->subscriptions,
	       w->limit);
	printf("    requests %" PRIu64 ", confirmed %" PRIu64 ", renewed %" PRIu64 "\n",
	       w->requests, w->confirmed, w->renewed);
	printf("    refused: identity (ACT 5) %" PRIu64 ", limit (ACT 4) %" PRIu64 "\n",
	       w->refused_auth, w->refused_limit);
	printf("    publications %" PRIu64 ", retransmissions %" PRIu64 ", acks %" PRIu64
	       " (%" PRIu64 " failing authentication)\n",
	       w->publications, w->retransmissions, w->acks, w->ack_auth_failures);
	printf("    dropped: unacknowledged %" PRIu64 ", unsubscribed %" PRIu64 ", expired %" PRIu64
	       "\n",
	       w->dropped_unacknowledged, w->unsubscribed, w->expired);
}

static void subscription(const Vmroam__Xtr__Subscription *e, double now)
{
	char since[32], ex[32];
	bool ms = strcmp(e->role, "map-server") == 0;

	rows++;
	if (!sub_header)
		printf("%sSubscriptions\n", subscriber_header ? "\n" : "");
	sub_header = true;
	if (ms) {
		printf("  %s instance-id %u: subscriber %s, xTR-ID %s%s%s, %s\n", e->eid_prefix,
		       e->instance_id, e->subscriber, e->xtr_id, e->site_id[0] ? ", Site-ID " : "",
		       e->site_id, e->confirmed ? "confirmed" : "not confirmed yet");
		printf("    publications to %s, %" PRIu64 " sent, last nonce %016" PRIx64
		       ", since %s, expires in %s%s%s\n",
		       e->itr_rloc, e->publications, e->nonce,
		       ago(since, sizeof(since), e->since, now),
		       span(ex, sizeof(ex), e->expires - now),
		       e->outstanding[0] ? ", waiting for the ack of a " : "", e->outstanding);
	} else {
		printf("  %s instance-id %u: this ITR's, from Map-Server %s since %s, %" PRIu64
		       " publications taken, last nonce %016" PRIx64 "\n",
		       e->eid_prefix, e->instance_id, e->map_server,
		       ago(since, sizeof(since), e->since, now), e->publications, e->nonce);
	}
}

static bool dyn_header;

/*
 * show lisp dynamic-eid summary, as IOS lays it out; one title per VRF.
 * On a gateway the last column names the FHR that notified the EID; on
 * fhr-agent (fhrctl) it is the host's MAC, with its liveness pings pending.
 */
static void dynamic_eid(const Vmroam__Xtr__DynamicEid *e, double now)
{
	static uint32_t iid = UINT32_MAX;
	char up[32], last[32], eid[64], ping[16];
	const char *slash;

	rows++;
	if (!dyn_header || e->instance_id != iid) {
		printf("%sLISP Dynamic EID Summary for VRF \"%s\" (instance-id %u)\n",
		       dyn_header ? "\n" : "", e->vrf[0] ? e->vrf : "default", e->instance_id);
#ifdef CTL_FOR_FHR
		printf("State: detected, acknowledged (by every gateway) or moved-away\n\n");
		printf("%-16s %-24s %-12s %-9s %-9s %-7s %-9s %-13s %s\n", "Dyn-EID Name",
		       "Dynamic-EID", "Interface", "Uptime", "Last", "Pending", "Source", "State",
		       "MAC");
#else
		printf("* = Dyn-EID learned from a first-hop router's notification\n\n");
		printf("%-16s %-24s %-12s %-9s %-9s %-7s %-9s %-10s %s\n", "Dyn-EID Name",
		       "Dynamic-EID", "Interface", "Uptime", "Last", "Pending", "Source",
		       "Registered", "Notified by");
#endif
		printf("%-16s %-24s %-12s %-9s %-9s %-7s\n", "", "", "", "", "Packet", "Ping");
		dyn_header = true;
		iid = e->instance_id;
	}
	slash = strchr(e->eid, '/');
#ifdef CTL_FOR_FHR
	snprintf(eid, sizeof(eid), "%.*s", slash ? (int)(slash - e->eid) : (int)strlen(e->eid),
		 e->eid);
	snprintf(ping, sizeof(ping), "%u", e->pending_pings);
	printf("%-16s %-24s %-12s %-9s %-9s %-7s %-9s %-13s %s\n", e->policy, eid,
	       e->interface[0] ? e->interface : "-", span(up, sizeof(up), now - e->since),
	       ago(last, sizeof(last), e->last_packet, now), ping, e->source, e->state, e->mac);
#else
	snprintf(eid, sizeof(eid), "%s%.*s", strcmp(e->source, "fhr") == 0 ? "*" : "",
		 slash ? (int)(slash - e->eid) : (int)strlen(e->eid), e->eid);
	/* the gateway sends no liveness pings: "-" */
	snprintf(ping, sizeof(ping), "-");
	printf("%-16s %-24s %-12s %-9s %-9s %-7s %-9s %-10s %s\n", e->policy, eid,
	       e->interface[0] ? e->interface : "-", span(up, sizeof(up), now - e->since),
	       ago(last, sizeof(last), e->last_packet, now), ping, e->source,
	       e->registered ? "yes" : "no", e->fhr);
	if (e->leaving_until > 0)
		printf("%-16s   leaving (migration): %llu packets (%llu bytes) held, %.1f s more "
		       "at most\n",
		       "", (unsigned long long)e->held_packets, (unsigned long long)e->held_bytes,
		       e->leaving_until > now ? e->leaving_until - now : 0.0);
#endif
}

static bool policy_header;

/* A dynamic-eid after the hosts: where it learns from, its hosts and refusals. */
static void dynamic_eid_policy(const Vmroam__Xtr__DynamicEidPolicy *p)
{
	char from[16], timeout[16], hosts[24];

#ifdef CTL_FOR_FHR
	if (!policy_header) {
		printf("\n%-16s %-8s %-13s %14s\n", "Dyn-EID Name", "Inst ID", "EIDs/Limit",
		       "Refused limit");
		policy_header = true;
	}
	snprintf(hosts, sizeof(hosts), "%" PRIu64 "/%u", p->hosts, p->host_limit);
	printf("%-16s %-8u %-13s %14" PRIu64 "\n", p->name, p->instance_id, hosts,
	       p->refused_limit);
	(void)from;
	(void)timeout;
	return;
#endif
	if (!policy_header) {
		if (!rows)
			printf("No dynamic EIDs\n");
		printf("\nDynamic-EID learning (data: from the data plane; fhr: eid-notify)\n");
		printf("%-16s %-8s %-9s %-13s %-8s %9s %7s %14s %14s\n", "Dyn-EID Name", "Inst ID",
		       "From", "Hosts/Limit", "Timeout", "Learned", "Aged", "Refused data",
		       "Refused limit");
		policy_header = true;
	}
	snprintf(from, sizeof(from), "%s%s%s", p->eid_notify ? "fhr" : "",
		 p->eid_notify && p->data_plane_learning ? "," : "",
		 p->data_plane_learning ? "data" : "");
	snprintf(timeout, sizeof(timeout), "%u", p->learning_timeout);
	snprintf(hosts, sizeof(hosts), "%" PRIu64 "/%u", p->hosts, p->host_limit);
	printf("%-16s %-8u %-9s %-13s %-8s %9" PRIu64 " %7" PRIu64 " %14" PRIu64 " %14" PRIu64 "\n",
	       p->name, p->instance_id, p->active ? from : "-", hosts,
	       p->data_plane_learning ? timeout : "-", p->learned, p->aged, p->refused_data,
	       p->refused_limit);
}

static bool notify_header;

static void eid_notify_peer(const Vmroam__Xtr__EidNotifyPeer *p, double now)
{
	char last[32], addr[64];

	if (!notify_header) {
#ifdef CTL_FOR_FHR
		printf("%-20s %-8s %-16s %-28s %-5s %-9s %6s %7s %8s %7s %s\n", "Gateway",
		       "Inst ID", "Dynamic-EID", "Address", "State", "Heard", "EIDs", "Pending",
		       "Sent", "Refused", "In sync");
#else
		printf("%-20s %-8s %-16s %-28s %-5s %-9s %6s %7s %8s %7s %s\n", "First-hop router",
		       "Inst ID", "Dynamic-EID", "Address", "State", "Heard", "EIDs", "Pending",
		       "Arrivals", "Refused", "In sync");
#endif
		notify_header = true;
	}
	snprintf(addr, sizeof(addr), "%s:%u", p->address, p->port);
	printf("%-20s %-8u %-16s %-28s %-5s %-9s %6" PRIu64 " %7" PRIu64 " %8" PRIu64 " %7" PRIu64
	       " %s\n",
	       p->id, p->instance_id, p->dynamic_eid, addr, p->up ? "up" : "down",
	       ago(last, sizeof(last), p->last_heard, now), p->eids, p->pending, p->arrivals,
	       p->refused, p->in_sync ? "yes" : "no");
}

static void dataplane(const Vmroam__Xtr__Dataplane *dp)
{
	printf("LISP data plane\n");
	for (size_t i = 0; i < dp->n_interfaces; i++)
		printf("  %-12s instance-id %-8u mtu %-5u held %" PRIu64 "\n",
		       dp->interfaces[i]->name, dp->interfaces[i]->instance_id,
		       dp->interfaces[i]->mtu, dp->interfaces[i]->held);
	printf("  Dynamic EIDs: %" PRIu64 ", packets waiting for a Map-Reply: %" PRIu64 "\n",
	       dp->dynamic_eids, dp->held);
	printf("\nPipeline (per verdict)                     %14s %16s\n", "Packets", "Bytes");
	for (size_t i = 0; i < dp->n_pipeline; i++)
		printf("  %-40s %14" PRIu64 " %16" PRIu64 "\n", dp->pipeline[i]->name,
		       dp->pipeline[i]->packets, dp->pipeline[i]->bytes);
	printf("  Hold queue limit: %" PRIu64 ", per instance-id %" PRIu64 "\n", dp->hold_limit,
	       dp->hold_limit_per_instance_id);
	printf("\nI/O                                        %14s\n", "Packets");
	for (size_t i = 0; i < dp->n_io; i++)
		printf("  %-52s %" PRIu64 "\n", dp->io[i]->name, dp->io[i]->packets);
	printf("\nWorkers  %16s %16s %16s %16s\n", "EID side in", "EID side out", "RLOC side in",
	       "RLOC side out");
	for (size_t i = 0; i < dp->n_workers; i++)
		printf("  %-6zu %16" PRIu64 " %16" PRIu64 " %16" PRIu64 " %16" PRIu64 "\n", i,
		       dp->workers[i]->eid_received, dp->workers[i]->eid_sent,
		       dp->workers[i]->rloc_received, dp->workers[i]->rloc_sent);
}

/* show lisp hypervisor (fhrctl) */
static void hypervisor(const Vmroam__Xtr__Hypervisor *h, double now)
{
	char up[32], last[32];

	if (!h->port) {
		printf("Hypervisor events: off (no dynamic-eid has a hypervisor-events key)\n");
		return;
	}
	printf("Hypervisor events: UDP port %u, %u instance-id(s) with a key\n", h->port,
	       h->instance_ids);
	printf("  Received %" PRIu64 ", accepted %" PRIu64 "; refused: authentication %" PRIu64
	       ", replay %" PRIu64 ", clock %" PRIu64 ", unknown instance-id %" PRIu64
	       ", malformed %" PRIu64 ", busy %" PRIu64 "\n",
	       h->received, h->accepted, h->auth_failures, h->replays, h->stale,
	       h->unknown_instance_id, h->malformed, h->busy);
	printf("  Arriving %" PRIu64 ", live %" PRIu64 ", left %" PRIu64
	       "; EIDs registered %" PRIu64 ", withdrawn %" PRIu64
	       "; live with no address known %" PRIu64
	       ", addresses outside the dynamic-EIDs %" PRIu64 "\n",
	       h->arriving, h->live, h->left, h->detected, h->departed, h->live_unknown,
	       h->out_of_prefix);
	if (!h->n_bindings) {
		printf("\nNo VMs known from the hypervisors\n");
		return;
	}
	printf("\n%-18s %-8s %-20s %-16s %-9s %-9s %-9s %s\n", "MAC", "Inst ID", "Domain", "Host",
	       "State", "Since", "Updated", "Addresses");
	for (size_t i = 0; i < h->n_bindings; i++) {
		const Vmroam__Xtr__HypervisorBinding *b = h->bindings[i];

		printf("%-18s %-8u %-20s %-16s %-9s %-9s %-9s ", b->mac, b->instance_id, b->domain,
		       b->host, b->state, span(up, sizeof(up), now - b->since),
		       ago(last, sizeof(last), b->updated, now));
		for (size_t k = 0; k < b->n_addresses; k++)
			printf("%s%s", k ? ", " : "", b->addresses[k]);
		printf("%s\n", b->n_addresses ? "" : "-");
	}
}

static bool event_header;

/* show lisp event-history: one line per event, wall-clock time with microseconds */
static void event(const Vmroam__Xtr__Event *e)
{
	time_t sec = (time_t)e->time;
	char when[32], eid[96];
	struct tm tm;

	rows++;
	if (!event_header) {
		printf("LISP event history (oldest first)\n\n%-8s %-26s %-16s %-28s %-24s %s\n",
		       "Seq", "Time (UTC)", "Event", "EID", "Peer", "Detail");
		event_header = true;
	}
	gmtime_r(&sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
	if (e->instance_id)
		snprintf(eid, sizeof(eid), "[%u] %s", e->instance_id, e->eid);
	else
		snprintf(eid, sizeof(eid), "%s", e->eid[0] ? e->eid : "-");
	printf("%-8" PRIu64 " %s.%06u %-16s %-28s %-24s %s\n", e->seq, when,
	       (unsigned)((e->time - (double)sec) * 1e6 + 0.5) % 1000000, e->event, eid,
	       e->peer[0] ? e->peer : "-", e->detail);
}

static uint32_t mc_iid = UINT32_MAX;

static void map_cache(const Vmroam__Xtr__MapCacheEntry *e, double now)
{
	char up[32], ex[32];

	if (e->instance_id != mc_iid) {
		mc_iid = e->instance_id;
		printf("\nLISP Mapping Cache for EID-table instance-id %u\n\n", mc_iid);
	}
	if (e->expires == 0)
		snprintf(ex, sizeof(ex), "never");
	else
		span(ex, sizeof(ex), e->expires - now);
	printf("%s, uptime: %s, expires: %s, via %s, %s\n", e->eid_prefix,
	       ago(up, sizeof(up), e->created, now), ex, e->configured ? "static" : "map-reply",
	       e->state);
	if (strcmp(e->state, "negative") == 0)
		printf("  Negative cache entry, action: %s\n", e->action);
	if (!e->n_locators)
		return;
	printf("  %-40s %-9s %-5s %-8s %-21s %s\n", "Locator", "Uptime", "State", "Pri/Wgt",
	       "Data in/out (packets)", "Control in");
	for (size_t i = 0; i < e->n_locators; i++) {
		const Vmroam__Xtr__McLocator *l = e->locators[i];
		char pw[16], data[48];

		snprintf(pw, sizeof(pw), "%u/%u", l->priority, l->weight);
		snprintf(data, sizeof(data), "%" PRIu64 "/%" PRIu64, l->packets_in, l->packets_out);
		printf("  %-40s %-9s %-5s %-8s %-21s %" PRIu64 "\n", l->address,
		       ago(up, sizeof(up), l->since, now), l->up ? "up" : "down", pw, data,
		       l->control_in);
	}
}

static void begin(const struct parse_result *res)
{
	if (res->action != ACT_SHOW_SITE)
		return;
	printf("LISP Site Registration Information\n");
	if (!res->detail)
		printf("\n%-16s %-9s %-4s %-24s %-9s %s\n%-16s %-9s %-4s %-24s %-9s\n", "Site Name",
		       "Last", "Up", "Who Last", "Inst", "EID Prefix", "", "Register", "",
		       "Registered", "ID");
}

static void summary_row(const char *name, const Vmroam__Xtr__SitePrefix *p, double now)
{
	char age[32], pfx[80];

	snprintf(pfx, sizeof(pfx), "%s", p->eid_prefix);
	if (p->accept_more_specifics)
		snprintf(pfx + strlen(pfx), sizeof(pfx) - strlen(pfx), "-%u", p->more_specifics);
	printf("%-16s %-9s %-4s %-24s %-9u %s\n", name,
	       ago(age, sizeof(age), p->last_registered, now), p->registered ? "yes" : "no",
	       p->registered ? p->last_registered_by : "--", p->instance_id, pfx);
}

static void registrant(const Vmroam__Xtr__Registrant *r, double now)
{
	char a[32], b[32];

	printf("    ETR %s:%u, last registered %s, expires in %s\n", r->address, r->port,
	       ago(a, sizeof(a), r->last_registered, now), span(b, sizeof(b), r->expires - now));
	if (r->xtr_id[0])
		printf("        xTR-ID 0x%s\n", r->xtr_id);
	if (r->site_id)
		printf("        Site-ID %" PRIu64 " (its xTRs' registrations merge)\n", r->site_id);
	printf("      %-40s %-6s %s\n", "Locator", "State", "Pri/Wgt");
	for (size_t i = 0; i < r->n_locators; i++)
		printf("      %-40s %-6s %3u/%u\n", r->locators[i]->address,
		       r->locators[i]->up ? "up" : "down", r->locators[i]->priority,
		       r->locators[i]->weight);
}

static void detail_prefix(const Vmroam__Xtr__SitePrefix *p, double now)
{
	char a[32];

	printf("\n  EID-prefix: %s instance-id %u\n", p->eid_prefix, p->instance_id);
	printf("    First registered:     %s\n", ago(a, sizeof(a), p->first_registered, now));
	printf("    Last registered:      %s\n", ago(a, sizeof(a), p->last_registered, now));
	if (p->configured)
		printf("    Origin:               Configuration%s\n",
		       p->accept_more_specifics ? ", accepting more specifics" : "");
	else
		printf("    Origin:               Dynamic, more specific of a configured prefix\n");
	if (p->accept_more_specifics)
		printf("    More-specifics:       %u registered\n", p->more_specifics);
	printf("    Registration state:   %s\n", p->registered ? "registered" : "not registered");
	if (!p->registered)
		return;
	printf("    Who last registered:  %s\n", p->last_registered_by);
	printf("    Proxy reply:          %s\n", p->proxy_reply ? "yes" : "no");
	printf("    Wants Map-Notify:     %s\n", p->want_map_notify ? "yes" : "no");
	printf("    TTL:                  %s\n", span(a, sizeof(a), p->ttl * 60.0));
	for (size_t i = 0; i < p->n_registrants; i++)
		registrant(p->registrants[i], now);
}

static void detail_header(const Vmroam__Xtr__Site *s)
{
	printf("\nSite name: %s\n", s->name);
	printf("Description: %s\n", s->description[0] ? s->description : "none");
	printf("Allowed configured locators:");
	if (!s->n_allowed_locators)
		printf(" any");
	for (size_t i = 0; i < s->n_allowed_locators; i++)
		printf(" %s", s->allowed_locators[i]);
	printf("\nStrict nonce check: %s\nAllowed EID-prefixes:\n", s->strict_nonce ? "yes" : "no");
}

/* A site's counters come with its first record and are printed after its last prefix. */
static Vmroam__Xtr__SiteCounters pending;
static bool have_pending;

static void print_counters(void)
{
	const Vmroam__Xtr__SiteCounters *c = &pending;

	if (!have_pending)
		return;
	have_pending = false;
	printf("\nRegistration errors:\n");
	printf("  Authentication failures:    %" PRIu64 "\n", c->auth_failures);
	printf("  Allowed locators mismatch:  %" PRIu64 "\n", c->allowed_locator_mismatches);
	printf("  Prefix not in site:         %" PRIu64 "\n", c->prefix_rejects);
	printf("  Nonce replays:              %" PRIu64 "\n", c->nonce_replays);
	printf("  Nonce table full:           %" PRIu64 "\n", c->nonce_overflows);
	printf("Counters:\n");
	printf("  Registrations %" PRIu64 ", deregistrations %" PRIu64 ", expirations %" PRIu64
	       ", moves %" PRIu64 "\n",
	       c->registrations, c->deregistrations, c->expirations, c->moves);
	printf("  Map-Notify sent %" PRIu64 ", acknowledged %" PRIu64 ", given up %" PRIu64 "\n",
	       c->map_notifies_sent, c->map_notify_acks, c->map_notify_giveups);
	printf("  Map-Requests forwarded %" PRIu64 ", proxy-replied %" PRIu64 ", negative %" PRIu64
	       ", not forwardable %" PRIu64 "\n",
	       c->map_requests_forwarded, c->map_requests_proxied, c->map_requests_negative,
	       c->map_requests_unforwardable);
}

static void detail(const Vmroam__Xtr__Site *s, double now)
{
	if (!s->continued) {
		print_counters();
		detail_header(s);
		if (s->counters) {
			pending = *s->counters;
			have_pending = true;
		}
	}
	for (size_t i = 0; i < s->n_prefixes; i++)
		detail_prefix(s->prefixes[i], now);
}

static void site(const Vmroam__Xtr__Site *s, const struct parse_result *res, double now)
{
	if (res->detail) {
		detail(s, now);
		return;
	}
	for (size_t i = 0; i < s->n_prefixes; i++)
		summary_row(i == 0 && !s->continued ? s->name : "", s->prefixes[i], now);
}

/* The dynamic-EID and resolution limits' part of show lisp statistics. */
static void statistics_limits(const Vmroam__Xtr__Statistics *st)
{
	printf("  Resolutions outstanding:        %" PRIu64 " (%" PRIu64
	       " not started: map-request-limit)\n",
	       st->map_requests_outstanding, st->map_requests_limited);
	printf("LISP ETR dynamic-EID statistics\n");
	printf("  Dynamic EIDs:                   %" PRIu64 "\n", st->dynamic_eids);
	printf("  Learned, aged out:              %" PRIu64 ", %" PRIu64 "\n",
	       st->dynamic_eids_learned, st->dynamic_eids_aged);
	printf("  Refused: in no dynamic-eid:     %" PRIu64 "\n", st->dynamic_eids_refused);
	printf("  Refused: data, FHRs tell:       %" PRIu64 "\n", st->dynamic_eids_refused_data);
	printf("  Refused: host-limit or full:    %" PRIu64 "\n", st->dynamic_eids_refused_limit);
}

/* The ETR's answers and its Map-Servers' unsolicited Map-Notifies in show lisp statistics. */
static void statistics_etr(const Vmroam__Xtr__Statistics *st)
{
	printf("LISP ETR statistics\n");
	printf("  Map-Replies sent:               %" PRIu64 " (%" PRIu64
	       " not sent: map-reply rate-limit)\n",
	       st->etr_map_replies, st->etr_map_replies_rate_limited);
	printf("  Request records ignored:        %" PRIu64 " (after the first)\n",
	       st->etr_request_records_ignored);
	printf("  Map-Notifies (moves) applied:   %" PRIu64 "\n", st->etr_moved_notifies);
	printf("  Map-Notifies repeated, acked:   %" PRIu64 "\n", st->etr_notifies_repeated);
	printf("  Refused: replay window, auth:   %" PRIu64 ", %" PRIu64 "\n",
	       st->etr_notifies_stale, st->etr_notify_auth_failures);
	printf("  Withdrawals never acknowledged: %" PRIu64 " (after 6 tries)\n",
	       st->etr_withdrawals_unacked);
	printf("  Migration holds (VM leaving):   %" PRIu64 " (moved %" PRIu64 ", stayed %" PRIu64
	       ", hold time over %" PRIu64 "; %" PRIu64 " refused)\n",
	       st->etr_leaving, st->etr_leaving_moved, st->etr_leaving_stayed,
	       st->etr_leaving_expired, st->etr_leaving_refused);
}

static void statistics(const Vmroam__Xtr__Statistics *st)
{
	printf("LISP Map-Server/Map-Resolver statistics\n");
	printf("  Registered EID-prefixes:        %" PRIu64 "\n", st->registered_prefixes);
	printf("  Map-Notifies awaiting ack:      %" PRIu64 "\n", st->pending_notifies);
	printf("  Encapsulated Map-Requests:      %" PRIu64 "\n", st->map_requests);
	printf("  Negative replies (not LISP):    %" PRIu64 "\n", st->negative_not_lisp);
	printf("  Records ignored (not first):    %" PRIu64 "\n", st->map_request_records_ignored);
	printf("  Rate-limited: replies, forwards: %" PRIu64 ", %" PRIu64 "\n",
	       st->map_replies_rate_limited, st->map_requests_forward_rate_limited);
	printf("  Map-Registers for no site:      %" PRIu64 "\n", st->unknown_eid);
	printf("  Map-Notify-Acks unmatched:      %" PRIu64 "\n", st->acks_unmatched);
	printf("  Subscriptions held (RFC 9437):  %" PRIu64 " (show lisp subscription)\n",
	       st->ms_subscriptions);
	printf("  Refused: unknown xTR-ID; answered only: no xTR-ID, not LISP: %" PRIu64
	       "; %" PRIu64 ", %" PRIu64 "\n",
	       st->ms_subscribe_unknown_xtr_id, st->ms_subscribe_no_xtr_id,
	       st->ms_subscribe_not_lisp);
	printf("  Unsubscription requests:        %" PRIu64 "\n", st->ms_unsubscribe_requests);
	printf("  Malformed packets:              %" PRIu64 "\n", st->malformed);
	printf("  Unsupported packets:            %" PRIu64 "\n", st->unsupported);
	printf("LISP ITR map-cache statistics\n");
	printf("  Map-cache entries:              %" PRIu64 "\n", st->map_cache_entries);
	printf("  Map-Requests sent:              %" PRIu64 " (%" PRIu64 " could not be sent)\n",
	       st->map_requests_sent, st->map_requests_unsendable);
	printf("  Map-Replies:                    %" PRIu64 " (%" PRIu64 " unsolicited)\n",
	       st->map_replies, st->map_replies_unsolicited);
	printf("  Reply records refused:          %" PRIu64 " (answering no question asked)\n",
	       st->map_reply_records_refused);
	printf("  SMRs received:                  %" PRIu64 "\n", st->smrs_received);
	printf("  Subscriptions (RFC 9437):       %" PRIu64 " held, %" PRIu64 " requested, %" PRIu64
	       " confirmed, %" PRIu64 " unconfirmed, %" PRIu64 " refused\n",
	       st->itr_subscriptions, st->itr_subscribe_requests, st->itr_subscriptions_confirmed,
	       st->itr_subscriptions_unconfirmed, st->itr_subscriptions_refused);
	printf("  Publications taken, refused:    %" PRIu64 ", %" PRIu64 " (%" PRIu64
	       " unsubscribed)\n",
	       st->itr_publications, st->itr_publications_refused, st->itr_unsubscribes);
	printf("  RLOC-probes sent, answered:     %" PRIu64 ", %" PRIu64 "; locators down %" PRIu64
	       ", up again %" PRIu64 "\n",
	       st->itr_probes_sent, st->itr_probe_replies, st->itr_rlocs_down, st->itr_rlocs_up);
	printf("  Expired, refused when full:     %" PRIu64 ", %" PRIu64 "\n",
	       st->map_cache_expirations, st->map_cache_overflows);
	statistics_limits(st);
	statistics_etr(st);
	printf("LISP eid-notify (first-hop routers) statistics\n");
	printf("  Datagrams received:             %" PRIu64 "\n", st->notify_received);
	printf("  Refused: authentication, malformed: %" PRIu64 ", %" PRIu64 "\n",
	       st->notify_auth_failures, st->notify_malformed);
	printf("  Refused: misdirected, stale session, replays: %" PRIu64 ", %" PRIu64 ", %" PRIu64
	       "\n",
	       st->notify_misdirected, st->notify_stale_session, st->notify_replays);
	printf("  Refused: peer-limit, EIDs refused: %" PRIu64 ", %" PRIu64 "\n",
	       st->notify_peer_limit, st->notify_refused);
	printf("  Answers not sent (rate limit):  %" PRIu64 "\n", st->notify_answers_limited);
}

static void end(const struct parse_result *res)
{
	if (!rows && !policy_header && res->action == ACT_SHOW_DYN)
		printf("No dynamic EIDs%s\n", res->arg ? " in that prefix" : "");
	if (!rows && res->action == ACT_SHOW_AWAY)
		printf("No EIDs moved away\n");
	if (!rows && res->action == ACT_SHOW_SUBSCRIPTION)
		printf("No subscriptions\n");
	if (!rows && res->action == ACT_SHOW_EVH)
		printf("No events%s\n", res->arg ? " for that prefix" : "");
	print_counters();
	if (res->action == ACT_RELOAD)
		printf("reload request sent: configuration applied\n");
	else if (res->action == ACT_LOG_DEBUG || res->action == ACT_LOG_BRIEF)
		printf("logging level set\n");
}

static void fhr_statistics(const Vmroam__Xtr__FhrStatistics *st)
{
	printf("fhr-agent statistics\n");
	for (size_t i = 0; i < st->n_counters; i++)
		printf("  %-60s %" PRIu64 "\n", st->counters[i]->help, st->counters[i]->value);
}

const struct output output_text = {
	.begin = begin,
	.site = site,
	.statistics = statistics,
	.database = database,
	.map_cache = map_cache,
	.away = away,
	.dynamic_eid = dynamic_eid,
	.dynamic_eid_policy = dynamic_eid_policy,
	.dataplane = dataplane,
	.eid_notify_peer = eid_notify_peer,
	.event = event,
	.hypervisor = hypervisor,
	.fhr_statistics = fhr_statistics,
	.subscriber = subscriber,
	.subscription = subscription,
	.end = end,
};
