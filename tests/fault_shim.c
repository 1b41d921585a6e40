/*
 * tests/fault_shim.c — an LD_PRELOAD library for the tests: makes fsync(2),
 * fdatasync(2) and syncfs(2) fail, as a full or failing disk makes them fail, while
 * the file named by $BUNKO_FAULT_CONTROL holds "enospc" (ENOSPC) or "eio"
 * (EIO). Every file bunko publishes is fsync()ed before its rename
 * (bunko/atomic.h), so a fault there is a fault of every write that
 * matters; the test switches it on and off by writing the control file.
 * Nothing else is changed.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The errno to fail with now, or 0. Reads the control file with raw
 * system calls, so nothing here calls back into the wrapped functions. */
static int fault_now(void)
{
	const char *path = getenv("BUNKO_FAULT_CONTROL");
	char buf[16] = "";
	if (!path)
		return 0;
	int fd = (int)syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	long n = syscall(SYS_read, fd, buf, sizeof(buf) - 1);
	syscall(SYS_close, fd);
	buf[n > 0 ? n : 0] = '\0';
	if (!strncmp(buf, "enospc", 6))
		return ENOSPC;
	if (!strncmp(buf, "eio", 3))
		return EIO;
	return 0;
}

int fsync(int fd)
{
	int e = fault_now();
	if (e) {
		errno = e;
		return -1;
	}
	return (int)syscall(SYS_fsync, fd);
}

int fdatasync(int fd)
{
	int e = fault_now();
	if (e) {
		errno = e;
		return -1;
	}
	return (int)syscall(SYS_fdatasync, fd);
}

/* `add --manifest` makes its batches durable with syncfs (pipeline/queue.c) */
int syncfs(int fd)
{
	int e = fault_now();
	if (e) {
		errno = e;
		return -1;
	}
	return (int)syscall(SYS_syncfs, fd);
}
