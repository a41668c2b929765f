/* xtrctl -j: one JSON document a run; keys are the .proto field names. */
#include <stdio.h>
#include <string.h>

#include "lib/json.h"
#include "xtr-gateway/ctl/xtrctl.h"

static struct json j;
static bool site_open;	 /* its prefixes array too: continuation records add to it */
static bool policy_open; /* dynamic_eid_policies: dynamic_eids is closed */

static bool is_database(const struct parse_result *res)
{
	return res->action == ACT_SHOW_DATABASE4 || res->action == ACT_SHOW_DATABASE6;
}

static bool is_map_cache(const struct parse_result *res)
{
	return res->action == ACT_SHOW_MC4 || res->action == ACT_SHOW_MC6;
}

static void away(const Vmroam__Xtr__AwayEntry *e, double now)
{
	(void)now;
	json_object_begin(&j, NULL);
	json_uint(&j, "instance_id", e->instance_id);
	json_string(&j, "eid_prefix", e->eid_prefix);
	json_string(&j, "map_server", e->map_server);
	json_double(&j, "since", e->since);
	json_double(&j, "expires", e->expires);
	json_uint(&j, "packets", e->packets);
	json_uint(&j, "smrs", e->smrs);
	json_double(&j, "last_packet", e->last_packet);
	json_array_begin(&j, "locators");
	for (size_t i = 0; i < e->n_locators; i++) {
		json_object_begin(&j, NULL);
		json_string(&j, "address", e->locators[i]->address);
		json_bool(&j, "up", e->locators[i]->up);
		json_uint(&j, "priority", e->locators[i]->priority);
		json_uint(&j, "weight", e->locators[i]->weight);
		json_object_end(&j);
	}
	json_array_end(&j);
	json_object_end(&j);
}

static void map_cache(const Vmroam__Xtr__MapCacheEntry *e, double now)
{
	(void)now;
	json_object_begin(&j, NULL);
	json_uint(&j, "instance_id", e->instance_id);
	json_string(&j, "eid_prefix", e->eid_prefix);
	json_string(&j, "state", e->state);
	json_string(&j, "action", e->action);
	json_bool(&j, "configured", e->configured);
	json_double(&j, "created", e->created);
	json_double(&j, "expires", e->expires);
	json_array_begin(&j, "locators");
	for (size_t i = 0; i < e->n_locators; i++) {
		const Vmroam__Xtr__McLocator *l = e->locators[i];

		json_object_begin(&j, NULL);
		json_string(&j, "address", l->address);
		json_bool(&j, "up", l->up);
		json_uint(&j, "priority", l->priority);
		json_uint(&j, "weight", l->weight);
		json_double(&j, "since", l->since);
		json_uint(&j, "packets_out", l->packets_out);
		json_uint(&j, "bytes_out", l->bytes_out);
		json_uint(&j, "packets_in", l->packets_in);
		json_uint(&j, "bytes_in", l->bytes_in);
		json_uint(&j, "control_in", l->control_in);
		json_object_end(&j);
	}
	json_array_end(&j);
	json_object_end(&j);
}

static void dynamic_eid(const Vmroam__Xtr__DynamicEid *e, double now)
{
	(void)now;
	json_object_begin(&j, NULL);
	json_uint(&j, "instance_id", e->instance_id);
	json_string(&j, "vrf", e->vrf);
	json_string(&j, "eid", e->eid);
	json_string(&j, "policy", e->policy);
	json_string(&j, "interface", e->interface);
	json_string(&j, "source", e->source);
	json_double(&j, "since", e->since);
	json_double(&j, "last_seen", e->last_seen);
	json_double(&j, "last_packet", e->last_packet);
	json_bool(&j, "registered", e->registered);
	json_string(&j, "locator_set", e->locator_set);
	json_string(&j, "fhr", e->fhr);
#ifndef CTL_FOR_FHR
	json_bool(&j, "leaving", e->leaving_until > 0);
	json_double(&j, "leaving_until", e->leaving_until);
	json_uint(&j, "held_packets", e->held_packets);
	json_uint(&j, "held_bytes", e->held_bytes);
#endif
#ifdef CTL_FOR_FHR
	json_uint(&j, "pending_pings", e->pending_pings);
	json_string(&j, "mac", e->mac);
	json_string(&j, "state", e->state);
#endif
	json_object_end(&j);
}

