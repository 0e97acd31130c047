/* The I/O driver (lib/io/client.c) against servers run inside this test:
 * a tiny DNS responder (UDP, 127.0.0.1, ephemeral port) answering SRV, A
 * and AAAA queries from a per-test table, and tiny TCP listeners on
 * loopback playing an XMPP server just far enough. Both run in one thread
 * driven by poll(2). c-ares is always pointed at our responder with
 * xmpp_client_set_dns_servers() before connecting: nothing but loopback is
 * ever contacted. The responder never forwards anything.
 *
 * The RFC 6120 fallback port 5222 is privileged, so the fallback test sets
 * it through the internal hook xmpp__client_test_params(); the same hook
 * shortens the connect timeout. Every test checks /proc/self/fd for leaks. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* accept4, pipe2 */
#endif
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <xmpp/client.h>
#include <xmpp/session.h>
#include <xmpp/stanza.h>
#include <xmpp/xmpp.h>

/* internal hooks of lib/io/client.c */
int xmpp__srv_order(const unsigned *prio, const unsigned *weight, size_t n, size_t *order);
int xmpp__client_parse_redirect(const char *in, char *host, size_t hostsz, unsigned *port,
                                unsigned default_port);
void xmpp__client_test_params(xmpp_client *c, unsigned fallback_port,
                              unsigned fallback_direct_port, unsigned connect_timeout_ms);
unsigned long xmpp__client_connect_count(const xmpp_client *c);

#define DOMAIN "example.test"
#define T_A 1
#define T_AAAA 28
#define T_SRV 33

/* ------------------------------------------------------------------ DNS */
typedef struct rr {
    char name[96];
    int type;
    unsigned prio, weight, port; /* SRV */
    char target[96];             /* SRV target ("." for none) */
    char addr[48];               /* A / AAAA text */
} rr;

/* ------------------------------------------------------------ listeners */
typedef enum { M_XMPP, M_REDIRECT, M_RECORD, M_CLOSE, M_BLACKHOLE } lmode;

typedef struct listener {
    int fd;
    unsigned port;
    lmode mode;
    char redirect_to[96];
    int accepts;    /* connections accepted */
    int first_byte; /* first byte received (-1: none) */
    int headers;    /* stream headers received */
} listener;

typedef struct conn {
    int fd;
    int l; /* listener index */
    char buf[8192];
    size_t len, off;
    int hdr1, success, hdr2, bound;
} conn;

#define MAX_RR 32
#define MAX_L 8
#define MAX_C 16

static struct srv {
    pthread_t th;
    pthread_mutex_t mu;
    int wake[2];
    int dns_fd;
    unsigned dns_port;
    rr rrs[MAX_RR];
    size_t nrr;
    int queries;
    listener ls[MAX_L];
    size_t nl;
    conn cs[MAX_C];
    int stop;
    int fill_fd; /* the connection that fills a black-hole backlog */
} S;

static int fd_count(void) {
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    int n = 0;
    if (d == NULL)
        return -1;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n;
}

static uint64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void add_rr_srv(const char *name, unsigned prio, unsigned weight, unsigned port,
                       const char *target) {
    rr *r = &S.rrs[S.nrr++];
    memset(r, 0, sizeof(*r));
    snprintf(r->name, sizeof(r->name), "%s", name);
    r->type = T_SRV;
    r->prio = prio;
    r->weight = weight;
    r->port = port;
    snprintf(r->target, sizeof(r->target), "%s", target);
}

static void add_rr_addr(const char *name, const char *addr) {
    rr *r = &S.rrs[S.nrr++];
    memset(r, 0, sizeof(*r));
    snprintf(r->name, sizeof(r->name), "%s", name);
    r->type = strchr(addr, ':') ? T_AAAA : T_A;
    snprintf(r->addr, sizeof(r->addr), "%s", addr);
}

/* Writes a domain name in DNS wire format; returns the length or 0. */
static size_t put_name(unsigned char *p, size_t cap, const char *name) {
    size_t n = 0;
    const char *s = name;
    if (strcmp(name, ".") == 0 || *name == '\0') {
        if (cap < 1)
            return 0;
        p[0] = 0;
        return 1;
    }
    while (*s) {
        const char *dot = strchr(s, '.');
        size_t l = dot ? (size_t)(dot - s) : strlen(s);
        if (l == 0 || l > 63 || n + l + 2 > cap)
            return 0;
        p[n++] = (unsigned char)l;
        memcpy(p + n, s, l);
        n += l;
        s += l;
        if (*s == '.')
            s++;
    }
    p[n++] = 0;
    return n;
}

/* Answers one query: the question is echoed, the records of the table
 * with that name and type are the answer; NXDOMAIN when the table has no
 * record at all for the name. Anything malformed is dropped. */
static void dns_answer(void) {
    unsigned char q[512], a[1500];
    struct sockaddr_storage from;
    socklen_t flen = sizeof(from);
    ssize_t n = recvfrom(S.dns_fd, q, sizeof(q), 0, (struct sockaddr *)&from, &flen);
    char name[256];
    size_t pos = 12, nl = 0, alen, i;
    unsigned qtype, ancount = 0;
    int known = 0;
    if (n < 17 || (q[2] & 0x80))
        return;
    while (pos < (size_t)n && q[pos] != 0) {
        size_t l = q[pos];
        if (l > 63 || pos + 1 + l >= (size_t)n || nl + l + 1 >= sizeof(name))
            return;
        if (nl)
            name[nl++] = '.';
        memcpy(name + nl, q + pos + 1, l);
        nl += l;
        pos += 1 + l;
    }
    name[nl] = '\0';
    if (pos + 5 > (size_t)n)
        return;
    qtype = (unsigned)(q[pos + 1] << 8 | q[pos + 2]);
    pos += 5; /* end of the question */
    memcpy(a, q, pos);
    a[2] = (unsigned char)(0x84 | (q[2] & 0x01)); /* QR, AA, RD copied */
    a[3] = 0x80;                                  /* RA, NOERROR */
    a[4] = 0, a[5] = 1;                           /* one question */
    memset(a + 6, 0, 6);
    alen = pos;
    S.queries++;
    for (i = 0; i < S.nrr; i++) {
        const rr *r = &S.rrs[i];
        unsigned char rd[300];
        size_t rdlen = 0;
        if (strcasecmp(r->name, name) != 0)
            continue;
        known = 1;
        if ((unsigned)r->type != qtype)
            continue;
        if (r->type == T_SRV) {
            size_t tl;
            rd[0] = (unsigned char)(r->prio >> 8), rd[1] = (unsigned char)r->prio;
            rd[2] = (unsigned char)(r->weight >> 8), rd[3] = (unsigned char)r->weight;
            rd[4] = (unsigned char)(r->port >> 8), rd[5] = (unsigned char)r->port;
            if ((tl = put_name(rd + 6, sizeof(rd) - 6, r->target)) == 0)
                return;
            rdlen = 6 + tl;
        } else if (r->type == T_A) {
            if (inet_pton(AF_INET, r->addr, rd) != 1)
                return;
            rdlen = 4;
        } else {
            if (inet_pton(AF_INET6, r->addr, rd) != 1)
                return;
            rdlen = 16;
        }
        if (alen + 12 + rdlen > 512)
            return; /* no truncation support: tests keep answers small */
        a[alen++] = 0xc0, a[alen++] = 12; /* the name: a pointer to the question */
        a[alen++] = (unsigned char)(r->type >> 8), a[alen++] = (unsigned char)r->type;
        a[alen++] = 0, a[alen++] = 1;                  /* IN */
        a[alen++] = 0, a[alen++] = 0, a[alen++] = 0, a[alen++] = 60; /* TTL */
        a[alen++] = (unsigned char)(rdlen >> 8), a[alen++] = (unsigned char)rdlen;
        memcpy(a + alen, rd, rdlen);
        alen += rdlen;
        ancount++;
    }
    if (!known)
        a[3] |= 3; /* NXDOMAIN */
    a[6] = (unsigned char)(ancount >> 8), a[7] = (unsigned char)ancount;
    sendto(S.dns_fd, a, alen, 0, (struct sockaddr *)&from, flen);
}

