/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * The backend's XenBus state machine, pure (xnb_xenbus_fsm.h). The walk
 * is Linux netback's: InitWait -> Connected -> Closing -> Closed, and
 * back to InitWait when the frontend starts over (a guest reboot, a
 * module reload, Windows' close cycle before it connects).
 */

#include <stddef.h>

#include "xnb_netif.h"
#include "xnb_xenbus_fsm.h"

const char *
xnb_xenbus_state_str(int state)
{
	static const char * const names[] = {
		[XenbusStateUnknown] = "Unknown",
		[XenbusStateInitialising] = "Initialising",
		[XenbusStateInitWait] = "InitWait",
		[XenbusStateInitialised] = "Initialised",
		[XenbusStateConnected] = "Connected",
		[XenbusStateClosing] = "Closing",
		[XenbusStateClosed] = "Closed",
		[XenbusStateReconfiguring] = "Reconfiguring",
		[XenbusStateReconfigured] = "Reconfigured",
	};

	if (state < 0 || state >= (int)(sizeof(names) / sizeof(names[0])))
		return "none";
	return names[state];
}

const char *
xnb_fsm_why_str(enum xnb_fsm_why why)
{
	switch (why) {
	case XNB_WHY_VIF_REMOVED:
		return "backend directory removed";
	case XNB_WHY_TOOLSTACK_CLOSED:
		return "toolstack closed the vif";
	case XNB_WHY_VIF_RECREATED:
		return "vif recreated";
	case XNB_WHY_FRONTEND_RESTARTED:
		return "frontend restarted";
	case XNB_WHY_FRONTEND_CLOSING:
		return "frontend closing";
	case XNB_WHY_FRONTEND_CLOSED:
		return "frontend closed";
	case XNB_WHY_FRONTEND_VANISHED:
		return "frontend vanished";
	default:
		return "none";
	}
}

/* Disconnect (once) if connected. */
static void
drop(struct xnb_fsm_out *out, bool *connected, enum xnb_fsm_why why)
{
	if (!*connected)
		return;
	*connected = false;
	out->act |= XNB_FSM_DISCONNECT;
	out->why = why;
}

static void
write_state(struct xnb_fsm_out *out, int state)
{
	out->act |= XNB_FSM_WRITE;
	out->state = state;
}

void
xnb_fsm_step(const struct xnb_fsm_in *in, struct xnb_fsm_out *out)
{
	bool connected = in->connected;
	int ours = in->ours;

	out->act = 0;
	out->state = XNB_FSM_NONE;
	out->why = XNB_WHY_NONE;

	/* No backend directory: the toolstack has not made the vif yet, or removed it. */
	if (!in->vif) {
		drop(out, &connected, XNB_WHY_VIF_REMOVED);
		out->act |= XNB_FSM_FORGET;
		return;
	}

	/* Another live backend serves it: not ours to touch (until it goes). */
	if (ours == XNB_FSM_NONE && in->taken && !connected)
		return;

	/*
	 * Our first pass over a vif that another backend process left
	 * Connected, with the frontend Connected: the guest has rings and an
	 * event channel and keeps them. Take them over as they are (no
	 * InitWait, which a connected Linux netfront ignores) once the
	 * application has its queues; until then, touch nothing.
	 */
	if (ours == XNB_FSM_NONE && in->backend == XenbusStateConnected &&
			(in->frontend == XenbusStateInitialised ||
			in->frontend == XenbusStateConnected)) {
		if (in->ready && !connected)
			out->act |= XNB_FSM_REATTACH;
		return;
	}

	if (in->backend != ours) {
		/* Someone else wrote our state: the toolstack. */
		if (in->backend == XenbusStateClosing || in->backend == XenbusStateClosed) {
			drop(out, &connected, XNB_WHY_TOOLSTACK_CLOSED);
			write_state(out, XenbusStateClosed);
			return;
		}
		if (ours == XNB_FSM_NONE || in->backend == XenbusStateInitialising) {
			/* A new vif (or a new toolstack run): start over. */
			drop(out, &connected, XNB_WHY_VIF_RECREATED);
			out->act |= XNB_FSM_ADVERTISE;
			ours = XenbusStateInitWait;
		}
	}

	switch (in->frontend) {
	case XenbusStateInitialising:
	case XenbusStateInitWait:
		/* The frontend starts (over): a rebooted or reloaded guest. */
		drop(out, &connected, XNB_WHY_FRONTEND_RESTARTED);
		if (ours == XenbusStateClosing || ours == XenbusStateClosed ||
				ours == XenbusStateConnected)
			out->act |= XNB_FSM_ADVERTISE;
		break;
	case XenbusStateInitialised:
	case XenbusStateConnected:
		/*
		 * Linux's netfront goes from Initialising straight to Connected.
		 * As Linux's netback, Connected waits for the hotplug script.
		 */
		if (!connected && ours == XenbusStateInitWait && in->ready && !in->plugging)
			out->act |= XNB_FSM_CONNECT;
		/* Back from a reconfiguration (below). */
		if (connected && ours == XenbusStateReconfigured && in->frontend == XenbusStateConnected)
			write_state(out, XenbusStateConnected);
		break;
	case XenbusStateReconfiguring:
		/*
		 * A connected frontend changes its xdp-headroom (Linux's
		 * xennet_xdp_set(), with feature-xdp-headroom): read it again and
		 * answer Reconfigured; the frontend goes back to Connected, and so
		 * do we, rings untouched. Not connected: nothing to change.
		 */
		if (connected) {
			out->act |= XNB_FSM_RECONFIGURE;
			if (ours != XenbusStateReconfigured)
				write_state(out, XenbusStateReconfigured);
		}
		break;
	case XenbusStateClosing:
		drop(out, &connected, XNB_WHY_FRONTEND_CLOSING);
		if (ours != XenbusStateClosing && ours != XenbusStateClosed)
			write_state(out, XenbusStateClosing);
		break;
	case XenbusStateClosed:
		drop(out, &connected, XNB_WHY_FRONTEND_CLOSED);
		if (ours != XenbusStateClosed)
			write_state(out, XenbusStateClosed);
		break;
	default:
		/* Unknown, or a value no frontend writes: its directory went (domain destroyed). */
		drop(out, &connected, XNB_WHY_FRONTEND_VANISHED);
		if (ours != XenbusStateClosed && ours != XNB_FSM_NONE)
			write_state(out, XenbusStateClosed);
		break;
	}
}
