/*
 * lispc: a LISP control-plane client for tests, built on lib/. It plays
 * an ETR (register, listen for Map-Notify and answer with Map-Notify-Ack)
 * or an ITR (Encapsulated Map-Request, wait for the Map-Reply) and prints
 * one line per message received: "TYPE key=value ...".
 *
 *   lispc register -m MS -k KEY -e PREFIX [-i IID] -r RLOC[,RLOC..] [-x XTRID] [-t TTL]
 *                  [-n NONCE] [-a ALG] [-P] [-M] [-w SECS] [-s SRC] [-p SPORT]
 *                  (NONCE: default from the clock, growing from run to run as strict-nonce
 *                  wants; -n for a fixed one: a replay)
 *   lispc request  -m MR -e ADDR [-i IID] -r ITR-RLOC [-w SECS] [-s SRC] [-p SPORT]
 *                  [-N RECORDS] [-c COUNT]   (an adversary: RECORDS copies of the EID-record,
 *                  COUNT requests; -w 0: send and do not wait for answers)
 *   lispc mr       -s ADDR -e PREFIX -r RLOC[,RLOC..] [-X IID:PREFIX[,IID:PREFIX..]] [-w SECS]
 *                  (a lying Map-Resolver: answers each Encapsulated Map-Request with PREFIX, in
 *                  the request's instance-id, at RLOCs, followed by a negative native-forward
 *                  record, TTL 24 h, for each -X prefix)
 *   lispc listen   -k KEY [-s ADDR] [-p PORT] [-w SECS] [-c COUNT] [-A]
 *   lispc smr      -m ITR -e CHANGED-EID [-i IID] -r OUR-RLOC   (a Solicit-Map-Request)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lib/lisp_auth.h"
#include "lib/lisp_msg.h"

struct opts {
	const char *peer, *key, *eid, *rlocs, *xtr_id, *src, *extra;
	uint32_t iid, ttl;
	uint64_t nonce;
	uint8_t alg;
	bool proxy, want_notify, ack;
	double wait;
	int port, count, records;
};

static void die(const char *what)
{
	fprintf(stderr, "lispc: %s\n", what);
	exit(2);
}

static struct lisp_addr addr(const char *s)
{
	struct lisp_addr a;

	if (lisp_addr_parse(s, &a) < 0)
		die("bad address");
	return a;
}

/* A UDP socket of af bound to src (or any) and port. */
static int open_udp(uint16_t afi, const char *src, int port)
{
	struct lisp_addr any = { .afi = afi };
	struct lisp_addr a = src ? addr(src) : any;
	struct sockaddr_storage ss;
	socklen_t sl = lisp_addr_to_sockaddr(&a, (uint16_t)port, &ss);
	int fd = socket(ss.ss_family, SOCK_DGRAM, 0), one = 1;

	if (fd < 0)
		die("socket");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0) {
		perror("lispc: bind");
		exit(2);
	}
	return fd;
}

static void send_to(int fd, const struct lisp_addr *dst, uint16_t port, const uint8_t *b,
		    size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl = lisp_addr_to_sockaddr(dst, port, &ss);

	if (sendto(fd, b, len, 0, (struct sockaddr *)&ss, sl) < 0) {
		perror("lispc: sendto");
		exit(2);
	}
}

static void print_record(const struct lisp_eid_record *r)
{
	char p[LISP_PREFIX_STRLEN], a[LISP_ADDR_STRLEN];
	struct lisp_prefix bare = r->eid;
	struct lisp_locator l;
	struct lisp_iter it;
	const char *sep = "";

	bare.iid = 0;
	printf(" eid=%s iid=%u ttl=%u act=%u auth=%d locators=",
	       lisp_prefix_format(&bare, p, sizeof(p)), r->eid.iid, r->ttl, r->act,
	       r->authoritative);
	lisp_locator_iter_init(&it, r);
	while (lisp_locator_iter_next(&it, &l)) {
		printf("%s%s", sep, lisp_addr_format(&l.addr[0], a, sizeof(a)));
		sep = ",";
	}
	if (!*sep)
		printf("none");
}

