/*
 * Per-call cost of a syscall loop, robust to a busy machine: for bench/shield-floor.sh.
 *
 *   floor stat|getppid|open BATCHES N [PATH]
 *
 * Runs BATCHES batches of N iterations (stat of PATH, getppid, or open+read+close of PATH;
 * PATH defaults to /etc/passwd) and prints the fastest batch's nanoseconds per iteration,
 * then the median batch's. The fastest batch is the one least disturbed by other work on
 * the machine, which makes small differences between hook configurations measurable.
 * Built static so that it runs in any image.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_BATCHES 1000

static double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int compare(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int one(const char *mode, const char *path) {
    if (strcmp(mode, "stat") == 0) {
        struct stat st;
        return stat(path, &st);
    }
    if (strcmp(mode, "getppid") == 0) {
        return getppid() > 0 ? 0 : -1;
    }
    char buf[4096];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || read(fd, buf, sizeof buf) < 0) return -1;
    return close(fd);
}

int main(int argc, char **argv) {
    if (argc < 4 || argc > 5) {
        fprintf(stderr, "usage: floor stat|getppid|open BATCHES N [PATH]\n");
        return 2;
    }
    const char *mode = argv[1];
    long batches = strtol(argv[2], NULL, 10), n = strtol(argv[3], NULL, 10);
    const char *path = argc == 5 ? argv[4] : "/etc/passwd";
    if (strcmp(mode, "stat") != 0 && strcmp(mode, "getppid") != 0 && strcmp(mode, "open") != 0) return 2;
    if (batches <= 0 || batches > MAX_BATCHES || n <= 0) return 2;
    static double per_call[MAX_BATCHES];
    for (long b = 0; b < batches; b++) {
        double start = now_ns();
        for (long i = 0; i < n; i++) {
            if (one(mode, path) != 0) {
                fprintf(stderr, "%s %s: %s\n", mode, path, strerror(errno));
                return 1;
            }
        }
        per_call[b] = (now_ns() - start) / (double)n;
    }
    qsort(per_call, (size_t)batches, sizeof per_call[0], compare);
    printf("%.1f %.1f\n", per_call[0], per_call[batches / 2]);
    return 0;
}
