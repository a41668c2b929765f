/* Path-compressed binary trie over (instance-id, address) keys. */
#include "lib/ptable.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/xalloc.h"

#define NIL	    0u /* node index 0 is never used */
#define MAX_WORDS   5  /* IPv6: iid + 4 address words */
#define CHUNK_SHIFT 14 /* 16384 nodes a chunk */
#define CHUNK_NODES (1u << CHUNK_SHIFT)
#define VAL_MAX	    0xffffffu /* value indices are 24 bits */
#define BATCH	    16	      /* lookups in flight in ptable_lookup_batch() */
#define JUMP_MIN    256	      /* jump cache slots a trie starts with */
#define JUMP_MAX    (1u << 20)

/* Node layout in 32-bit words: child[0], child[1], meta (value index << 8 | plen), key[w]. */
#define N_CHILD0 0
#define N_CHILD1 1
#define N_META	 2
#define N_KEY	 3

/*
 * The jump cache: a direct-mapped cache, per trie, from a block (the
 * instance-id plus the first 16 bits of an IPv4 or 32 bits of an IPv6
 * address) to where a longest-prefix search for any address of that
 * block continues: the first node at or below the block's length on the
 * block's path (NIL if none inside the block) and the best entry above
 * it. A lookup that hits skips the upper levels of the trie. Adding or
 * deleting a prefix at least as long as a block invalidates that block's
 * slot; a shorter one can change many blocks and bumps the generation,
 * which invalidates every slot.
 */
struct jump {
	uint64_t block;
	uint32_t node;
	uint32_t best; /* node index of the best entry above, or NIL */
	uint32_t gen;  /* valid when equal to the cache's; 0 never is */
};

struct jcache {
	struct jump *slot;
	uint32_t mask;
	uint32_t gen;
};

struct trie {
	unsigned words; /* key words: 2 for IPv4, 5 for IPv6 */
	unsigned jbits; /* key bits of a jump-cache block: 48 for IPv4, 64 for IPv6 */
	struct jcache *jc;
	unsigned stride; /* words per node */
	uint16_t afi;
	uint32_t root;
	uint32_t **chunks;
	size_t nchunks;
	uint32_t top;  /* next never-used node index */
	uint32_t free; /* freed nodes, linked through child[0] */
	size_t nodes;  /* nodes in use */
};

struct ptable {
	struct trie v4, v6;
	void **vals; /* value slots; [0] unused; free slots hold the next free index */
	uint32_t vcap, vtop, vfree;
	size_t count;
	ptable_free_fn free_fn;
};

static void jump_start(const struct trie *tr, const uint32_t *k, uint32_t *start, uint32_t *best);

static inline uint32_t *node(const struct trie *tr, uint32_t i)
{
	return tr->chunks[i >> CHUNK_SHIFT] + (size_t)(i & (CHUNK_NODES - 1)) * tr->stride;
}

static inline unsigned node_plen(const uint32_t *n)
{
	return n[N_META] & 0xff;
}

static inline uint32_t node_val(const uint32_t *n)
{
	return n[N_META] >> 8;
}

static inline unsigned key_bit(const uint32_t *k, unsigned i)
{
	return (k[i >> 5] >> (31 - (i & 31))) & 1;
}

/* Mask of the first nbits (1..32) of a word. */
static inline uint32_t hi_mask(unsigned nbits)
{
	return nbits >= 32 ? 0xffffffffu : ~(0xffffffffu >> nbits);
}

/* True if a and b agree in their first nbits bits. */
static inline bool key_match(const uint32_t *a, const uint32_t *b, unsigned nbits)
{
	unsigned j = 0;

	for (; nbits >= 32; nbits -= 32, j++)
		if (a[j] != b[j])
			return false;
	return nbits == 0 || ((a[j] ^ b[j]) & hi_mask(nbits)) == 0;
}

