/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * The backend's XenBus state machine (xnb_xenbus_fsm.c), without a
 * xenstored: every transition from a table, walks of whole handshakes
 * (Linux's netfront, a reboot, Windows' close cycle before the first
 * connect, xl destroy), and every combination of inputs, out-of-range
 * states included, against the machine's invariants. The xenbus suite
 * checks the same walks through a real xenstored.
 */

#include <stdio.h>
#include <string.h>

#include <rte_common.h>

#include "test.h"
#include "xnb_netif.h"
#include "xnb_xenbus_fsm.h"

#define N XNB_FSM_NONE
#define U XenbusStateUnknown
#define I XenbusStateInitialising
#define W XenbusStateInitWait
#define D XenbusStateInitialised
#define C XenbusStateConnected
#define K XenbusStateClosing
#define X XenbusStateClosed

#define DIS XNB_FSM_DISCONNECT
#define FGT XNB_FSM_FORGET
#define ADV XNB_FSM_ADVERTISE
#define CON XNB_FSM_CONNECT
#define WR XNB_FSM_WRITE
#define RE XNB_FSM_REATTACH

struct fsm_case {
	const char *name;
	struct xnb_fsm_in in;      /* vif, ours, backend, frontend, connected, ready, taken, plugging */
	uint32_t act;
	int state;                 /* with WR */
	enum xnb_fsm_why why;      /* with DIS */
};

