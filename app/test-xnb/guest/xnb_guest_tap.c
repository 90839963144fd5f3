/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * xnb-guest's tap mode: the vif bridged to a Linux TAP device, so that a
 * kernel's own TCP/IP stack (in a network namespace) sends and receives
 * through xnb as a Linux guest over netfront would.
 *
 * The TAP is opened with IFF_TAP | IFF_NO_PI | IFF_VNET_HDR: every frame
 * carries a struct virtio_net_hdr, the kernel's skb metadata, mapped to
 * and from netif's:
 *
 *   kernel -> vif   NEEDS_CSUM (TCP/UDP at csum_start/csum_offset) ->
 *                   NETTXF_csum_blank | NETTXF_data_validated, as
 *                   xennet_start_xmit sends CHECKSUM_PARTIAL;
 *                   DATA_VALID -> NETTXF_data_validated;
 *                   GSO TCPV4/TCPV6 + gso_size -> the GSO extra-info slot.
 *   vif -> kernel   NETRXF_csum_blank -> NEEDS_CSUM; NETRXF_data_validated
 *                   -> DATA_VALID; the GSO slot -> GSO TCPV4/TCPV6 (a GSO
 *                   frame without csum_blank gets its pseudo-header sum
 *                   and NEEDS_CSUM, as netfront's checksum_setup does).
 *
 * The kernel is offered (TUNSETOFFLOAD) only what the backend negotiated:
 * checksum offload (TUN_F_CSUM) when we may send blank checksums, TSO
 * for IPv4/IPv6 when the backend offers feature-gso-tcpv4/-tcpv6. What
 * netif cannot carry all the same (a blank IPv6 checksum without
 * feature-ipv6-csum-offload, a checksum other than TCP/UDP's, a GSO frame
 * over 64 KiB) is completed or segmented here (guest_xmit), as Linux
 * would in software. UDP GSO is never offered.
 *
 * The TAP is created in the network namespace --netns names (ip netns):
 * the thread enters it for the TUNSETIFF and comes back, since the
 * simulated event channels are sockets of the namespace we run in.
 */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <linux/if_tun.h>
#include <linux/virtio_net.h>

#include "netfront.h"
#include "netfront_offload.h"
#include "xnb_guest.h"

#define VHDR_LEN sizeof(struct virtio_net_hdr)
/* A read holds a GSO frame of up to 64 KiB of IP and its headers. */
#define TAP_RBUF (VHDR_LEN + 65536 + 256)
#define TAP_BURST 64
/* Backlog room before the next read: a 64 KiB frame's segments fit. */
#define TAP_ROOM 256

struct tap {
	struct guest *g;
	int fd;
	uint8_t *rbuf;
	uint8_t *wbuf;             /* a received frame given a pseudo-header sum */
};

static void
tap_drop(struct guest *g, const char *why, uint32_t len)
{
	if (g->tap_dropped < 10)
		fprintf(stderr, "xnb-guest: tap: dropped a frame of %u bytes: %s\n", len, why);
	g->tap_dropped++;
}

/* Enter the namespace, create the TAP, come back. The fd, or -1. */
static int
tap_open(struct guest *g)
{
	int own = -1, ns = -1, fd = -1, sk = -1, hdr = (int)VHDR_LEN;
	const char *step = NULL;
	char path[512];
	struct ifreq ifr;
	int err = 0;

	if (strlen(g->tap_name) >= IFNAMSIZ) {
		fprintf(stderr, "xnb-guest: tap name %s is longer than %d characters\n",
			g->tap_name, IFNAMSIZ - 1);
		return -1;
	}
	if (g->netns != NULL) {
		if (strchr(g->netns, '/') != NULL || g->netns[0] == '.') {
			fprintf(stderr, "xnb-guest: bad namespace name %s\n", g->netns);
			return -1;
		}
		snprintf(path, sizeof(path), "/var/run/netns/%s", g->netns);
		ns = open(path, O_RDONLY | O_CLOEXEC);
		own = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
		if (ns < 0 || own < 0) {
			err = errno;
			step = ns < 0 ? path : "/proc/self/ns/net";
			goto out;
		}
		if (setns(ns, CLONE_NEWNET) != 0) {
			err = errno;
			step = "setns into the namespace";
			goto out;
		}
	}
	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		err = errno;
		step = "/dev/net/tun";
		goto back;
	}
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	memcpy(ifr.ifr_name, g->tap_name, strlen(g->tap_name));
	if (ioctl(fd, TUNSETIFF, &ifr) != 0) {
		err = errno;
		step = "TUNSETIFF";
		goto back;
	}
	if (ioctl(fd, TUNSETVNETHDRSZ, &hdr) != 0) {
		err = errno;
		step = "TUNSETVNETHDRSZ";
		goto back;
	}
	/* The vif's MAC on the TAP: the kernel's frames carry it, as a guest's. */
	sk = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ifr.ifr_hwaddr.sa_family = ARPHRD_ETHER;
	memcpy(ifr.ifr_hwaddr.sa_data, g->nf->conf.mac, 6);
	if (sk < 0 || ioctl(sk, SIOCSIFHWADDR, &ifr) != 0) {
		err = errno;
		step = "SIOCSIFHWADDR";
		goto back;
	}
back:
	if (own >= 0 && setns(own, CLONE_NEWNET) != 0) {
		/* Our event channels would be in the wrong place: give up. */
		fprintf(stderr, "xnb-guest: cannot return to our network namespace: %s\n",
			strerror(errno));
		if (step == NULL) {
			err = errno;
			step = "setns back";
		}
	}
out:
	if (sk >= 0)
		close(sk);
	if (ns >= 0)
		close(ns);
	if (own >= 0)
		close(own);
	if (step != NULL) {
		fprintf(stderr, "xnb-guest: tap %s%s%s: %s: %s\n", g->tap_name,
			g->netns != NULL ? " in namespace " : "",
			g->netns != NULL ? g->netns : "", step, strerror(err));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* What the kernel may hand us: what the backend takes. */
static unsigned int
tap_offloads(const struct netfront *nf)
{
	unsigned int off = 0;

	if (nf->tx_csum) {
		off |= TUN_F_CSUM;
		if (nf->tx_gso_tcpv4)
			off |= TUN_F_TSO4;
		if (nf->tx_gso_tcpv6)
			off |= TUN_F_TSO6;
	}
	return off;
}

/* A frame from the kernel, to the vif. */
static void
tap_from_kernel(struct tap *t, uint8_t *buf, uint32_t n)
{
	struct guest *g = t->g;
	struct virtio_net_hdr h;
	struct netfront_tx_meta m = { .flags = 0 };
	struct netfront_l4 l4 = { .proto = 0 };
	uint8_t *f = buf + VHDR_LEN;
	uint32_t len = n - (uint32_t)VHDR_LEN;
	uint8_t gso;

	g->tap_in++;
	memcpy(&h, buf, VHDR_LEN);
	gso = h.gso_type & (uint8_t)~VIRTIO_NET_HDR_GSO_ECN;
	if (len < 14) {
		tap_drop(g, "shorter than an Ethernet header", len);
		return;
	}
	if (h.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
		uint16_t start = le16toh(h.csum_start), off = le16toh(h.csum_offset);

		if (netfront_l4_parse(f, len, &l4) == 0 && l4.l4_off == start &&
				l4.csum_off == off) {
			/* CHECKSUM_PARTIAL, as xennet_start_xmit sends it. */
			m.flags = NETTXF_csum_blank | NETTXF_data_validated;
		} else if (gso == VIRTIO_NET_HDR_GSO_NONE &&
				netfront_csum_at(f, len, start, off) == 0) {
			/* Not TCP/UDP's field: netif cannot carry it; done here. */
			g->tx_sw_csum++;
		} else {
			tap_drop(g, "NEEDS_CSUM with a checksum that cannot be located", len);
			return;
		}
	} else if (h.flags & VIRTIO_NET_HDR_F_DATA_VALID) {
		m.flags = NETTXF_data_validated;
	}
	if (gso == VIRTIO_NET_HDR_GSO_TCPV4 || gso == VIRTIO_NET_HDR_GSO_TCPV6) {
		if (!(m.flags & NETTXF_csum_blank) || l4.proto != 6 ||
				l4.ipv6 != (gso == VIRTIO_NET_HDR_GSO_TCPV6) ||
				le16toh(h.gso_size) == 0) {
			tap_drop(g, "a TCP GSO frame without NEEDS_CSUM, TCP or a size", len);
			return;
		}
		m.gso_type = gso == VIRTIO_NET_HDR_GSO_TCPV6 ?
			XEN_NETIF_GSO_TYPE_TCPV6 : XEN_NETIF_GSO_TYPE_TCPV4;
		m.gso_size = le16toh(h.gso_size);
	} else if (gso != VIRTIO_NET_HDR_GSO_NONE) {
		tap_drop(g, "a GSO type never offered", len);
		return;
	}
	if (len > NETFRONT_MAX_FRAME && m.gso_type == XEN_NETIF_GSO_TYPE_NONE) {
		tap_drop(g, "longer than netif's 65535 bytes", len);
		return;
	}
	if (guest_xmit(g, f, len, &m) != 0)
		tap_drop(g, "the vif did not take it", len);
}

/* A frame from the vif, to the kernel. */
static void
tap_rx(void *arg, struct netfront_queue *q, const uint8_t *f, uint32_t len)
{
	struct tap *t = arg;
	struct guest *g = t->g;
	const struct netfront_rx_meta *m = &q->rx_meta;
	struct virtio_net_hdr h;
	struct netfront_l4 l4;
	struct iovec iov[2];
	const uint8_t *out = f;

	g->received++;
	g->rx_bytes += len;
	guest_rx_csum(g, m, f, len);
	memset(&h, 0, sizeof(h));
	if (m->gso_type != XEN_NETIF_GSO_TYPE_NONE || (m->flags & NETRXF_csum_blank)) {
		if (netfront_l4_parse(f, len, &l4) != 0) {
			/* As netfront's checksum_setup failing. */
			tap_drop(g, "blank checksum or GSO on a frame that is not TCP/UDP", len);
			return;
		}
		if (m->gso_type != XEN_NETIF_GSO_TYPE_NONE) {
			if (l4.proto != 6 || l4.ipv6 != (m->gso_type == XEN_NETIF_GSO_TYPE_TCPV6)) {
				tap_drop(g, "GSO type does not match the frame", len);
				return;
			}
			h.gso_type = l4.ipv6 ? VIRTIO_NET_HDR_GSO_TCPV6 : VIRTIO_NET_HDR_GSO_TCPV4;
			h.gso_size = htole16(m->gso_size);
			h.hdr_len = htole16((uint16_t)(l4.l4_off + l4.l4_hlen));
			if (!(m->flags & NETRXF_csum_blank)) {
				/* A GSO frame must be CHECKSUM_PARTIAL. */
				memcpy(t->wbuf, f, len);
				netfront_csum_partial(t->wbuf, len);
				out = t->wbuf;
			}
		}
		h.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
		h.csum_start = htole16((uint16_t)l4.l4_off);
		h.csum_offset = htole16(l4.csum_off);
	} else if (m->flags & NETRXF_data_validated) {
		h.flags = VIRTIO_NET_HDR_F_DATA_VALID;
	}
	iov[0].iov_base = &h;
	iov[0].iov_len = VHDR_LEN;
	iov[1].iov_base = (void *)(uintptr_t)out;
	iov[1].iov_len = len;
	if (writev(t->fd, iov, 2) < 0) {
		if (errno == EIO) {
			/* The TAP is down: dropped, as by a stack whose link is down. */
			g->tap_down++;
			return;
		}
		if (g->tap_dropped < 10)
			fprintf(stderr, "xnb-guest: tap: write: %s\n", strerror(errno));
		g->tap_dropped++;
		return;
	}
	g->tap_out++;
}

int
guest_run_tap(struct guest *g, unsigned int timeout_s, bool timeout_given)
{
	struct pollfd pfd[NETFRONT_MAX_QUEUES + 2];
	uint64_t start = guest_now_ms();
	struct tap t = { .g = g, .fd = -1 };
	unsigned int off, nfds, k;
	int ret = 0, n;

	t.rbuf = malloc(TAP_RBUF);
	t.wbuf = malloc(NETFRONT_MAX_FRAME);
	if (t.rbuf == NULL || t.wbuf == NULL) {
		ret = -ENOMEM;
		goto out;
	}
	t.fd = tap_open(g);
	if (t.fd < 0) {
		ret = -ENODEV;
		goto out;
	}
	off = tap_offloads(g->nf);
	if (ioctl(t.fd, TUNSETOFFLOAD, off) != 0) {
		ret = -errno;
		fprintf(stderr, "xnb-guest: tap %s: TUNSETOFFLOAD 0x%x: %s\n", g->tap_name, off,
			strerror(errno));
		goto out;
	}
	/* Scripts wait for this line. */
	fprintf(stderr, "xnb-guest: tap %s ready (offloads to the kernel: csum %s, tso4 %s, "
		"tso6 %s)\n", g->tap_name, off & TUN_F_CSUM ? "on" : "off",
		off & TUN_F_TSO4 ? "on" : "off", off & TUN_F_TSO6 ? "on" : "off");

	while (!stop_flag) {
		bool work = false;

		if (g->bl_count > 0)
			guest_flush(g);
		n = netfront_poll(g->nf, tap_rx, &t);
		if (n < 0) {
			fprintf(stderr, "xnb-guest: %s\n", n == -ENOTCONN ?
				"the backend closed the connection" :
				"the backend broke the ring protocol");
			ret = n;
			break;
		}
		work = n > 0;
		for (k = 0; k < TAP_BURST && guest_backlog_room(g) >= TAP_ROOM; k++) {
			ssize_t r = read(t.fd, t.rbuf, TAP_RBUF);

			if (r < 0) {
				if (errno != EAGAIN && errno != EINTR) {
					ret = -errno;
					fprintf(stderr, "xnb-guest: tap %s: read: %s\n", g->tap_name,
						strerror(errno));
					goto out;
				}
				break;
			}
			if ((size_t)r < VHDR_LEN) {
				tap_drop(g, "shorter than its virtio_net_hdr", (uint32_t)r);
				continue;
			}
			tap_from_kernel(&t, t.rbuf, (uint32_t)r);
			work = true;
		}
		if (timeout_given && guest_now_ms() - start >= (uint64_t)timeout_s * 1000)
			break;
		if (report_flag) {
			struct netfront_stats st;

			report_flag = 0;
			netfront_get_stats(g->nf, &st);
			guest_report(g, &st, (double)(guest_now_ms() - start) / 1000);
		}
		if (work)
			continue;
		/* Nothing to do: sleep on the TAP (when there is room) and the vif. */
		pfd[0].fd = guest_backlog_room(g) >= TAP_ROOM ? t.fd : -1;
		pfd[0].events = POLLIN;
		pfd[0].revents = 0;
		nfds = netfront_pollfds(g->nf, pfd + 1, NETFRONT_MAX_QUEUES + 1);
		n = poll(pfd, nfds + 1, g->bl_count > 0 ? 10 : 100);
		if (n < 0 && errno != EINTR) {
			ret = -errno;
			break;
		}
		if (n > 0 && netfront_handle_events(g->nf, pfd + 1, nfds) == -ENOTCONN) {
			fprintf(stderr, "xnb-guest: the backend closed the connection\n");
			ret = -ENOTCONN;
			break;
		}
	}
out:
	if (t.fd >= 0)
		close(t.fd);
	free(t.rbuf);
	free(t.wbuf);
	return ret;
}