/* Length of the common prefix of a and b, at most nbits. */
static unsigned key_common(const uint32_t *a, const uint32_t *b, unsigned nbits)
{
	for (unsigned j = 0; j * 32 < nbits; j++) {
		uint32_t d = a[j] ^ b[j];

		if (d) {
			unsigned c = j * 32 + (unsigned)__builtin_clz(d);

			return c < nbits ? c : nbits;
		}
	}
	return nbits;
}

static void key_mask(uint32_t *k, unsigned words, unsigned nbits)
{
	for (unsigned j = 0; j < words; j++) {
		k[j] &= nbits ? hi_mask(nbits) : 0;
		nbits = nbits > 32 ? nbits - 32 : 0;
	}
}

static void jump_alloc(struct jcache *jc, uint32_t slots)
{
	free(jc->slot);
	jc->slot = xcalloc(slots, sizeof(*jc->slot));
	jc->mask = slots - 1;
	jc->gen = 1;
}

static void trie_init(struct trie *tr, uint16_t afi, unsigned words, unsigned jbits)
{
	memset(tr, 0, sizeof(*tr));
	tr->afi = afi;
	tr->words = words;
	tr->jbits = jbits;
	tr->stride = N_KEY + words;
	tr->top = 1; /* index 0 is NIL */
	tr->jc = xcalloc(1, sizeof(*tr->jc));
	jump_alloc(tr->jc, JUMP_MIN);
}

static void trie_fini(struct trie *tr)
{
	free(tr->jc->slot);
	free(tr->jc);
	for (size_t i = 0; i < tr->nchunks; i++)
		free(tr->chunks[i]);
	free(tr->chunks);
}

/* A node with key k masked to plen, no children, value index val. */
static uint32_t node_new(struct trie *tr, const uint32_t *k, unsigned plen, uint32_t val)
{
	uint32_t i, *n;

	if (tr->free) {
		i = tr->free;
		tr->free = node(tr, i)[N_CHILD0];
	} else {
		i = tr->top++;
		if ((i >> CHUNK_SHIFT) >= tr->nchunks) {
			tr->chunks =
				xreallocarray(tr->chunks, tr->nchunks + 1, sizeof(*tr->chunks));
			tr->chunks[tr->nchunks++] =
				xmalloc((size_t)CHUNK_NODES * tr->stride * sizeof(uint32_t));
		}
	}
	n = node(tr, i);
	n[N_CHILD0] = n[N_CHILD1] = NIL;
	n[N_META] = val << 8 | plen;
	memcpy(n + N_KEY, k, tr->words * sizeof(uint32_t));
	key_mask(n + N_KEY, tr->words, plen);
	tr->nodes++;
	return i;
}

static void node_del(struct trie *tr, uint32_t i)
{
	node(tr, i)[N_CHILD0] = tr->free;
	tr->free = i;
	tr->nodes--;
}

/* The trie of an address family, or NULL for families other than IPv4 and IPv6. */
static struct trie *trie_of(struct ptable *t, uint16_t afi)
{
	return afi == LISP_AFI_IPV4 ? &t->v4 : afi == LISP_AFI_IPV6 ? &t->v6 : NULL;
}

static const struct trie *trie_of_const(const struct ptable *t, uint16_t afi)
{
	return afi == LISP_AFI_IPV4 ? &t->v4 : afi == LISP_AFI_IPV6 ? &t->v6 : NULL;
}

/* Builds the key of (iid, a) for trie tr (a's family). */
static void make_key(const struct trie *tr, uint32_t iid, const struct lisp_addr *a, uint32_t *k)
{
	k[0] = iid;
	for (unsigned j = 1; j < tr->words; j++)
		k[j] = buf_load_be32(a->u.b + (j - 1) * 4);
}