static const struct fsm_case cases[] = {
	{ "no vif yet", { false, N, U, U, false, false }, FGT, N, XNB_WHY_NONE },
	{ "vif removed while connected", { false, C, U, U, true, true },
		DIS | FGT, N, XNB_WHY_VIF_REMOVED },
	{ "new vif, frontend initialising", { true, N, U, I, false, false },
		ADV, N, XNB_WHY_NONE },
	{ "new vif, frontend connected, application not ready", { true, N, U, C, false, false },
		ADV, N, XNB_WHY_NONE },
	{ "new vif, frontend connected, application ready", { true, N, U, C, false, true },
		ADV | CON, N, XNB_WHY_NONE },
	{ "new vif, leftover Connected from an earlier backend", { true, N, C, I, false, true },
		ADV, N, XNB_WHY_NONE },
	{ "predecessor left it Connected, frontend Connected: reattach",
		{ true, N, C, C, false, true }, RE, N, XNB_WHY_NONE },
	{ "predecessor left it Connected, frontend Initialised: reattach",
		{ true, N, C, D, false, true }, RE, N, XNB_WHY_NONE },
	{ "predecessor left it Connected, application not ready: wait",
		{ true, N, C, C, false, false }, 0, N, XNB_WHY_NONE },
	{ "predecessor left it Connected, frontend closing",
		{ true, N, C, K, false, true }, ADV | WR, K, XNB_WHY_NONE },
	{ "predecessor left it Connected, frontend gone",
		{ true, N, C, U, false, true }, ADV | WR, X, XNB_WHY_NONE },
	{ "another backend serves the vif: touch nothing",
		{ true, N, C, C, false, true, true }, 0, N, XNB_WHY_NONE },
	{ "another backend serves a new vif: no InitWait either",
		{ true, N, U, I, false, true, true }, 0, N, XNB_WHY_NONE },
	{ "ours already: an owner record of someone else changes nothing",
		{ true, C, C, C, true, true, true }, 0, N, XNB_WHY_NONE },
	{ "InitWait, frontend initialising", { true, W, W, I, false, true }, 0, N, XNB_WHY_NONE },
	{ "InitWait, frontend Initialised", { true, W, W, D, false, true },
		CON, N, XNB_WHY_NONE },
	{ "InitWait, frontend Connected straight (Linux)", { true, W, W, C, false, true },
		CON, N, XNB_WHY_NONE },
	{ "InitWait, frontend Connected, application not ready", { true, W, W, C, false, false },
		0, N, XNB_WHY_NONE },
	{ "InitWait, frontend Connected, the hotplug script not done: wait",
		{ true, W, W, C, false, true, false, true }, 0, N, XNB_WHY_NONE },
	{ "new vif, frontend Connected, the hotplug script not done: InitWait only",
		{ true, N, U, C, false, true, false, true }, ADV, N, XNB_WHY_NONE },
	{ "connected: a hotplug-status that changes later changes nothing",
		{ true, C, C, C, true, true, false, true }, 0, N, XNB_WHY_NONE },
	{ "predecessor left it Connected: reattach without waiting for the script",
		{ true, N, C, C, false, true, false, true }, RE, N, XNB_WHY_NONE },
	{ "connected and steady", { true, C, C, C, true, true }, 0, N, XNB_WHY_NONE },
	{ "frontend restarts (reboot)", { true, C, C, I, true, true },
		DIS | ADV, N, XNB_WHY_FRONTEND_RESTARTED },
	{ "frontend InitWait again", { true, C, C, W, true, true },
		DIS | ADV, N, XNB_WHY_FRONTEND_RESTARTED },
	{ "frontend starts over after Closed", { true, X, X, I, false, true },
		ADV, N, XNB_WHY_NONE },
	{ "frontend starts over after Closing", { true, K, K, I, false, true },
		ADV, N, XNB_WHY_NONE },
	{ "frontend closing", { true, C, C, K, true, true },
		DIS | WR, K, XNB_WHY_FRONTEND_CLOSING },
	{ "frontend closing, Closing written", { true, K, K, K, false, true }, 0, N, XNB_WHY_NONE },
	{ "frontend closing before Connected", { true, W, W, K, false, true },
		WR, K, XNB_WHY_NONE },
	{ "frontend closed", { true, K, K, X, false, true }, WR, X, XNB_WHY_NONE },
	{ "frontend closed without Closing", { true, C, C, X, true, true },
		DIS | WR, X, XNB_WHY_FRONTEND_CLOSED },
	{ "frontend closed, Closed written", { true, X, X, X, false, true }, 0, N, XNB_WHY_NONE },
	{ "frontend connects while we are Closing", { true, K, K, C, false, true },
		0, N, XNB_WHY_NONE },
	{ "frontend vanished (domain destroyed)", { true, C, C, U, true, true },
		DIS | WR, X, XNB_WHY_FRONTEND_VANISHED },
	{ "frontend vanished, Closed written", { true, X, X, U, false, true }, 0, N, XNB_WHY_NONE },
	{ "frontend Reconfiguring (xdp-headroom)", { true, C, C, XenbusStateReconfiguring, true, true },
		XNB_FSM_RECONFIGURE | WR, XenbusStateReconfigured, XNB_WHY_NONE },
	{ "frontend Reconfiguring, Reconfigured written",
		{ true, XenbusStateReconfigured, XenbusStateReconfigured, XenbusStateReconfiguring, true,
		true }, XNB_FSM_RECONFIGURE, N, XNB_WHY_NONE },
	{ "frontend back to Connected after Reconfigured",
		{ true, XenbusStateReconfigured, XenbusStateReconfigured, C, true, true },
		WR, C, XNB_WHY_NONE },
	{ "frontend Reconfiguring while not connected", { true, W, W, XenbusStateReconfiguring,
		false, true }, 0, N, XNB_WHY_NONE },
	{ "frontend state 99", { true, C, C, 99, true, true },
		DIS | WR, X, XNB_WHY_FRONTEND_VANISHED },
	{ "frontend state -5", { true, W, W, -5, false, true }, WR, X, XNB_WHY_NONE },
	{ "toolstack writes Closing (xl destroy)", { true, C, K, C, true, true },
		DIS | WR, X, XNB_WHY_TOOLSTACK_CLOSED },
	{ "toolstack writes Closed", { true, W, X, I, false, true }, WR, X, XNB_WHY_NONE },
	{ "toolstack resets us to Initialising", { true, C, I, C, true, true },
		DIS | ADV | CON, N, XNB_WHY_VIF_RECREATED },
	{ "our state 99 in xenstore before our first write", { true, N, 99, I, false, true },
		ADV, N, XNB_WHY_NONE },
	{ "our state changed to something else", { true, C, D, C, true, true },
		0, N, XNB_WHY_NONE },
};

static int
test_fsm_table(void)
{
	struct xnb_fsm_out out;
	unsigned int i;

	for (i = 0; i < RTE_DIM(cases); i++) {
		const struct fsm_case *c = &cases[i];

		xnb_fsm_step(&c->in, &out);
		TEST_ASSERT(out.act == c->act,
			"%s: actions 0x%x, expected 0x%x", c->name, out.act, c->act);
		if (c->act & WR)
			TEST_ASSERT(out.state == c->state, "%s: writes %s, expected %s",
				c->name, xnb_xenbus_state_str(out.state),
				xnb_xenbus_state_str(c->state));
		if (c->act & DIS)
			TEST_ASSERT(out.why == c->why, "%s: disconnects for \"%s\", expected \"%s\"",
				c->name, xnb_fsm_why_str(out.why), xnb_fsm_why_str(c->why));
	}
	printf("    %u transitions\n", i);
	return TEST_SUCCESS;
}

/* A vif as xenstore and the port would have it after each pass. */
struct world {
	struct xnb_fsm_in in;
	char written[64];          /* the states we wrote, as letters */
};

static const char letters[] = "UIWDCKXRr";

