/*
 * Syscall-heavy workload for bench/shield.sh, run inside a container.
 *
 *   workload open N [PATH]   open, read and close PATH (default /etc/passwd) N times
 *   workload stat N [PATH]   stat PATH (default /etc/passwd) N times
 *   workload exec N [PROG]   fork and exec PROG (default /bin/true) N times, waiting for each
 *   workload rate N RATE     personality(0xffffffff) (a query: changes nothing) N times at
 *                            RATE calls per second, in bursts of one millisecond; a watched
 *                            syscall, so each call is one shield event (bench/shield-drops.sh)
 *
 * Prints the elapsed seconds of the loop alone (CLOCK_MONOTONIC), so that the container's
 * start and stop are not measured; `rate` prints the calls per second it achieved. The loop starts after a pause of SETTLE_MS (not measured):
 * an enforce-mode shield protects a container on the engine's `start` event, up to ~130 ms
 * after its first program runs, and the loop must run under that protection.
 * Built static so that it runs in any image.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SETTLE_MS 300

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int usage(void) {
    fprintf(stderr, "usage: workload open|stat|exec N [PATH] | workload rate N RATE\n");
    return 2;
}

static int loop_open(long n, const char *path) {
    char buf[4096];
    for (long i = 0; i < n; i++) {
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            fprintf(stderr, "open %s: %s\n", path, strerror(errno));
            return 1;
        }
        if (read(fd, buf, sizeof buf) < 0) {
            fprintf(stderr, "read %s: %s\n", path, strerror(errno));
            return 1;
        }
        close(fd);
    }
    return 0;
}

static int loop_stat(long n, const char *path) {
    struct stat st;
    for (long i = 0; i < n; i++) {
        if (stat(path, &st) != 0) {
            fprintf(stderr, "stat %s: %s\n", path, strerror(errno));
            return 1;
        }
    }
    return 0;
}

static int loop_exec(long n, const char *prog) {
    for (long i = 0; i < n; i++) {
        pid_t pid = fork();
        if (pid < 0) {
            fprintf(stderr, "fork: %s\n", strerror(errno));
            return 1;
        }
        if (pid == 0) {
            execl(prog, prog, (char *)NULL);
            _exit(127);
        }
        int status;
        if (waitpid(pid, &status, 0) < 0) {
            fprintf(stderr, "waitpid: %s\n", strerror(errno));
            return 1;
        }
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            fprintf(stderr, "%s failed (status %d)\n", prog, status);
            return 1;
        }
    }
    return 0;
}

/* N personality queries at `rate` calls per second: each millisecond's share, then a sleep
 * until the next millisecond (absolute deadlines, so that a late wake-up is caught up). */
static int loop_rate(long n, long rate) {
    struct timespec next;
    clock_gettime(CLOCK_MONOTONIC, &next);
    double owed = 0;
    for (long done = 0; done < n;) {
        owed += (double)rate / 1000.0;
        for (; owed >= 1.0 && done < n; owed -= 1.0, done++) {
            if (personality(0xffffffff) < 0) {
                fprintf(stderr, "personality: %s\n", strerror(errno));
                return 1;
            }
        }
        next.tv_nsec += 1000000L;
        if (next.tv_nsec >= 1000000000L) {
            next.tv_sec++;
            next.tv_nsec -= 1000000000L;
        }
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 3 || argc > 4) return usage();
    char *end;
    long n = strtol(argv[2], &end, 10);
    if (*end != '\0' || n <= 0) return usage();
    const char *mode = argv[1];
    struct timespec settle = {SETTLE_MS / 1000, (SETTLE_MS % 1000) * 1000000L};
    nanosleep(&settle, NULL);
    double start = now();
    int rc;
    if (strcmp(mode, "open") == 0) {
        rc = loop_open(n, argc == 4 ? argv[3] : "/etc/passwd");
    } else if (strcmp(mode, "stat") == 0) {
        rc = loop_stat(n, argc == 4 ? argv[3] : "/etc/passwd");
    } else if (strcmp(mode, "exec") == 0) {
        rc = loop_exec(n, argc == 4 ? argv[3] : "/bin/true");
    } else if (strcmp(mode, "rate") == 0 && argc == 4) {
        long rate = strtol(argv[3], &end, 10);
        if (*end != '\0' || rate <= 0) return usage();
        rc = loop_rate(n, rate);
        if (rc == 0) printf("%.0f\n", (double)n / (now() - start));
        return rc;
    } else {
        return usage();
    }
    if (rc != 0) return rc;
    printf("%.6f\n", now() - start);
    return 0;
}
