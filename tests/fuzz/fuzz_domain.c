/*
 * Fuzz target: the hypervisor side's readers. The input as a domain XML
 * (hv_domain_parse: bounds, NUL-terminated strings, no more interfaces or
 * addresses than it holds) and, what it takes, packed into a signed
 * HypervisorEvent that decodes back to the same; then the input as a
 * hypervisor.conf (hv_conf_parse_string: refused or consistent).
 */
#include <assert.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hypervisor-hooks/hv.h"
#include "lib/notify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct hv_conf *conf;
	struct hv_domain d;
	char err[512], *text;
	struct hv_conf *c;

	if (!conf) {
		conf = hv_conf_parse_string("fuzz",
					    "hypervisor\n tenant T\n  instance-id 5\n  key k\n",
					    err, sizeof(err));
		assert(conf);
	}
	if (hv_domain_parse((const char *)data, size, &d, err, sizeof(err)) == 0) {
		uint8_t out[NOTIFY_MAX];
		size_t len, nif = d.nifaces;

		assert(d.nifaces <= HV_IFACES_MAX);
		assert(memchr(d.name, 0, sizeof(d.name)) && d.name[0]);
		assert(memchr(d.tenant, 0, sizeof(d.tenant)));
		for (size_t i = 0; i < d.nifaces; i++) {
			assert(d.ifaces[i].naddrs <= HV_ADDRS_MAX);
			assert(memchr(d.ifaces[i].bridge, 0, sizeof(d.ifaces[i].bridge)));
			assert(memchr(d.ifaces[i].target, 0, sizeof(d.ifaces[i].target)));
		}
		len = hv_event_pack(conf, &conf->tenants[0], &d, HV_LIVE, "fuzz", "f", 1.0, 1, 1,
				    out, sizeof(out));
		if (len) {
			struct lisp_auth_key *k = lisp_auth_key_new("k", 1);
			Vmroam__Notify__Envelope *env;
			int e;

			env = notify_unpack(k, out, len, &e);
			assert(env && env->hypervisor_event);
			assert(env->hypervisor_event->n_interfaces == nif);
			assert(strcmp(env->hypervisor_event->domain, d.name) == 0);
			vmroam__notify__envelope__free_unpacked(env, NULL);
			lisp_auth_key_free(k);
		}
	}
	text = malloc(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';
	c = hv_conf_parse_string("fuzz", text, err, sizeof(err));
	if (c) {
		for (size_t i = 0; i < c->ntenants; i++)
			assert(c->tenants[i].has_iid && c->tenants[i].keylen);
		hv_conf_free(c);
	} else {
		assert(err[0]);
	}
	free(text);
	return 0;
}
