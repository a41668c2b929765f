/*
 * The Map-Server's state file: its registrations and strict-nonce state
 * across a restart (snapshot, save, load).
 *
 * The file: a magic line, then one line per live registrant
 *   R IID PREFIX SITE FIRST TTL PROXY WANT-NOTIFY ADDR PORT XTR-ID[@SITE-ID]|- LAST LIFE NLOC
 *     (ADDR PRIORITY WEIGHT MPRIORITY MWEIGHT REACHABLE) x NLOC
 * and (version 2) one per xTR whose last Map-Register nonce the site keeps
 *   N SITE KEY-TAG XTR-ID|- ADDR|- NONCE
 * KEY-TAG names the site key the nonce came with, without revealing it
 * (the first 8 bytes of HMAC-SHA-256(key, NONCE_TAG_LABEL), hex); NONCE is
 * 16 hex digits; and (version 3) one per confirmed subscription (ms/pubsub.c)
 *   S SUBSCRIBER IID PREFIX XTR-ID SITE-ID|- ITR-RLOC PORT NONCE CREATED EXPIRES LIFE
 * Versions 1 and 2 are read as well.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/lisp_auth.h"
#include "lib/ptable.h"
#include "lib/xalloc.h"
#include "xtr-gateway/ms/ms_int.h"

#define STATE_MAGIC	"# vmroam map-server state 3"
#define STATE_MAGIC_V2	"# vmroam map-server state 2"
#define STATE_MAGIC_V1	"# vmroam map-server state 1"
#define NONCE_TAG_LABEL "vmroam map-server nonce state"
#define NONCE_TAG_LEN	8

/* A registrant line of a snapshot (its locators in ms_snapshot.locs from loc on). */
struct snap_reg {
	struct lisp_prefix p;
	struct lisp_addr addr;
	double first, last;
	uint32_t ttl, life, site, loc;
	uint16_t port;
	uint8_t nloc;
	uint8_t xtr_id[16];
	uint64_t site_id;
	bool proxy, want, has_xtr_id;
};

/* A nonce line of a snapshot. */
struct snap_nonce {
	uint32_t site;
	bool by_xtr_id;
	uint8_t xtr_id[16];
	struct lisp_addr addr;
	uint64_t nonce;
};

struct ms_snapshot {
	char (*names)[XTR_SITE_NAME_MAX];    /* of each site */
	char (*tags)[2 * NONCE_TAG_LEN + 1]; /* the key tag of each site's nonces */
	struct snap_reg *regs;
	size_t nregs, capregs;
	struct ms_loc *locs;
	size_t nlocs, caplocs;
	struct snap_nonce *nonces;
	size_t nnonces;
	char *subs; /* the S lines, formatted */
	size_t subslen;
	const struct ms *ms; /* while it is taken */
	double now;
};

/* The index of site in ms->sites (registrations come in runs of one site: the last is cached). */
static uint32_t site_index(const struct ms *ms, const struct ms_site *site, uint32_t hint)
{
	if (hint < ms->nsites && ms->sites[hint] == site)
		return hint;
	for (uint32_t i = 0; i < ms->nsites; i++)
		if (ms->sites[i] == site)
			return i;
	return hint; /* cannot happen: every registration's site is in ms->sites */
}

/* Walk callback: copies the live registrants of a prefix. */
static int save_one(const struct lisp_prefix *p, void *v, void *arg)
{
	const struct ms_reg *reg = v;
	struct ms_snapshot *s = arg;
	uint32_t site = s->nregs ? s->regs[s->nregs - 1].site : 0;

	site = site_index(s->ms, reg->site, site);
	for (const struct ms_registrant *r = reg->regs; r; r = r->next) {
		struct snap_reg *c;

		if (ms_expires(r) <= s->now)
			continue;
		if (s->nregs == s->capregs) {
			s->capregs = s->capregs ? 2 * s->capregs : 1024;
			s->regs = xreallocarray(s->regs, s->capregs, sizeof(*s->regs));
		}
		if (s->nlocs + r->nloc > s->caplocs) {
			s->caplocs = 2 * (s->nlocs + r->nloc) + 1024;
			s->locs = xreallocarray(s->locs, s->caplocs, sizeof(*s->locs));
		}
		c = &s->regs[s->nregs++];
		*c = (struct snap_reg){ .p = *p,
					.addr = r->addr,
					.first = reg->first,
					.last = r->last,
					.ttl = reg->ttl,
					.life = r->life,
					.site = site,
					.loc = (uint32_t)s->nlocs,
					.port = r->port,
					.nloc = r->nloc,
					.proxy = reg->proxy_reply,
					.want = reg->want_map_notify,
					.has_xtr_id = r->has_xtr_id,
					.site_id = r->site_id };
		memcpy(c->xtr_id, r->xtr_id, 16);
		for (uint8_t i = 0; i < r->nloc; i++)
			s->locs[s->nlocs++] = *ms_loc_at(r, i);
	}
	return 0;
}

