/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Rx interrupts: an application that enabled intr_conf.rxq sleeps on a
 * queue's fd (rte_eth_dev_rx_intr_ctl_q(), l3fwd-power style) until the
 * guest sends, instead of polling an idle queue.
 *
 * The fd handed to ethdev must outlive the connections to the guest (the
 * application adds it to its epoll set once), and it must also become
 * readable for work the guest posted before the application armed it.
 * So it is an epoll set of our own holding an eventfd, which xnb writes
 * (work already there when armed, a new connection), and, while
 * connected, the event channel's fd (the guest's notifications).
 *
 * Armed (xnb_intr_enable()), the guest-tx ring's req_event asks the
 * guest for a notification when it posts (RING_FINAL_CHECK_FOR_REQUESTS,
 * as Linux's netback); polling, xnb never moves req_event, so a guest
 * that xnb polls notifies only once. Disarmed (xnb_intr_disable()), the
 * pending notifications and eventfd counts are taken.
 *
 * Enable and disable run on the polling lcore between bursts; they enter
 * the rx half as a burst does (xnb_dp_enter()), so the control path's
 * quiesce covers them (the ring and the event channel stay while they
 * run).
 */

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "xnb_logs.h"
#include "xnb_private.h"

int
xnb_intr_open(struct xnb_queue *q)
{
	struct epoll_event ev = { .events = EPOLLIN };
	int ret;

	if (q->intr_fd >= 0)
		return 0;
	q->intr_fd = epoll_create1(EPOLL_CLOEXEC);
	q->intr_evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (q->intr_fd < 0 || q->intr_evfd < 0 ||
			epoll_ctl(q->intr_fd, EPOLL_CTL_ADD, q->intr_evfd, &ev) != 0) {
		ret = -errno;
		xnb_intr_close(q);
		return ret;
	}
	/* Connected already (the guest came before the application started). */
	if (q->connected)
		xnb_intr_attach(q);
	return 0;
}

void
xnb_intr_close(struct xnb_queue *q)
{
	if (q->intr_fd >= 0)
		close(q->intr_fd);
	if (q->intr_evfd >= 0)
		close(q->intr_evfd);
	q->intr_fd = -1;
	q->intr_evfd = -1;
}

/* Make the fd readable: a sleeping application polls. */
static void
intr_kick(struct xnb_queue *q)
{
	uint64_t one = 1;

	if (write(q->intr_evfd, &one, sizeof(one)) != sizeof(one))
		XNB_DP_LOG(DEBUG, "dom %u queue %u: eventfd write: %s", q->domid, q->id,
			strerror(errno));
}

void
xnb_intr_attach(struct xnb_queue *q)
{
	struct epoll_event ev = { .events = EPOLLIN };
	int fd;

	if (q->intr_fd < 0)
		return;
	fd = q->ops->evtchn_fd(q->evtchn);
	if (fd < 0 || epoll_ctl(q->intr_fd, EPOLL_CTL_ADD, fd, &ev) != 0)
		XNB_LOG(WARNING, "dom %u queue %u: rx interrupts will not see the guest's notifications (event channel fd: %s); the application wakes only on its own timeouts",
			q->domid, q->id, strerror(fd < 0 ? EBADF : errno));
	/* A sleeping application looks at the new connection. */
	intr_kick(q);
}

void
xnb_intr_detach(struct xnb_queue *q)
{
	int fd;

	if (q->intr_fd < 0 || q->evtchn == NULL)
		return;
	fd = q->ops->evtchn_fd(q->evtchn);
	if (fd >= 0)
		epoll_ctl(q->intr_fd, EPOLL_CTL_DEL, fd, NULL);
}

int
xnb_intr_enable(struct xnb_queue *q)
{
	struct xnb_rxq *rxq = &q->rx;
	int more;

	if (q->intr_fd < 0)
		return -ENOTSUP;
	/* Not connected (quiesced): the connect kicks the fd. */
	if (xnb_dp_enter(&rxq->busy, &rxq->allow)) {
		RING_FINAL_CHECK_FOR_REQUESTS(&q->guest_tx, more);
		/* Copied ahead and not consumed, or frames stashed: work now. */
		if (more || rxq->req_copied != q->guest_tx.req_cons || rxq->stash_len > 0)
			intr_kick(q);
	}
	xnb_dp_leave(&rxq->busy);
	return 0;
}

int
xnb_intr_disable(struct xnb_queue *q)
{
	struct xnb_rxq *rxq = &q->rx;
	unsigned int n = 0;
	uint64_t count;

	if (q->intr_fd < 0)
		return -ENOTSUP;
	while (read(q->intr_evfd, &count, sizeof(count)) == sizeof(count))
		;
	/* Bounded: a guest kicking without pause must not hold the lcore here. */
	if (xnb_dp_enter(&rxq->busy, &rxq->allow))
		while (n < XNB_TX_RING_SIZE && q->ops->evtchn_take(q->evtchn) > 0)
			n++;
	xnb_dp_leave(&rxq->busy);
	return 0;
}
