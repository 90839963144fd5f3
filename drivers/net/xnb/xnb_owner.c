/* SPDX-License-Identifier: BSD-3-Clause */

/* Who serves a vif (xnb_owner.h). */

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "xnb_number.h"
#include "xnb_owner.h"

#define BOOT_ID_LEN 36

/* This boot's id: 36 characters of /proc/sys/kernel/random/boot_id. */
static int
boot_id(char *id)
{
	FILE *f = fopen("/proc/sys/kernel/random/boot_id", "r");
	int ok;

	if (f == NULL)
		return -errno;
	ok = fgets(id, BOOT_ID_LEN + 1, f) != NULL && strlen(id) == BOOT_ID_LEN;
	fclose(f);
	return ok ? 0 : -EIO;
}

/* A process's start time (clock ticks since boot, /proc/PID/stat field 22). */
static int
start_time(unsigned long pid, unsigned long long *t)
{
	char path[64], buf[1024], *p;
	unsigned int field;
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%lu/stat", pid);
	f = fopen(path, "r");
	if (f == NULL)
		return -errno;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* The command name may hold spaces and parentheses: count from the last ')'. */
	p = strrchr(buf, ')');
	if (p == NULL)
		return -EIO;
	for (field = 2; field < 22 && p != NULL; field++)
		p = strchr(p + 1, ' ');
	if (p == NULL || sscanf(p + 1, "%llu", t) != 1)
		return -EIO;
	return 0;
}

int
xnb_owner_self(const char *name, char *buf, size_t size)
{
	char id[BOOT_ID_LEN + 1];
	unsigned long long t;
	int ret, n;

	ret = boot_id(id);
	if (ret == 0)
		ret = start_time((unsigned long)getpid(), &t);
	if (ret != 0)
		return ret;
	n = snprintf(buf, size, "%s/%lu/%llu/%s", id, (unsigned long)getpid(), t, name);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

bool
xnb_owner_other(const char *record, const char *self, char *who, size_t size)
{
	char rec[XNB_OWNER_MAX], id[BOOT_ID_LEN + 1], *pid_s, *t_s, *name;
	unsigned long long t, now;
	unsigned long pid, tl;

	if (strcmp(record, self) == 0 || strlen(record) >= sizeof(rec))
		return false;
	snprintf(rec, sizeof(rec), "%s", record);
	pid_s = strchr(rec, '/');
	t_s = pid_s != NULL ? strchr(pid_s + 1, '/') : NULL;
	name = t_s != NULL ? strchr(t_s + 1, '/') : NULL;
	if (name == NULL)
		return false;
	*pid_s++ = '\0';
	*t_s++ = '\0';
	*name++ = '\0';
	/* Another boot, or a process that is gone: nobody serves the vif. */
	if (boot_id(id) != 0 || strcmp(rec, id) != 0 ||
			xnb_parse_dec(pid_s, 4194304, true, &pid) != 0 || pid == 0 ||
			xnb_parse_dec(t_s, ~0ul, true, &tl) != 0)
		return false;
	t = tl;
	if (start_time(pid, &now) != 0 || now != t)
		return false;
	snprintf(who, size, "process %lu (port %.32s)", pid, name);
	return true;
}

bool
xnb_owner_kernel(const char *type, uint16_t domid, uint16_t handle)
{
	char path[96];

	/*
	 * dom0's xenbus makes a device of every backend directory; a driver
	 * bound to it (its driver link) is a kernel backend serving it.
	 */
	snprintf(path, sizeof(path), "/sys/bus/xen-backend/devices/%.32s-%u-%u/driver", type,
		domid, handle);
	return access(path, F_OK) == 0;
}