static void dynamic_eid_policy(const Vmroam__Xtr__DynamicEidPolicy *p)
{
	if (!policy_open) {
		json_array_end(&j); /* dynamic_eids: the policies follow the hosts */
		json_array_begin(&j, "dynamic_eid_policies");
		policy_open = true;
	}
	json_object_begin(&j, NULL);
	json_string(&j, "name", p->name);
	json_uint(&j, "instance_id", p->instance_id);
	json_string(&j, "vrf", p->vrf);
	json_bool(&j, "active", p->active);
	json_bool(&j, "eid_notify", p->eid_notify);
	json_bool(&j, "data_plane_learning", p->data_plane_learning);
	json_uint(&j, "learning_timeout", p->learning_timeout);
	json_uint(&j, "host_limit", p->host_limit);
	json_uint(&j, "hosts", p->hosts);
	json_uint(&j, "learned", p->learned);
	json_uint(&j, "aged", p->aged);
	json_uint(&j, "refused_data", p->refused_data);
	json_uint(&j, "refused_limit", p->refused_limit);
	json_object_end(&j);
}

static void counter_list(const char *key, Vmroam__Xtr__Counter *const *c, size_t n)
{
	json_array_begin(&j, key);
	for (size_t i = 0; i < n; i++) {
		json_object_begin(&j, NULL);
		json_string(&j, "name", c[i]->name);
		json_uint(&j, "packets", c[i]->packets);
		json_uint(&j, "bytes", c[i]->bytes);
		json_object_end(&j);
	}
	json_array_end(&j);
}

static void dataplane(const Vmroam__Xtr__Dataplane *dp)
{
	json_object_begin(&j, "dataplane");
	json_array_begin(&j, "interfaces");
	for (size_t i = 0; i < dp->n_interfaces; i++) {
		json_object_begin(&j, NULL);
		json_string(&j, "name", dp->interfaces[i]->name);
		json_uint(&j, "instance_id", dp->interfaces[i]->instance_id);
		json_uint(&j, "mtu", dp->interfaces[i]->mtu);
		json_uint(&j, "held", dp->interfaces[i]->held);
		json_object_end(&j);
	}
	json_array_end(&j);
	json_uint(&j, "held", dp->held);
	json_uint(&j, "hold_limit", dp->hold_limit);
	json_uint(&j, "hold_limit_per_instance_id", dp->hold_limit_per_instance_id);
	json_uint(&j, "dynamic_eids", dp->dynamic_eids);
	counter_list("pipeline", dp->pipeline, dp->n_pipeline);
	counter_list("io", dp->io, dp->n_io);
	json_array_begin(&j, "workers");
	for (size_t i = 0; i < dp->n_workers; i++) {
		json_object_begin(&j, NULL);
		json_uint(&j, "eid_received", dp->workers[i]->eid_received);
		json_uint(&j, "eid_sent", dp->workers[i]->eid_sent);
		json_uint(&j, "rloc_received", dp->workers[i]->rloc_received);
		json_uint(&j, "rloc_sent", dp->workers[i]->rloc_sent);
		json_object_end(&j);
	}
	json_array_end(&j);
	json_object_end(&j);
}

