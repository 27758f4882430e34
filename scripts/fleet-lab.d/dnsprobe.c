/* dnsprobe: queries DNS servers every INTERVAL ms and counts the queries each one left
   unanswered, the way a client behind resolv.conf would notice an outage.

   dnsprobe --interval-ms 100 --timeout-ms 1000 --out FILE ADDRESS:PORT...

   Runs until SIGTERM or SIGINT, then writes one line per server to FILE:
     ADDRESS:PORT sent=N answered=N unanswered=N longest_gap_ms=N
   A query counts as unanswered when no answer with its id came within the timeout;
   longest_gap_ms is the longest time between two answers from that server. */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_SERVERS 64
#define MAX_PENDING 256

struct pending { uint16_t id; long long sent_ms; int used; };
struct server {
    char name[64];
    struct sockaddr_in addr;
    int fd;
    long long sent, answered, unanswered, last_answer_ms, longest_gap_ms;
    struct pending pending[MAX_PENDING];
};

static volatile sig_atomic_t stopping = 0;
static void on_stop(int sig) { (void)sig; stopping = 1; }

static long long now_ms(void) {
    struct timespec ts; clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static size_t query(unsigned char *buf, uint16_t id) {
    static const unsigned char name[] = {7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0};
    memset(buf, 0, 12);
    buf[0] = id >> 8; buf[1] = id & 0xff; buf[2] = 0x01; buf[5] = 1;
    memcpy(buf + 12, name, sizeof name);
    size_t n = 12 + sizeof name;
    buf[n++] = 0; buf[n++] = 1; buf[n++] = 0; buf[n++] = 1;
    return n;
}

static void expire(struct server *s, long long now, long long timeout_ms) {
    for (int i = 0; i < MAX_PENDING; i++) {
        if (s->pending[i].used && now - s->pending[i].sent_ms > timeout_ms) { s->pending[i].used = 0; s->unanswered++; }
    }
}

/* Reads every answer waiting on a server's socket and settles the query it answers: answered
   within the timeout, or unanswered. A refused send (no listener, ICMP) shows up here as
   ECONNREFUSED and is skipped: its query stays pending until it times out. */
static void receive(struct server *s, long long now, long long timeout_ms) {
    unsigned char buf[512];
    ssize_t n;
    while ((n = recv(s->fd, buf, sizeof buf, 0)) >= 0 || errno == ECONNREFUSED) {
        if (n < 12 || !(buf[2] & 0x80) || buf[7] < 1) continue;
        uint16_t id = (uint16_t)(buf[0] << 8 | buf[1]);
        for (int j = 0; j < MAX_PENDING; j++) {
            if (!s->pending[j].used || s->pending[j].id != id) continue;
            s->pending[j].used = 0;
            if (now - s->pending[j].sent_ms > timeout_ms) { s->unanswered++; break; }
            s->answered++;
            if (now - s->last_answer_ms > s->longest_gap_ms) s->longest_gap_ms = now - s->last_answer_ms;
            s->last_answer_ms = now;
            break;
        }
    }
}

int main(int argc, char **argv) {
    long long interval_ms = 100, timeout_ms = 1000;
    const char *out = NULL;
    struct server *servers = calloc(MAX_SERVERS, sizeof *servers);
    int count = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--interval-ms") && i + 1 < argc) interval_ms = atoll(argv[++i]);
        else if (!strcmp(argv[i], "--timeout-ms") && i + 1 < argc) timeout_ms = atoll(argv[++i]);
        else if (!strcmp(argv[i], "--out") && i + 1 < argc) out = argv[++i];
        else if (count < MAX_SERVERS) {
            struct server *s = &servers[count];
            char host[64]; int port;
            if (sscanf(argv[i], "%63[^:]:%d", host, &port) != 2 || inet_pton(AF_INET, host, &s->addr.sin_addr) != 1) {
                fprintf(stderr, "dnsprobe: expected ADDRESS:PORT, got '%s'\n", argv[i]); return 2;
            }
            s->addr.sin_family = AF_INET; s->addr.sin_port = htons(port);
            snprintf(s->name, sizeof s->name, "%s", argv[i]);
            s->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
            if (s->fd < 0 || connect(s->fd, (struct sockaddr *)&s->addr, sizeof s->addr) != 0) { perror("dnsprobe: socket"); return 1; }
            count++;
        } else { fprintf(stderr, "dnsprobe: at most %d servers\n", MAX_SERVERS); return 2; }
    }
    if (!out || count == 0 || interval_ms < 1 || timeout_ms < 1) {
        fprintf(stderr, "usage: dnsprobe [--interval-ms N] [--timeout-ms N] --out FILE ADDRESS:PORT...\n"); return 2;
    }
    struct sigaction sa = {0}; sa.sa_handler = on_stop; sigaction(SIGTERM, &sa, NULL); sigaction(SIGINT, &sa, NULL);
    struct pollfd fds[MAX_SERVERS];
    for (int i = 0; i < count; i++) { fds[i].fd = servers[i].fd; fds[i].events = POLLIN; servers[i].last_answer_ms = now_ms(); }
    uint16_t next_id = 1;
    long long next_send = now_ms();
    unsigned char buf[512];
    while (!stopping) {
        long long now = now_ms();
        if (now >= next_send) {
            for (int i = 0; i < count; i++) {
                struct server *s = &servers[i];
                expire(s, now, timeout_ms);
                int slot = -1;
                for (int j = 0; j < MAX_PENDING; j++) if (!s->pending[j].used) { slot = j; break; }
                if (slot < 0) { s->unanswered++; continue; }
                uint16_t id = next_id++;
                size_t n = query(buf, id);
                s->sent++;
                s->pending[slot] = (struct pending){ id, now, 1 };
                /* A refused send (the server's address has no listener, ICMP) is an unanswered query too. */
                (void)send(s->fd, buf, n, 0);
            }
            next_send += interval_ms;
        }
        int wait = (int)(next_send - now_ms()); if (wait < 0) wait = 0;
        if (poll(fds, count, wait) <= 0) continue;
        now = now_ms();
        for (int i = 0; i < count; i++) if (fds[i].revents & POLLIN) receive(&servers[i], now, timeout_ms);
    }
    /* Queries still waiting at the end get their timeout to answer, then count. */
    long long end = now_ms() + timeout_ms;
    while (now_ms() < end) {
        if (poll(fds, count, (int)(end - now_ms())) <= 0) break;
        long long now = now_ms();
        for (int i = 0; i < count; i++) if (fds[i].revents & POLLIN) receive(&servers[i], now, timeout_ms);
    }
    FILE *f = fopen(out, "w");
    if (!f) { perror("dnsprobe: output"); return 1; }
    long long final = now_ms();
    for (int i = 0; i < count; i++) {
        struct server *s = &servers[i];
        for (int j = 0; j < MAX_PENDING; j++) if (s->pending[j].used) { s->pending[j].used = 0; s->unanswered++; }
        if (final - timeout_ms - s->last_answer_ms > s->longest_gap_ms && s->sent > 0) s->longest_gap_ms = final - timeout_ms - s->last_answer_ms;
        fprintf(f, "%s sent=%lld answered=%lld unanswered=%lld longest_gap_ms=%lld\n",
                s->name, s->sent, s->answered, s->unanswered, s->longest_gap_ms);
    }
    fclose(f);
    return 0;
}
