/*
 * The locators a database-mapping announces: those of its locator-set if
 * it names one, else its own; an interface locator is the interface's
 * first address of its family, resolved when used.
 */
#include <string.h>

#include "xtr-gateway/etr/etr_int.h"

const struct xtr_conf_locator *etr_locset_of(const struct xtr_conf *c,
					     const struct xtr_conf_dbmap *m, size_t *n)
{
	const struct xtr_conf_locator *v = m->locs;

	*n = m->nlocs;
	for (size_t i = 0; m->locset[0] && i < c->nlocsets; i++) {
		if (strcmp(c->locsets[i].name, m->locset) == 0) {
			v = c->locsets[i].locs;
			*n = c->locsets[i].nlocs;
		}
	}
	return v;
}

uint8_t etr_dbmap_locs(struct etr *e, const struct xtr_conf *conf, const struct xtr_conf_dbmap *m,
		       struct lisp_locator *out)
{
	size_t n;
	const struct xtr_conf_locator *v = etr_locset_of(conf, m, &n);
	uint8_t k = 0;

	for (size_t i = 0; i < n && k < MAX_LOCS; i++) {
		struct lisp_locator *l = &out[k];

		memset(l, 0, sizeof(*l));
		l->addr[0] = v[i].addr;
		if (v[i].addr.afi == LISP_AFI_NONE &&
		    e->io.if_addr(e->io.arg, v[i].ifname, v[i].if_afi, &l->addr[0]) < 0)
			continue; /* interface without an address (yet): not announced */
		l->naddr = 1;
		l->priority = v[i].priority;
		l->weight = v[i].weight;
		l->mpriority = 255;
		l->local = l->reachable = true;
		k++;
	}
	return k;
}
