/* xtrctl: talk to xtr-gateway's control socket. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/ctl_conn.h"
#include "xtr-gateway/ctl/xtrctl.h"
#include "xtr-gateway/xtr.h"

/* Exit codes (STYLE §9) */
/* Built twice: as xtrctl for xtr-gateway, and with CTL_FOR_FHR as fhrctl for fhr-agent. */
#ifdef CTL_FOR_FHR
#define PROG	       "fhrctl"
#define DAEMON	       "fhr-agent"
#define SOCKET_DEFAULT "/run/vmroam/fhr-agent.sock"
#else
#define PROG	       "xtrctl"
#define DAEMON	       "xtr-gateway"
#define SOCKET_DEFAULT XTR_SOCKET_DEFAULT
#endif

#define EXIT_USAGE	1
#define EXIT_NO_DAEMON	2
#define EXIT_DAEMON_ERR 3

static void usage(void)
{
#ifdef CTL_FOR_FHR
	fprintf(stderr, "usage: fhrctl [-j] [-s socket] command [argument ...]\n"
			"  show lisp dynamic-eid [summary] [PREFIX] [instance-id N]\n"
			"  show lisp eid-notify\n"
			"  show lisp hypervisor\n"
			"  show lisp statistics\n"
			"  show lisp event-history [PREFIX] [instance-id N]\n"
			"  clear lisp dynamic-eid [PREFIX] [instance-id N]\n"
			"  clear lisp event-history\n");
#else
	fprintf(stderr, "usage: xtrctl [-j] [-s socket] command [argument ...]\n"
			"  show lisp site [NAME | PREFIX] [instance-id N]\n"
			"  show lisp statistics\n"
			"  show lisp away\n"
			"  show lisp subscription\n"
			"  show lisp dynamic-eid [summary] [PREFIX] [instance-id N]\n"
			"  show lisp dataplane\n"
			"  show lisp eid-notify\n"
			"  show lisp event-history [PREFIX] [instance-id N]\n"
			"  show ip lisp database | show ipv6 lisp database\n"
			"  show ip[v6] lisp map-cache [PREFIX] [instance-id N]\n"
			"  clear ip[v6] lisp map-cache [PREFIX] [instance-id N]\n"
			"  clear lisp dynamic-eid [PREFIX] [instance-id N]\n"
			"  clear lisp event-history\n"
			"  lig [instance-id N] EID\n"
			"  reload\n"
			"  log debug CATEGORY | log brief\n");
#endif
	exit(EXIT_USAGE);
}

static Vmroam__Xtr__ShowAway show_away = VMROAM__XTR__SHOW_AWAY__INIT;
static Vmroam__Xtr__ShowSubscription show_subscription = VMROAM__XTR__SHOW_SUBSCRIPTION__INIT;
static Vmroam__Xtr__ShowDataplane show_dataplane = VMROAM__XTR__SHOW_DATAPLANE__INIT;
static Vmroam__Xtr__DynamicEidRequest dyn_request;
static Vmroam__Xtr__ShowEidNotify show_eid_notify;
static Vmroam__Xtr__ShowHypervisor show_hypervisor;
static Vmroam__Xtr__EventHistoryRequest evh_request;