/* The tag of a key (KEY-TAG above), 2 * NONCE_TAG_LEN hex digits. 0 or -EIO. */
static int nonce_tag(const uint8_t *key, size_t keylen, char tag[2 * NONCE_TAG_LEN + 1])
{
	struct lisp_auth_key *k = lisp_auth_key_new(key, keylen);
	uint8_t mac[LISP_AUTH_SHA256_LEN];
	int rc = lisp_auth_hmac_sha256(k, (const uint8_t *)NONCE_TAG_LABEL, strlen(NONCE_TAG_LABEL),
				       mac);

	lisp_auth_key_free(k);
	for (int i = 0; i < NONCE_TAG_LEN; i++)
		snprintf(tag + 2 * i, 3, "%02x", mac[i]);
	return rc;
}

/* Copies the nonces of site i, tagged with the key they came with. */
static void save_nonces(struct ms_snapshot *s, const struct ms_site *site, uint32_t i)
{
	if (!site->nnonces || nonce_tag(site->nonce_key, site->nonce_keylen, s->tags[i]) < 0)
		return;
	s->nonces = xreallocarray(s->nonces, s->nnonces + site->nnonces, sizeof(*s->nonces));
	for (size_t b = 0; b < MS_NONCE_BUCKETS; b++) {
		for (const struct nonce_seen *n = site->nonces[b]; n; n = n->next) {
			struct snap_nonce *c = &s->nonces[s->nnonces++];

			*c = (struct snap_nonce){ .site = i,
						  .by_xtr_id = n->by_xtr_id,
						  .addr = n->addr,
						  .nonce = n->nonce };
			memcpy(c->xtr_id, n->xtr_id, 16);
		}
	}
}

struct ms_snapshot *ms_snapshot_take(struct ms *ms, double now)
{
	struct ms_snapshot *s = xcalloc(1, sizeof(*s));

	s->ms = ms;
	s->now = now;
	s->names = xcalloc(ms->nsites + 1, sizeof(*s->names));
	s->tags = xcalloc(ms->nsites + 1, sizeof(*s->tags));
	s->capregs = s->caplocs = ms->nheap + 1; /* every registrant is in the heap */
	s->regs = xreallocarray(NULL, s->capregs, sizeof(*s->regs));
	s->locs = xreallocarray(NULL, s->caplocs, sizeof(*s->locs));
	for (size_t i = 0; i < ms->nsites; i++) {
		memcpy(s->names[i], ms->sites[i]->name, sizeof(s->names[i]));
		save_nonces(s, ms->sites[i], (uint32_t)i);
	}
	ptable_walk(ms->regs, NULL, save_one, s);
	if (ms->nsub) {
		FILE *f = open_memstream(&s->subs, &s->subslen);

		if (f) {
			ms_pub_format(ms, f);
			fclose(f);
		}
	}
	s->ms = NULL;
	ms->dirty = ms->urgent = false;
	return s;
}

void ms_snapshot_free(struct ms_snapshot *s)
{
	if (!s)
		return;
	free(s->names);
	free(s->tags);
	free(s->regs);
	free(s->locs);
	free(s->nonces);
	free(s->subs);
	free(s);
}

static void format_reg(FILE *f, const struct ms_snapshot *s, const struct snap_reg *r)
{
	char pb[LISP_PREFIX_STRLEN], ab[LISP_ADDR_STRLEN];
	struct lisp_prefix bare = r->p;

	bare.iid = 0;
	fprintf(f, "R %u %s %s %.6f %u %d %d %s %u ", r->p.iid,
		lisp_prefix_format(&bare, pb, sizeof(pb)), s->names[r->site], r->first, r->ttl,
		r->proxy, r->want, lisp_addr_format(&r->addr, ab, sizeof(ab)), r->port);
	if (r->has_xtr_id)
		for (int i = 0; i < 16; i++)
			fprintf(f, "%02x", r->xtr_id[i]);
	else
		fputc('-', f);
	if (r->has_xtr_id && r->site_id)
		fprintf(f, "@%llu", (unsigned long long)r->site_id);
	fprintf(f, " %.6f %u %u", r->last, r->life, r->nloc);
	for (uint8_t i = 0; i < r->nloc; i++) {
		const struct ms_loc *l = &s->locs[r->loc + i];

		fprintf(f, " %s %u %u %u %u %d", lisp_addr_format(&l->addr, ab, sizeof(ab)),
			l->priority, l->weight, l->mpriority, l->mweight, l->reachable);
	}
	fputc('\n', f);
}

