/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Internals of the simulated platform: the layout of a domain file and
 * the process-local state that goes with a mapping of it.
 *
 * A domain file, <dir>/dom<domid>:
 *
 *   offset 0           struct xensim_hdr (one page)
 *   grant_off          struct grant_entry_v1[nr_grants]   (Xen's v1 table)
 *   gstate_off         uint32_t[nr_grants]  per-grant state word
 *   port_off[0]        struct xensim_port[nr_ports]  guest side ports
 *   port_off[1]        struct xensim_port[nr_ports]  backend side ports
 *   page_off           nr_pages * 4096 bytes of guest memory (page aligned)
 *
 * The offsets are a function of the three counts only (xensim_layout());
 * a process attaching recomputes them and checks the file size instead of
 * trusting offsets written by another process.
 *
 * The header page also holds, from XENSIM_PIN_OFF, the pin records: which
 * process holds each grant mapping, so that the mappings of a process
 * that died are released, as Linux releases a gntdev file's mappings
 * when its process goes (xensim_grant.c).
 *
 * The grant state word: bits 0-1 the allocation state, bits 2-31 how many
 * backend mappings the grant has. Allocation, revocation and mapping are
 * all one compare-and-swap on that word, so a grant cannot be revoked
 * while mapped, whichever processes race.
 */

#ifndef XENSIM_PRIV_H
#define XENSIM_PRIV_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <xen/grant_table.h>

#include "xensim.h"

#define XENSIM_MAGIC 0x31304d49534e4558ull    /* "XENSIM01" little endian */
#define XENSIM_VERSION 1u
#define XENSIM_HDR_SIZE XENSIM_PAGE_SIZE

/* Limits of a domain: 1 GiB of memory, 64 Ki grants, 256 ports a side. */
#define XENSIM_MAX_PAGES (1u << 18)
#define XENSIM_MAX_GRANTS (1u << 16)
#define XENSIM_NR_PORTS 256u

/* Grant state word. */
#define XENSIM_GNT_FREE 0u       /* not allocated */
#define XENSIM_GNT_BUSY 1u       /* being set up or torn down */
#define XENSIM_GNT_INUSE 2u      /* granted */
#define XENSIM_GNT_STATE_MASK 3u
#define XENSIM_GNT_MAP_ONE 4u    /* one mapping in the count bits */
#define XENSIM_GNT_MAP_SHIFT 2

/* Event channel port states (Xen's ECS_* that matter here). */
#define XENSIM_PORT_FREE 0u
#define XENSIM_PORT_BUSY 1u          /* being set up or torn down */
#define XENSIM_PORT_UNBOUND 2u       /* allocated, remote_dom may bind it */
#define XENSIM_PORT_INTERDOMAIN 3u   /* linked to remote_port */

/* Index of a side's port table. */
#define XENSIM_SIDE_GUEST 0
#define XENSIM_SIDE_BACKEND 1

/* Room for an abstract unix socket name, leading NUL included. */
#define XENSIM_SOCK_NAME_MAX 64

struct xensim_hdr {
	uint64_t magic;
	uint32_t version;
	uint32_t hdr_size;
	uint64_t gen;              /* random creation id, never 0 */
	uint64_t file_size;
	uint32_t nr_pages;
	uint32_t nr_grants;
	uint32_t nr_ports;
	uint16_t domid;
	uint16_t pad;
	uint64_t grant_off;
	uint64_t gstate_off;
	uint64_t port_off[2];
	uint64_t page_off;
};

/*
 * One grant mapping of one ref by one process; ref 0 (never granted) is
 * a free slot. pid 0: being filled in (its holder is taken to be alive).
 */
struct xensim_pin {
	uint32_t ref;
	int32_t pid;
	uint64_t start;            /* the process's start time (/proc/PID/stat) */
};

#define XENSIM_PIN_OFF 256u
#define XENSIM_NR_PINS ((XENSIM_HDR_SIZE - XENSIM_PIN_OFF) / sizeof(struct xensim_pin))

/* One event channel port, in the table of the side that owns it. */
struct xensim_port {
	uint32_t state;            /* XENSIM_PORT_* */
	uint16_t remote_dom;       /* who may bind (unbound), or the peer */
	uint16_t pad;
	uint32_t remote_port;      /* the peer's port (interdomain) */
	uint32_t sock_len;         /* bytes of sock_name used */
	/* The owning handle's socket: where the peer's notify goes. */
	char sock_name[XENSIM_SOCK_NAME_MAX];
};

struct xensim_layout {
	uint64_t grant_off;
	uint64_t gstate_off;
	uint64_t port_off[2];
	uint64_t page_off;
	uint64_t file_size;
};

/* A process's view of a domain file. Shared counts are copied at attach. */
struct xensim_dom {
	uint32_t refcnt;           /* the opener, mappings, evtchn handles */
	int fd;
	uint8_t *base;
	size_t size;
	struct xensim_hdr *hdr;
	struct xensim_pin *pins;   /* XENSIM_NR_PINS, in the header page */
	grant_entry_v1_t *gnt;
	uint32_t *gstate;
	struct xensim_port *ports[2];
	uint8_t *pages;
	uint32_t nr_pages;
	uint32_t nr_grants;
	uint32_t nr_ports;
	uint16_t domid;
	uint64_t gen;
	dev_t dev;
	ino_t ino;
	uint32_t next_ref;         /* allocation hint */
	char path[4096];
};

void xensim_layout(uint32_t nr_pages, uint32_t nr_grants, uint32_t nr_ports,
		struct xensim_layout *l);

/* References held by mappings and event channel handles. */
void xensim_dom_get(struct xensim_dom *d);
void xensim_dom_put(struct xensim_dom *d);

#endif /* XENSIM_PRIV_H */