/* Key and total length of prefix p for trie tr; false if p is not a valid prefix. */
static bool prefix_key(const struct trie *tr, const struct lisp_prefix *p, uint32_t *k,
		       unsigned *bits)
{
	uint32_t m[MAX_WORDS];

	if (!tr || p->plen > lisp_afi_max_plen(p->addr.afi))
		return false;
	make_key(tr, p->iid, &p->addr, k);
	*bits = 32 + p->plen;
	memcpy(m, k, sizeof(m));
	key_mask(m, tr->words, *bits);
	return memcmp(m, k, tr->words * sizeof(uint32_t)) == 0;
}

static void node_prefix(const struct trie *tr, const uint32_t *n, struct lisp_prefix *p)
{
	memset(p, 0, sizeof(*p));
	p->iid = n[N_KEY];
	p->addr.afi = tr->afi;
	p->plen = (uint8_t)(node_plen(n) - 32);
	for (unsigned j = 1; j < tr->words; j++) {
		uint32_t w = n[N_KEY + j];
		uint8_t *b = p->addr.u.b + (j - 1) * 4;

		b[0] = (uint8_t)(w >> 24);
		b[1] = (uint8_t)(w >> 16);
		b[2] = (uint8_t)(w >> 8);
		b[3] = (uint8_t)w;
	}
}

static uint32_t val_alloc(struct ptable *t, void *value)
{
	uint32_t v;

	if (t->vfree) {
		v = t->vfree;
		t->vfree = (uint32_t)(uintptr_t)t->vals[v];
	} else {
		if (t->vtop >= t->vcap) {
			t->vcap = t->vcap ? t->vcap + t->vcap / 2 : 64;
			t->vals = xreallocarray(t->vals, t->vcap, sizeof(*t->vals));
		}
		v = t->vtop++;
	}
	t->vals[v] = value;
	t->count++;
	return v;
}

static void val_release(struct ptable *t, uint32_t v)
{
	if (t->free_fn)
		t->free_fn(t->vals[v]);
	t->vals[v] = (void *)(uintptr_t)t->vfree;
	t->vfree = v;
	t->count--;
}

struct ptable *ptable_new(ptable_free_fn free_fn)
{
	struct ptable *t = xcalloc(1, sizeof(*t));

	trie_init(&t->v4, LISP_AFI_IPV4, 2, 48);
	trie_init(&t->v6, LISP_AFI_IPV6, 5, 64);
	t->free_fn = free_fn;
	t->vtop = 1; /* value index 0 marks a glue node */
	return t;
}

static void free_subtree(struct ptable *t, struct trie *tr, uint32_t i)
{
	uint32_t stack[MAX_WORDS * 32 + 8]; /* depth <= 161, one pending sibling a level */
	unsigned sp = 0;

	if (i != NIL)
		stack[sp++] = i;
	while (sp) {
		uint32_t *n = node(tr, stack[--sp]);

		if (node_val(n) && t->free_fn)
			t->free_fn(t->vals[node_val(n)]);
		for (int c = N_CHILD0; c <= N_CHILD1; c++)
			if (n[c] != NIL)
				stack[sp++] = n[c];
	}
}

void ptable_free(struct ptable *t)
{
	if (!t)
		return;
	free_subtree(t, &t->v4, t->v4.root);
	free_subtree(t, &t->v6, t->v6.root);
	trie_fini(&t->v4);
	trie_fini(&t->v6);
	free(t->vals);
	free(t);
}

/* The block of key k: instance-id and the leading address bits. */
static inline uint64_t jump_block(const struct trie *tr, const uint32_t *k)
{
	return (uint64_t)k[0] << 32 | (k[1] & hi_mask(tr->jbits - 32));
}

static inline struct jump *jump_slot(const struct trie *tr, uint64_t block)
{
	uint64_t h = block * 0x9e3779b97f4a7c15ull;

	return &tr->jc->slot[(h >> 32) & tr->jc->mask];
}