static void eid_notify_peer(const Vmroam__Xtr__EidNotifyPeer *p, double now)
{
	(void)now;
	json_object_begin(&j, NULL);
	json_string(&j, "id", p->id);
	json_uint(&j, "instance_id", p->instance_id);
	json_string(&j, "dynamic_eid", p->dynamic_eid);
	json_string(&j, "address", p->address);
	json_uint(&j, "port", p->port);
	json_bool(&j, "up", p->up);
	json_double(&j, "last_heard", p->last_heard);
	json_uint(&j, "eids", p->eids);
	json_uint(&j, "pending", p->pending);
	json_uint(&j, "received", p->received);
	json_uint(&j, "arrivals", p->arrivals);
	json_uint(&j, "departures", p->departures);
	json_uint(&j, "resyncs", p->resyncs);
	json_uint(&j, "moved_away", p->moved_away);
	json_uint(&j, "replays", p->replays);
	json_uint(&j, "refused", p->refused);
	json_uint(&j, "deaths", p->deaths);
	json_bool(&j, "in_sync", p->in_sync);
	json_uint(&j, "older", p->older);
	json_uint(&j, "digest_resyncs", p->digest_resyncs);
	json_object_end(&j);
}

static void event(const Vmroam__Xtr__Event *e)
{
	json_object_begin(&j, NULL);
	json_uint(&j, "seq", e->seq);
	json_double(&j, "time", e->time);
	json_string(&j, "event", e->event);
	json_uint(&j, "instance_id", e->instance_id);
	json_string(&j, "eid", e->eid);
	json_string(&j, "peer", e->peer);
	json_string(&j, "detail", e->detail);
	json_object_end(&j);
}

static void hypervisor(const Vmroam__Xtr__Hypervisor *h, double now)
{
	(void)now;
	json_object_begin(&j, "hypervisor");
	json_uint(&j, "port", h->port);
	json_uint(&j, "instance_ids", h->instance_ids);
	json_uint(&j, "received", h->received);
	json_uint(&j, "accepted", h->accepted);
	json_uint(&j, "auth_failures", h->auth_failures);
	json_uint(&j, "replays", h->replays);
	json_uint(&j, "stale", h->stale);
	json_uint(&j, "unknown_instance_id", h->unknown_instance_id);
	json_uint(&j, "malformed", h->malformed);
	json_uint(&j, "busy", h->busy);
	json_uint(&j, "arriving", h->arriving);
	json_uint(&j, "live", h->live);
	json_uint(&j, "left", h->left);
	json_uint(&j, "detected", h->detected);
	json_uint(&j, "departed", h->departed);
	json_uint(&j, "live_unknown", h->live_unknown);
	json_uint(&j, "out_of_prefix", h->out_of_prefix);
	json_array_begin(&j, "bindings");
	for (size_t i = 0; i < h->n_bindings; i++) {
		const Vmroam__Xtr__HypervisorBinding *b = h->bindings[i];

		json_object_begin(&j, NULL);
		json_string(&j, "mac", b->mac);
		json_uint(&j, "instance_id", b->instance_id);
		json_string(&j, "domain", b->domain);
		json_string(&j, "host", b->host);
		json_string(&j, "state", b->state);
		json_double(&j, "since", b->since);
		json_double(&j, "updated", b->updated);
		json_array_begin(&j, "addresses");
		for (size_t k = 0; k < b->n_addresses; k++)
			json_string(&j, NULL, b->addresses[k]);
		json_array_end(&j);
		json_object_end(&j);
	}
	json_array_end(&j);
	json_object_end(&j);
}

static bool subs_open; /* show lisp subscription: the subscriptions array is open */

static void subscriber(const Vmroam__Xtr__Subscriber *w)
{
	json_object_begin(&j, NULL);
	json_string(&j, "name", w->name);
	json_uint(&j, "subscriptions", w->subscriptions);
	json_uint(&j, "limit", w->limit);
	json_uint(&j, "requests", w->requests);
	json_uint(&j, "confirmed", w->confirmed);
	json_uint(&j, "renewed", w->renewed);
	json_uint(&j, "refused_auth", w->refused_auth);
	json_uint(&j, "refused_limit", w->refused_limit);
	json_uint(&j, "publications", w->publications);
	json_uint(&j, "retransmissions", w->retransmissions);
	json_uint(&j, "acks", w->acks);
	json_uint(&j, "ack_auth_failures", w->ack_auth_failures);
	json_uint(&j, "dropped_unacknowledged", w->dropped_unacknowledged);
	json_uint(&j, "unsubscribed", w->unsubscribed);
	json_uint(&j, "expired", w->expired);
	json_object_end(&j);
}

