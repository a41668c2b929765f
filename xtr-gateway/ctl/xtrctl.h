/* xtrctl: command parsing and output back ends. */
#ifndef XTR_GATEWAY_CTL_XTRCTL_H
#define XTR_GATEWAY_CTL_XTRCTL_H

#include <stdbool.h>
#include <stdint.h>

#include "proto/xtr_ctl.pb-c.h"

enum action {
	ACT_NONE,
	ACT_SHOW_SITE,
	ACT_SHOW_STATISTICS,
	ACT_SHOW_DATABASE4,
	ACT_SHOW_DATABASE6,
	ACT_SHOW_MC4,
	ACT_SHOW_MC6,
	ACT_CLEAR_MC4,
	ACT_CLEAR_MC6,
	ACT_LIG,
	ACT_SHOW_AWAY,
	ACT_RELOAD,
	ACT_LOG_DEBUG,
	ACT_LOG_BRIEF,
	ACT_SHOW_DYN,
	ACT_CLEAR_DYN,
	ACT_SHOW_DATAPLANE,
	ACT_SHOW_EID_NOTIFY,
	ACT_SHOW_EVH,
	ACT_CLEAR_EVH,
	ACT_SHOW_HV,
	ACT_SHOW_SUBSCRIPTION,
};

struct parse_result {
	enum action action;
	const char *arg; /* site NAME or PREFIX, or debug category */
	uint32_t instance_id;
	bool detail; /* a site or prefix was named */
};

/* parser.c: words after the options. Returns 0, or -1 after printing what is wrong. */
int parse_command(int argc, char **argv, struct parse_result *res);

/* One implementation per format (bgpctl's struct output). */
struct output {
	void (*begin)(const struct parse_result *res);
	void (*site)(const Vmroam__Xtr__Site *site, const struct parse_result *res, double now);
	void (*statistics)(const Vmroam__Xtr__Statistics *st);
	void (*database)(const Vmroam__Xtr__DatabaseMapping *dm, double now);
	void (*map_cache)(const Vmroam__Xtr__MapCacheEntry *e, double now);
	void (*away)(const Vmroam__Xtr__AwayEntry *e, double now);
	void (*dynamic_eid)(const Vmroam__Xtr__DynamicEid *e, double now);
	void (*dynamic_eid_policy)(const Vmroam__Xtr__DynamicEidPolicy *p);
	void (*dataplane)(const Vmroam__Xtr__Dataplane *dp);
	void (*eid_notify_peer)(const Vmroam__Xtr__EidNotifyPeer *p, double now);
	void (*event)(const Vmroam__Xtr__Event *e);
	void (*hypervisor)(const Vmroam__Xtr__Hypervisor *h, double now);
	void (*fhr_statistics)(const Vmroam__Xtr__FhrStatistics *st);
	void (*subscriber)(const Vmroam__Xtr__Subscriber *s);
	void (*subscription)(const Vmroam__Xtr__Subscription *s, double now);
	void (*end)(const struct parse_result *res);
};

extern const struct output output_text;
extern const struct output output_json;

#endif /* XTR_GATEWAY_CTL_XTRCTL_H */