/* After prefix k (bits long) was added or deleted: drop what the cache may know wrongly. */
static void jump_changed(struct trie *tr, const uint32_t *k, unsigned bits)
{
	struct jcache *jc = tr->jc;
	struct jump *s;
	uint64_t block;

	if (bits < tr->jbits) {
		if (++jc->gen == 0)
			jump_alloc(jc, jc->mask + 1);
		return;
	}
	block = jump_block(tr, k);
	s = jump_slot(tr, block);
	if (s->block == block)
		s->gen = 0;
}

/* Grows the cache with the trie: about one slot per 8 nodes. */
static void jump_grow(struct trie *tr)
{
	uint32_t slots = tr->jc->mask + 1;

	if (tr->nodes > (size_t)slots * 8 && slots < JUMP_MAX)
		jump_alloc(tr->jc, slots * 2);
}

/* Inserts below *slot a node at the point where key k (bits long) belongs. */
static int trie_insert(struct ptable *t, struct trie *tr, const uint32_t *k, unsigned bits,
		       void *value)
{
	uint32_t *slot = &tr->root, *n = NULL, i, nn, glue;
	unsigned common = 0;

	while ((i = *slot) != NIL) {
		n = node(tr, i);
		common = key_common(k, n + N_KEY, bits < node_plen(n) ? bits : node_plen(n));
		if (common < node_plen(n))
			break;
		if (node_plen(n) == bits) {
			if (node_val(n))
				return -EEXIST;
			if (t->vtop > VAL_MAX && !t->vfree)
				return -ENOSPC;
			n[N_META] = val_alloc(t, value) << 8 | bits;
			return 0;
		}
		slot = &n[N_CHILD0 + key_bit(k, node_plen(n))];
	}
	if (t->vtop > VAL_MAX && !t->vfree)
		return -ENOSPC;
	nn = node_new(tr, k, bits, val_alloc(t, value));
	if (i == NIL) {
		*slot = nn;
	} else if (common == bits) {
		/* the new prefix covers the node: it becomes the node's parent */
		node(tr, nn)[N_CHILD0 + key_bit(n + N_KEY, bits)] = i;
		*slot = nn;
	} else {
		glue = node_new(tr, k, common, 0);
		node(tr, glue)[N_CHILD0 + key_bit(k, common)] = nn;
		node(tr, glue)[N_CHILD0 + key_bit(node(tr, i) + N_KEY, common)] = i;
		*slot = glue;
	}
	return 0;
}

int ptable_add(struct ptable *t, const struct lisp_prefix *p, void *value)
{
	uint32_t k[MAX_WORDS];
	unsigned bits;
	struct trie *tr = trie_of(t, p->addr.afi);

	int rc;

	if (!prefix_key(tr, p, k, &bits))
		return -EINVAL;
	rc = trie_insert(t, tr, k, bits, value);
	if (rc == 0) {
		jump_changed(tr, k, bits);
		jump_grow(tr);
	}
	return rc;
}

/* The only child of a node, or NIL if it has none or two. */
static uint32_t only_child(const uint32_t *n)
{
	if (n[N_CHILD0] != NIL && n[N_CHILD1] != NIL)
		return NIL;
	return n[N_CHILD0] != NIL ? n[N_CHILD0] : n[N_CHILD1];
}

int ptable_del(struct ptable *t, const struct lisp_prefix *p)
{
	uint32_t k[MAX_WORDS], *slot, *pslot = NULL, *n = NULL, *par = NULL, i, pi = NIL;
	unsigned bits;
	struct trie *tr = trie_of(t, p->addr.afi);

	if (!prefix_key(tr, p, k, &bits))
		return -ENOENT;
	slot = &tr->root;
	while ((i = *slot) != NIL) {
		n = node(tr, i);
		if (node_plen(n) >= bits || !key_match(k, n + N_KEY, node_plen(n)))
			break;
		pslot = slot;
		pi = i;
		par = n;
		slot = &n[N_CHILD0 + key_bit(k, node_plen(n))];
	}
	if (i == NIL || node_plen(n) != bits || !key_match(k, n + N_KEY, bits) || !node_val(n))
		return -ENOENT;
	val_release(t, node_val(n));
	n[N_META] = bits;
	jump_changed(tr, k, bits);
	if (n[N_CHILD0] != NIL && n[N_CHILD1] != NIL)
		return 0; /* stays as a glue node */
	*slot = only_child(n);
	node_del(tr, i);
	/* a glue parent left with one child is spliced out too */
	if (*slot == NIL && par && !node_val(par)) {
		*pslot = only_child(par);
		node_del(tr, pi);
	}
	return 0;
}