static void print_records(const struct lisp_view *v)
{
	struct lisp_eid_record r;
	struct lisp_iter it;

	lisp_record_iter_init(&it, v);
	while (lisp_record_iter_next(&it, &r))
		print_record(&r);
}

/* Prints a received message; answers Map-Notifies with an ack when asked. Returns its type. */
static int handle(int fd, const struct opts *o, struct lisp_auth_key *k, const uint8_t *b,
		  size_t len, const struct lisp_addr *from, uint16_t fport)
{
	char a[LISP_ADDR_STRLEN];
	struct lisp_map_notify n;
	struct lisp_map_reply r;
	struct lisp_ecm e;
	struct lisp_map_request q;
	struct lisp_prefix p;
	struct lisp_iter it;
	int type = lisp_msg_type(b, len);

	lisp_addr_format(from, a, sizeof(a));
	if (type == LISP_TYPE_MAP_NOTIFY && lisp_msg_decode_map_notify(b, len, &n) == 0) {
		printf("map-notify from=%s nonce=0x%016llx mac=%s", a, (unsigned long long)n.nonce,
		       k && lisp_auth_verify(k, b, len) == 0 ? "ok" : "bad");
		print_records(&n.records);
		printf("\n");
		if (o->ack && k) {
			uint8_t ack[4096];

			memcpy(ack, b, len);
			ack[0] = (uint8_t)(LISP_TYPE_MAP_NOTIFY_ACK << 4 | (ack[0] & 0x0f));
			if (lisp_auth_sign(k, ack, len) == 0)
				send_to(fd, from, fport, ack, len);
		}
	} else if (type == LISP_TYPE_MAP_REPLY && lisp_msg_decode_map_reply(b, len, &r) == 0) {
		printf("map-reply from=%s nonce=0x%016llx", a, (unsigned long long)r.nonce);
		print_records(&r.records);
		printf("\n");
	} else if (type == LISP_TYPE_ECM && lisp_msg_decode_ecm(b, len, &e) == 0 &&
		   lisp_msg_decode_map_request(e.inner.payload, e.inner.payload_len, &q) == 0) {
		lisp_prefix_iter_init(&it, &q.eids);
		lisp_prefix_iter_next(&it, &p);
		printf("ecm-map-request from=%s nonce=0x%016llx eid=%s\n", a,
		       (unsigned long long)q.nonce, lisp_prefix_format(&p, (char[64]){ 0 }, 64));
	} else {
		printf("other from=%s type=%d len=%zu\n", a, type, len);
	}
	fflush(stdout);
	return type;
}

/* Receives for up to o->wait seconds or until count messages of type want (0: any). */
static int receive(int fd, const struct opts *o, struct lisp_auth_key *k, int want, int count)
{
	struct timespec t0, t;
	uint8_t b[65536];
	int got = 0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		struct lisp_addr from;
		uint16_t fport;
		double left;
		ssize_t n;

		clock_gettime(CLOCK_MONOTONIC, &t);
		left = o->wait - ((double)(t.tv_sec - t0.tv_sec) + (t.tv_nsec - t0.tv_nsec) * 1e-9);
		if (left <= 0 || poll(&pfd, 1, (int)(left * 1000) + 1) <= 0)
			return got;
		n = recvfrom(fd, b, sizeof(b), 0, (struct sockaddr *)&ss, &sl);
		if (n < 0)
			continue;
		lisp_addr_from_sockaddr(&ss, &from, &fport);
		if (handle(fd, o, k, b, (size_t)n, &from, fport) == want || want == 0)
			if (++got == count)
				return got;
	}
}

