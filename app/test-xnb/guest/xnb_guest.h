/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * xnb-guest's state, shared by its modes: gen, reflect and sink
 * (xnb_guest.c) and tap (xnb_guest_tap.c).
 */

#ifndef XNB_GUEST_H
#define XNB_GUEST_H

#include <stdbool.h>
#include <stdint.h>

#include "netfront.h"

#define GUEST_MAX_SIZES 64
#define GUEST_BACKLOG 1024

enum guest_mode {
	MODE_GEN,
	MODE_REFLECT,
	MODE_SINK,
	MODE_TAP,
};

/* What gen sends: its own Ethernet type, or TCP/UDP over IPv4/IPv6. */
enum guest_proto {
	PROTO_RAW,
	PROTO_UDP4,
	PROTO_UDP6,
	PROTO_TCP4,
	PROTO_TCP6,
};

/* A frame waiting for room on the guest-tx ring. */
struct guest_pending {
	uint8_t *buf;
	uint32_t len;
	struct netfront_tx_meta meta;
};

struct guest {
	struct netfront *nf;
	enum guest_mode mode;
	bool quiet;

	/* gen */
	/*
	 * --lossy: frames the backend answered with an error on either ring
	 * are accounted for (fault tests): not in flight, not lost.
	 */
	bool lossy;
	uint64_t frames;
	uint32_t sizes[GUEST_MAX_SIZES];
	unsigned int nr_sizes;
	uint32_t size_min, size_max;   /* range mode when nr_sizes == 0 */
	uint32_t window;
	uint8_t dst[6];
	uint8_t src[6];
	uint8_t *seen;                 /* bitmap over sequence numbers */
	uint8_t *base;                 /* the position part of the pattern */
	uint8_t *scratch;              /* expected frame, for comparison */
	uint8_t *scratch2;             /* a received frame, its checksum completed */
	enum guest_proto proto;
	bool csum_blank;               /* send with NETTXF_csum_blank */
	uint16_t gso_mss;              /* 0, or send GSO frames of this MSS */

	/* tap */
	const char *tap_name;
	const char *netns;

	/* counts */
	uint64_t sent;
	uint64_t received;
	uint64_t received_ok;
	uint64_t rx_bytes;
	uint64_t verify_failures;
	uint64_t reflect_dropped;
	uint64_t last_progress_ms;
	/* checksums of received TCP/UDP frames */
	uint64_t csum_ok;              /* right, or a blank one holding the pseudo sum */
	uint64_t csum_bad;
	uint64_t rx_csum_blank;        /* received with NETRXF_csum_blank */
	uint64_t rx_validated;         /* with NETRXF_data_validated */
	uint64_t rx_gso;               /* with a GSO slot */
	/* what the sending side had to do itself */
	uint64_t tx_segmented;         /* GSO frames cut into segments here */
	uint64_t tx_sw_csum;           /* blank checksums completed here */
	/* tap */
	uint64_t tap_in;               /* frames read from the TAP */
	uint64_t tap_out;              /* frames written to it */
	uint64_t tap_dropped;          /* frames dropped on the way (either side) */
	uint64_t tap_down;             /* frames from the vif while the TAP was down */

	/* frames waiting for room on the guest-tx ring */
	struct guest_pending backlog[GUEST_BACKLOG];
	unsigned int bl_head, bl_count;
};

extern volatile int stop_flag;
/* SIGUSR1 sets it: the tap mode prints its counters (guest_report). */
extern volatile int report_flag;

/* The summary line, with the netfront's counters st, on stdout. */
void guest_report(const struct guest *g, const struct netfront_stats *st, double secs);

uint64_t guest_now_ms(void);

/*
 * Check a received frame's checksum against its metadata and count it:
 * a TCP/UDP frame with NETRXF_csum_blank must hold the pseudo-header sum,
 * any other TCP/UDP frame a right checksum. Returns 1 right, 0 wrong,
 * -1 not TCP/UDP (nothing to check).
 */
int guest_rx_csum(struct guest *g, const struct netfront_rx_meta *meta,
		const uint8_t *f, uint32_t len);

/*
 * Send a frame with its metadata as a Linux stack over netfront would:
 * a GSO frame the backend cannot take is cut into segments, a blank
 * checksum it cannot take is completed here. A frame that finds no room
 * waits in the backlog. 0, or -ENOBUFS (backlog full, dropped) or another
 * error (dropped).
 */
int guest_xmit(struct guest *g, const uint8_t *f, uint32_t len,
		const struct netfront_tx_meta *meta);

/* Send what waits in the backlog while the ring has room. */
void guest_flush(struct guest *g);

/* Free backlog entries. */
unsigned int guest_backlog_room(const struct guest *g);

/* The tap mode: bridge the vif and a TAP device until stopped. */
int guest_run_tap(struct guest *g, unsigned int timeout_s, bool timeout_given);

#endif /* XNB_GUEST_H */