static void
wrote(struct world *w, int state)
{
	size_t n = strlen(w->written);

	w->in.ours = state;
	w->in.backend = state;
	if (n + 1 < sizeof(w->written)) {
		w->written[n] = letters[state];
		w->written[n + 1] = '\0';
	}
}

/* One pass with the frontend in state fe; the actions carried out as they would be. */
static void
pass(struct world *w, int fe)
{
	struct xnb_fsm_out out;

	w->in.frontend = fe;
	xnb_fsm_step(&w->in, &out);
	if (out.act & DIS)
		w->in.connected = false;
	if (out.act & FGT)
		w->in.ours = N;
	if (out.act & ADV)
		wrote(w, W);
	if (out.act & CON) {
		w->in.connected = true;
		wrote(w, C);
	}
	if (out.act & RE) {
		/* The state stays what the predecessor wrote: nothing written. */
		w->in.connected = true;
		w->in.ours = C;
	}
	if (out.act & WR)
		wrote(w, out.state);
}

static void
world_init(struct world *w, bool ready)
{
	memset(w, 0, sizeof(*w));
	w->in.vif = true;
	w->in.ours = N;
	w->in.backend = U;
	w->in.ready = ready;
}

/* Whole handshakes: the states we write, in order. */
static int
test_fsm_walks(void)
{
	struct world w;
	unsigned int i;

	/* Linux's netfront: Initialising, then Connected; a reboot; a module unload. */
	world_init(&w, true);
	pass(&w, I);
	pass(&w, C);
	TEST_ASSERT(w.in.connected, "Linux netfront: connected");
	pass(&w, C);
	pass(&w, I);
	TEST_ASSERT(!w.in.connected, "reboot: disconnected");
	pass(&w, C);
	pass(&w, K);
	pass(&w, X);
	TEST_ASSERT_EQUAL(strcmp(w.written, "WCWCKX"), 0, "Linux netfront wrote %s", w.written);

	/* Windows' PV drivers close their side once before the first connect. */
	world_init(&w, true);
	pass(&w, I);
	pass(&w, K);
	pass(&w, X);
	pass(&w, I);
	pass(&w, D);
	pass(&w, C);
	TEST_ASSERT(w.in.connected, "close cycle: connected in the end");
	TEST_ASSERT_EQUAL(strcmp(w.written, "WKXWC"), 0, "close cycle wrote %s", w.written);

	/* The frontend is there before the application sets its queues up. */
	world_init(&w, false);
	pass(&w, C);
	pass(&w, C);
	TEST_ASSERT(!w.in.connected, "not ready: not connected");
	w.in.ready = true;
	pass(&w, C);
	TEST_ASSERT(w.in.connected, "ready: connected");
	TEST_ASSERT_EQUAL(strcmp(w.written, "WC"), 0, "late application wrote %s", w.written);

	/* xl destroy: the toolstack writes Closing, then removes the directories. */
	pass(&w, C);
	w.in.backend = K;
	pass(&w, C);
	TEST_ASSERT(!w.in.connected, "xl destroy: disconnected");
	w.in.vif = false;
	pass(&w, U);
	TEST_ASSERT_EQUAL(w.in.ours, N, "vif removed: state forgotten");
	/* xl create again: a new vif with the same handle. */
	w.in.vif = true;
	w.in.backend = U;
	pass(&w, I);
	pass(&w, C);
	TEST_ASSERT(w.in.connected, "recreated vif: connected");
	TEST_ASSERT_EQUAL(strcmp(w.written, "WCXWC"), 0, "destroy and create wrote %s",
		w.written);

	/*
	 * The application restarts: its predecessor left the vif Connected
	 * (killed, or closed with on_close=keep); the new one takes it over
	 * and writes nothing, then serves a reboot as usual.
	 */
	world_init(&w, false);
	w.in.backend = C;
	pass(&w, C);
	TEST_ASSERT(!w.in.connected, "restart, queues not set up: waits");
	w.in.ready = true;
	pass(&w, C);
	pass(&w, C);
	TEST_ASSERT(w.in.connected, "restart: reattached");
	TEST_ASSERT_EQUAL(w.written[0], '\0', "restart wrote %s, nothing", w.written);
	pass(&w, I);
	pass(&w, C);
	TEST_ASSERT_EQUAL(strcmp(w.written, "WC"), 0, "reboot after a restart wrote %s",
		w.written);

	/*
	 * xl create with script=vif-xnb: InitWait for libxl, which then runs
	 * the script; Linux's netfront is Connected before the script has put
	 * the port into its switch, and Connected waits for hotplug-status.
	 */
	world_init(&w, true);
	w.in.plugging = true;
	pass(&w, I);
	pass(&w, C);
	pass(&w, C);
	TEST_ASSERT(!w.in.connected, "script still running: not connected");
	w.in.plugging = false;
	pass(&w, C);
	TEST_ASSERT(w.in.connected, "script done: connected");
	TEST_ASSERT_EQUAL(strcmp(w.written, "WC"), 0, "hotplug script wait wrote %s", w.written);

	/* A frontend that flaps between every state settles nothing it should not. */
	world_init(&w, true);
	for (i = 0; i < 1000; i++) {
		int fe = (int)((i * 7 + i / 9) % 10) - 1;

		pass(&w, fe);
		TEST_ASSERT(!w.in.connected || fe == D || fe == C || fe == XenbusStateReconfiguring,
			"flapping: connected with the frontend %d", fe);
	}
	return TEST_SUCCESS;
}

