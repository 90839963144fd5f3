/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * The backend's XenBus state machine as a pure function: what one pass
 * saw in xenstore (our state, the frontend's, the toolstack's writes)
 * and what the port is (queues set up, rings connected) in; the actions
 * to take and the state to write out. No I/O: xnb_xenbus.c reads the
 * inputs and carries the actions out, the table test (test_fsm.c)
 * checks every transition without a xenstored.
 */

#ifndef XNB_XENBUS_FSM_H
#define XNB_XENBUS_FSM_H

#include <stdbool.h>
#include <stdint.h>

/* Our state before the first write to a vif's backend directory. */
#define XNB_FSM_NONE (-1)

struct xnb_fsm_in {
	bool vif;          /* the backend directory exists (the toolstack made the vif) */
	int ours;          /* the state we last wrote, or XNB_FSM_NONE */
	int backend;       /* our state node as read now: the toolstack may have written it */
	int frontend;      /* the frontend's state node; XenbusStateUnknown when absent or bad */
	bool connected;    /* rings mapped, event channels bound */
	bool ready;        /* the application has set its queues up */
	bool taken;        /* another live backend serves the vif (xnb_owner.h) */
	bool plugging;     /* the toolstack's hotplug script has not said connected yet */
};

/* Actions, carried out in this order (REATTACH where CONNECT would be). */
enum {
	XNB_FSM_DISCONNECT = 1u << 0, /* quiesce, unmap, unbind every queue (why) */
	XNB_FSM_FORGET = 1u << 1,     /* no vif: ours becomes XNB_FSM_NONE, nothing written */
	XNB_FSM_ADVERTISE = 1u << 2,  /* features and InitWait in one transaction */
	XNB_FSM_CONNECT = 1u << 3,    /* read the frontend's keys, map, bind, write Connected (once plugged) */
	XNB_FSM_WRITE = 1u << 4,      /* write state */
	/*
	 * Take over a vif a predecessor left Connected (it exited, or was
	 * killed): read the keys, map, bind, at the shared ring indices,
	 * and write nothing the guest could see.
	 */
	XNB_FSM_REATTACH = 1u << 5,
	/* The connected frontend changed its xdp-headroom: read it again. */
	XNB_FSM_RECONFIGURE = 1u << 6,
};

enum xnb_fsm_why {
	XNB_WHY_NONE,
	XNB_WHY_VIF_REMOVED,       /* the backend directory went */
	XNB_WHY_TOOLSTACK_CLOSED,  /* the toolstack wrote Closing or Closed (xl destroy) */
	XNB_WHY_VIF_RECREATED,     /* a new vif, or the toolstack reset our state */
	XNB_WHY_FRONTEND_RESTARTED,
	XNB_WHY_FRONTEND_CLOSING,
	XNB_WHY_FRONTEND_CLOSED,
	XNB_WHY_FRONTEND_VANISHED, /* no or a bad frontend state: the domain went */
};

struct xnb_fsm_out {
	uint32_t act;              /* XNB_FSM_* */
	int state;                 /* with XNB_FSM_WRITE */
	enum xnb_fsm_why why;      /* with XNB_FSM_DISCONNECT */
};

/*
 * One pass. An ADVERTISE that fails ends the pass (the next watch event
 * tries again); a CONNECT that fails leaves an error node and Closing,
 * written by the connect itself.
 */
void xnb_fsm_step(const struct xnb_fsm_in *in, struct xnb_fsm_out *out);

/* "frontend closed", ... for logs. */
const char *xnb_fsm_why_str(enum xnb_fsm_why why);

/* "Connected" for XenbusStateConnected, ...; "none" for XNB_FSM_NONE or out of range. */
const char *xnb_xenbus_state_str(int state);

#endif /* XNB_XENBUS_FSM_H */