static int parse_locs(const char *list, struct lisp_locator *locs)
{
	char buf[1024], *save = NULL;
	int n = 0;

	snprintf(buf, sizeof(buf), "%s", list);
	for (char *s = strtok_r(buf, ",", &save); s && n < 16; s = strtok_r(NULL, ",", &save)) {
		memset(&locs[n], 0, sizeof(locs[n]));
		locs[n].priority = 1;
		locs[n].weight = 100;
		locs[n].mpriority = 255;
		locs[n].local = locs[n].reachable = true;
		locs[n].naddr = 1;
		locs[n].addr[0] = addr(s);
		n++;
	}
	return n;
}

/* A Map-Register nonce that grows from one run to the next, as our ETR's (without -n). */
static uint64_t clock_nonce(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int cmd_register(const struct opts *o)
{
	struct lisp_map_register m = { .proxy_reply = o->proxy,
				       .want_map_notify = o->want_notify,
				       .nonce = o->nonce ? o->nonce : clock_nonce(),
				       .auth = { .alg_id = o->alg } };
	struct lisp_auth_key *k = lisp_auth_key_new(o->key, strlen(o->key));
	struct lisp_locator locs[16];
	struct lisp_eid_record r = { .ttl = o->ttl, .authoritative = true, .locs = locs };
	struct lisp_addr ms = addr(o->peer);
	uint8_t buf[4096];
	struct buf_writer w;
	int fd, got;

	if (lisp_prefix_parse(o->eid, o->iid, &r.eid) < 0)
		die("bad EID prefix");
	r.loc_count = (uint8_t)parse_locs(o->rlocs, locs);
	if (o->xtr_id) {
		m.xtr_id_present = true;
		for (int i = 0; i < 16 && o->xtr_id[2 * i] && o->xtr_id[2 * i + 1]; i++)
			sscanf(o->xtr_id + 2 * i, "%2hhx", &m.xtr_id[i]);
	}
	buf_writer_init(&w, buf, sizeof(buf));
	if (lisp_msg_encode_map_register(&w, &m, &r, 1) < 0 || lisp_auth_sign(k, buf, w.off) < 0)
		die("cannot encode");
	fd = open_udp(ms.afi, o->src, o->port);
	send_to(fd, &ms, LISP_CONTROL_PORT, buf, w.off);
	got = o->want_notify ? receive(fd, o, k, LISP_TYPE_MAP_NOTIFY, 1) : 1;
	if (!got)
		printf("timeout\n");
	lisp_auth_key_free(k);
	close(fd);
	return got ? 0 : 1;
}

static int cmd_request(const struct opts *o)
{
	struct lisp_map_request q = { .itr_rloc_count = 1 };
	struct lisp_addr mr = addr(o->peer);
	struct lisp_prefix eids[255];
	struct lisp_ecm e = { .inner = { .dport = LISP_CONTROL_PORT, .ttl = 64 } };
	uint8_t req[8192], buf[9000];
	struct buf_writer w;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int fd, got, n = o->records, count = o->count > 0 ? o->count : 1;

	if (n < 1 || n > 255)
		die("-N: 1-255 records");
	if (lisp_prefix_parse(o->eid, o->iid, &eids[0]) < 0)
		die("bad EID");
	for (int i = 1; i < n; i++)
		eids[i] = eids[0];
	q.itr_rlocs[0] = addr(o->rlocs);
	q.src_eid.addr.afi = LISP_AFI_NONE;
	q.src_eid.iid = o->iid;
	fd = open_udp(mr.afi, o->src, o->port);
	getsockname(fd, (struct sockaddr *)&ss, &sl);
	e.inner.sport = ntohs(((struct sockaddr_in *)&ss)->sin_port); /* same offset in v6 */
	e.inner.src = q.itr_rlocs[0];
	e.inner.dst = eids[0].addr;
	if (e.inner.src.afi != e.inner.dst.afi)
		die("ITR-RLOC and EID of different families: not supported by this tool");
	for (int i = 0; i < count; i++) {
		if (getrandom(&q.nonce, sizeof(q.nonce), 0) != sizeof(q.nonce))
			die("getrandom");
		buf_writer_init(&w, req, sizeof(req));
		if (lisp_msg_encode_map_request(&w, &q, eids, (size_t)n) < 0)
			die("cannot encode request");
		size_t len = w.off;

		buf_writer_init(&w, buf, sizeof(buf));
		if (lisp_msg_encode_ecm(&w, &e, req, len) < 0)
			die("cannot encode ECM");
		send_to(fd, &mr, LISP_CONTROL_PORT, buf, w.off);
	}
	if (o->wait <= 0) {
		printf("sent %d\n", count);
		close(fd);
		return 0;
	}
	got = receive(fd, o, NULL, LISP_TYPE_MAP_REPLY, 1);
	if (!got)
		printf("timeout\n");
	close(fd);
	return got ? 0 : 1;
}

/* Answers one Encapsulated Map-Request the way a lying Map-Resolver would (see the usage). */
static void mr_answer(int fd, const struct opts *o, const uint8_t *b, size_t len)
{
	struct lisp_eid_record recs[17] = { 0 };
	struct lisp_locator locs[16];
	struct lisp_map_request q;
	struct lisp_map_reply r = { 0 };
	struct lisp_prefix asked;
	struct lisp_iter it;
	struct lisp_ecm e;
	char list[1024], *save = NULL;
	uint8_t out[4096];
	struct buf_writer w;
	size_t n = 1;

	if (lisp_msg_decode_ecm(b, len, &e) < 0 ||
	    lisp_msg_decode_map_request(e.inner.payload, e.inner.payload_len, &q) < 0)
		return;
	lisp_prefix_iter_init(&it, &q.eids);
	if (!lisp_prefix_iter_next(&it, &asked) || !q.itr_rloc_count)
		return;
	r.nonce = q.nonce;
	if (lisp_prefix_parse(o->eid, asked.iid, &recs[0].eid) < 0)
		die("bad -e prefix");
	recs[0].ttl = 1440;
	recs[0].authoritative = true;
	recs[0].loc_count = (uint8_t)parse_locs(o->rlocs, locs);
	recs[0].locs = locs;
	snprintf(list, sizeof(list), "%s", o->extra ? o->extra : "");
	for (char *t = strtok_r(list, ",", &save); t && n < 17; t = strtok_r(NULL, ",", &save)) {
		char *colon = strchr(t, ':');

		if (!colon ||
		    lisp_prefix_parse(colon + 1, (uint32_t)strtoul(t, NULL, 0), &recs[n].eid) < 0)
			die("bad -X IID:PREFIX");
		recs[n].ttl = 1440;
		recs[n].act = LISP_ACT_NATIVE_FORWARD;
		n++;
	}
	buf_writer_init(&w, out, sizeof(out));
	if (lisp_msg_encode_map_reply(&w, &r, recs, n) < 0)
		die("cannot encode reply");
	send_to(fd, &q.itr_rlocs[0], e.inner.sport, out, w.off);
	printf("answered nonce=0x%016llx records=%zu\n", (unsigned long long)q.nonce, n);
	fflush(stdout);
}

static int cmd_mr(const struct opts *o)
{
	int fd = open_udp(o->src && strchr(o->src, ':') ? LISP_AFI_IPV6 : LISP_AFI_IPV4, o->src,
			  LISP_CONTROL_PORT);
	struct timespec t0, t;

	printf("listening\n");
	fflush(stdout);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		uint8_t b[65536];
		double left;
		ssize_t n;

		clock_gettime(CLOCK_MONOTONIC, &t);
		left = o->wait - ((double)(t.tv_sec - t0.tv_sec) + (t.tv_nsec - t0.tv_nsec) * 1e-9);
		if (left <= 0 || poll(&pfd, 1, (int)(left * 1000) + 1) <= 0)
			break;
		n = recv(fd, b, sizeof(b), 0);
		if (n > 0 && lisp_msg_type(b, (size_t)n) == LISP_TYPE_ECM)
			mr_answer(fd, o, b, (size_t)n);
	}
	close(fd);
	return 0;
}