void *ptable_lookup_exact(const struct ptable *t, const struct lisp_prefix *p)
{
	uint32_t k[MAX_WORDS], i, *n, b;
	unsigned bits;
	const struct trie *tr = trie_of_const(t, p->addr.afi);

	if (!prefix_key(tr, p, k, &bits))
		return NULL;
	/* a prefix at least as long as a block lies below the block's cached start */
	i = tr->root;
	if (bits >= tr->jbits)
		jump_start(tr, k, &i, &b);
	for (; i != NIL; i = n[N_CHILD0 + key_bit(k, node_plen(n))]) {
		n = node(tr, i);
		if (node_plen(n) >= bits || !key_match(k, n + N_KEY, node_plen(n)))
			break;
	}
	if (i == NIL || node_plen(n) != bits || !key_match(k, n + N_KEY, bits) || !node_val(n))
		return NULL;
	return t->vals[node_val(n)];
}

/*
 * Continues a search from node i with best entry so far best (node
 * indices): returns the deepest entry covering the first bits of k with
 * plen < limit, or NIL.
 */
static uint32_t trie_descend(const struct trie *tr, const uint32_t *k, uint32_t i, uint32_t best,
			     unsigned limit)
{
	const uint32_t *n;

	while (i != NIL) {
		n = node(tr, i);
		if (node_plen(n) >= limit)
			break;
		/*
		 * Only entry nodes are compared: a glue node off the key's path
		 * leads only to entries that will not match either, and the
		 * first entry that does not match ends the search.
		 */
		if (node_val(n)) {
			if (!key_match(k, n + N_KEY, node_plen(n)))
				break;
			best = i;
		}
		if (node_plen(n) == tr->words * 32)
			break;
		i = n[N_CHILD0 + key_bit(k, node_plen(n))];
	}
	return best;
}

/*
 * Where a longest-prefix search for k starts: from the jump cache, or
 * found from the root and remembered there.
 */
static void jump_start(const struct trie *tr, const uint32_t *k, uint32_t *start, uint32_t *best)
{
	uint64_t block = jump_block(tr, k);
	struct jump *s = jump_slot(tr, block);
	uint32_t i = tr->root, b = NIL;
	const uint32_t *n;

	if (s->gen == tr->jc->gen && s->block == block) {
		*start = s->node;
		*best = s->best;
		return;
	}
	while (i != NIL) {
		n = node(tr, i);
		if (node_plen(n) >= tr->jbits)
			break;
		if (node_val(n)) {
			if (!key_match(k, n + N_KEY, node_plen(n))) {
				i = NIL; /* nothing deeper in this block matches */
				break;
			}
			b = i;
		}
		i = n[N_CHILD0 + key_bit(k, node_plen(n))];
	}
	/* keep only a node inside the block: others may be freed by changes elsewhere */
	if (i != NIL && !key_match(k, node(tr, i) + N_KEY, tr->jbits))
		i = NIL;
	s->block = block;
	s->node = i;
	s->best = b;
	s->gen = tr->jc->gen;
	*start = i;
	*best = b;
}

/* The value of entry node b (NIL: none), with its prefix into match when not NULL. */
static void *found(const struct ptable *t, const struct trie *tr, uint32_t b,
		   struct lisp_prefix *match)
{
	if (b == NIL)
		return NULL;
	if (match)
		node_prefix(tr, node(tr, b), match);
	return t->vals[node_val(node(tr, b))];
}