/* ------------------------------------------------------------ XMPP side */
#define HDR                                                                                  \
    "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "                             \
    "xmlns:stream='http://etherx.jabber.org/streams' from='" DOMAIN "' id='s1' "             \
    "version='1.0'>"
#define FEAT_PLAIN                                                                           \
    "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>"                \
    "<mechanism>PLAIN</mechanism></mechanisms></stream:features>"
#define FEAT_BIND                                                                            \
    "<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>"

static void say(conn *k, const char *s) {
    size_t n = strlen(s);
    if (send(k->fd, s, n, MSG_NOSIGNAL) != (ssize_t)n) {
        /* the tests never send more than a socket buffer */
    }
}

static void conn_close(conn *k) {
    close(k->fd);
    k->fd = -1;
}

static void conn_input(conn *k) {
    listener *l = &S.ls[k->l];
    ssize_t r;
    if (k->len + 1 >= sizeof(k->buf))
        k->len = k->off = 0;
    r = recv(k->fd, k->buf + k->len, sizeof(k->buf) - 1 - k->len, 0);
    if (r <= 0) {
        conn_close(k);
        return;
    }
    if (l->first_byte < 0)
        l->first_byte = (unsigned char)k->buf[0];
    k->len += (size_t)r;
    k->buf[k->len] = '\0';
    if (l->mode == M_RECORD) {
        conn_close(k);
        return;
    }
    if (!k->hdr1 && strstr(k->buf, "<stream:stream")) {
        k->hdr1 = 1;
        l->headers++;
        if (l->mode == M_REDIRECT) {
            char buf[512];
            snprintf(buf, sizeof(buf),
                     HDR "<stream:error><see-other-host "
                         "xmlns='urn:ietf:params:xml:ns:xmpp-streams'>%s</see-other-host>"
                         "</stream:error></stream:stream>",
                     l->redirect_to);
            say(k, buf);
            return;
        }
        say(k, HDR FEAT_PLAIN);
    }
    if (l->mode != M_XMPP)
        return;
    if (k->hdr1 && !k->success && strstr(k->buf, "<auth")) {
        k->success = 1;
        k->off = k->len;
        say(k, "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>");
    }
    if (k->success && !k->hdr2 && strstr(k->buf + k->off, "<stream:stream")) {
        k->hdr2 = 1;
        l->headers++;
        k->off = k->len;
        say(k, HDR FEAT_BIND);
    }
    if (k->hdr2 && !k->bound && strstr(k->buf + k->off, "</iq>")) {
        const char *p = strstr(k->buf + k->off, " id=");
        char id[64], buf[512];
        size_t i = 0;
        if (p == NULL)
            return;
        p += 5;
        while (*p && *p != '\'' && *p != '"' && i + 1 < sizeof(id))
            id[i++] = *p++;
        id[i] = '\0';
        k->bound = 1;
        k->off = k->len;
        snprintf(buf, sizeof(buf),
                 "<iq type='result' id='%s'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
                 "<jid>user@" DOMAIN "/r</jid></bind></iq>"
                 "<message from='" DOMAIN "' to='user@" DOMAIN "/r'><body>hi</body></message>",
                 id);
        say(k, buf);
    }
    if (k->bound && strstr(k->buf + k->off, "</stream:stream>")) {
        say(k, "</stream:stream>");
        conn_close(k);
    }
}

static void *server_main(void *arg) {
    (void)arg;
    for (;;) {
        struct pollfd p[2 + MAX_L + MAX_C];
        int who[2 + MAX_L + MAX_C];
        int n = 0, i;
        pthread_mutex_lock(&S.mu);
        p[n].fd = S.wake[0], p[n].events = POLLIN, who[n++] = -1;
        p[n].fd = S.dns_fd, p[n].events = POLLIN, who[n++] = -2;
        for (i = 0; i < (int)S.nl; i++)
            if (S.ls[i].mode != M_BLACKHOLE)
                p[n].fd = S.ls[i].fd, p[n].events = POLLIN, who[n++] = 100 + i;
        for (i = 0; i < MAX_C; i++)
            if (S.cs[i].fd >= 0)
                p[n].fd = S.cs[i].fd, p[n].events = POLLIN, who[n++] = 200 + i;
        pthread_mutex_unlock(&S.mu);
        if (poll(p, (nfds_t)n, 1000) < 0 && errno != EINTR)
            break;
        pthread_mutex_lock(&S.mu);
        if (S.stop) {
            pthread_mutex_unlock(&S.mu);
            break;
        }
        for (i = 0; i < n; i++) {
            if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            if (who[i] == -2) {
                dns_answer();
            } else if (who[i] >= 200) {
                if (S.cs[who[i] - 200].fd >= 0)
                    conn_input(&S.cs[who[i] - 200]);
            } else if (who[i] >= 100) {
                listener *l = &S.ls[who[i] - 100];
                int fd = accept4(l->fd, NULL, NULL, SOCK_CLOEXEC), k;
                if (fd < 0)
                    continue;
                l->accepts++;
                if (l->mode == M_CLOSE) {
                    close(fd);
                    continue;
                }
                for (k = 0; k < MAX_C && S.cs[k].fd >= 0; k++)
                    ;
                if (k == MAX_C) {
                    close(fd);
                    continue;
                }
                memset(&S.cs[k], 0, sizeof(S.cs[k]));
                S.cs[k].fd = fd;
                S.cs[k].l = who[i] - 100;
            }
        }
        pthread_mutex_unlock(&S.mu);
    }
    return NULL;
}

