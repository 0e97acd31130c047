/* Helpers shared by the connection benchmarks (conn_libxmpp.c,
 * conn_strophe.c; driven by tests/bench/conn.sh): a round-trip counter, a
 * size-tracking counting allocator, heap and RSS figures, a median and the
 * RESULT line that conn.sh parses.
 *
 * Every program takes the same arguments:
 *
 *   conn_X login  HOST PORT JID PASSWORD CAFILE LOGINS
 *   conn_X ingest HOST PORT JID PASSWORD STANZAS
 *   conn_X idle   HOST PORT JID PASSWORD CAFILE CONNECTIONS
 *
 * HOST must be an IP literal (nothing resolves names). See conn.sh.
 *
 * Round trips. The number of times the client waits for the server is
 * counted inside the process, the same way for both libraries: the program
 * defines connect, close and the socket read/write functions (read, write,
 * recv, send, recvfrom, sendto, recvmsg, sendmsg) itself, forwarding to the C
 * library through dlsym(RTLD_NEXT). It is linked with -rdynamic, so these
 * definitions also take the calls made inside shared libraries (libstrophe,
 * OpenSSL's socket BIO, libxmpp.so). For a descriptor that went through
 * connect(), a read that returns data after at least one successful write
 * since the previous data read counts one round trip: the client sent
 * something and then had to wait for bytes from the server. Data that the
 * server pushes without a request, or that arrives in several reads, counts
 * once. The TCP handshake itself is not counted (it is the same for both). */
#ifndef XMPP_BENCH_CONN_COMMON_H
#define XMPP_BENCH_CONN_COMMON_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

/* ---- round trips ---------------------------------------------------------- */

#define RT_MAXFD 65536
static unsigned char rt_sock[RT_MAXFD];  /* 1: a connect()ed descriptor */
static unsigned char rt_wrote[RT_MAXFD]; /* wrote since the last data read */
static unsigned long rt_trips;

static void *rt_next(const char *name) {
    void *f = dlsym(RTLD_NEXT, name);
    if (f == NULL) {
        fprintf(stderr, "conn bench: dlsym(%s) failed\n", name);
        abort();
    }
    return f;
}