static void subscription(const Vmroam__Xtr__Subscription *e, double now)
{
	(void)now;
	if (!subs_open) {
		json_array_end(&j);
		json_array_begin(&j, "subscriptions");
		subs_open = true;
	}
	json_object_begin(&j, NULL);
	json_string(&j, "role", e->role);
	json_uint(&j, "instance_id", e->instance_id);
	json_string(&j, "eid_prefix", e->eid_prefix);
	if (strcmp(e->role, "map-server") == 0) {
		json_string(&j, "subscriber", e->subscriber);
		json_string(&j, "xtr_id", e->xtr_id);
		json_string(&j, "site_id", e->site_id);
		json_string(&j, "itr_rloc", e->itr_rloc);
		json_double(&j, "expires", e->expires);
		json_string(&j, "outstanding", e->outstanding);
		json_uint(&j, "tries", e->tries);
	} else {
		json_string(&j, "map_server", e->map_server);
	}
	json_bool(&j, "confirmed", e->confirmed);
	char nonce[17];

	snprintf(nonce, sizeof(nonce), "%016llx", (unsigned long long)e->nonce);
	json_string(&j, "nonce", nonce); /* hex: 64 bits do not survive a JSON double */
	json_double(&j, "since", e->since);
	json_uint(&j, "publications", e->publications);
	json_object_end(&j);
}

static void begin(const struct parse_result *res)
{
	json_init(&j, stdout);
	json_object_begin(&j, NULL);
	if (res->action == ACT_SHOW_SITE)
		json_array_begin(&j, "sites");
	if (is_database(res))
		json_array_begin(&j, "database_mappings");
	if (is_map_cache(res))
		json_array_begin(&j, "map_cache");
	if (res->action == ACT_SHOW_AWAY)
		json_array_begin(&j, "away");
	if (res->action == ACT_SHOW_DYN)
		json_array_begin(&j, "dynamic_eids");
	if (res->action == ACT_SHOW_EID_NOTIFY)
		json_array_begin(&j, "eid_notify_peers");
	if (res->action == ACT_SHOW_EVH)
		json_array_begin(&j, "events");
	if (res->action == ACT_SHOW_SUBSCRIPTION)
		json_array_begin(&j, "subscribers");
}

static void database(const Vmroam__Xtr__DatabaseMapping *dm, double now)
{
	(void)now;
	json_object_begin(&j, NULL);
	json_uint(&j, "instance_id", dm->instance_id);
	json_string(&j, "eid_prefix", dm->eid_prefix);
	json_string(&j, "locator_set", dm->locator_set);
	json_string(&j, "dynamic_eid", dm->dynamic_eid);
	json_bool(&j, "registered", dm->registered);
	json_array_begin(&j, "locators");
	for (size_t i = 0; i < dm->n_locators; i++) {
		const Vmroam__Xtr__DbLocator *l = dm->locators[i];

		json_object_begin(&j, NULL);
		json_string(&j, "address", l->address);
		json_uint(&j, "priority", l->priority);
		json_uint(&j, "weight", l->weight);
		json_string(&j, "source", l->source);
		json_string(&j, "interface", l->interface);
		json_bool(&j, "up", l->up);
		json_object_end(&j);
	}
	json_array_end(&j);
	json_array_begin(&j, "registrations");
	for (size_t i = 0; i < dm->n_registrations; i++) {
		const Vmroam__Xtr__Registration *g = dm->registrations[i];

		json_object_begin(&j, NULL);
		json_string(&j, "map_server", g->map_server);
		json_bool(&j, "registered", g->registered);
		json_double(&j, "last_registered", g->last_registered);
		json_double(&j, "last_sent", g->last_sent);
		json_uint(&j, "attempts", g->attempts);
		json_object_end(&j);
	}
	json_array_end(&j);
	json_object_end(&j);
}

