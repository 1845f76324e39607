/*
 * Test helper run inside containers (built static by the tests with the host's cc): does
 * the few things a shell cannot.
 *   actions int80-unshare         unshare(CLONE_NEWUSER) through the ia32 entry (int 0x80)
 *   actions memfd-exec            copies /bin/true into a memfd and executes it
 *   actions deleted-exec PATH     copies /bin/true to PATH, unlinks it and executes it
 *   actions cold-open MAP         opens for writing the path that file MAP holds, passing it
 *                                 from a mapped page of MAP that the process never touched
 *                                 (so the page is not resident when the syscall starts)
 * Prints the syscall's result and exits 0 when the action could be attempted.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

extern char **environ;

static int copy_true(int out)
{
	int in = open("/bin/true", O_RDONLY);
	struct stat st;

	if (in < 0 || fstat(in, &st) < 0)
		return -1;
	if (sendfile(out, in, NULL, st.st_size) != st.st_size)
		return -1;
	close(in);
	return 0;
}

static int exec_fd(int fd, char *name)
{
	char *argv[] = { name, NULL };

	syscall(SYS_execveat, fd, "", argv, environ, AT_EMPTY_PATH);
	perror("execveat");
	return 1;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "int80-unshare") == 0) {
		long ret;

		/* ia32 unshare is 310; CLONE_NEWUSER is 0x10000000 */
		asm volatile("int $0x80" : "=a"(ret) : "a"(310L), "b"(0x10000000L) : "memory");
		printf("%ld\n", ret);
		return 0;
	}
	if (argc >= 2 && strcmp(argv[1], "memfd-exec") == 0) {
		int fd = memfd_create("payload", 0);

		if (fd < 0 || copy_true(fd) < 0) {
			perror("memfd");
			return 1;
		}
		return exec_fd(fd, "memfd-marker");
	}
	if (argc >= 3 && strcmp(argv[1], "deleted-exec") == 0) {
		int out = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0755);
		int fd;

		if (out < 0 || copy_true(out) < 0) {
			perror("copy");
			return 1;
		}
		close(out);
		fd = open(argv[2], O_RDONLY);
		if (fd < 0 || unlink(argv[2]) < 0) {
			perror("unlink");
			return 1;
		}
		return exec_fd(fd, "deleted-marker");
	}
	if (argc >= 3 && strcmp(argv[1], "cold-open") == 0) {
		int map = open(argv[2], O_RDONLY);
		const char *path;
		long ret;

		if (map < 0) {
			perror("open map");
			return 1;
		}
		path = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, map, 0);
		if (path == MAP_FAILED) {
			perror("mmap");
			return 1;
		}
		ret = syscall(SYS_openat, AT_FDCWD, path, O_WRONLY | O_CREAT, 0644);
		printf("%ld\n", ret < 0 ? -errno : ret);
		return 0;
	}
	fprintf(stderr, "usage: actions int80-unshare | memfd-exec | deleted-exec PATH | cold-open MAP\n");
	return 2;
}