static bool
in_range(int s)
{
	return s >= XenbusStateUnknown && s <= XenbusStateReconfigured;
}

/*
 * Every input, states out of range included: what the machine promises
 * whatever xenstore holds.
 */
static int
test_fsm_invariants(void)
{
	static const int states[] = { -5, N, U, I, W, D, C, K, X,
		XenbusStateReconfiguring, XenbusStateReconfigured, 9, 99 };
	struct xnb_fsm_out out;
	struct xnb_fsm_in in;
	unsigned int a, b, f, bits, n = 0;

	for (bits = 0; bits < 32; bits++)
	for (a = 0; a < RTE_DIM(states); a++)
	for (b = 0; b < RTE_DIM(states); b++)
	for (f = 0; f < RTE_DIM(states); f++) {
		in.vif = bits & 1;
		in.connected = (bits >> 1) & 1;
		in.ready = (bits >> 2) & 1;
		in.taken = (bits >> 3) & 1;
		in.plugging = (bits >> 4) & 1;
		in.ours = states[a];
		in.backend = states[b];
		in.frontend = states[f];
		/* We only ever write states in range. */
		if (in.ours != N && !in_range(in.ours))
			continue;
		n++;
		xnb_fsm_step(&in, &out);
		TEST_ASSERT((out.act & ~(DIS | FGT | ADV | CON | WR | RE | XNB_FSM_RECONFIGURE)) == 0,
			"unknown action");
		TEST_ASSERT(!(out.act & XNB_FSM_RECONFIGURE) || (in.connected &&
			in.frontend == XenbusStateReconfiguring && !(out.act & DIS)),
			"reconfigure: only a connected vif whose frontend is Reconfiguring");
		TEST_ASSERT(!(out.act & RE) || (out.act == RE && in.ours == N && in.ready &&
			in.vif && !in.connected && in.backend == C &&
			(in.frontend == D || in.frontend == C)),
			"reattach: only alone, first pass, over a Connected vif");
		TEST_ASSERT(!(out.act & DIS) || in.connected, "disconnect while not connected");
		TEST_ASSERT(!(out.act & DIS) || out.why != XNB_WHY_NONE, "disconnect without why");
		TEST_ASSERT(!(out.act & CON) || (in.ready && !in.plugging && in.vif &&
			(in.frontend == D || in.frontend == C)),
			"connect: ready %d, plugging %d, frontend %d", in.ready, in.plugging,
			in.frontend);
		TEST_ASSERT(!(out.act & WR) || out.state == K || out.state == X ||
			(in.connected && out.state == XenbusStateReconfigured &&
			in.frontend == XenbusStateReconfiguring) ||
			(in.connected && out.state == C && in.ours == XenbusStateReconfigured),
			"writes %d: only Closing and Closed are written as such (and the reconfiguration's two)",
			out.state);
		TEST_ASSERT(!((out.act & CON) && (out.act & WR)), "connect and write");
		TEST_ASSERT(!in.vif || !(out.act & FGT), "forget with a vif");
		TEST_ASSERT(!(in.vif && in.taken && in.ours == N && !in.connected) || out.act == 0,
			"another backend's vif touched: 0x%x", out.act);
		TEST_ASSERT(in.vif || out.act == FGT || out.act == (DIS | FGT),
			"no vif: only disconnect and forget");
		/* A frontend out of range never connects, and a connected vif goes. */
		if (!in_range(in.frontend) && in.vif)
			TEST_ASSERT(!(out.act & CON) && (!in.connected || (out.act & DIS)),
				"frontend state %d", in.frontend);
	}
	printf("    %u inputs\n", n);
	return TEST_SUCCESS;
}

static struct unit_test_suite fsm_suite = {
	.suite_name = "fsm",
	.unit_test_cases = {
		TEST_CASE(test_fsm_table),
		TEST_CASE(test_fsm_walks),
		TEST_CASE(test_fsm_invariants),
		TEST_CASES_END()
	}
};

REGISTER_TEST_SUITE(fsm_suite);
