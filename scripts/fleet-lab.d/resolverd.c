/* resolverd: a tiny DNS responder standing in for bind9 in Sluice's apply tests and fleet lab.
   Built with -DVERSION=N (answers every A query with 127.0.0.N), -DREJECT_DNSSEC_ENABLE (like
   bind 9.18+, the "dnssec-enable" option is a fatal config error) and -DSILENT (starts, never
   answers). Its config (/etc/resolverd.conf) takes "port N", "listen ADDRESS" (IPv4, default
   127.0.0.1) and "dnssec-enable yes|no". */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#ifndef VERSION
#define VERSION 1
#endif
static volatile sig_atomic_t stopping = 0;
static void on_term(int sig) { (void)sig; stopping = 1; }
static int port = 0;
static struct in_addr listen_address = { 0 };
static int parse_config(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) { fprintf(stderr, "%s: cannot open: %s\n", path, strerror(errno)); return 1; }
    char line[512]; int n = 0;
    while (fgets(line, sizeof line, f)) {
        n++;
        char key[128], value[128];
        char *hash = strchr(line, '#'); if (hash) *hash = 0;
        int got = sscanf(line, "%127s %127s", key, value);
        if (got <= 0) continue;
        if (got != 2) { fprintf(stderr, "%s:%d: expected 'key value'\n", path, n); fclose(f); return 1; }
        if (strcmp(key, "port") == 0) { port = atoi(value); }
        else if (strcmp(key, "listen") == 0) {
            if (inet_pton(AF_INET, value, &listen_address) != 1) { fprintf(stderr, "%s:%d: 'listen' needs an IPv4 address\n", path, n); fclose(f); return 1; }
        }
        else if (strcmp(key, "dnssec-enable") == 0) {
#ifdef REJECT_DNSSEC_ENABLE
            fprintf(stderr, "%s:%d: option 'dnssec-enable' no longer exists\n", path, n); fclose(f); return 1;
#endif
        } else { fprintf(stderr, "%s:%d: unknown option '%s'\n", path, n, key); fclose(f); return 1; }
    }
    fclose(f);
    if (port <= 0 || port > 65535) { fprintf(stderr, "%s: no valid 'port'\n", path); return 1; }
    return 0;
}
int main(int argc, char **argv) {
    const char *conf = "/etc/resolverd.conf", *pidfile = "/run/resolverd.pid";
    int check = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-c") && i + 1 < argc) conf = argv[++i];
        else if (!strcmp(argv[i], "-p") && i + 1 < argc) pidfile = argv[++i];
        else if (!strcmp(argv[i], "--check")) check = 1;
        else if (!strcmp(argv[i], "--version")) { printf("resolverd %d\n", VERSION); return 0; }
        else { fprintf(stderr, "usage: resolverd [--check] [-c conf] [-p pidfile]\n"); return 2; }
    }
    listen_address.s_addr = htonl(0x7f000001);
    if (parse_config(conf) != 0) return 1;
    if (check) return 0;
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    int one = 1; setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in addr = {0};
    addr.sin_family = AF_INET; addr.sin_port = htons(port); addr.sin_addr = listen_address;
    if (bind(fd, (struct sockaddr *)&addr, sizeof addr) != 0) { fprintf(stderr, "resolverd: bind %s:%d: %s\n", inet_ntoa(listen_address), port, strerror(errno)); return 1; }
    FILE *starts = fopen("/var/lib/resolverd-starts", "a");
    if (starts) { fprintf(starts, "start version %d\n", VERSION); fclose(starts); }
    int ready[2]; if (pipe(ready) != 0) return 1;
    pid_t child = fork();
    if (child < 0) return 1;
    if (child > 0) { char b; close(ready[1]); return read(ready[0], &b, 1) == 1 ? 0 : 1; }
    close(ready[0]); setsid();
    FILE *p = fopen(pidfile, "w"); if (!p) return 1; fprintf(p, "%d\n", (int)getpid()); fclose(p);
    int null = open("/dev/null", O_RDWR); dup2(null, 0); dup2(null, 1); dup2(null, 2); if (null > 2) close(null);
    struct sigaction sa = {0}; sa.sa_handler = on_term; sigaction(SIGTERM, &sa, NULL); sigaction(SIGINT, &sa, NULL);
    if (write(ready[1], "1", 1) != 1) return 1;
    close(ready[1]);
    unsigned char buf[512];
    while (!stopping) {
        struct sockaddr_in from; socklen_t len = sizeof from;
        ssize_t n = recvfrom(fd, buf, sizeof buf - 16, 0, (struct sockaddr *)&from, &len);
        if (n < 12) continue;
#ifdef SILENT
        if (n > 0) continue;
#endif
        size_t q = 12; while (q < (size_t)n && buf[q] != 0) q += buf[q] + 1;
        q += 5; if (q > (size_t)n || buf[4] != 0 || buf[5] != 1) continue;
        buf[2] = 0x80 | (buf[2] & 0x79); buf[3] = 0x80; buf[6] = 0; buf[7] = 1; buf[8] = buf[9] = buf[10] = buf[11] = 0;
        unsigned char answer[16] = {0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 127, 0, 0, VERSION};
        memcpy(buf + q, answer, 16);
        sendto(fd, buf, q + 16, 0, (struct sockaddr *)&from, len);
    }
    close(fd); unlink(pidfile); return 0;
}