void *ptable_lookup(const struct ptable *t, uint32_t iid, const struct lisp_addr *a,
		    struct lisp_prefix *match)
{
	uint32_t k[MAX_WORDS];
	const struct trie *tr = trie_of_const(t, a->afi);
	uint32_t start, b;

	if (!tr)
		return NULL;
	make_key(tr, iid, a, k);
	jump_start(tr, k, &start, &b);
	/* limit one past the longest key so that host prefixes match too */
	return found(t, tr, trie_descend(tr, k, start, b, tr->words * 32 + 1), match);
}

void *ptable_lookup_covering(const struct ptable *t, const struct lisp_prefix *p,
			     struct lisp_prefix *match)
{
	uint32_t k[MAX_WORDS];
	unsigned bits;
	const struct trie *tr = trie_of_const(t, p->addr.afi);

	uint32_t start = tr ? tr->root : NIL, best = NIL;

	if (!prefix_key(tr, p, k, &bits))
		return NULL;
	if (bits >= tr->jbits)
		jump_start(tr, k, &start, &best);
	return found(t, tr, trie_descend(tr, k, start, best, bits), match);
}

struct lookup_state {
	uint32_t k[MAX_WORDS];
	const struct trie *tr;
	uint32_t i;
	uint32_t best; /* node index */
};

/* One trie step of a batched lookup; returns false when this lookup is finished. */
static inline bool batch_step(struct lookup_state *s)
{
	const uint32_t *n = node(s->tr, s->i);
	unsigned plen = node_plen(n);

	if (node_val(n)) { /* as in trie_descend(): only entries are compared */
		if (!key_match(s->k, n + N_KEY, plen))
			return false;
		s->best = s->i;
	}
	if (plen == s->tr->words * 32)
		return false;
	s->i = n[N_CHILD0 + key_bit(s->k, plen)];
	if (s->i == NIL)
		return false;
	__builtin_prefetch(node(s->tr, s->i));
	return true;
}

static void batch_run(const struct ptable *t, size_t n, const uint32_t *iid,
		      const struct lisp_addr *addrs, void **values)
{
	struct lookup_state st[BATCH];
	uint8_t live[BATCH];
	size_t nlive = 0;

	for (size_t j = 0; j < n; j++) {
		st[j].tr = trie_of_const(t, addrs[j].afi);
		if (st[j].tr) {
			make_key(st[j].tr, iid[j], &addrs[j], st[j].k);
			__builtin_prefetch(jump_slot(st[j].tr, jump_block(st[j].tr, st[j].k)));
		}
	}
	for (size_t j = 0; j < n; j++) {
		st[j].i = st[j].best = NIL;
		if (!st[j].tr)
			continue;
		jump_start(st[j].tr, st[j].k, &st[j].i, &st[j].best);
		if (st[j].i != NIL) {
			__builtin_prefetch(node(st[j].tr, st[j].i));
			live[nlive++] = (uint8_t)j;
		}
	}
	while (nlive) {
		size_t keep = 0;

		for (size_t m = 0; m < nlive; m++)
			if (batch_step(&st[live[m]]))
				live[keep++] = live[m];
		nlive = keep;
	}
	for (size_t j = 0; j < n; j++)
		values[j] =
			st[j].best != NIL ? t->vals[node_val(node(st[j].tr, st[j].best))] : NULL;
}

void ptable_lookup_batch(const struct ptable *t, size_t n, const uint32_t *iid,
			 const struct lisp_addr *addrs, void **values)
{
	for (size_t off = 0; off < n; off += BATCH)
		batch_run(t, n - off < BATCH ? n - off : BATCH, iid + off, addrs + off,
			  values + off);
}