static void counters(const Vmroam__Xtr__SiteCounters *c)
{
	json_object_begin(&j, "counters");
	if (c) {
		json_uint(&j, "registrations", c->registrations);
		json_uint(&j, "deregistrations", c->deregistrations);
		json_uint(&j, "map_notifies_sent", c->map_notifies_sent);
		json_uint(&j, "map_notify_acks", c->map_notify_acks);
		json_uint(&j, "map_notify_giveups", c->map_notify_giveups);
		json_uint(&j, "auth_failures", c->auth_failures);
		json_uint(&j, "allowed_locator_mismatches", c->allowed_locator_mismatches);
		json_uint(&j, "prefix_rejects", c->prefix_rejects);
		json_uint(&j, "nonce_replays", c->nonce_replays);
		json_uint(&j, "expirations", c->expirations);
		json_uint(&j, "moves", c->moves);
		json_uint(&j, "map_requests_forwarded", c->map_requests_forwarded);
		json_uint(&j, "map_requests_proxied", c->map_requests_proxied);
		json_uint(&j, "map_requests_negative", c->map_requests_negative);
		json_uint(&j, "map_requests_unforwardable", c->map_requests_unforwardable);
		json_uint(&j, "nonce_overflows", c->nonce_overflows);
	}
	json_object_end(&j);
}

static void registrant(const Vmroam__Xtr__Registrant *r)
{
	json_object_begin(&j, NULL);
	json_string(&j, "address", r->address);
	json_uint(&j, "port", r->port);
	json_string(&j, "xtr_id", r->xtr_id);
	json_uint(&j, "site_id", r->site_id);
	json_double(&j, "last_registered", r->last_registered);
	json_double(&j, "since", r->since);
	json_double(&j, "expires", r->expires);
	json_array_begin(&j, "locators");
	for (size_t i = 0; i < r->n_locators; i++) {
		json_object_begin(&j, NULL);
		json_string(&j, "address", r->locators[i]->address);
		json_bool(&j, "up", r->locators[i]->up);
		json_uint(&j, "priority", r->locators[i]->priority);
		json_uint(&j, "weight", r->locators[i]->weight);
		json_object_end(&j);
	}
	json_array_end(&j);
	json_object_end(&j);
}

static void prefix(const Vmroam__Xtr__SitePrefix *p)
{
	json_object_begin(&j, NULL);
	json_string(&j, "eid_prefix", p->eid_prefix);
	json_uint(&j, "instance_id", p->instance_id);
	json_bool(&j, "configured", p->configured);
	json_bool(&j, "accept_more_specifics", p->accept_more_specifics);
	json_uint(&j, "more_specifics", p->more_specifics);
	json_bool(&j, "registered", p->registered);
	json_double(&j, "first_registered", p->first_registered);
	json_double(&j, "last_registered", p->last_registered);
	json_string(&j, "last_registered_by", p->last_registered_by);
	json_bool(&j, "proxy_reply", p->proxy_reply);
	json_bool(&j, "want_map_notify", p->want_map_notify);
	json_uint(&j, "ttl", p->ttl);
	json_array_begin(&j, "registrants");
	for (size_t i = 0; i < p->n_registrants; i++)
		registrant(p->registrants[i]);
	json_array_end(&j);
	json_object_end(&j);
}

static void close_site(void)
{
	if (!site_open)
		return;
	json_array_end(&j);
	json_object_end(&j);
	site_open = false;
}