static void format_nonce(FILE *f, const struct ms_snapshot *s, const struct snap_nonce *n)
{
	char ab[LISP_ADDR_STRLEN];

	fprintf(f, "N %s %s ", s->names[n->site], s->tags[n->site]);
	if (n->by_xtr_id)
		for (int i = 0; i < 16; i++)
			fprintf(f, "%02x", n->xtr_id[i]);
	fprintf(f, "%s %s %016llx\n", n->by_xtr_id ? "" : "-",
		n->by_xtr_id ? "-" : lisp_addr_format(&n->addr, ab, sizeof(ab)),
		(unsigned long long)n->nonce);
}

/* The text of a state file. */
static void snapshot_format(const struct ms_snapshot *s, FILE *f)
{
	fprintf(f, "%s\n", STATE_MAGIC);
	for (size_t i = 0; i < s->nregs; i++)
		format_reg(f, s, &s->regs[i]);
	for (size_t i = 0; i < s->nnonces; i++)
		format_nonce(f, s, &s->nonces[i]);
	if (s->subs)
		fwrite(s->subs, 1, s->subslen, f);
}

int ms_snapshot_write(const struct ms_snapshot *s, const char *path)
{
	char tmp[4096], dir[4096];
	const char *slash = strrchr(path, '/');
	FILE *f;
	int fd, rc = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	f = fdopen(fd, "w");
	if (!f) {
		rc = -errno;
		close(fd);
		unlink(tmp);
		return rc;
	}
	snapshot_format(s, f);
	if (fflush(f) != 0)
		rc = -errno;
	else if (ferror(f))
		rc = -EIO;
	else if (fsync(fd) != 0)
		rc = -errno;
	if (fclose(f) != 0 && !rc)
		rc = -errno;
	if (!rc && rename(tmp, path) != 0)
		rc = -errno;
	if (rc) {
		unlink(tmp);
		return rc;
	}
	/* the rename reaches the disk with its directory */
	snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - path) + 1 : 1, slash ? path : ".");
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	return 0;
}

int ms_state_text(struct ms *ms, double now, char **buf, size_t *len)
{
	struct ms_snapshot *s = ms_snapshot_take(ms, now);
	FILE *f = open_memstream(buf, len);
	int rc = 0;

	if (f) {
		snapshot_format(s, f);
		if (fclose(f) != 0)
			rc = -ENOMEM;
	} else {
		rc = -errno;
	}
	ms_snapshot_free(s);
	if (rc < 0) {
		ms->dirty = true;
		if (f)
			free(*buf);
		*buf = NULL;
	}
	return rc;
}

int ms_save(struct ms *ms, const char *path, double now)
{
	struct ms_snapshot *s = ms_snapshot_take(ms, now);
	int rc = ms_snapshot_write(s, path);

	ms_snapshot_free(s);
	if (rc < 0)
		ms->dirty = true;
	return rc;
}

bool ms_dirty_urgent(const struct ms *ms)
{
	return ms->urgent;
}

bool ms_dirty(const struct ms *ms)
{
	return ms->dirty;
}

void ms_mark_dirty(struct ms *ms)
{
	ms->dirty = true;
}

static bool parse_u(const char *s, unsigned long max, unsigned long *out)
{
	char *end;

	if (!s || !*s || *s == '-')
		return false;
	errno = 0;
	*out = strtoul(s, &end, 10);
	return !errno && !*end && *out <= max;
}

static bool parse_time(const char *s, double *out)
{
	char *end;

	if (!s || !*s)
		return false;
	*out = strtod(s, &end);
	return !*end && *out >= 0 && *out < 1e11;
}

static bool parse_xtr_id(const char *s, bool *has, uint8_t *id)
{
	*has = strcmp(s, "-") != 0;
	if (!*has)
		return true;
	if (strlen(s) != 32 || strspn(s, "0123456789abcdefABCDEF") != 32)
		return false;
	for (int i = 0; i < 16; i++) {
		unsigned v;

		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return false;
		id[i] = (uint8_t)v;
	}
	return true;
}

/* The configured site called name, or NULL. */
static struct ms_site *live_site(const struct ms *ms, const char *name)
{
	for (size_t i = 0; i < ms->nsites; i++)
		if (ms->sites[i]->alive && strcmp(ms->sites[i]->name, name) == 0)
			return ms->sites[i];
	return NULL;
}

