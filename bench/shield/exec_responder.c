/*
 * The least an exec allow-list through fanotify can cost: for bench/shield-exec-floor.sh.
 *
 *   exec_responder [-p] [-s] PATH...
 *
 * Marks the mount of each PATH for FAN_OPEN_EXEC_PERM, prints "ready" and then allows
 * every exec at once, with no look at the file: one read and one write per event, one
 * thread. What is left is the round trip itself (the kernel holds the exec, wakes this
 * process, waits for its answer), which any fanotify-based enforcer pays for each program
 * and each program interpreter it holds. -p waits in poll(2) before each read (as an
 * enforcer with several groups or answer deadlines does); -s fstat(2)s each file (the
 * identity any allow-list needs). Stops on SIGTERM or SIGINT.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fanotify.h>
#include <sys/stat.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig) {
    (void)sig;
    stop = 1;
}

int main(int argc, char **argv) {
    int use_poll = 0, use_stat = 0, first = 1;
    for (; first < argc && argv[first][0] == '-'; first++) {
        if (strcmp(argv[first], "-p") == 0)
            use_poll = 1;
        else if (strcmp(argv[first], "-s") == 0)
            use_stat = 1;
        else
            break;
    }
    if (first >= argc) {
        fprintf(stderr, "usage: exec_responder [-p] [-s] PATH...\n");
        return 2;
    }
    int fan = fanotify_init(FAN_CLASS_CONTENT | FAN_CLOEXEC, O_RDONLY | O_LARGEFILE | O_CLOEXEC);
    if (fan < 0) {
        perror("fanotify_init");
        return 1;
    }
    for (int i = first; i < argc; i++) {
        if (fanotify_mark(fan, FAN_MARK_ADD | FAN_MARK_MOUNT, FAN_OPEN_EXEC_PERM, AT_FDCWD, argv[i]) < 0) {
            fprintf(stderr, "fanotify_mark %s: %s\n", argv[i], strerror(errno));
            return 1;
        }
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal; /* no SA_RESTART: the blocking read returns EINTR */
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    printf("ready\n");
    fflush(stdout);
    unsigned long long answered = 0;
    char buf[8192] __attribute__((aligned(__alignof__(struct fanotify_event_metadata))));
    while (!stop) {
        if (use_poll) {
            struct pollfd p = {.fd = fan, .events = POLLIN};
            if (poll(&p, 1, 1000) <= 0)
                continue;
        }
        ssize_t n = read(fan, buf, sizeof(buf));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            perror("read");
            return 1;
        }
        struct fanotify_event_metadata *m = (struct fanotify_event_metadata *)buf;
        for (; FAN_EVENT_OK(m, n); m = FAN_EVENT_NEXT(m, n)) {
            if (m->fd < 0)
                continue;
            if (m->mask & FAN_OPEN_EXEC_PERM) {
                struct stat st;
                if (use_stat && fstat(m->fd, &st) < 0)
                    perror("fstat");
                struct fanotify_response r = {.fd = m->fd, .response = FAN_ALLOW};
                if (write(fan, &r, sizeof(r)) != (ssize_t)sizeof(r))
                    perror("write");
                answered++;
            }
            close(m->fd);
        }
    }
    fprintf(stderr, "exec_responder: %llu execs answered\n", answered);
    return 0;
}