static void build_request(const struct parse_result *res, Vmroam__Xtr__Request *req,
			  Vmroam__Xtr__ShowSite *ss, Vmroam__Xtr__Reload *rl,
			  Vmroam__Xtr__LogDebug *ld, Vmroam__Xtr__ShowStatistics *st,
			  Vmroam__Xtr__ShowDatabase *db, Vmroam__Xtr__MapCacheRequest *mq)
{
	mq->ipv6 = res->action == ACT_SHOW_MC6 || res->action == ACT_CLEAR_MC6 ||
		   (res->action == ACT_LIG && res->arg && strchr(res->arg, ':'));
	mq->prefix = (char *)(uintptr_t)(res->arg ? res->arg : "");
	mq->instance_id = res->instance_id;
	switch (res->action) {
	case ACT_SHOW_SITE:
		req->cmd_case = VMROAM__XTR__REQUEST__CMD_SHOW_SITE;
		req->show_site = ss;
		ss->instance_id = res->instance_id;
		if (res->arg && strchr(res->arg, '/'))
			ss->prefix = (char *)(uintptr_t)res->arg;
		else if (res->arg && (strchr(res->arg, '.') || strchr(res->arg, ':')))
			ss->prefix = (char *)(uintptr_t)res->arg; /* an address: its host prefix */
		else if (res->arg)
			ss->name = (char *)(uintptr_t)res->arg;
		break;
	case ACT_SHOW_DATABASE4:
	case ACT_SHOW_DATABASE6:
		req->cmd_case = VMROAM__XTR__REQUEST__CMD_SHOW_DATABASE;
		req->show_database = db;
		db->ipv6 = res->action == ACT_SHOW_DATABASE6;
		break;
	case ACT_SHOW_MC4:
	case ACT_SHOW_MC6:
		req->cmd_case = VMROAM__XTR__REQUEST__CMD_SHOW_MAP_CACHE;
		req->show_map_cache = mq;
		break;
	case ACT_CLEAR_MC4:
	case ACT_CLEAR_MC6:
		req->cmd_case = VMROAM__XTR__REQUEST__CMD_CLEAR_MAP_CACHE;
		req->clear_map_cache = mq;
		break;
	case ACT_LIG:
		req->cmd_case = VMROAM__XTR__REQUEST__CMD_LIG;
		req->lig = mq;
		break;
	case ACT_SHOW_AWAY:
		req->cmd_case = VMROAM__XTR__REQUEST__CMD_SHOW_AWAY;
		req->show_away = &show_away;
		break;
	case ACT_SHOW_SUBSCRIPTION:
		req->cmd_case = VMROAM__XTR__REQUEST__CMD_SHOW_SUBSCRIPTION;
		req->show_subscription = &show_subscription;
		break;
	case ACT_SHOW_DYN:
	case ACT_CLEAR_DYN:
		vmroam__xtr__dynamic_eid_request__init(&dyn_request);
		dyn_request.prefix = (char *)(uintptr_t)(res->arg ? res->arg : "");
		dyn_request.instance_id = res->instance_id;
		if (res->action == ACT_SHOW_DYN) {
			req->cmd_case = VMROAM__XTR__REQUEST__CMD_SHOW_DYNAMIC_EID;
			req->show_dynamic_eid = &dyn_request;
		} else {
			req->cmd_case = VMROAM__XTR__REQUEST__CMD_CLEAR_DYNAMIC_EID;
			req->clear_dynamic_eid = &dyn_request;
		}
		break;
	case ACT_SHOW_DATAPLANE:
		req->cmd_case = VMROAM__XTR__REQUEST__CMD_SHOW_DATAPLANE;
		req->show_dataplane = &show_dataplane;
		break;
	case ACT_SHOW_HV:
		vmroam__xtr__show_hypervisor__init(&show_hypervisor);
		req->cmd_case = VMROAM__XTR__REQUEST__CMD_SHOW_HYPERVISOR;
		req->show_hypervisor = &show_hypervisor;
		break;
	case ACT_SHOW_EID_NOTIFY:
		vmroam__xtr__show_eid_notify__init(&show_eid_notify);
		req->cmd_case = VMROAM__XTR__REQUEST__CMD_SHOW_EID_NOTIFY;
		req->show_eid_notify = &show_eid_notify;
		break;
	case ACT_SHOW_EVH:
	case ACT_CLEAR_EVH:
		vmroam__xtr__event_history_request__init(&evh_request);
		evh_request.prefix = (char *)(uintptr_t)(res->arg ? res->arg : "");
		evh_request.instance_id = res->instance_id;
		if (res->action == ACT_SHOW_EVH) {
			req->cmd_case = VMROAM__XTR__REQUEST__CMD_SHOW_EVENT_HISTORY;
			req->show_event_history = &evh_request;
		} else {
			req->cmd_case = VMROAM__XTR__REQUEST__CMD_CLEAR_EVENT_HISTORY;
			req->clear_event_history = &evh_request;
		}
		break;
	case ACT_SHOW_STATISTICS:
		req->cmd_case = VMROAM__XTR__REQUEST__CMD_SHOW_STATISTICS;
		req->show_statistics = st;
		break;
	case ACT_RELOAD:
		req->cmd_case = VMROAM__XTR__REQUEST__CMD_RELOAD;
		req->reload = rl;
		break;
	case ACT_LOG_DEBUG:
	case ACT_LOG_BRIEF:
		req->cmd_case = VMROAM__XTR__REQUEST__CMD_LOG_DEBUG;
		req->log_debug = ld;
		ld->brief = res->action == ACT_LOG_BRIEF;
		ld->category = (char *)(uintptr_t)(res->arg ? res->arg : "");
		break;
	default:
		break;
	}
}

static int send_request(int fd, const struct parse_result *res)
{
	Vmroam__Xtr__Request req;
	Vmroam__Xtr__ShowSite ss;
	Vmroam__Xtr__Reload rl;
	Vmroam__Xtr__LogDebug ld;
	Vmroam__Xtr__ShowStatistics st;
	Vmroam__Xtr__ShowDatabase db;
	Vmroam__Xtr__MapCacheRequest mq;
	uint8_t *buf;
	size_t len;
	int rc;

	vmroam__xtr__request__init(&req);
	vmroam__xtr__show_site__init(&ss);
	vmroam__xtr__reload__init(&rl);
	vmroam__xtr__log_debug__init(&ld);
	vmroam__xtr__show_statistics__init(&st);
	vmroam__xtr__show_database__init(&db);
	vmroam__xtr__map_cache_request__init(&mq);
	build_request(res, &req, &ss, &rl, &ld, &st, &db, &mq);
	len = vmroam__xtr__request__get_packed_size(&req);
	buf = malloc(len ? len : 1);
	vmroam__xtr__request__pack(&req, buf);
	rc = ctl_send(fd, buf, len);
	free(buf);
	return rc;
}

