/* memfd_exec SRC [ARG...]: copies SRC into a memfd and executes it with fexecve.
 * Exits 126 (with the error on stderr) when the exec fails, 2 when run without SRC.
 * Built static by the tests so that it runs in any container. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

extern char **environ;

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: memfd_exec SRC [ARG...]\n");
		return 2;
	}
	int src = open(argv[1], O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (src < 0 || fstat(src, &st) < 0) {
		perror("open");
		return 1;
	}
	int fd = memfd_create("payload", MFD_CLOEXEC);
	if (fd < 0 || sendfile(fd, src, NULL, st.st_size) != st.st_size) {
		perror("memfd");
		return 1;
	}
	fexecve(fd, argv + 1, environ);
	perror("fexecve");
	return 126;
}