static void site(const Vmroam__Xtr__Site *s, const struct parse_result *res, double now)
{
	(void)res;
	(void)now;
	if (s->continued && site_open) {
		for (size_t i = 0; i < s->n_prefixes; i++)
			prefix(s->prefixes[i]);
		return;
	}
	close_site();
	json_object_begin(&j, NULL);
	json_string(&j, "name", s->name);
	json_string(&j, "description", s->description);
	json_array_begin(&j, "allowed_locators");
	for (size_t i = 0; i < s->n_allowed_locators; i++)
		json_string(&j, NULL, s->allowed_locators[i]);
	json_array_end(&j);
	json_bool(&j, "strict_nonce", s->strict_nonce);
	counters(s->counters);
	json_array_begin(&j, "prefixes");
	for (size_t i = 0; i < s->n_prefixes; i++)
		prefix(s->prefixes[i]);
	site_open = true;
}

static void statistics(const Vmroam__Xtr__Statistics *st)
{
	json_object_begin(&j, "statistics");
	json_uint(&j, "malformed", st->malformed);
	json_uint(&j, "unsupported", st->unsupported);
	json_uint(&j, "unknown_eid", st->unknown_eid);
	json_uint(&j, "map_requests", st->map_requests);
	json_uint(&j, "negative_not_lisp", st->negative_not_lisp);
	json_uint(&j, "acks_unmatched", st->acks_unmatched);
	json_uint(&j, "map_request_records_ignored", st->map_request_records_ignored);
	json_uint(&j, "map_replies_rate_limited", st->map_replies_rate_limited);
	json_uint(&j, "map_requests_forward_rate_limited", st->map_requests_forward_rate_limited);
	json_uint(&j, "registered_prefixes", st->registered_prefixes);
	json_uint(&j, "pending_notifies", st->pending_notifies);
	json_uint(&j, "map_cache_entries", st->map_cache_entries);
	json_uint(&j, "map_requests_sent", st->map_requests_sent);
	json_uint(&j, "map_requests_unsendable", st->map_requests_unsendable);
	json_uint(&j, "map_replies", st->map_replies);
	json_uint(&j, "map_replies_unsolicited", st->map_replies_unsolicited);
	json_uint(&j, "map_reply_records_refused", st->map_reply_records_refused);
	json_uint(&j, "smrs_received", st->smrs_received);
	json_uint(&j, "map_cache_expirations", st->map_cache_expirations);
	json_uint(&j, "map_cache_overflows", st->map_cache_overflows);
	json_uint(&j, "itr_subscriptions", st->itr_subscriptions);
	json_uint(&j, "itr_subscribe_requests", st->itr_subscribe_requests);
	json_uint(&j, "itr_subscriptions_confirmed", st->itr_subscriptions_confirmed);
	json_uint(&j, "itr_subscriptions_unconfirmed", st->itr_subscriptions_unconfirmed);
	json_uint(&j, "itr_subscriptions_refused", st->itr_subscriptions_refused);
	json_uint(&j, "itr_publications", st->itr_publications);
	json_uint(&j, "itr_publications_refused", st->itr_publications_refused);
	json_uint(&j, "itr_unsubscribes", st->itr_unsubscribes);
	json_uint(&j, "itr_probes_sent", st->itr_probes_sent);
	json_uint(&j, "itr_probe_replies", st->itr_probe_replies);
	json_uint(&j, "itr_rlocs_down", st->itr_rlocs_down);
	json_uint(&j, "itr_rlocs_up", st->itr_rlocs_up);
	json_uint(&j, "ms_subscriptions", st->ms_subscriptions);
	json_uint(&j, "ms_subscribe_unknown_xtr_id", st->ms_subscribe_unknown_xtr_id);
	json_uint(&j, "ms_subscribe_no_xtr_id", st->ms_subscribe_no_xtr_id);
	json_uint(&j, "ms_subscribe_not_lisp", st->ms_subscribe_not_lisp);
	json_uint(&j, "ms_unsubscribe_requests", st->ms_unsubscribe_requests);
	json_uint(&j, "map_requests_outstanding", st->map_requests_outstanding);
	json_uint(&j, "map_requests_limited", st->map_requests_limited);
	json_uint(&j, "dynamic_eids", st->dynamic_eids);
	json_uint(&j, "dynamic_eids_learned", st->dynamic_eids_learned);
	json_uint(&j, "dynamic_eids_aged", st->dynamic_eids_aged);
	json_uint(&j, "dynamic_eids_refused", st->dynamic_eids_refused);
	json_uint(&j, "dynamic_eids_refused_data", st->dynamic_eids_refused_data);
	json_uint(&j, "dynamic_eids_refused_limit", st->dynamic_eids_refused_limit);
	json_uint(&j, "notify_received", st->notify_received);
	json_uint(&j, "notify_auth_failures", st->notify_auth_failures);
	json_uint(&j, "notify_malformed", st->notify_malformed);
	json_uint(&j, "notify_misdirected", st->notify_misdirected);
	json_uint(&j, "notify_stale_session", st->notify_stale_session);
	json_uint(&j, "notify_replays", st->notify_replays);
	json_uint(&j, "notify_peer_limit", st->notify_peer_limit);
	json_uint(&j, "notify_refused", st->notify_refused);
	json_uint(&j, "notify_answers_limited", st->notify_answers_limited);
	json_uint(&j, "etr_map_replies", st->etr_map_replies);
	json_uint(&j, "etr_map_replies_rate_limited", st->etr_map_replies_rate_limited);
	json_uint(&j, "etr_request_records_ignored", st->etr_request_records_ignored);
	json_uint(&j, "etr_moved_notifies", st->etr_moved_notifies);
	json_uint(&j, "etr_leaving", st->etr_leaving);
	json_uint(&j, "etr_leaving_moved", st->etr_leaving_moved);
	json_uint(&j, "etr_leaving_stayed", st->etr_leaving_stayed);
	json_uint(&j, "etr_leaving_expired", st->etr_leaving_expired);
	json_uint(&j, "etr_leaving_refused", st->etr_leaving_refused);
	json_uint(&j, "etr_notifies_repeated", st->etr_notifies_repeated);
	json_uint(&j, "etr_notifies_stale", st->etr_notifies_stale);
	json_uint(&j, "etr_withdrawals_unacked", st->etr_withdrawals_unacked);
	json_uint(&j, "etr_notify_auth_failures", st->etr_notify_auth_failures);
	json_object_end(&j);
}