#define RT_REAL(type, name) \
    static type real_##name; \
    if (real_##name == NULL) \
        real_##name = (type)rt_next(#name)

static inline void rt_out(int fd, ssize_t r) {
    if (r > 0 && fd >= 0 && fd < RT_MAXFD && rt_sock[fd])
        rt_wrote[fd] = 1;
}

static inline void rt_in(int fd, ssize_t r) {
    if (r > 0 && fd >= 0 && fd < RT_MAXFD && rt_sock[fd] && rt_wrote[fd]) {
        rt_wrote[fd] = 0;
        rt_trips++;
    }
}

typedef int (*rt_connect_fn)(int, const struct sockaddr *, socklen_t);
typedef int (*rt_close_fn)(int);
typedef ssize_t (*rt_read_fn)(int, void *, size_t);
typedef ssize_t (*rt_write_fn)(int, const void *, size_t);
typedef ssize_t (*rt_recv_fn)(int, void *, size_t, int);
typedef ssize_t (*rt_send_fn)(int, const void *, size_t, int);
typedef ssize_t (*rt_recvfrom_fn)(int, void *, size_t, int, struct sockaddr *, socklen_t *);
typedef ssize_t (*rt_sendto_fn)(int, const void *, size_t, int, const struct sockaddr *,
                                socklen_t);
typedef ssize_t (*rt_recvmsg_fn)(int, struct msghdr *, int);
typedef ssize_t (*rt_sendmsg_fn)(int, const struct msghdr *, int);

int connect(int fd, const struct sockaddr *a, socklen_t l) {
    RT_REAL(rt_connect_fn, connect);
    if (fd >= 0 && fd < RT_MAXFD) {
        rt_sock[fd] = 1;
        rt_wrote[fd] = 0;
    }
    return real_connect(fd, a, l);
}

int close(int fd) {
    RT_REAL(rt_close_fn, close);
    if (fd >= 0 && fd < RT_MAXFD)
        rt_sock[fd] = rt_wrote[fd] = 0;
    return real_close(fd);
}

ssize_t read(int fd, void *b, size_t n) {
    ssize_t r;
    RT_REAL(rt_read_fn, read);
    r = real_read(fd, b, n);
    rt_in(fd, r);
    return r;
}

ssize_t write(int fd, const void *b, size_t n) {
    ssize_t r;
    RT_REAL(rt_write_fn, write);
    r = real_write(fd, b, n);
    rt_out(fd, r);
    return r;
}

ssize_t recv(int fd, void *b, size_t n, int fl) {
    ssize_t r;
    RT_REAL(rt_recv_fn, recv);
    r = real_recv(fd, b, n, fl);
    rt_in(fd, r);
    return r;
}

ssize_t send(int fd, const void *b, size_t n, int fl) {
    ssize_t r;
    RT_REAL(rt_send_fn, send);
    r = real_send(fd, b, n, fl);
    rt_out(fd, r);
    return r;
}

ssize_t recvfrom(int fd, void *b, size_t n, int fl, struct sockaddr *a, socklen_t *l) {
    ssize_t r;
    RT_REAL(rt_recvfrom_fn, recvfrom);
    r = real_recvfrom(fd, b, n, fl, a, l);
    rt_in(fd, r);
    return r;
}

ssize_t sendto(int fd, const void *b, size_t n, int fl, const struct sockaddr *a,
               socklen_t l) {
    ssize_t r;
    RT_REAL(rt_sendto_fn, sendto);
    r = real_sendto(fd, b, n, fl, a, l);
    rt_out(fd, r);
    return r;
}

ssize_t recvmsg(int fd, struct msghdr *m, int fl) {
    ssize_t r;
    RT_REAL(rt_recvmsg_fn, recvmsg);
    r = real_recvmsg(fd, m, fl);
    rt_in(fd, r);
    return r;
}

ssize_t sendmsg(int fd, const struct msghdr *m, int fl) {
    ssize_t r;
    RT_REAL(rt_sendmsg_fn, sendmsg);
    r = real_sendmsg(fd, m, fl);
    rt_out(fd, r);
    return r;
}

/* ---- counting allocator ------------------------------------------------------ */

/* Each block carries its size in a 16-byte header (keeps malloc's alignment). */
typedef struct cnt_stats {
    size_t live;   /* bytes requested and not freed */
    size_t peak;
    size_t blocks; /* live blocks */
} cnt_stats;
static cnt_stats cnt;

#define CNT_HDR 16

static void *cnt_malloc(size_t n) {
    unsigned char *p = malloc(n + CNT_HDR);
    if (p == NULL)
        return NULL;
    memcpy(p, &n, sizeof n);
    cnt.live += n;
    cnt.blocks++;
    if (cnt.live > cnt.peak)
        cnt.peak = cnt.live;
    return p + CNT_HDR;
}

static void cnt_free(void *q) {
    unsigned char *p;
    size_t n;
    if (q == NULL)
        return;
    p = (unsigned char *)q - CNT_HDR;
    memcpy(&n, p, sizeof n);
    cnt.live -= n;
    cnt.blocks--;
    free(p);
}

static void *cnt_realloc(void *q, size_t n) {
    unsigned char *p;
    size_t old;
    if (q == NULL)
        return cnt_malloc(n);
    p = (unsigned char *)q - CNT_HDR;
    memcpy(&old, p, sizeof old);
    p = realloc(p, n + CNT_HDR);
    if (p == NULL)
        return NULL;
    memcpy(p, &n, sizeof n);
    cnt.live = cnt.live - old + n;
    if (cnt.live > cnt.peak)
        cnt.peak = cnt.live;
    return p + CNT_HDR;
}

/* ---- process figures ------------------------------------------------------- */

/* Bytes in use in the malloc heap (arena and mmapped chunks). */
static inline size_t heap_in_use(void) {
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd;
}

/* VmRSS from /proc/self/status, in bytes (0 if unknown). */
static inline size_t rss_bytes(void) {
    char line[256];
    size_t kb = 0;
    FILE *f = fopen("/proc/self/status", "r");
    if (f == NULL)
        return 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %zu kB", &kb) == 1)
            break;
    fclose(f);
    return kb * 1024;
}

static inline double conn_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int dbl_cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The median of n values (sorts them). */
static inline double median(double *v, size_t n) {
    if (n == 0)
        return 0;
    qsort(v, n, sizeof *v, dbl_cmp);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static inline void conn_usage(const char *prog) {
    fprintf(stderr,
            "usage: %s login  HOST PORT JID PASSWORD CAFILE LOGINS\n"
            "       %s ingest HOST PORT JID PASSWORD STANZAS\n"
            "       %s idle   HOST PORT JID PASSWORD CAFILE CONNECTIONS\n",
            prog, prog, prog);
    exit(2);
}

static inline unsigned long conn_ulong(const char *s, const char *prog) {
    char *end;
    unsigned long v;
    errno = 0;
    v = strtoul(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || s[0] == '-')
        conn_usage(prog);
    return v;
}

#endif /* XMPP_BENCH_CONN_COMMON_H */