/* Reads replies until End; returns the exit code. */
static int receive(int fd, const struct output *out, const struct parse_result *res)
{
	double now = (double)time(NULL);
	Vmroam__Xtr__Reply *r;
	uint8_t *msg;
	size_t len;
	int rc;

	out->begin(res);
	for (;;) {
		rc = ctl_recv(fd, &msg, &len);
		if (rc < 0) {
			fprintf(stderr, PROG ": reading from " DAEMON ": %s\n", strerror(-rc));
			return EXIT_NO_DAEMON;
		}
		r = vmroam__xtr__reply__unpack(NULL, len, msg);
		free(msg);
		if (!r) {
			fprintf(stderr, PROG ": malformed reply from " DAEMON "\n");
			return EXIT_DAEMON_ERR;
		}
		if (r->item_case == VMROAM__XTR__REPLY__ITEM_SITE)
			out->site(r->site, res, now);
		if (r->item_case == VMROAM__XTR__REPLY__ITEM_STATISTICS)
			out->statistics(r->statistics);
		if (r->item_case == VMROAM__XTR__REPLY__ITEM_DATABASE_MAPPING)
			out->database(r->database_mapping, now);
		if (r->item_case == VMROAM__XTR__REPLY__ITEM_MAP_CACHE_ENTRY)
			out->map_cache(r->map_cache_entry, now);
		if (r->item_case == VMROAM__XTR__REPLY__ITEM_AWAY_ENTRY)
			out->away(r->away_entry, now);
		if (r->item_case == VMROAM__XTR__REPLY__ITEM_DYNAMIC_EID)
			out->dynamic_eid(r->dynamic_eid, now);
		if (r->item_case == VMROAM__XTR__REPLY__ITEM_DYNAMIC_EID_POLICY)
			out->dynamic_eid_policy(r->dynamic_eid_policy);
		if (r->item_case == VMROAM__XTR__REPLY__ITEM_DATAPLANE)
			out->dataplane(r->dataplane);
		if (r->item_case == VMROAM__XTR__REPLY__ITEM_EID_NOTIFY_PEER)
			out->eid_notify_peer(r->eid_notify_peer, now);
		if (r->item_case == VMROAM__XTR__REPLY__ITEM_EVENT)
			out->event(r->event);
		if (r->item_case == VMROAM__XTR__REPLY__ITEM_HYPERVISOR)
			out->hypervisor(r->hypervisor, now);
		if (r->item_case == VMROAM__XTR__REPLY__ITEM_SUBSCRIBER)
			out->subscriber(r->subscriber);
		if (r->item_case == VMROAM__XTR__REPLY__ITEM_SUBSCRIPTION)
			out->subscription(r->subscription, now);
		if (r->item_case == VMROAM__XTR__REPLY__ITEM_FHR_STATISTICS)
			out->fhr_statistics(r->fhr_statistics);
		if (r->item_case == VMROAM__XTR__REPLY__ITEM_END) {
			rc = r->end->status;
			if (rc < 0)
				fprintf(stderr, PROG ": %s\n", r->end->error);
			else if (r->end->error[0] && out == &output_text)
				printf("%s\n", r->end->error); /* what a command did */
			vmroam__xtr__reply__free_unpacked(r, NULL);
			if (rc < 0)
				return EXIT_DAEMON_ERR;
			out->end(res);
			return 0;
		}
		vmroam__xtr__reply__free_unpacked(r, NULL);
	}
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = { { "json", no_argument, NULL, 'j' },
						  { "socket", required_argument, NULL, 's' },
						  { NULL, 0, NULL, 0 } };
	const char *path = SOCKET_DEFAULT;
	const struct output *out = &output_text;
	struct parse_result res;
	int ch, fd, rc;

	while ((ch = getopt_long(argc, argv, "+js:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'j':
			out = &output_json;
			break;
		case 's':
			path = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind == argc)
		usage();
	if (parse_command(argc - optind, argv + optind, &res) < 0)
		return EXIT_USAGE;
	fd = ctl_connect(path);
	if (fd < 0) {
		fprintf(stderr, PROG ": cannot reach " DAEMON " at %s: %s\n", path, strerror(-fd));
		return EXIT_NO_DAEMON;
	}
	rc = send_request(fd, &res);
	if (rc < 0) {
		fprintf(stderr, PROG ": sending to " DAEMON ": %s\n", strerror(-rc));
		return EXIT_NO_DAEMON;
	}
	return receive(fd, out, &res);
}
