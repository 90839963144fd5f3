/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * netfront: the guest side of a Xen vif on the simulated platform (see
 * netfront.h). This file is the library as a whole: configuration
 * defaults, open (guest memory, the xenstore connection, the toolstack's
 * writes) and close, and the wait that sleeps on the queues' event
 * channels and the xenstore watch together. The parts:
 *
 *   netfront_toolstack.c  the toolstack role: the device directories
 *   netfront_xenbus.c     xenstore access and the frontend handshake
 *   netfront_ring.c       grants, event channels, the guest-tx and
 *                         guest-rx rings
 */

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xenstore.h>

#include "netfront_private.h"

void
netfront_conf_init(struct netfront_conf *c)
{
	memset(c, 0, sizeof(*c));
	c->backend_domid = XENSIM_BACKEND_DOMID;
	c->type = "vif";
	c->sg = true;
	c->rx_notify = true;
	c->csum = true;
	c->ipv6_csum = true;
	c->gso = true;
	c->nr_queues = 1;
	c->toolstack = true;
	c->timeout_ms = NETFRONT_DEFAULT_TIMEOUT_MS;
	c->tx_layout = NETFRONT_TX_VARIED;
	c->seed = 0x9e3779b9u;
}

/* --- Open / close --- */

struct netfront *
netfront_open(const struct netfront_conf *conf)
{
	static const uint8_t zero_mac[6];
	struct netfront *nf;
	uint32_t need_pages, nr_grants;
	int err;

	if (conf->sim_dir == NULL || conf->sim_dir[0] == '\0') {
		fprintf(stderr, "netfront: no sim_dir given\n");
		errno = EINVAL;
		return NULL;
	}
	if (conf->nr_queues == 0 || conf->nr_queues > NETFRONT_MAX_QUEUES) {
		fprintf(stderr, "netfront: nr_queues %u is out of range 1-%u\n",
			conf->nr_queues, NETFRONT_MAX_QUEUES);
		errno = EINVAL;
		return NULL;
	}
	if (conf->domid == conf->backend_domid || conf->domid >= DOMID_FIRST_RESERVED) {
		fprintf(stderr, "netfront: domid %u is not a guest domain id "
			"(1-%u, not the backend's %u)\n", conf->domid,
			DOMID_FIRST_RESERVED - 1, conf->backend_domid);
		errno = EINVAL;
		return NULL;
	}

	nf = calloc(1, sizeof(*nf));
	if (nf == NULL)
		return NULL;
	nf->conf = *conf;
	snprintf(nf->sim_dir, sizeof(nf->sim_dir), "%s", conf->sim_dir);
	nf->conf.sim_dir = nf->sim_dir;
	snprintf(nf->type, sizeof(nf->type), "%s",
		conf->type != NULL && conf->type[0] != '\0' ? conf->type : "vif");
	nf->conf.type = nf->type;
	if (conf->name != NULL && strlen(conf->name) >= sizeof(nf->name)) {
		fprintf(stderr, "netfront: domain name %s is longer than %zu characters\n",
			conf->name, sizeof(nf->name) - 1);
		free(nf);
		errno = EINVAL;
		return NULL;
	}
	snprintf(nf->name, sizeof(nf->name), "%s", conf->name != NULL ? conf->name : "");
	nf->conf.name = nf->name;
	if (nf->conf.timeout_ms == 0)
		nf->conf.timeout_ms = NETFRONT_DEFAULT_TIMEOUT_MS;
	nf->be_state = XenbusStateUnknown;
	nf->nr_queues = 0;

	if (memcmp(nf->conf.mac, zero_mac, 6) == 0) {
		/* Xen's OUI, as xl makes them up: 00:16:3e:xx:xx:xx. */
		nf->conf.mac[0] = 0x00;
		nf->conf.mac[1] = 0x16;
		nf->conf.mac[2] = 0x3e;
		nf->conf.mac[3] = (uint8_t)(conf->domid >> 8);
		nf->conf.mac[4] = (uint8_t)conf->domid;
		nf->conf.mac[5] = (uint8_t)conf->handle;
	}

	snprintf(nf->fe_path, sizeof(nf->fe_path), "/local/domain/%u/device/vif/%u",
		conf->domid, conf->handle);
	snprintf(nf->be_path, sizeof(nf->be_path), "/local/domain/%u/backend/%s/%u/%u",
		conf->backend_domid, nf->type, conf->domid, conf->handle);
	snprintf(nf->be_state_path, sizeof(nf->be_state_path), "%s/state", nf->be_path);

	/* The guest domain and its memory. */
	need_pages = nf->conf.pfn_base + (uint32_t)conf->nr_queues * NETFRONT_QUEUE_PAGES +
		(conf->ctrl_ring ? NETFRONT_CTRL_PAGES : 0);
	if (conf->dom != NULL) {
		nf->dom = conf->dom;
		if (xensim_dom_nr_pages(nf->dom) < need_pages) {
			NF_ERR(nf, "the given domain has %u pages; this vif needs pages up to %u",
				xensim_dom_nr_pages(nf->dom), need_pages);
			err = ENOSPC;
			goto fail;
		}
	} else {
		uint32_t nr_pages = conf->nr_pages != 0 ? conf->nr_pages : need_pages;

		if (nr_pages < need_pages) {
			NF_ERR(nf, "nr_pages %u is too small: %u queue(s) need %u pages",
				nr_pages, conf->nr_queues, need_pages);
			err = EINVAL;
			goto fail;
		}
		nr_grants = conf->nr_grants != 0 ? conf->nr_grants :
			(uint32_t)conf->nr_queues * NETFRONT_QUEUE_PAGES + NETFRONT_CTRL_PAGES + 64;
		nf->dom = xensim_dom_create(nf->sim_dir, conf->domid, nr_pages, nr_grants);
		if (nf->dom == NULL) {
			err = errno;
			NF_ERR(nf, "cannot create the simulated domain %s/dom%u: %s%s",
				nf->sim_dir, conf->domid, strerror(err), err == ENOENT ?
				" (the sim dir must exist, with xenstored running in it)" : "");
			goto fail;
		}
		nf->own_dom = true;
	}

	/* xenstore: the real client, pointed at the simulation's daemon. */
	nf->xs = xensim_xs_open(nf->sim_dir);
	if (nf->xs == NULL) {
		err = errno;
		NF_ERR(nf, "cannot connect to xenstored at %s/socket (%s): start one with "
			"devtools/xnb-xenstored start %s SHIM", nf->sim_dir, strerror(err),
			nf->sim_dir);
		goto fail;
	}

	if (nf->conf.toolstack) {
		int ret = netfront_toolstack_create(nf);

		if (ret < 0) {
			err = -ret;
			goto fail;
		}
	}
	return nf;

fail:
	netfront_close(nf);
	errno = err;
	return NULL;
}