/* Depth-first walk of the subtree at i in address order. */
static int walk_subtree(const struct ptable *t, const struct trie *tr, uint32_t i,
			ptable_walk_fn fn, void *arg)
{
	uint32_t stack[MAX_WORDS * 32 + 8]; /* depth <= 161, one pending sibling a level */
	unsigned sp = 0;
	struct lisp_prefix p;
	int rc;

	if (i != NIL)
		stack[sp++] = i;
	while (sp) {
		const uint32_t *n = node(tr, stack[--sp]);

		if (node_val(n)) {
			node_prefix(tr, n, &p);
			rc = fn(&p, t->vals[node_val(n)], arg);
			if (rc)
				return rc;
		}
		if (n[N_CHILD1] != NIL)
			stack[sp++] = n[N_CHILD1];
		if (n[N_CHILD0] != NIL)
			stack[sp++] = n[N_CHILD0];
	}
	return 0;
}

int ptable_walk(const struct ptable *t, const struct lisp_prefix *p, ptable_walk_fn fn, void *arg)
{
	uint32_t k[MAX_WORDS], i, *n;
	unsigned bits;
	const struct trie *tr;
	int rc;

	if (!p) {
		rc = walk_subtree(t, &t->v4, t->v4.root, fn, arg);
		return rc ? rc : walk_subtree(t, &t->v6, t->v6.root, fn, arg);
	}
	tr = trie_of_const(t, p->addr.afi);
	if (!prefix_key(tr, p, k, &bits))
		return 0;
	for (i = tr->root; i != NIL; i = n[N_CHILD0 + key_bit(k, node_plen(n))]) {
		n = node(tr, i);
		if (node_plen(n) >= bits)
			break;
		if (!key_match(k, n + N_KEY, node_plen(n)))
			return 0;
	}
	if (i == NIL || !key_match(k, node(tr, i) + N_KEY, bits))
		return 0;
	return walk_subtree(t, tr, i, fn, arg);
}

struct collect {
	ptable_keep_fn keep;
	void *arg;
	struct lisp_prefix *p;
	void **v;
	size_t n, cap;
	bool want_p, want_v; /* p and v are grown only if wanted */
};

static int collect_one(const struct lisp_prefix *p, void *value, void *arg)
{
	struct collect *c = arg;

	if (c->keep && !c->keep(p, value, c->arg))
		return 0;
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 64;
		if (c->want_p)
			c->p = xreallocarray(c->p, c->cap, sizeof(*c->p));
		if (c->want_v)
			c->v = xreallocarray(c->v, c->cap, sizeof(*c->v));
	}
	if (c->want_p)
		c->p[c->n] = *p;
	if (c->want_v)
		c->v[c->n] = value;
	c->n++;
	return 0;
}

size_t ptable_collect(const struct ptable *t, const struct lisp_prefix *under, ptable_keep_fn keep,
		      void *arg, struct lisp_prefix **prefixes, void ***values)
{
	struct collect c = {
		.keep = keep, .arg = arg, .want_p = prefixes != NULL, .want_v = values != NULL
	};

	ptable_walk(t, under, collect_one, &c);
	if (prefixes)
		*prefixes = c.p;
	if (values)
		*values = c.v;
	return c.n;
}

size_t ptable_count(const struct ptable *t)
{
	return t->count;
}

bool ptable_is_empty(const struct ptable *t)
{
	return t->count == 0;
}

static size_t trie_memory(const struct trie *tr)
{
	return tr->nchunks *
		       ((size_t)CHUNK_NODES * tr->stride * sizeof(uint32_t) + sizeof(void *)) +
	       sizeof(*tr->jc) + ((size_t)tr->jc->mask + 1) * sizeof(struct jump);
}

size_t ptable_memory(const struct ptable *t)
{
	return sizeof(*t) + trie_memory(&t->v4) + trie_memory(&t->v6) +
	       (size_t)t->vcap * sizeof(*t->vals);
}