static int bind_any(int family, const char *addr, unsigned port, int type) {
    struct sockaddr_storage ss;
    socklen_t len;
    int fd = socket(family, type | SOCK_CLOEXEC, 0), one = 1;
    memset(&ss, 0, sizeof(ss));
    if (fd < 0)
        return -1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (family == AF_INET) {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        a->sin_family = AF_INET;
        a->sin_port = htons((uint16_t)port);
        inet_pton(AF_INET, addr, &a->sin_addr);
        len = sizeof(*a);
    } else {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        a->sin6_family = AF_INET6;
        a->sin6_port = htons((uint16_t)port);
        inet_pton(AF_INET6, addr, &a->sin6_addr);
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
        len = sizeof(*a);
    }
    if (bind(fd, (struct sockaddr *)&ss, len) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static unsigned port_of(int fd) {
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    getsockname(fd, (struct sockaddr *)&ss, &len);
    if (ss.ss_family == AF_INET)
        return ntohs(((struct sockaddr_in *)&ss)->sin_port);
    return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}

/* A listener on addr:port (0: ephemeral); returns its index. Call before
 * srv_start() or with the mutex held. */
static int listen_on(const char *addr, unsigned port, lmode mode) {
    int family = strchr(addr, ':') ? AF_INET6 : AF_INET;
    int fd = bind_any(family, addr, port, SOCK_STREAM);
    listener *l;
    if (fd < 0)
        return -1;
    if (listen(fd, mode == M_BLACKHOLE ? 0 : 16) < 0) {
        close(fd);
        return -1;
    }
    l = &S.ls[S.nl];
    memset(l, 0, sizeof(*l));
    l->fd = fd;
    l->port = port_of(fd);
    l->mode = mode;
    l->first_byte = -1;
    if (mode == M_BLACKHOLE) {
        /* Linux drops SYNs while the accept queue is full: with a backlog
         * of 0 and one connection never accepted, the next connect hangs */
        struct sockaddr_storage ss;
        socklen_t len = sizeof(ss);
        getsockname(fd, (struct sockaddr *)&ss, &len);
        S.fill_fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (S.fill_fd < 0 || connect(S.fill_fd, (struct sockaddr *)&ss, len) < 0)
            return -1;
    }
    return (int)S.nl++;
}

/* A port where nothing listens (bound, not listening: connect is refused). */
static int refusing_port(const char *addr, unsigned *port) {
    int fd = bind_any(strchr(addr, ':') ? AF_INET6 : AF_INET, addr, 0, SOCK_STREAM);
    if (fd >= 0)
        *port = port_of(fd);
    return fd;
}

static int fds_before;
static int closed_fds[8];
static size_t nclosed_fds;

static void srv_init(void) {
    int i;
    fds_before = fd_count();
    memset(&S, 0, sizeof(S));
    S.fill_fd = -1;
    nclosed_fds = 0;
    for (i = 0; i < MAX_C; i++)
        S.cs[i].fd = -1;
    pthread_mutex_init(&S.mu, NULL);
    assert_int_equal(pipe2(S.wake, O_CLOEXEC), 0);
    S.dns_fd = bind_any(AF_INET, "127.0.0.1", 0, SOCK_DGRAM);
    assert_true(S.dns_fd >= 0);
    S.dns_port = port_of(S.dns_fd);
}

static void srv_start(void) {
    assert_int_equal(pthread_create(&S.th, NULL, server_main, NULL), 0);
}

static int lstat_(int l, int which) {
    int v;
    pthread_mutex_lock(&S.mu);
    v = which == 0 ? S.ls[l].accepts : which == 1 ? S.ls[l].first_byte : S.ls[l].headers;
    pthread_mutex_unlock(&S.mu);
    return v;
}
#define ACCEPTS(l) lstat_((l), 0)
#define FIRST_BYTE(l) lstat_((l), 1)
#define HEADERS(l) lstat_((l), 2)

static void srv_stop(void) {
    size_t i;
    pthread_mutex_lock(&S.mu);
    S.stop = 1;
    pthread_mutex_unlock(&S.mu);
    assert_int_equal(write(S.wake[1], "x", 1), 1);
    pthread_join(S.th, NULL);
    for (i = 0; i < MAX_C; i++)
        if (S.cs[i].fd >= 0)
            close(S.cs[i].fd);
    for (i = 0; i < S.nl; i++)
        close(S.ls[i].fd);
    for (i = 0; i < nclosed_fds; i++)
        close(closed_fds[i]);
    if (S.fill_fd >= 0)
        close(S.fill_fd);
    close(S.dns_fd);
    close(S.wake[0]);
    close(S.wake[1]);
    pthread_mutex_destroy(&S.mu);
    /* no descriptor leaked by the client (nor by the test) */
    assert_int_equal(fd_count(), fds_before);
}

/* ------------------------------------------------------------- the client */
typedef struct app {
    int ready, closed;
    xmpp_disconnect_cause cause;
    xmpp_session *ready_session;
    int handled;
    int magic;
} app;

static void on_ready(xmpp_session *s, const char *jid, void *ud) {
    app *a = ud;
    (void)jid;
    assert_int_equal(a->magic, 4242); /* the application's user_data */
    a->ready++;
    a->ready_session = s;
}

static void on_closed(xmpp_session *s, xmpp_disconnect_cause cause, void *ud) {
    app *a = ud;
    (void)s;
    assert_int_equal(a->magic, 4242);
    a->closed++;
    a->cause = cause;
}

static int on_message(xmpp_session *s, xmpp_stanza *st, void *ud) {
    app *a = ud;
    (void)s;
    (void)st;
    a->handled++;
    return 1;
}

static xmpp_ctx *g_ctx;

static xmpp_client *client_new(app *a, xmpp_tls_mode mode) {
    xmpp_session_options *o = NULL;
    xmpp_client *c = NULL;
    char dns[64];
    memset(a, 0, sizeof(*a));
    a->magic = 4242;
    assert_int_equal(xmpp_session_options_new(&o, g_ctx), XMPP_OK);
    assert_int_equal(xmpp_session_options_set_jid(o, "user@" DOMAIN), XMPP_OK);
    assert_int_equal(xmpp_session_options_set_password(o, "secret"), XMPP_OK);
    if (mode == XMPP_TLS_NONE)
        assert_int_equal(xmpp_session_options_allow_plaintext(o, 1), XMPP_OK);
    assert_int_equal(xmpp_session_options_set_tls_mode(o, mode), XMPP_OK);
    assert_int_equal(xmpp_session_options_set_timeouts(o, 4000, 0), XMPP_OK);
    assert_int_equal(xmpp_session_options_set_callbacks(o, on_ready, on_closed, a), XMPP_OK);
    assert_int_equal(xmpp_client_new(&c, g_ctx, o), XMPP_OK);
    xmpp_session_options_free(o);
    /* NETWORK RULE: only our responder on loopback, set before connecting */
    snprintf(dns, sizeof(dns), "127.0.0.1:%u", S.dns_port);
    assert_int_equal(xmpp_client_set_dns_servers(c, dns), XMPP_OK);
    return c;
}

/* Runs the client until cond() or the deadline; returns the elapsed ms. */
static uint64_t run_until(xmpp_client *c, int (*cond)(xmpp_client *, app *), app *a,
                          unsigned max_ms) {
    uint64_t t0 = now_ms();
    while (!cond(c, a) && now_ms() - t0 < max_ms)
        if (xmpp_client_run_once(c, 20) == XMPP_ERR_CLOSED)
            break;
    return now_ms() - t0;
}

static int is_closed(xmpp_client *c, app *a) {
    (void)c;
    return a->closed > 0;
}
static int is_ready(xmpp_client *c, app *a) {
    (void)c;
    return a->ready > 0 || a->closed > 0;
}
static int got_message(xmpp_client *c, app *a) {
    (void)c;
    return a->handled > 0 || a->closed > 0;
}
static int l0_hit;
static int l0_accepted(xmpp_client *c, app *a) {
    (void)c;
    return ACCEPTS(l0_hit) > 0 || a->closed > 0;
}

static void close_and_free(xmpp_client *c, app *a) {
    xmpp_client_close(c);
    run_until(c, is_closed, a, 2000);
    xmpp_client_free(c);
}

/* ------------------------------------------------------------------ tests */
static void test_srv_order_priority(void **state) {
    unsigned prio[] = {30, 10, 20, 10, 5}, weight[] = {0, 5, 0, 5, 0};
    size_t order[5];
    int k;
    (void)state;
    for (k = 0; k < 50; k++) {
        assert_int_equal(xmpp__srv_order(prio, weight, 5, order), XMPP_OK);
        assert_int_equal(order[0], 4);
        assert_true((order[1] == 1 && order[2] == 3) || (order[1] == 3 && order[2] == 1));
        assert_int_equal(order[3], 2);
        assert_int_equal(order[4], 0);
    }
    assert_int_equal(xmpp__srv_order(NULL, NULL, 0, NULL), XMPP_OK);
}

static void test_srv_weights(void **state) {
    unsigned prio[] = {1, 1}, w[] = {1, 99}, w0[] = {0, 10}, wz[] = {0, 0};
    size_t order[2];
    int i, light = 0, zero = 0, first_a = 0;
    (void)state;
    /* RFC 2782: P(light first) = 2/101, about 4 of 200; the bounds hold
     * with overwhelming probability (a failure means a broken selection) */
    for (i = 0; i < 200; i++) {
        xmpp__srv_order(prio, w, 2, order);
        light += order[0] == 0;
    }
    assert_true(light <= 30);
    /* weight 0 keeps a small chance (1/11): neither never nor often */
    for (i = 0; i < 2000; i++) {
        xmpp__srv_order(prio, w0, 2, order);
        zero += order[0] == 0;
    }
    assert_true(zero >= 60 && zero <= 400);
    /* all zero: uniform */
    for (i = 0; i < 400; i++) {
        xmpp__srv_order(prio, wz, 2, order);
        first_a += order[0] == 0;
    }
    assert_true(first_a >= 120 && first_a <= 280);
}

static void test_parse_redirect(void **state) {
    char h[256];
    unsigned p;
    (void)state;
    assert_int_equal(xmpp__client_parse_redirect("xmpp.example.org", h, sizeof(h), &p, 5222),
                     XMPP_OK);
    assert_string_equal(h, "xmpp.example.org");
    assert_int_equal(p, 5222);
    assert_int_equal(xmpp__client_parse_redirect(" 192.0.2.1:5269\n", h, sizeof(h), &p, 5222),
                     XMPP_OK);
    assert_string_equal(h, "192.0.2.1");
    assert_int_equal(p, 5269);
    assert_int_equal(xmpp__client_parse_redirect("[2001:db8::1]:9", h, sizeof(h), &p, 5222),
                     XMPP_OK);
    assert_string_equal(h, "[2001:db8::1]");
    assert_int_equal(p, 9);
    assert_int_equal(xmpp__client_parse_redirect("[::1]", h, sizeof(h), &p, 5223), XMPP_OK);
    assert_int_equal(p, 5223);
    assert_int_equal(xmpp__client_parse_redirect("host.example.", h, sizeof(h), &p, 1), XMPP_OK);
    assert_string_equal(h, "host.example");
    {
        static const char *const bad[] = {
            "", "   ", "host:0", "host:65536", "host:", "host:12a", ":5222", "2001:db8::1",
            "[2001:db8::1", "[nothex]:1", "bad host", "-lead.example", "trail-.example",
            "a..b", "host_name.example", "h\xc3\xa9.example", "host:5222:1", "[::1]x",
            "host:123456"};
        size_t i;
        for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
            assert_int_equal(xmpp__client_parse_redirect(bad[i], h, sizeof(h), &p, 5222),
                             XMPP_ERR_INVALID);
    }
}

static void test_dns_servers_api(void **state) {
    app a;
    xmpp_client *c;
    (void)state;
    srv_init();
    srv_start();
    c = client_new(&a, XMPP_TLS_STARTTLS);
    assert_int_equal(xmpp_client_set_dns_servers(NULL, "127.0.0.1"), XMPP_ERR_INVALID);
    assert_int_equal(xmpp_client_set_dns_servers(c, NULL), XMPP_ERR_INVALID);
    assert_int_equal(xmpp_client_set_dns_servers(c, ""), XMPP_ERR_INVALID);
    assert_int_equal(xmpp_client_set_dns_servers(c, "not an address"), XMPP_ERR_INVALID);
    assert_int_equal(xmpp_client_set_dns_servers(c, "127.0.0.1:1,[::1]:2"), XMPP_OK);
    xmpp_client_free(c);
    srv_stop();
}

static void test_srv_priority(void **state) {
    app a;
    xmpp_client *c;
    int l1, l2;
    (void)state;
    srv_init();
    l1 = listen_on("127.0.0.1", 0, M_XMPP);
    l2 = listen_on("127.0.0.1", 0, M_XMPP);
    /* listed worst first: the order must come from the priorities */
    add_rr_srv("_xmpp-client._tcp." DOMAIN, 20, 0, S.ls[l2].port, "two." DOMAIN);
    add_rr_srv("_xmpp-client._tcp." DOMAIN, 10, 0, S.ls[l1].port, "one." DOMAIN);
    add_rr_addr("one." DOMAIN, "127.0.0.1");
    add_rr_addr("two." DOMAIN, "127.0.0.1");
    srv_start();
    c = client_new(&a, XMPP_TLS_NONE);
    assert_int_equal(xmpp_client_connect(c), XMPP_OK);
    assert_int_equal(xmpp_client_connect(c), XMPP_OK);
    run_until(c, is_ready, &a, 3000);
    assert_int_equal(a.ready, 1);
    assert_int_equal(ACCEPTS(l1), 1);
    assert_int_equal(ACCEPTS(l2), 0);
    close_and_free(c, &a);
    assert_int_equal(a.closed, 1);
    assert_int_equal(a.cause, XMPP_CAUSE_LOCAL_CLOSE);
    srv_stop();
}

static void test_direct_tls_first(void **state) {
    app a;
    xmpp_client *c;
    int ld, ls;
    (void)state;
    srv_init();
    ld = listen_on("127.0.0.1", 0, M_RECORD);
    ls = listen_on("127.0.0.1", 0, M_XMPP);
    add_rr_srv("_xmpp-client._tcp." DOMAIN, 10, 0, S.ls[ls].port, "starttls." DOMAIN);
    add_rr_srv("_xmpps-client._tcp." DOMAIN, 5, 0, S.ls[ld].port, "direct." DOMAIN);
    add_rr_addr("starttls." DOMAIN, "127.0.0.1");
    add_rr_addr("direct." DOMAIN, "127.0.0.1");
    srv_start();
    c = client_new(&a, XMPP_TLS_STARTTLS);
    assert_int_equal(xmpp_client_connect(c), XMPP_OK);
    run_until(c, is_closed, &a, 3000);
    assert_int_equal(ACCEPTS(ld), 1);
    assert_int_equal(FIRST_BYTE(ld), 0x16); /* a TLS handshake record: ClientHello */
    assert_int_equal(ACCEPTS(ls), 0);
    assert_int_equal(a.closed, 1);
    xmpp_client_free(c);
    srv_stop();
}

static void test_dot_target(void **state) {
    app a;
    xmpp_client *c;
    int l;
    (void)state;
    srv_init();
    l = listen_on("127.0.0.1", 0, M_XMPP);
    add_rr_srv("_xmpp-client._tcp." DOMAIN, 0, 0, 0, ".");
    add_rr_addr(DOMAIN, "127.0.0.1"); /* must not be used */
    srv_start();
    c = client_new(&a, XMPP_TLS_NONE);
    xmpp__client_test_params(c, S.ls[l].port, S.ls[l].port, 0);
    assert_int_equal(xmpp_client_connect(c), XMPP_OK);
    run_until(c, is_closed, &a, 3000);
    assert_int_equal(a.closed, 1);
    assert_int_equal(a.cause, XMPP_CAUSE_DNS);
    assert_int_equal(xmpp_session_get_error(xmpp_client_session(c), NULL, NULL), XMPP_CAUSE_DNS);
    assert_non_null(xmpp_client_error(c));
    assert_non_null(strstr(xmpp_client_error(c), "no XMPP service"));
    assert_int_equal(xmpp__client_connect_count(c), 0);
    assert_int_equal(ACCEPTS(l), 0);
    assert_int_equal(xmpp_client_run_once(c, 0), XMPP_ERR_CLOSED);
    xmpp_client_free(c);
    srv_stop();
}

static void test_fallback_a(void **state) {
    app a;
    xmpp_client *c;
    int l;
    (void)state;
    srv_init();
    l = listen_on("127.0.0.1", 0, M_XMPP);
    add_rr_addr(DOMAIN, "127.0.0.1"); /* no SRV: NOERROR/NODATA for the SRV names */
    srv_start();
    c = client_new(&a, XMPP_TLS_NONE);
    /* the RFC 6120 fallback port 5222 is privileged: the test hook moves it */
    xmpp__client_test_params(c, S.ls[l].port, 0, 0);
    assert_int_equal(xmpp_client_connect(c), XMPP_OK);
    run_until(c, is_ready, &a, 3000);
    assert_int_equal(a.ready, 1);
    assert_int_equal(ACCEPTS(l), 1);
    close_and_free(c, &a);
    srv_stop();
}

static void test_nxdomain(void **state) {
    app a;
    xmpp_client *c;
    (void)state;
    srv_init();
    srv_start();
    c = client_new(&a, XMPP_TLS_NONE);
    assert_int_equal(xmpp_client_connect(c), XMPP_OK);
    run_until(c, is_closed, &a, 3000);
    assert_int_equal(a.cause, XMPP_CAUSE_DNS);
    assert_non_null(strstr(xmpp_client_error(c), "cannot resolve " DOMAIN));
    assert_int_equal(xmpp__client_connect_count(c), 0);
    xmpp_client_free(c);
    srv_stop();
}

static void test_first_target_refuses(void **state) {
    app a;
    xmpp_client *c;
    int l;
    unsigned dead;
    (void)state;
    srv_init();
    l = listen_on("127.0.0.1", 0, M_XMPP);
    closed_fds[nclosed_fds++] = refusing_port("127.0.0.1", &dead);
    add_rr_srv("_xmpps-client._tcp." DOMAIN, 1, 0, dead, "dead." DOMAIN); /* skipped: NONE */
    add_rr_srv("_xmpp-client._tcp." DOMAIN, 1, 0, dead, "dead." DOMAIN);
    add_rr_srv("_xmpp-client._tcp." DOMAIN, 2, 0, 1, "missing." DOMAIN); /* NXDOMAIN */
    add_rr_srv("_xmpp-client._tcp." DOMAIN, 3, 0, S.ls[l].port, "alive." DOMAIN);
    add_rr_addr("dead." DOMAIN, "127.0.0.1");
    add_rr_addr("alive." DOMAIN, "127.0.0.1");
    srv_start();
    c = client_new(&a, XMPP_TLS_NONE);
    assert_int_equal(xmpp_client_connect(c), XMPP_OK);
    run_until(c, is_ready, &a, 3000);
    assert_int_equal(a.ready, 1);
    assert_int_equal(ACCEPTS(l), 1);
    assert_int_equal(xmpp__client_connect_count(c), 2);
    close_and_free(c, &a);
    srv_stop();
}

static void test_all_refuse(void **state) {
    app a;
    xmpp_client *c;
    unsigned d1, d2;
    (void)state;
    srv_init();
    closed_fds[nclosed_fds++] = refusing_port("127.0.0.1", &d1);
    closed_fds[nclosed_fds++] = refusing_port("127.0.0.1", &d2);
    add_rr_srv("_xmpp-client._tcp." DOMAIN, 1, 0, d1, "d1." DOMAIN);
    add_rr_srv("_xmpp-client._tcp." DOMAIN, 2, 0, d2, "d2." DOMAIN);
    add_rr_addr("d1." DOMAIN, "127.0.0.1");
    add_rr_addr("d2." DOMAIN, "127.0.0.1");
    srv_start();
    c = client_new(&a, XMPP_TLS_NONE);
    assert_int_equal(xmpp_client_connect(c), XMPP_OK);
    run_until(c, is_closed, &a, 3000);
    assert_int_equal(a.cause, XMPP_CAUSE_TCP);
    assert_non_null(strstr(xmpp_client_error(c), "Connection refused"));
    assert_non_null(strstr(xmpp_client_error(c), "2 servers"));
    xmpp_client_free(c);
    srv_stop();
}

static void test_record_cap(void **state) {
    app a;
    xmpp_client *c;
    int l, i;
    unsigned dead;
    (void)state;
    srv_init();
    l = listen_on("127.0.0.1", 0, M_XMPP);
    closed_fds[nclosed_fds++] = refusing_port("127.0.0.1", &dead);
    /* RES-06: 16 records are kept; more must not push out a better one
     * (short names keep the answer under 512 bytes) */
    for (i = 0; i < 17; i++)
        add_rr_srv("_xmpp-client._tcp." DOMAIN, 100 + (unsigned)i, 0, dead, "d.t");
    add_rr_srv("_xmpp-client._tcp." DOMAIN, 1, 0, S.ls[l].port, "g.t");
    add_rr_addr("d.t", "127.0.0.1");
    add_rr_addr("g.t", "127.0.0.1");
    srv_start();
    c = client_new(&a, XMPP_TLS_NONE);
    assert_int_equal(xmpp_client_connect(c), XMPP_OK);
    run_until(c, is_ready, &a, 3000);
    if (a.ready != 1)
        print_error("cause %d: %s\n", a.cause, xmpp_client_error(c));
    assert_int_equal(a.ready, 1);
    assert_int_equal(xmpp__client_connect_count(c), 1);
    close_and_free(c, &a);
    srv_stop();
}

static int have_ipv6(void) {
    int fd = bind_any(AF_INET6, "::1", 0, SOCK_STREAM);
    if (fd < 0)
        return 0;
    close(fd);
    return 1;
}

/* A v6 listener on ::1 and a v4 one on 127.0.0.1 with the same port. */
static int dual_listen(lmode v6mode, int *l6, int *l4) {
    int tries;
    for (tries = 0; tries < 20; tries++) {
        int a = listen_on("::1", 0, v6mode), b;
        if (a < 0)
            return -1;
        b = listen_on("127.0.0.1", S.ls[a].port, M_XMPP);
        if (b >= 0) {
            *l6 = a;
            *l4 = b;
            return 0;
        }
        close(S.ls[a].fd);
        S.nl--;
        if (S.fill_fd >= 0) {
            close(S.fill_fd);
            S.fill_fd = -1;
        }
    }
    return -1;
}

static void test_happy_eyeballs_blackhole(void **state) {
    app a;
    xmpp_client *c;
    int l6 = -1, l4 = -1;
    uint64_t t;
    (void)state;
    if (!have_ipv6())
        skip();
    srv_init();
    assert_int_equal(dual_listen(M_BLACKHOLE, &l6, &l4), 0);
    add_rr_srv("_xmpp-client._tcp." DOMAIN, 1, 0, S.ls[l4].port, "he." DOMAIN);
    add_rr_addr("he." DOMAIN, "::1");
    add_rr_addr("he." DOMAIN, "127.0.0.1");
    srv_start();
    c = client_new(&a, XMPP_TLS_NONE);
    assert_int_equal(xmpp_client_connect(c), XMPP_OK);
    l0_hit = l4;
    t = run_until(c, l0_accepted, &a, 3000);
    assert_int_equal(ACCEPTS(l4), 1);
    /* IPv6 first; IPv4 only after the 250 ms attempt delay */
    assert_true(t >= 200);
    assert_true(t < 1500);
    assert_int_equal(xmpp__client_connect_count(c), 2);
    run_until(c, is_ready, &a, 3000);
    assert_int_equal(a.ready, 1);
    close_and_free(c, &a); /* the hanging IPv6 attempt was closed: see srv_stop */
    srv_stop();
}

static void test_happy_eyeballs_refused(void **state) {
    app a;
    xmpp_client *c;
    int l4;
    unsigned port;
    uint64_t t;
    (void)state;
    if (!have_ipv6())
        skip();
    srv_init();
    l4 = listen_on("127.0.0.1", 0, M_XMPP);
    port = S.ls[l4].port;
    {
        int fd = bind_any(AF_INET6, "::1", port, SOCK_STREAM); /* refuses */
        if (fd >= 0)
            closed_fds[nclosed_fds++] = fd;
    }
    add_rr_srv("_xmpp-client._tcp." DOMAIN, 1, 0, port, "he." DOMAIN);
    add_rr_addr("he." DOMAIN, "::1");
    add_rr_addr("he." DOMAIN, "127.0.0.1");
    srv_start();
    c = client_new(&a, XMPP_TLS_NONE);
    assert_int_equal(xmpp_client_connect(c), XMPP_OK);
    l0_hit = l4;
    t = run_until(c, l0_accepted, &a, 3000);
    assert_int_equal(ACCEPTS(l4), 1);
    assert_true(t < 200); /* a refused attempt starts the next at once */
    run_until(c, is_ready, &a, 3000);
    assert_int_equal(a.ready, 1);
    close_and_free(c, &a);
    srv_stop();
}

static void test_connect_timeout(void **state) {
    app a;
    xmpp_client *c;
    int l;
    uint64_t t;
    (void)state;
    srv_init();
    l = listen_on("127.0.0.1", 0, M_BLACKHOLE);
    assert_true(l >= 0);
    srv_start();
    c = client_new(&a, XMPP_TLS_NONE);
    xmpp__client_test_params(c, 0, 0, 300);
    assert_int_equal(xmpp_client_set_server(c, "127.0.0.1", S.ls[l].port), XMPP_OK);
    assert_int_equal(xmpp_client_connect(c), XMPP_OK);
    t = run_until(c, is_closed, &a, 3000);
    assert_int_equal(a.cause, XMPP_CAUSE_TCP);
    assert_true(t >= 250 && t < 2000);
    assert_non_null(strstr(xmpp_client_error(c), "timed out"));
    xmpp_client_free(c);
    srv_stop();
}

static void test_redirect(void **state) {
    app a;
    xmpp_client *c;
    int l0, l1;
    unsigned long h;
    xmpp_session *first;
    (void)state;
    srv_init();
    l0 = listen_on("127.0.0.1", 0, M_REDIRECT);
    l1 = listen_on("127.0.0.1", 0, M_XMPP);
    snprintf(S.ls[l0].redirect_to, sizeof(S.ls[l0].redirect_to), "next." DOMAIN ":%u",
             S.ls[l1].port);
    add_rr_addr("next." DOMAIN, "127.0.0.1");
    srv_start();
    c = client_new(&a, XMPP_TLS_NONE);
    first = xmpp_client_session(c);
    assert_int_equal(xmpp_session_add_handler(first, "message", NULL, NULL, on_message, &a, &h),
                     XMPP_OK);
    assert_int_equal(xmpp_client_set_server(c, "127.0.0.1", S.ls[l0].port), XMPP_OK);
    assert_int_equal(xmpp_client_connect(c), XMPP_OK);
    run_until(c, got_message, &a, 4000);
    assert_int_equal(a.closed, 0); /* the redirected session's end is not reported */
    assert_int_equal(HEADERS(l0), 1);
    assert_int_equal(ACCEPTS(l1), 1);
    assert_int_equal(a.ready, 1);
    assert_ptr_equal(a.ready_session, xmpp_client_session(c));
    assert_int_equal(a.handled, 1); /* the handler was carried over */
    /* and its handle still works on the new session */
    assert_int_equal(xmpp_session_remove_handler(xmpp_client_session(c), h), XMPP_OK);
    assert_int_equal(xmpp_session_get_state(xmpp_client_session(c)), XMPP_STATE_READY);
    close_and_free(c, &a);
    assert_int_equal(a.closed, 1);
    assert_int_equal(a.cause, XMPP_CAUSE_LOCAL_CLOSE);
    srv_stop();
}

static void test_redirect_chain(void **state) {
    app a;
    xmpp_client *c;
    int l[5], i;
    xmpp_stream_condition cond;
    int v6 = have_ipv6();
    (void)state;
    srv_init();
    l[0] = listen_on("127.0.0.1", 0, M_REDIRECT);
    l[1] = listen_on("127.0.0.1", 0, M_REDIRECT);
    l[2] = listen_on(v6 ? "::1" : "127.0.0.1", 0, M_REDIRECT);
    l[3] = listen_on("127.0.0.1", 0, M_REDIRECT);
    l[4] = listen_on("127.0.0.1", 0, M_XMPP);
    snprintf(S.ls[l[0]].redirect_to, 96, "127.0.0.1:%u", S.ls[l[1]].port);
    snprintf(S.ls[l[1]].redirect_to, 96, v6 ? "[::1]:%u" : "127.0.0.1:%u", S.ls[l[2]].port);
    snprintf(S.ls[l[2]].redirect_to, 96, "hop." DOMAIN ":%u", S.ls[l[3]].port);
    snprintf(S.ls[l[3]].redirect_to, 96, "127.0.0.1:%u", S.ls[l[4]].port);
    add_rr_addr("hop." DOMAIN, "127.0.0.1");
    srv_start();
    c = client_new(&a, XMPP_TLS_NONE);
    assert_int_equal(xmpp_client_set_server(c, "127.0.0.1", S.ls[l[0]].port), XMPP_OK);
    assert_int_equal(xmpp_client_connect(c), XMPP_OK);
    run_until(c, is_closed, &a, 4000);
    for (i = 0; i < 4; i++)
        assert_int_equal(ACCEPTS(l[i]), 1);
    assert_int_equal(ACCEPTS(l[4]), 0); /* a fourth hop is not taken */
    assert_int_equal(a.closed, 1);
    assert_int_equal(a.cause, XMPP_CAUSE_STREAM_ERROR);
    xmpp_session_get_error(xmpp_client_session(c), &cond, NULL);
    assert_int_equal(cond, XMPP_SC_SEE_OTHER_HOST);
    assert_non_null(strstr(xmpp_client_error(c), "too many see-other-host"));
    xmpp_client_free(c);
    srv_stop();
}

static void test_redirect_invalid(void **state) {
    app a;
    xmpp_client *c;
    int l0;
    (void)state;
    srv_init();
    l0 = listen_on("127.0.0.1", 0, M_REDIRECT);
    snprintf(S.ls[l0].redirect_to, 96, "evil host:99999");
    srv_start();
    c = client_new(&a, XMPP_TLS_NONE);
    assert_int_equal(xmpp_client_set_server(c, "127.0.0.1", S.ls[l0].port), XMPP_OK);
    assert_int_equal(xmpp_client_connect(c), XMPP_OK);
    run_until(c, is_closed, &a, 3000);
    assert_int_equal(a.closed, 1);
    assert_int_equal(a.cause, XMPP_CAUSE_STREAM_ERROR);
    assert_non_null(strstr(xmpp_client_error(c), "invalid see-other-host"));
    assert_int_equal(xmpp__client_connect_count(c), 1);
    xmpp_client_free(c);
    srv_stop();
}

static void test_close_while_resolving(void **state) {
    app a;
    xmpp_client *c;
    (void)state;
    srv_init();
    /* the responder is not started: the queries stay pending */
    c = client_new(&a, XMPP_TLS_NONE);
    assert_int_equal(xmpp_client_connect(c), XMPP_OK);
    assert_int_equal(xmpp_client_close(c), XMPP_OK);
    assert_int_equal(a.closed, 1);
    assert_int_equal(a.cause, XMPP_CAUSE_LOCAL_CLOSE);
    assert_int_equal(xmpp_client_run_once(c, 0), XMPP_ERR_CLOSED);
    xmpp_client_free(c);
    srv_start();
    srv_stop();
}

static int group_setup(void **state) {
    (void)state;
    return xmpp_ctx_new(&g_ctx, NULL) == XMPP_OK ? 0 : -1;
}
static int group_teardown(void **state) {
    (void)state;
    xmpp_ctx_free(g_ctx);
    return 0;
}

/* ---- the reconnect policy */
typedef struct rc_log {
    unsigned n;
    unsigned attempt[16], delay[16];
    xmpp_disconnect_cause cause[16];
} rc_log;

static void on_reconnect(xmpp_client *c, xmpp_disconnect_cause cause, unsigned attempt,
                         unsigned delay_ms, void *ud) {
    rc_log *r = ud;
    (void)c;
    if (r->n < 16) {
        r->attempt[r->n] = attempt;
        r->delay[r->n] = delay_ms;
        r->cause[r->n] = cause;
    }
    r->n++;
}

/* A server that refuses: attempts 1, 2, 3 with doubling, jittered delays,
 * then the policy gives up and on_closed reports the real cause. */
static void test_reconnect_backoff(void **state) {
    app a;
    rc_log r;
    xmpp_client *c;
    unsigned dead, i;
    (void)state;
    memset(&r, 0, sizeof(r));
    srv_init();
    closed_fds[nclosed_fds++] = refusing_port("127.0.0.1", &dead);
    srv_start();
    c = client_new(&a, XMPP_TLS_NONE);
    assert_int_equal(xmpp_client_set_server(c, "127.0.0.1", dead), XMPP_OK);
    assert_int_equal(xmpp_client_set_reconnect(c, 40, 10, 3), XMPP_ERR_INVALID); /* max < initial */
    assert_int_equal(xmpp_client_set_reconnect(c, 40, 100, 3), XMPP_OK);
    assert_int_equal(xmpp_client_set_reconnect_fn(c, on_reconnect, &r), XMPP_OK);
    assert_int_equal(xmpp_client_connect(c), XMPP_OK);
    run_until(c, is_closed, &a, 5000);
    assert_int_equal(a.closed, 1);
    assert_int_equal(a.cause, XMPP_CAUSE_TCP);
    assert_int_equal(r.n, 3);
    for (i = 0; i < 3; i++) {
        unsigned d = i == 0 ? 40 : i == 1 ? 80 : 100; /* doubling, capped */
        assert_int_equal(r.attempt[i], i + 1);
        assert_int_equal(r.cause[i], XMPP_CAUSE_TCP);
        assert_true(r.delay[i] >= d / 2 && r.delay[i] <= d);
    }
    assert_int_equal(xmpp__client_connect_count(c), 4);
    {
        unsigned long rec = 0, res = 7;
        assert_int_equal(xmpp_client_stats(c, &rec, &res), XMPP_OK);
        assert_int_equal(rec, 3);
        assert_int_equal(res, 0);
    }
    xmpp_client_free(c);
    srv_stop();
}

static int ready_twice(xmpp_client *c, app *a) {
    (void)c;
    return a->ready >= 2 || a->closed > 0;
}

static int closed_or_waiting(xmpp_client *c, app *a) {
    (void)c;
    return a->closed > 0;
}

/* The server drops a ready connection: the client connects and logs in
 * again by itself, the application sees on_ready twice and no on_closed;
 * closing while the next attempt waits ends it with LOCAL_CLOSE, once. */
static void test_reconnect_after_drop(void **state) {
    app a;
    rc_log r;
    xmpp_client *c;
    int l, k;
    (void)state;
    memset(&r, 0, sizeof(r));
    srv_init();
    l = listen_on("127.0.0.1", 0, M_XMPP);
    srv_start();
    c = client_new(&a, XMPP_TLS_NONE);
    assert_int_equal(xmpp_client_set_server(c, "127.0.0.1", S.ls[l].port), XMPP_OK);
    assert_int_equal(xmpp_client_set_reconnect(c, 20, 1000, 0), XMPP_OK);
    assert_int_equal(xmpp_client_set_reconnect_fn(c, on_reconnect, &r), XMPP_OK);
    assert_int_equal(xmpp_client_connect(c), XMPP_OK);
    assert_int_equal(xmpp_client_connect(c), XMPP_OK); /* idempotent */
    run_until(c, is_ready, &a, 3000);
    assert_int_equal(a.ready, 1);
    /* the server side of every connection goes away */
    pthread_mutex_lock(&S.mu);
    for (k = 0; k < MAX_C; k++)
        if (S.cs[k].fd >= 0)
            shutdown(S.cs[k].fd, SHUT_RDWR);
    pthread_mutex_unlock(&S.mu);
    run_until(c, ready_twice, &a, 3000);
    assert_int_equal(a.ready, 2);
    assert_int_equal(a.closed, 0);
    assert_int_equal(r.n, 1);
    assert_int_equal(r.attempt[0], 1);
    assert_int_equal(ACCEPTS(l), 2);
    /* drop again, and close while the client waits to reconnect */
    pthread_mutex_lock(&S.mu);
    for (k = 0; k < MAX_C; k++)
        if (S.cs[k].fd >= 0)
            shutdown(S.cs[k].fd, SHUT_RDWR);
    pthread_mutex_unlock(&S.mu);
    while (r.n < 2 && !a.closed)
        if (xmpp_client_run_once(c, 20) == XMPP_ERR_CLOSED)
            break;
    assert_int_equal(r.n, 2);
    assert_int_equal(r.attempt[1], 1); /* the backoff started over after success */
    assert_int_equal(xmpp_client_close(c), XMPP_OK);
    assert_int_equal(xmpp_client_close(c), XMPP_OK); /* idempotent */
    run_until(c, closed_or_waiting, &a, 1000);
    assert_int_equal(a.closed, 1);
    assert_int_equal(a.cause, XMPP_CAUSE_LOCAL_CLOSE);
    assert_int_equal(xmpp_client_run_once(c, 10), XMPP_ERR_CLOSED);
    assert_int_equal(ACCEPTS(l), 2); /* no attempt after the close */
    xmpp_client_free(c);
    srv_stop();
}

/* A stanza sent from outside any callback: the driver asks to watch the
 * socket for writability by itself, and the next loop iteration writes it. */
static int pollout_of(xmpp_client *c) {
    int fds[3 * 8], n, i, t, out = 0;
    n = xmpp_client_get_pollfds(c, fds, 8, &t);
    for (i = 0; i < n; i++)
        if (fds[3 * i + 1] & POLLOUT)
            out = 1;
    return out;
}

static void test_send_outside_callbacks(void **state) {
    app a;
    xmpp_client *c;
    xmpp_stanza *m = NULL;
    int l, i;
    (void)state;
    srv_init();
    l = listen_on("127.0.0.1", 0, M_XMPP);
    srv_start();
    c = client_new(&a, XMPP_TLS_NONE);
    assert_int_equal(xmpp_client_set_server(c, "127.0.0.1", S.ls[l].port), XMPP_OK);
    assert_int_equal(xmpp_client_connect(c), XMPP_OK);
    run_until(c, is_ready, &a, 3000);
    assert_int_equal(a.ready, 1);
    for (i = 0; i < 5 && pollout_of(c); i++)
        xmpp_client_run_once(c, 20);
    assert_int_equal(pollout_of(c), 0);
    assert_int_equal(xmpp_message_new(&m, g_ctx, "chat", "bob@" DOMAIN, "o1", "from outside"),
                     XMPP_OK);
    assert_int_equal(xmpp_session_send(xmpp_client_session(c), m), XMPP_OK);
    xmpp_stanza_unref(m);
    assert_int_equal(pollout_of(c), 1); /* no socket_action call needed */
    for (i = 0; i < 5 && pollout_of(c); i++)
        xmpp_client_run_once(c, 20);
    assert_int_equal(pollout_of(c), 0); /* written */
    close_and_free(c, &a);
    srv_stop();
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_srv_order_priority),
        cmocka_unit_test(test_srv_weights),
        cmocka_unit_test(test_parse_redirect),
        cmocka_unit_test(test_dns_servers_api),
        cmocka_unit_test(test_srv_priority),
        cmocka_unit_test(test_direct_tls_first),
        cmocka_unit_test(test_dot_target),
        cmocka_unit_test(test_fallback_a),
        cmocka_unit_test(test_nxdomain),
        cmocka_unit_test(test_first_target_refuses),
        cmocka_unit_test(test_all_refuse),
        cmocka_unit_test(test_reconnect_backoff),
        cmocka_unit_test(test_reconnect_after_drop),
        cmocka_unit_test(test_send_outside_callbacks),
        cmocka_unit_test(test_record_cap),
        cmocka_unit_test(test_happy_eyeballs_blackhole),
        cmocka_unit_test(test_happy_eyeballs_refused),
        cmocka_unit_test(test_connect_timeout),
        cmocka_unit_test(test_redirect),
        cmocka_unit_test(test_redirect_chain),
        cmocka_unit_test(test_redirect_invalid),
        cmocka_unit_test(test_close_while_resolving),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
