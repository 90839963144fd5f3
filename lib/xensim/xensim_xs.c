/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * The simulation's xenstore: Debian's xenstored with its socket at
 * <sim_dir>/socket (devtools/xnb-xenstored), reached with the real
 * libxenstore client.
 */

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <xenstore.h>

#include "xensim.h"

/*
 * libxenstore 4.17 takes its socket path from the environment only
 * (XENSTORED_PATH, then XENSTORED_RUNDIR/socket) and has no call taking a
 * path. So XENSTORED_PATH is set around xs_open() under a lock and put
 * back afterwards. With XENSTORED_PATH set, xs_open() also falls back to
 * that same path, never to /dev/xen/xenbus of a real host. setenv() is
 * not safe against getenv() in other threads: open connections from a
 * control thread (the driver does so at probe).
 */
struct xs_handle *
xensim_xs_open(const char *sim_dir)
{
	static pthread_mutex_t env_lock = PTHREAD_MUTEX_INITIALIZER;
	char path[PATH_MAX], *saved = NULL;
	struct xs_handle *xs;
	bool changed = false;
	const char *old;
	struct stat st;
	int n, err = 0;

	n = snprintf(path, sizeof(path), "%s/socket", sim_dir);
	if (n < 0 || (size_t)n >= sizeof(path)) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	if (stat(path, &st) != 0)
		err = errno;
	else if (!S_ISSOCK(st.st_mode))
		err = ENOTSOCK;
	if (err != 0) {
		errno = err;
		return NULL;
	}

	pthread_mutex_lock(&env_lock);
	old = getenv("XENSTORED_PATH");
	if (old == NULL || strcmp(old, path) != 0) {
		if (old != NULL)
			saved = strdup(old);
		if ((old != NULL && saved == NULL) ||
				setenv("XENSTORED_PATH", path, 1) != 0) {
			err = errno;
			pthread_mutex_unlock(&env_lock);
			free(saved);
			errno = err;
			return NULL;
		}
		changed = true;
	}
	xs = xs_open(XS_OPEN_SOCKETONLY);
	err = errno;
	if (changed) {
		if (saved != NULL)
			setenv("XENSTORED_PATH", saved, 1);
		else
			unsetenv("XENSTORED_PATH");
	}
	pthread_mutex_unlock(&env_lock);
	free(saved);
	errno = err;
	return xs;
}