void
netfront_close(struct netfront *nf)
{
	if (nf == NULL)
		return;
	if (nf->nr_queues != 0)
		netfront_disconnect(nf);
	if (nf->xs != NULL) {
		bool ts = nf->toolstack_done;

		netfront_toolstack_destroy(nf);
		if (ts && nf->own_dom) {
			/* The domain goes too, as with xl destroy. */
			char path[64];

			snprintf(path, sizeof(path), "/local/domain/%u", nf->conf.domid);
			xs_rm(nf->xs, XBT_NULL, path);
		}
		if (nf->watching)
			xs_unwatch(nf->xs, nf->be_state_path, NF_WATCH_TOKEN);
		xs_close(nf->xs);
	}
	if (nf->own_dom && nf->dom != NULL) {
		xensim_dom_close(nf->dom);
		xensim_dom_destroy(nf->sim_dir, nf->conf.domid);
	}
	free(nf);
}

/* --- Waiting for events --- */

unsigned int
netfront_pollfds(struct netfront *nf, struct pollfd *pfd, unsigned int max)
{
	unsigned int n = 0, i;

	for (i = 0; i < nf->nr_queues && n < max; i++) {
		pfd[n].fd = xensim_evtchn_fd(nf->q[i].evtchn);
		pfd[n].events = POLLIN;
		pfd[n].revents = 0;
		n++;
	}
	if (n < max) {
		pfd[n].fd = nf->watching ? xs_fileno(nf->xs) : -1;
		pfd[n].events = POLLIN;
		pfd[n].revents = 0;
		n++;
	}
	return n;
}

int
netfront_handle_events(struct netfront *nf, const struct pollfd *pfd, unsigned int n)
{
	unsigned int i;
	int got = 0;

	if (nf->backend_gone)
		return -ENOTCONN;
	for (i = 0; i < nf->nr_queues && i < n; i++) {
		struct netfront_queue *q = &nf->q[i];
		int port;

		if (pfd[i].revents == 0)
			continue;
		while ((port = xensim_evtchn_pending(q->evtchn)) >= 0) {
			xensim_evtchn_unmask(q->evtchn, (uint32_t)port);
			q->stats.events++;
			got = 1;
		}
	}
	if (n == (unsigned int)nf->nr_queues + 1 && pfd[n - 1].revents != 0) {
		nf_drain_watches(nf);
		if (netfront_check_backend(nf) < 0)
			return -ENOTCONN;
		got = 1;
	}
	return got;
}

int
netfront_wait(struct netfront *nf, int timeout_ms)
{
	struct pollfd pfd[NETFRONT_MAX_QUEUES + 1];
	unsigned int n;
	int ret;

	if (nf->backend_gone)
		return -ENOTCONN;
	n = netfront_pollfds(nf, pfd, NETFRONT_MAX_QUEUES + 1);
	ret = poll(pfd, n, timeout_ms);
	if (ret < 0)
		return errno == EINTR ? -EINTR : -errno;
	return netfront_handle_events(nf, pfd, n);
}
