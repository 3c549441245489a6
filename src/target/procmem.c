// SPDX-License-Identifier: GPL-2.0
/* One /proc/PID/mem descriptor, bound to the address space traced. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
#include "target/procmem.h"

static pid_t bound_pid;
static int bound_fd = -1;

int procmem_bind(pid_t pid)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/mem", pid);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	procmem_close();
	bound_pid = pid;
	bound_fd = fd;
	return 0;
}

static int procmem_fd(pid_t pid)
{
	return pid == bound_pid ? bound_fd : -1;
}

int procmem_get(pid_t pid)
{
	char path[64];
	int fd;

	if (pid == bound_pid && bound_fd >= 0)
		return bound_fd;
	snprintf(path, sizeof(path), "/proc/%d/mem", pid);
	fd = open(path, O_RDWR | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

void procmem_put(int fd)
{
	if (fd >= 0 && fd != bound_fd)
		close(fd);
}

/*
 * The kernel reads nothing (0) through a descriptor whose address space has
 * no users left, and fails with EIO on an unmapped address of a live one:
 * address 0 is never mapped, so a live space answers EIO.
 */
bool procmem_gone(pid_t pid)
{
	char c;
	int fd = procmem_fd(pid);

	return fd >= 0 && pread(fd, &c, 1, 0) == 0;
}

void procmem_close(void)
{
	if (bound_fd >= 0)
		close(bound_fd);
	bound_fd = -1;
	bound_pid = 0;
}