/*
 * A saved registrant line, split into words: 0 taken, 1 skipped (not alive,
 * site gone, not allowed, a duplicate), or -EINVAL. Without apply, only checked.
 */
static int load_line(struct ms *ms, char **w, size_t n, double now, bool apply)
{
	struct lisp_locator *locs = ms->locs;
	unsigned long iid, ttl, proxy, want, port, life, nloc, v[5];
	struct ms_site *site;
	struct ms_registrant *r;
	struct ms_reg *reg;
	struct ms_cfg *cfg;
	struct lisp_prefix p;
	struct lisp_addr addr;
	double first, last;
	uint8_t xtr_id[16];
	uint64_t site_id = 0;
	bool has_id;
	char *at = n >= 11 ? strchr(w[10], '@') : NULL;

	if (at) { /* XTR-ID@SITE-ID */
		char *end;

		*at = '\0';
		errno = 0;
		site_id = strtoull(at + 1, &end, 10);
		if (errno || *end || !at[1] || at[1] == '-' || !site_id)
			return -EINVAL;
	}
	if (n < 14 || strcmp(w[0], "R") != 0 || !parse_u(w[1], 0xffffffffu, &iid) ||
	    lisp_prefix_parse(w[2], (uint32_t)iid, &p) < 0 || !parse_time(w[4], &first) ||
	    !parse_u(w[5], 0xffffffffu, &ttl) || !parse_u(w[6], 1, &proxy) ||
	    !parse_u(w[7], 1, &want) || lisp_addr_parse(w[8], &addr) < 0 ||
	    (addr.afi != LISP_AFI_IPV4 && addr.afi != LISP_AFI_IPV6) ||
	    !parse_u(w[9], 65535, &port) || !parse_xtr_id(w[10], &has_id, xtr_id) ||
	    !parse_time(w[11], &last) || !parse_u(w[12], 0xffffffffu, &life) ||
	    !parse_u(w[13], MS_LOCS_MAX, &nloc) || nloc == 0 || n != 14 + 6 * nloc)
		return -EINVAL;
	for (unsigned long i = 0; i < nloc; i++) {
		char **x = w + 14 + 6 * i;

		memset(&locs[i], 0, sizeof(locs[i]));
		if (lisp_addr_parse(x[0], &locs[i].addr[0]) < 0 || !parse_u(x[1], 255, &v[0]) ||
		    !parse_u(x[2], 255, &v[1]) || !parse_u(x[3], 255, &v[2]) ||
		    !parse_u(x[4], 255, &v[3]) || !parse_u(x[5], 1, &v[4]))
			return -EINVAL;
		locs[i].naddr = 1;
		locs[i].priority = (uint8_t)v[0];
		locs[i].weight = (uint8_t)v[1];
		locs[i].mpriority = (uint8_t)v[2];
		locs[i].mweight = (uint8_t)v[3];
		locs[i].reachable = v[4];
	}
	if (!apply)
		return 0;
	if (last + (double)life <= now)
		return 1; /* expired while we were down */
	site = live_site(ms, w[3]);
	cfg = site ? ms_cfg_allowing(ms, &p) : NULL;
	if (!cfg || cfg->site != site || !ms_locs_allowed(site, locs, (uint8_t)nloc))
		return 1; /* the configuration no longer takes it */
	reg = ptable_lookup_exact(ms->regs, &p);
	if (reg && reg->site != site)
		return 1;
	if (reg && ms_registrant_find(reg, has_id, xtr_id, &addr))
		return 1; /* a duplicate line */
	if (!reg) {
		reg = xcalloc(1, sizeof(*reg));
		reg->p = p;
		reg->site = site;
		reg->first = first;
		if (ptable_add(ms->regs, &reg->p, reg) < 0) {
			free(reg);
			return -ENOMEM;
		}
	}
	reg->ttl = (uint32_t)ttl;
	reg->proxy_reply = proxy;
	reg->want_map_notify = want;
	r = xcalloc(1, sizeof(*r));
	r->reg = reg;
	r->addr = addr;
	r->port = (uint16_t)port;
	r->has_xtr_id = has_id;
	memcpy(r->xtr_id, xtr_id, 16);
	r->site_id = has_id ? site_id : 0;
	r->last = last;
	r->since = last; /* (not saved: no earlier than what is known) */
	r->life = (uint32_t)life;
	ms_set_locs(r, locs, (uint8_t)nloc);
	r->next = reg->regs;
	reg->regs = r;
	ms_heap_push(ms, r);
	return 0;
}

