/*
 * Which engine a datagram received on UDP port 4342 goes to: the
 * Map-Server / Map-Resolver, the ETR or the ITR, by message type and the
 * roles configured. No I/O: net.c calls it for what its sockets receive,
 * and the simulation (tests/sim) for what its network delivers.
 */
#include "lib/lisp_msg.h"
#include "xtr-gateway/xtr.h"

enum xtr_to xtr_dispatch_to(const struct xtr_conf *c, const uint8_t *buf, size_t len)
{
	bool mr = c->msmr.mr_v4 || c->msmr.mr_v6;
	int type = lisp_msg_type(buf, len);
	bool smr = type == LISP_TYPE_MAP_REQUEST && (buf[0] & 0x01);
	bool to_etr = type == LISP_TYPE_ECM && (buf[0] & LISP_ECM_E_BIT);

	if (!xtr_conf_dataplane(c))
		return XTR_TO_MS;
	if (type == LISP_TYPE_MAP_REPLY || smr)
		return XTR_TO_ITR;
	if (type == LISP_TYPE_MAP_NOTIFY || type == LISP_TYPE_MAP_REQUEST ||
	    (type == LISP_TYPE_ECM && (to_etr || !mr)))
		return XTR_TO_ETR;
	return XTR_TO_MS;
}

enum xtr_to xtr_dispatch(const struct xtr_conf *c, struct mapcache *mc, const struct lisp_addr *src,
			 const uint8_t *buf, size_t len)
{
	enum xtr_to to = xtr_dispatch_to(c, buf, len);

	/* a Map-Notify is the ETR's (its registrations) unless one of our subscriptions' */
	if (to == XTR_TO_ETR && mc && lisp_msg_type(buf, len) == LISP_TYPE_MAP_NOTIFY &&
	    mc_takes_notify(mc, src, buf, len))
		return XTR_TO_ITR;
	return to;
}