static int cmd_smr(const struct opts *o)
{
	struct lisp_map_request q = { .smr = true, .itr_rloc_count = 1 };
	struct lisp_addr itr = addr(o->peer);
	uint8_t buf[512];
	struct buf_writer w;
	int fd;

	if (lisp_prefix_parse(o->eid, o->iid, &q.src_eid) < 0)
		die("bad EID");
	if (getrandom(&q.nonce, sizeof(q.nonce), 0) != sizeof(q.nonce))
		die("getrandom");
	q.itr_rlocs[0] = addr(o->rlocs);
	buf_writer_init(&w, buf, sizeof(buf));
	if (lisp_msg_encode_map_request(&w, &q, &q.src_eid, 1) < 0)
		die("cannot encode");
	fd = open_udp(itr.afi, o->src, o->port);
	send_to(fd, &itr, LISP_CONTROL_PORT, buf, w.off);
	close(fd);
	return 0;
}

static int cmd_listen(const struct opts *o)
{
	struct lisp_auth_key *k = o->key ? lisp_auth_key_new(o->key, strlen(o->key)) : NULL;
	int fd = open_udp(o->src && strchr(o->src, ':') ? LISP_AFI_IPV6 : LISP_AFI_IPV4, o->src,
			  o->port);

	printf("listening\n");
	fflush(stdout);
	receive(fd, o, k, 0, o->count);
	lisp_auth_key_free(k);
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o = {
		.ttl = 1440, .alg = 2, .wait = 2, .port = 0, .count = -1, .nonce = 0, .records = 1
	};
	const char *cmd;
	int ch;

	if (argc < 2)
		die("usage: lispc register|request|listen [options] (see the source)");
	cmd = argv[1];
	optind = 2;
	if (strcmp(cmd, "register") == 0 || strcmp(cmd, "listen") == 0)
		o.port = LISP_CONTROL_PORT;
	while ((ch = getopt(argc, argv, "m:k:e:i:r:x:t:n:a:PMw:s:p:c:AN:X:")) != -1) {
		switch (ch) {
		case 'm':
			o.peer = optarg;
			break;
		case 'k':
			o.key = optarg;
			break;
		case 'e':
			o.eid = optarg;
			break;
		case 'i':
			o.iid = (uint32_t)strtoul(optarg, NULL, 0);
			break;
		case 'r':
			o.rlocs = optarg;
			break;
		case 'x':
			o.xtr_id = optarg;
			break;
		case 't':
			o.ttl = (uint32_t)strtoul(optarg, NULL, 0);
			break;
		case 'n':
			o.nonce = strtoull(optarg, NULL, 0);
			break;
		case 'a':
			o.alg = (uint8_t)atoi(optarg);
			break;
		case 'P':
			o.proxy = true;
			break;
		case 'M':
			o.want_notify = true;
			break;
		case 'w':
			o.wait = atof(optarg);
			break;
		case 's':
			o.src = optarg;
			break;
		case 'p':
			o.port = atoi(optarg);
			break;
		case 'c':
			o.count = atoi(optarg);
			break;
		case 'A':
			o.ack = true;
			break;
		case 'N':
			o.records = atoi(optarg);
			break;
		case 'X':
			o.extra = optarg;
			break;
		default:
			die("bad option");
		}
	}
	if (strcmp(cmd, "register") == 0 && o.peer && o.key && o.eid && o.rlocs)
		return cmd_register(&o);
	if (strcmp(cmd, "request") == 0 && o.peer && o.eid && o.rlocs)
		return cmd_request(&o);
	if (strcmp(cmd, "listen") == 0)
		return cmd_listen(&o);
	if (strcmp(cmd, "mr") == 0 && o.src && o.eid && o.rlocs)
		return cmd_mr(&o);
	if (strcmp(cmd, "smr") == 0 && o.peer && o.eid && o.rlocs)
		return cmd_smr(&o);
	die("missing options (see the source)");
}