static bool parse_nonce(const char *s, uint64_t *out)
{
	char *end;

	if (strlen(s) != 16 || !strchr("0123456789abcdef", s[0]))
		return false;
	errno = 0;
	*out = strtoull(s, &end, 16);
	return !errno && !*end;
}

/*
 * A saved nonce line (N SITE KEY-TAG XTR-ID|- ADDR|- NONCE): 1 (it is no
 * registration: taken, or skipped when the site is gone or its key changed,
 * or its table is full), or -EINVAL. Without apply, only checked.
 */
static int load_nonce(struct ms *ms, char **w, size_t n, bool apply)
{
	char tag[2 * NONCE_TAG_LEN + 1];
	struct ms_site *site;
	struct lisp_addr addr = { 0 };
	struct nonce_seen *e;
	uint8_t xtr_id[16] = { 0 };
	uint64_t nonce;
	bool has_id;

	if (n != 6 || strlen(w[2]) != 2 * NONCE_TAG_LEN ||
	    strspn(w[2], "0123456789abcdef") != 2 * NONCE_TAG_LEN ||
	    !parse_xtr_id(w[3], &has_id, xtr_id) || has_id != (strcmp(w[4], "-") == 0) ||
	    (!has_id && (lisp_addr_parse(w[4], &addr) < 0 ||
			 (addr.afi != LISP_AFI_IPV4 && addr.afi != LISP_AFI_IPV6))) ||
	    !parse_nonce(w[5], &nonce))
		return -EINVAL;
	if (!apply)
		return 1;
	site = live_site(ms, w[1]);
	if (!site || nonce_tag(site->conf->key, site->conf->keylen, tag) < 0 ||
	    strcmp(tag, w[2]) != 0)
		return 1; /* the site is gone, or has another key now: its xTRs start afresh */
	ms_nonces_sync_key(site);
	e = ms_nonce_entry(site, has_id, xtr_id, &addr, true);
	if (e && nonce > e->nonce)
		e->nonce = e->floor = nonce; /* strict again from there: its window is gone */
	return 1;
}

int ms_load(struct ms *ms, const char *path, double now, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char *line = NULL, *w[14 + 6 * MS_LOCS_MAX], *save;
	size_t cap = 0, lineno = 0;
	int loaded = 0, rc = 0, pass = 0;
	ssize_t len;

	if (!f) {
		if (errno == ENOENT)
			return 0;
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return rc;
	}
	/* pass 0 checks every line, pass 1 takes them: a bad file changes nothing */
next_pass:
	while ((len = getline(&line, &cap, f)) >= 0) {
		size_t n = 0;

		lineno++;
		if (lineno == 1) {
			if (strncmp(line, STATE_MAGIC, strlen(STATE_MAGIC)) != 0 &&
			    strncmp(line, STATE_MAGIC_V2, strlen(STATE_MAGIC_V2)) != 0 &&
			    strncmp(line, STATE_MAGIC_V1, strlen(STATE_MAGIC_V1)) != 0) {
				snprintf(err, errlen, "%s:1: not a Map-Server state file", path);
				rc = -EINVAL;
				break;
			}
			continue;
		}
		if (len > 65536) {
			snprintf(err, errlen, "%s:%zu: line too long", path, lineno);
			rc = -EINVAL;
			break;
		}
		for (char *t = strtok_r(line, " \n", &save); t; t = strtok_r(NULL, " \n", &save)) {
			if (n == sizeof(w) / sizeof(w[0])) {
				n++;
				break;
			}
			w[n++] = t;
		}
		if (n == 0)
			continue;
		if (n > sizeof(w) / sizeof(w[0]))
			rc = -EINVAL;
		else if (strcmp(w[0], "N") == 0)
			rc = load_nonce(ms, w, n, pass == 1);
		else if (strcmp(w[0], "S") == 0)
			rc = ms_pub_load(ms, w, n, now, pass == 1);
		else
			rc = load_line(ms, w, n, now, pass == 1);
		if (rc < 0) {
			snprintf(err, errlen, "%s:%zu: %s", path, lineno,
				 rc != -EINVAL		  ? strerror(-rc)
				 : strcmp(w[0], "N") == 0 ? "malformed nonce"
				 : strcmp(w[0], "S") == 0 ? "malformed subscription"
							  : "malformed registration");
			break;
		}
		loaded += pass == 1 && rc == 0;
		rc = 0;
	}
	if (rc == 0 && pass++ == 0) {
		rewind(f);
		lineno = 0;
		goto next_pass;
	}
	free(line);
	fclose(f);
	return rc < 0 ? rc : loaded;
}
