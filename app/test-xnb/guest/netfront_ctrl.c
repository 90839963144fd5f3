/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * The frontend's side of the control ring (netif.h): a ring page granted
 * writable, a key page and a mapping page granted read-only, one event
 * channel port; requests answered one at a time, as a frontend that
 * configures hashing at connect time sends them.
 */

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "netfront_private.h"

int
nf_ctrl_setup(struct netfront *nf)
{
	xen_netif_ctrl_sring_t *s;
	int ret;

	nf->ctrl_pfn = nf->conf.pfn_base + (uint32_t)nf->nr_queues * NETFRONT_QUEUE_PAGES;
	nf->ctrl_ring_ref = -1;
	nf->ctrl_key_ref = -1;
	nf->ctrl_map_ref = -1;
	nf->ctrl_port = -1;
	nf->ctrl_evtchn = NULL;
	s = netfront_page(nf, nf->ctrl_pfn);
	if (s == NULL || netfront_page(nf, nf->ctrl_pfn + NETFRONT_CTRL_PAGES - 1) == NULL) {
		NF_ERR(nf, "guest memory too small for the control ring's pages %u-%u",
			nf->ctrl_pfn, nf->ctrl_pfn + NETFRONT_CTRL_PAGES - 1);
		return -ENOSPC;
	}
	memset(s, 0, XENSIM_PAGE_SIZE);
	SHARED_RING_INIT(s);
	FRONT_RING_INIT(&nf->ctrl_ring, s, XENSIM_PAGE_SIZE);
	nf->ctrl = true;
	ret = netfront_grant(nf, nf->ctrl_pfn, false);
	if (ret >= 0) {
		nf->ctrl_ring_ref = ret;
		ret = netfront_grant(nf, nf->ctrl_pfn + 1, true);
	}
	if (ret >= 0) {
		nf->ctrl_key_ref = ret;
		ret = netfront_grant(nf, nf->ctrl_pfn + 2, true);
	}
	if (ret < 0) {
		NF_ERR(nf, "cannot grant the control ring's pages: %s", strerror(-ret));
		goto fail;
	}
	nf->ctrl_map_ref = ret;
	nf->ctrl_evtchn = xensim_evtchn_open(nf->dom, nf->conf.domid);
	if (nf->ctrl_evtchn == NULL) {
		ret = -errno;
		NF_ERR(nf, "cannot open the control ring's event channel: %s", strerror(errno));
		goto fail;
	}
	ret = xensim_evtchn_alloc_unbound(nf->ctrl_evtchn, nf->conf.backend_domid);
	if (ret < 0) {
		NF_ERR(nf, "cannot allocate the control ring's port: %s", strerror(-ret));
		goto fail;
	}
	nf->ctrl_port = ret;
	return 0;

fail:
	nf_ctrl_release(nf);
	return ret;
}

bool
nf_ctrl_publish(struct netfront *nf, xs_transaction_t t)
{
	char v[16];

	snprintf(v, sizeof(v), "%d", nf->ctrl_ring_ref);
	if (!nf_xs_write(nf, t, nf->fe_path, "ctrl-ring-ref", v))
		return false;
	snprintf(v, sizeof(v), "%d", nf->ctrl_port);
	return nf_xs_write(nf, t, nf->fe_path, "event-channel-ctrl", v);
}

void
nf_ctrl_release(struct netfront *nf)
{
	if (!nf->ctrl)
		return;
	nf_ungrant_wait(nf, &nf->ctrl_ring_ref, "control ring");
	nf_ungrant_wait(nf, &nf->ctrl_key_ref, "hash key page");
	nf_ungrant_wait(nf, &nf->ctrl_map_ref, "hash mapping page");
	if (nf->ctrl_evtchn != NULL) {
		if (nf->ctrl_port >= 0)
			xensim_evtchn_unbind(nf->ctrl_evtchn, (uint32_t)nf->ctrl_port);
		xensim_evtchn_close(nf->ctrl_evtchn);
	}
	nf->ctrl_evtchn = NULL;
	nf->ctrl_port = -1;
	nf->ctrl = false;
}

int
netfront_ctrl(struct netfront *nf, uint16_t type, uint32_t d0, uint32_t d1, uint32_t d2,
		uint32_t *status, uint32_t *data)
{
	struct xen_netif_ctrl_request *req;
	struct xen_netif_ctrl_response rsp;
	uint64_t deadline;
	uint16_t id;
	int notify, port;

	if (!nf->ctrl)
		return -ENOTCONN;
	id = nf->ctrl_next_id++;
	req = RING_GET_REQUEST(&nf->ctrl_ring, nf->ctrl_ring.req_prod_pvt);
	req->id = id;
	req->type = type;
	req->data[0] = d0;
	req->data[1] = d1;
	req->data[2] = d2;
	nf->ctrl_ring.req_prod_pvt++;
	RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&nf->ctrl_ring, notify);
	if (notify)
		xensim_evtchn_notify(nf->ctrl_evtchn, (uint32_t)nf->ctrl_port);
	deadline = nf_now_ms() + nf->conf.timeout_ms;
	while (!RING_HAS_UNCONSUMED_RESPONSES(&nf->ctrl_ring)) {
		if (nf_now_ms() >= deadline)
			return -ETIMEDOUT;
		usleep(200);
	}
	/* Our own page: the backend writes responses, we copy one out. */
	memcpy(&rsp, RING_GET_RESPONSE(&nf->ctrl_ring, nf->ctrl_ring.rsp_cons), sizeof(rsp));
	nf->ctrl_ring.rsp_cons++;
	/* The notifications that came with it. */
	while ((port = xensim_evtchn_pending(nf->ctrl_evtchn)) >= 0)
		xensim_evtchn_unmask(nf->ctrl_evtchn, (uint32_t)port);
	if (rsp.id != id || rsp.type != type)
		return -EPROTO;
	*status = rsp.status;
	*data = rsp.data;
	return 0;
}

int
netfront_ctrl_set_key(struct netfront *nf, const uint8_t *key, uint32_t len,
		uint32_t *status)
{
	uint32_t data;

	if (!nf->ctrl)
		return -ENOTCONN;
	if (len > XENSIM_PAGE_SIZE)
		return -EINVAL;
	memcpy(netfront_page(nf, nf->ctrl_pfn + 1), key, len);
	return netfront_ctrl(nf, XEN_NETIF_CTRL_TYPE_SET_HASH_KEY, (uint32_t)nf->ctrl_key_ref,
		len, 0, status, &data);
}

int
netfront_ctrl_set_mapping(struct netfront *nf, const uint32_t *entries, uint32_t len,
		uint32_t off, uint32_t *status)
{
	uint32_t data;

	if (!nf->ctrl)
		return -ENOTCONN;
	if (len > XENSIM_PAGE_SIZE / sizeof(*entries))
		return -EINVAL;
	memcpy(netfront_page(nf, nf->ctrl_pfn + 2), entries, len * sizeof(*entries));
	return netfront_ctrl(nf, XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING,
		(uint32_t)nf->ctrl_map_ref, len, off, status, &data);
}