static void end(const struct parse_result *res)
{
	close_site();
#ifndef CTL_FOR_FHR
	if (res->action == ACT_SHOW_DYN && !policy_open) { /* none: an empty list */
		json_array_end(&j);
		json_array_begin(&j, "dynamic_eid_policies");
	}
#endif
	if (res->action == ACT_SHOW_SUBSCRIPTION && !subs_open) { /* none: an empty list */
		json_array_end(&j);
		json_array_begin(&j, "subscriptions");
	}
	if (res->action == ACT_SHOW_SUBSCRIPTION || res->action == ACT_SHOW_SITE ||
	    is_database(res) || is_map_cache(res) || res->action == ACT_SHOW_AWAY ||
	    res->action == ACT_SHOW_DYN || res->action == ACT_SHOW_EID_NOTIFY ||
	    res->action == ACT_SHOW_EVH)
		json_array_end(&j);
	else if (res->action != ACT_SHOW_STATISTICS && res->action != ACT_SHOW_DATAPLANE &&
		 res->action != ACT_SHOW_HV)
		json_string(&j, "status", "ok");
	json_object_end(&j);
	json_finish(&j);
}

static void fhr_statistics(const Vmroam__Xtr__FhrStatistics *st)
{
	json_object_begin(&j, "statistics");
	for (size_t i = 0; i < st->n_counters; i++)
		json_uint(&j, st->counters[i]->name, st->counters[i]->value);
	json_object_end(&j);
}

const struct output output_json = {
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
