/* The optional I/O driver: c-ares DNS (SRV for _xmpp-client and
 * _xmpps-client, then A/AAAA), Happy Eyeballs connection racing, the socket
 * and timer hooks, and moving bytes between the sockets and the sans-I/O
 * session. The only place in libxmpp that makes syscalls or reads a clock. */
#include "core/internal.h"

#include <ares.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/crypto.h>
#include <xmpp/client.h>
#include <xmpp/jid.h>

#include "session/session_int.h"

#define MAX_TARGETS 16       /* RES-06: SRV records considered */
#define MAX_ADDRS 16         /* addresses raced per target */
#define MAX_FDS (MAX_ADDRS + 8)
#define HE_DELAY_MS 250      /* RFC 8305 §5: connection attempt delay */
#define CONNECT_TIMEOUT_MS 10000

typedef struct target {
    char *host;
    unsigned port;
    int direct; /* XEP-0368 direct TLS */
    unsigned prio, weight;
} target;

typedef struct attempt {
    int fd;
    int done;
} attempt;

typedef struct watched {
    int fd;
    int events;
} watched;

typedef enum { C_IDLE, C_SRV, C_ADDR, C_CONNECTING, C_UP, C_DONE } cstate;

struct xmpp_client {
    xmpp_ctx *ctx;
    xmpp_session *session;
    char *domain;
    char *host_override;
    unsigned port_override;
    int tls_direct_pref;
    cstate state;
    ares_channel ares;
    int ares_ok;
    int srv_pending;
    int srv_dot; /* a "." target was seen: the service is not offered */
    target targets[MAX_TARGETS];
    size_t ntargets, cur_target;
    struct sockaddr_storage addrs[MAX_ADDRS];
    socklen_t addrlens[MAX_ADDRS];
    size_t naddrs, next_addr;
    attempt attempts[MAX_ADDRS];
    size_t nattempts;
    uint64_t next_attempt_at;
    uint64_t connect_deadline;
    int fd; /* the winning socket */
    watched watch[MAX_FDS];
    size_t nwatch;
    xmpp_socket_fn sock_fn;
    void *sock_ud;
    xmpp_timer_fn timer_fn;
    void *timer_ud;
    long last_timer;
    int in_action;
    char err[256];
    int last_errno;
};

static uint64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ---- descriptor bookkeeping: tells the application what to watch */
static void watch_set(xmpp_client *c, int fd, int events) {
    size_t i;
    for (i = 0; i < c->nwatch; i++)
        if (c->watch[i].fd == fd)
            break;
    if (i == c->nwatch) {
        if (events == XMPP_IO_NONE || c->nwatch == MAX_FDS)
            return;
        c->watch[c->nwatch].fd = fd;
        c->watch[c->nwatch].events = -1;
        c->nwatch++;
    }
    if (c->watch[i].events == events)
        return;
    if (events == XMPP_IO_NONE) {
        c->watch[i] = c->watch[--c->nwatch];
    } else {
        c->watch[i].events = events;
    }
    if (c->sock_fn)
        c->sock_fn(c, fd, events, c->sock_ud);
}

static void ares_sock_cb(void *data, ares_socket_t fd, int readable, int writable) {
    xmpp_client *c = data;
    watch_set(c, (int)fd, (readable ? XMPP_IO_IN : 0) | (writable ? XMPP_IO_OUT : 0));
}

static void fail(xmpp_client *c, xmpp_disconnect_cause cause, const char *prefix,
                 const char *arg) {
    snprintf(c->err, sizeof(c->err), "%s%s", prefix, arg ? arg : "");
    xmpp__log(c->ctx, XMPP_LOG_ERROR, "client", "%s", c->err);
    c->state = C_DONE;
    xmpp_session_transport_closed(c->session, cause, c->err);
}

static void close_attempts(xmpp_client *c, int keep) {
    size_t i;
    for (i = 0; i < c->nattempts; i++)
        if (!c->attempts[i].done && c->attempts[i].fd != keep) {
            watch_set(c, c->attempts[i].fd, XMPP_IO_NONE);
            close(c->attempts[i].fd);
            c->attempts[i].done = 1;
        }
}

/* ---- connecting: Happy Eyeballs over the addresses of one target */
static void next_target(xmpp_client *c);

static int start_attempt(xmpp_client *c) {
    while (c->next_addr < c->naddrs) {
        size_t i = c->next_addr++;
        int fd = socket(c->addrs[i].ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        int one = 1;
        if (fd < 0) {
            c->last_errno = errno;
            continue;
        }
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        if (connect(fd, (struct sockaddr *)&c->addrs[i], c->addrlens[i]) < 0 &&
            errno != EINPROGRESS) {
            c->last_errno = errno;
            close(fd);
            continue;
        }
        c->attempts[c->nattempts].fd = fd;
        c->attempts[c->nattempts].done = 0;
        c->nattempts++;
        watch_set(c, fd, XMPP_IO_OUT);
        c->next_attempt_at = now_ms() + HE_DELAY_MS;
        return 1;
    }
    return 0;
}

static int attempts_alive(xmpp_client *c) {
    size_t i;
    for (i = 0; i < c->nattempts; i++)
        if (!c->attempts[i].done)
            return 1;
    return 0;
}

static void connected(xmpp_client *c, int fd) {
    const target *t = &c->targets[c->cur_target];
    close_attempts(c, fd);
    c->fd = fd;
    c->state = C_UP;
    xmpp__log(c->ctx, XMPP_LOG_INFO, "client", "connected to %s:%u%s", t->host, t->port,
              t->direct ? " (direct TLS)" : "");
    if (t->direct && c->session->o.tls_mode == XMPP_TLS_STARTTLS)
        c->session->o.tls_mode = XMPP_TLS_DIRECT;
    else if (!t->direct && c->session->o.tls_mode == XMPP_TLS_DIRECT && c->host_override == NULL)
        c->session->o.tls_mode = XMPP_TLS_STARTTLS;
    watch_set(c, fd, XMPP_IO_IN);
    xmpp_session_start(c->session, now_ms());
}

static void check_attempt(xmpp_client *c, int fd) {
    size_t i;
    int err = 0;
    socklen_t len = sizeof(err);
    for (i = 0; i < c->nattempts; i++)
        if (c->attempts[i].fd == fd && !c->attempts[i].done)
            break;
    if (i == c->nattempts)
        return;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
        err = errno;
    if (err == 0) {
        c->attempts[i].done = 1;
        connected(c, fd);
        return;
    }
    c->last_errno = err;
    c->attempts[i].done = 1;
    watch_set(c, fd, XMPP_IO_NONE);
    close(fd);
    /* RFC 8305 §5: on failure start the next attempt at once */
    if (!start_attempt(c) && !attempts_alive(c))
        next_target(c);
}

static void addr_cb(void *arg, int status, int timeouts, struct ares_addrinfo *res) {
    xmpp_client *c = arg;
    struct ares_addrinfo_node *n;
    struct sockaddr_storage v6[MAX_ADDRS], v4[MAX_ADDRS];
    socklen_t l6[MAX_ADDRS], l4[MAX_ADDRS];
    size_t n6 = 0, n4 = 0, i = 0, j = 0;
    (void)timeouts;
    if (status == ARES_EDESTRUCTION)
        return;
    if (status != ARES_SUCCESS || res == NULL) {
        xmpp__log(c->ctx, XMPP_LOG_WARN, "client", "cannot resolve %s: %s",
                  c->targets[c->cur_target].host, ares_strerror(status));
        if (res)
            ares_freeaddrinfo(res);
        snprintf(c->err, sizeof(c->err), "cannot resolve %s: %s", c->targets[c->cur_target].host,
                 ares_strerror(status));
        c->last_errno = -1;
        next_target(c);
        return;
    }
    for (n = res->nodes; n; n = n->ai_next) {
        if (n->ai_family == AF_INET6 && n6 < MAX_ADDRS) {
            memcpy(&v6[n6], n->ai_addr, (size_t)n->ai_addrlen);
            l6[n6++] = (socklen_t)n->ai_addrlen;
        } else if (n->ai_family == AF_INET && n4 < MAX_ADDRS) {
            memcpy(&v4[n4], n->ai_addr, (size_t)n->ai_addrlen);
            l4[n4++] = (socklen_t)n->ai_addrlen;
        }
    }
    ares_freeaddrinfo(res);
    /* RFC 8305 §4: interleave the families, IPv6 first */
    c->naddrs = 0;
    while ((i < n6 || j < n4) && c->naddrs < MAX_ADDRS) {
        if (i < n6) {
            c->addrs[c->naddrs] = v6[i];
            c->addrlens[c->naddrs++] = l6[i++];
        }
        if (j < n4 && c->naddrs < MAX_ADDRS) {
            c->addrs[c->naddrs] = v4[j];
            c->addrlens[c->naddrs++] = l4[j++];
        }
    }
    c->next_addr = 0;
    c->nattempts = 0;
    c->state = C_CONNECTING;
    c->connect_deadline = now_ms() + CONNECT_TIMEOUT_MS;
    if (!start_attempt(c))
        next_target(c);
}

/* An IP literal needs no resolver: never send a DNS query for it. */
static int literal_target(xmpp_client *c) {
    const target *t = &c->targets[c->cur_target];
    struct sockaddr_in *v4 = (struct sockaddr_in *)&c->addrs[0];
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&c->addrs[0];
    memset(&c->addrs[0], 0, sizeof(c->addrs[0]));
    if (inet_pton(AF_INET, t->host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)t->port);
        c->addrlens[0] = sizeof(*v4);
    } else if (inet_pton(AF_INET6, t->host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)t->port);
        c->addrlens[0] = sizeof(*v6);
    } else {
        return 0;
    }
    c->naddrs = 1;
    c->next_addr = 0;
    c->nattempts = 0;
    c->state = C_CONNECTING;
    c->connect_deadline = now_ms() + CONNECT_TIMEOUT_MS;
    if (!start_attempt(c))
        next_target(c);
    return 1;
}

static void resolve_target(xmpp_client *c) {
    struct ares_addrinfo_hints hints;
    char port[8];
    if (literal_target(c))
        return;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    snprintf(port, sizeof(port), "%u", c->targets[c->cur_target].port);
    c->state = C_ADDR;
    ares_getaddrinfo(c->ares, c->targets[c->cur_target].host, port, &hints, addr_cb, c);
}

static void next_target(xmpp_client *c) {
    if (c->state == C_DONE)
        return;
    close_attempts(c, -1);
    if (c->state != C_SRV && c->state != C_IDLE)
        c->cur_target++;
    c->state = C_ADDR;
    if (c->cur_target >= c->ntargets) {
        if (c->last_errno == -1)
        {
            char msg[sizeof(c->err)];
            memcpy(msg, c->err, sizeof(msg));
            fail(c, XMPP_CAUSE_DNS, "", msg);
        }
        else if (c->last_errno > 0)
            fail(c, XMPP_CAUSE_TCP, "cannot connect: ", strerror(c->last_errno));
        else
            fail(c, XMPP_CAUSE_TCP, "cannot connect to ", c->domain);
        return;
    }
    resolve_target(c);
}

/* ---- SRV (RFC 2782, RFC 6120 §3.2.1, XEP-0368) */
static int add_target(xmpp_client *c, const char *host, unsigned port, int direct,
                      unsigned prio, unsigned weight) {
    target *t;
    if (c->ntargets == MAX_TARGETS)
        return XMPP_ERR_LIMIT;
    t = &c->targets[c->ntargets];
    t->host = xmpp__strdup(c->ctx, host);
    if (t->host == NULL)
        return XMPP_ERR_NOMEM;
    t->port = port;
    t->direct = direct;
    t->prio = prio;
    t->weight = weight;
    c->ntargets++;
    return XMPP_OK;
}

/* Orders targets by priority, and within a priority by the weighted random
 * selection of RFC 2782. */
static void order_targets(xmpp_client *c) {
    size_t start = 0, i, j;
    /* sort by priority (insertion sort: at most MAX_TARGETS) */
    for (i = 1; i < c->ntargets; i++)
        for (j = i; j > 0 && c->targets[j - 1].prio > c->targets[j].prio; j--) {
            target tmp = c->targets[j];
            c->targets[j] = c->targets[j - 1];
            c->targets[j - 1] = tmp;
        }
    while (start < c->ntargets) {
        size_t end = start;
        while (end < c->ntargets && c->targets[end].prio == c->targets[start].prio)
            end++;
        for (i = start; i < end; i++) {
            unsigned long total = 0, pick;
            uint32_t r = 0;
            for (j = i; j < end; j++)
                total += c->targets[j].weight;
            gnutls_rnd(GNUTLS_RND_NONCE, &r, sizeof(r));
            pick = total ? r % (total + 1) : 0;
            for (j = i; j < end; j++) {
                if (c->targets[j].weight >= pick || total == 0)
                    break;
                pick -= c->targets[j].weight;
            }
            if (j == end)
                j = end - 1;
            {
                target tmp = c->targets[i];
                c->targets[i] = c->targets[j];
                c->targets[j] = tmp;
            }
        }
        start = end;
    }
}

static void srv_done(xmpp_client *c) {
    if (c->srv_dot && c->ntargets == 0) {
        fail(c, XMPP_CAUSE_DNS, "no XMPP service (SRV target \".\") for ", c->domain);
        return;
    }
    if (c->ntargets == 0) {
        /* RFC 6120 §3.2.2: fall back to the domain itself */
        int direct = c->session->o.tls_mode == XMPP_TLS_DIRECT;
        if (add_target(c, c->domain, direct ? 5223 : 5222, direct, 0, 0) != XMPP_OK) {
            fail(c, XMPP_CAUSE_NOMEM, "out of memory", NULL);
            return;
        }
    }
    order_targets(c);
    c->cur_target = 0;
    c->state = C_ADDR;
    resolve_target(c);
}

static void srv_cb(void *arg, int status, int timeouts, unsigned char *abuf, int alen, int direct) {
    xmpp_client *c = arg;
    struct ares_srv_reply *srv = NULL, *r;
    (void)timeouts;
    if (status == ARES_EDESTRUCTION)
        return;
    if (status == ARES_SUCCESS && ares_parse_srv_reply(abuf, alen, &srv) == ARES_SUCCESS) {
        for (r = srv; r; r = r->next) {
            if (strcmp(r->host, ".") == 0 || r->host[0] == '\0') {
                c->srv_dot = 1;
                continue;
            }
            /* direct TLS needs TLS; a plaintext-only session skips them */
            if (direct && c->session->o.tls_mode == XMPP_TLS_NONE)
                continue;
            if (add_target(c, r->host, r->port, direct, r->priority, r->weight) != XMPP_OK)
                break;
        }
        ares_free_data(srv);
    }
    if (--c->srv_pending == 0 && c->state == C_SRV)
        srv_done(c);
}

static void srv_cb_starttls(void *arg, int status, int timeouts, unsigned char *abuf, int alen) {
    srv_cb(arg, status, timeouts, abuf, alen, 0);
}
static void srv_cb_direct(void *arg, int status, int timeouts, unsigned char *abuf, int alen) {
    srv_cb(arg, status, timeouts, abuf, alen, 1);
}

/* ---- public API */
int xmpp_client_new(xmpp_client **out, xmpp_ctx *ctx, const xmpp_session_options *opts) {
    xmpp_client *c;
    struct ares_options ao;
    int rc;
    if (out == NULL)
        return XMPP_ERR_INVALID;
    *out = NULL;
    if (ctx == NULL || opts == NULL)
        return XMPP_ERR_INVALID;
    c = xmpp__malloc(ctx, sizeof(*c));
    if (c == NULL)
        return XMPP_ERR_NOMEM;
    memset(c, 0, sizeof(*c));
    c->ctx = ctx;
    c->fd = -1;
    c->last_timer = -2;
    if ((rc = xmpp_session_new(&c->session, ctx, opts)) != XMPP_OK) {
        xmpp__free(ctx, c);
        return rc;
    }
    c->domain = xmpp__strdup(ctx, xmpp_jid_domain(c->session->jid));
    memset(&ao, 0, sizeof(ao));
    ao.sock_state_cb = ares_sock_cb;
    ao.sock_state_cb_data = c;
    if (c->domain == NULL || ares_library_init(ARES_LIB_INIT_ALL) != ARES_SUCCESS) {
        xmpp_client_free(c);
        return XMPP_ERR_NOMEM;
    }
    if (ares_init_options(&c->ares, &ao, ARES_OPT_SOCK_STATE_CB) != ARES_SUCCESS) {
        ares_library_cleanup();
        xmpp_client_free(c);
        return XMPP_ERR_NOMEM;
    }
    c->ares_ok = 1;
    *out = c;
    return XMPP_OK;
}

void xmpp_client_free(xmpp_client *c) {
    size_t i;
    if (c == NULL || c->in_action)
        return;
    if (c->ares_ok) {
        ares_destroy(c->ares);
        ares_library_cleanup();
    }
    close_attempts(c, -1);
    if (c->fd >= 0) {
        if (c->sock_fn)
            c->sock_fn(c, c->fd, XMPP_IO_NONE, c->sock_ud);
        close(c->fd);
    }
    for (i = 0; i < c->ntargets; i++)
        xmpp__free(c->ctx, c->targets[i].host);
    xmpp_session_free(c->session);
    xmpp__free(c->ctx, c->domain);
    xmpp__free(c->ctx, c->host_override);
    xmpp__free(c->ctx, c);
}

xmpp_session *xmpp_client_session(xmpp_client *c) {
    return c ? c->session : NULL;
}

int xmpp_client_set_server(xmpp_client *c, const char *host, unsigned port) {
    char *h;
    if (c == NULL || host == NULL || *host == '\0' || port == 0 || port > 65535)
        return XMPP_ERR_INVALID;
    if ((h = xmpp__strdup(c->ctx, host)) == NULL)
        return XMPP_ERR_NOMEM;
    xmpp__free(c->ctx, c->host_override);
    c->host_override = h;
    c->port_override = port;
    return XMPP_OK;
}

int xmpp_client_set_socket_fn(xmpp_client *c, xmpp_socket_fn fn, void *ud) {
    if (c == NULL)
        return XMPP_ERR_INVALID;
    c->sock_fn = fn;
    c->sock_ud = ud;
    return XMPP_OK;
}

int xmpp_client_set_timer_fn(xmpp_client *c, xmpp_timer_fn fn, void *ud) {
    if (c == NULL)
        return XMPP_ERR_INVALID;
    c->timer_fn = fn;
    c->timer_ud = ud;
    return XMPP_OK;
}

static long next_timeout(xmpp_client *c) {
    uint64_t now = now_ms(), d = UINT64_MAX;
    struct timeval tv, *tvp;
    if (c->state == C_DONE)
        return -1;
    if (c->state == C_UP)
        d = xmpp_session_next_deadline(c->session);
    if (c->state == C_CONNECTING) {
        d = c->connect_deadline;
        if (c->next_addr < c->naddrs && c->next_attempt_at < d)
            d = c->next_attempt_at;
    }
    tvp = ares_timeout(c->ares, NULL, &tv);
    if (tvp != NULL) {
        uint64_t a = now + (uint64_t)tv.tv_sec * 1000u + (uint64_t)(tv.tv_usec + 999) / 1000u;
        if (a < d)
            d = a;
    }
    if (d == UINT64_MAX)
        return -1;
    return d <= now ? 0 : (long)(d - now);
}

static void update_timer(xmpp_client *c) {
    long t = next_timeout(c);
    if (c->timer_fn && t != c->last_timer)
        c->timer_fn(c, t, c->timer_ud);
    c->last_timer = t;
}

/* Writes what the session has for the wire, until EAGAIN. */
static void flush(xmpp_client *c) {
    const void *d;
    size_t n;
    if (c->fd < 0)
        return;
    for (;;) {
        ssize_t w;
        xmpp_session_drain(c->session, &d, &n);
        if (n == 0)
            break;
        w = send(c->fd, d, n, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            if (errno == EINTR)
                continue;
            snprintf(c->err, sizeof(c->err), "send: %s", strerror(errno));
            xmpp_session_transport_closed(c->session, XMPP_CAUSE_TCP, c->err);
            xmpp_session_drain(c->session, &d, &n);
            xmpp_session_consume(c->session, n);
            break;
        }
        xmpp_session_consume(c->session, (size_t)w);
    }
}

static void finish_if_closed(xmpp_client *c) {
    const void *d;
    size_t n;
    if (c->fd < 0 || xmpp_session_get_state(c->session) != XMPP_STATE_CLOSED)
        return;
    xmpp_session_drain(c->session, &d, &n);
    if (n > 0)
        return; /* the last bytes (stream close, close_notify) go first */
    watch_set(c, c->fd, XMPP_IO_NONE);
    shutdown(c->fd, SHUT_RDWR);
    close(c->fd);
    c->fd = -1;
    c->state = C_DONE;
}

static void read_socket(xmpp_client *c) {
    char buf[32768];
    for (;;) {
        ssize_t r;
        if (c->fd < 0 || xmpp_session_get_state(c->session) == XMPP_STATE_CLOSED)
            return;
        r = recv(c->fd, buf, sizeof(buf), 0);
        if (r > 0) {
            xmpp_session_recv(c->session, buf, (size_t)r, now_ms());
            flush(c);
            continue;
        }
        if (r == 0) {
            xmpp_session_transport_closed(c->session, XMPP_CAUSE_REMOTE_CLOSE,
                                          "the server closed the connection");
            return;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return;
        if (errno == EINTR)
            continue;
        snprintf(c->err, sizeof(c->err), "recv: %s", strerror(errno));
        xmpp_session_transport_closed(c->session, XMPP_CAUSE_TCP, c->err);
        return;
    }
}

static void after_io(xmpp_client *c) {
    const void *d;
    size_t n;
    flush(c);
    finish_if_closed(c);
    if (c->fd >= 0) {
        xmpp_session_drain(c->session, &d, &n);
        watch_set(c, c->fd, XMPP_IO_IN | (n ? XMPP_IO_OUT : 0));
    }
    update_timer(c);
}

int xmpp_client_connect(xmpp_client *c) {
    if (c == NULL)
        return XMPP_ERR_INVALID;
    if (c->state != C_IDLE)
        return XMPP_ERR_STATE;
    c->in_action++;
    if (c->host_override) {
        int direct = c->session->o.tls_mode == XMPP_TLS_DIRECT;
        if (add_target(c, c->host_override, c->port_override, direct, 0, 0) != XMPP_OK) {
            c->in_action--;
            return XMPP_ERR_NOMEM;
        }
        c->cur_target = 0;
        resolve_target(c);
    } else {
        char name[300];
        c->state = C_SRV;
        c->srv_pending = 2;
        c->srv_dot = 0;
        snprintf(name, sizeof(name), "_xmpp-client._tcp.%s", c->domain);
        ares_query(c->ares, name, 1 /* C_IN */, 33 /* T_SRV */, srv_cb_starttls, c);
        snprintf(name, sizeof(name), "_xmpps-client._tcp.%s", c->domain);
        if (c->state == C_SRV)
            ares_query(c->ares, name, 1, 33, srv_cb_direct, c);
    }
    after_io(c);
    c->in_action--;
    return XMPP_OK;
}

int xmpp_client_socket_action(xmpp_client *c, int fd, int events) {
    uint64_t now;
    if (c == NULL)
        return XMPP_ERR_INVALID;
    if (c->in_action)
        return XMPP_ERR_RECURSIVE;
    c->in_action++;
    now = now_ms();
    if (fd >= 0 && fd == c->fd) {
        if (events & (XMPP_IO_IN | XMPP_IO_ERROR))
            read_socket(c);
    } else if (fd >= 0 && c->state == C_CONNECTING) {
        size_t i;
        int is_attempt = 0;
        for (i = 0; i < c->nattempts; i++)
            if (c->attempts[i].fd == fd && !c->attempts[i].done)
                is_attempt = 1;
        if (is_attempt)
            check_attempt(c, fd);
        else
            ares_process_fd(c->ares, (events & XMPP_IO_IN) ? fd : ARES_SOCKET_BAD,
                            (events & XMPP_IO_OUT) ? fd : ARES_SOCKET_BAD);
    } else if (fd >= 0) {
        ares_process_fd(c->ares, (events & XMPP_IO_IN) ? fd : ARES_SOCKET_BAD,
                        (events & XMPP_IO_OUT) ? fd : ARES_SOCKET_BAD);
    } else {
        /* timers: c-ares, Happy Eyeballs, connect timeout, the session */
        ares_process_fd(c->ares, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
        if (c->state == C_CONNECTING) {
            if (now >= c->connect_deadline) {
                c->last_errno = ETIMEDOUT;
                next_target(c);
            } else if (now >= c->next_attempt_at) {
                start_attempt(c);
            }
        }
        if (c->state == C_UP)
            xmpp_session_handle_timeout(c->session, now);
    }
    after_io(c);
    c->in_action--;
    return c->state == C_DONE && c->fd < 0 ? XMPP_ERR_CLOSED : XMPP_OK;
}

int xmpp_client_get_pollfds(xmpp_client *c, int *fds, int cap, int *timeout_ms) {
    size_t i;
    int n = 0;
    if (c == NULL || (fds == NULL && cap > 0))
        return XMPP_ERR_INVALID;
    for (i = 0; i < c->nwatch && n < cap; i++, n++) {
        fds[3 * n] = c->watch[i].fd;
        fds[3 * n + 1] = ((c->watch[i].events & XMPP_IO_IN) ? POLLIN : 0) |
                         ((c->watch[i].events & XMPP_IO_OUT) ? POLLOUT : 0);
        fds[3 * n + 2] = 0;
    }
    if (timeout_ms)
        *timeout_ms = (int)next_timeout(c);
    return n;
}

int xmpp_client_run_once(xmpp_client *c, int timeout_ms) {
    struct pollfd pfd[MAX_FDS];
    int fds[3 * MAX_FDS];
    int n, i, t, rc, any = 0;
    if (c == NULL)
        return XMPP_ERR_INVALID;
    if (c->state == C_DONE && c->fd < 0)
        return XMPP_ERR_CLOSED;
    n = xmpp_client_get_pollfds(c, fds, MAX_FDS, &t);
    if (t < 0 || (timeout_ms >= 0 && timeout_ms < t))
        t = timeout_ms;
    for (i = 0; i < n; i++) {
        pfd[i].fd = fds[3 * i];
        pfd[i].events = (short)fds[3 * i + 1];
        pfd[i].revents = 0;
    }
    rc = poll(pfd, (nfds_t)n, t);
    if (rc < 0 && errno != EINTR)
        return XMPP_ERR_STATE;
    for (i = 0; rc > 0 && i < n; i++) {
        int ev = 0;
        if (pfd[i].revents & POLLIN)
            ev |= XMPP_IO_IN;
        if (pfd[i].revents & POLLOUT)
            ev |= XMPP_IO_OUT;
        if (pfd[i].revents & (POLLERR | POLLHUP | POLLNVAL))
            ev |= XMPP_IO_ERROR | XMPP_IO_IN | XMPP_IO_OUT;
        if (ev) {
            any = 1;
            if (xmpp_client_socket_action(c, pfd[i].fd, ev) == XMPP_ERR_CLOSED)
                return XMPP_ERR_CLOSED;
        }
    }
    if (!any || next_timeout(c) == 0)
        return xmpp_client_socket_action(c, -1, 0);
    return XMPP_OK;
}

int xmpp_client_close(xmpp_client *c) {
    if (c == NULL)
        return XMPP_ERR_INVALID;
    if (c->state != C_UP) {
        if (c->state != C_DONE) {
            close_attempts(c, -1);
            c->state = C_DONE;
            xmpp_session_close(c->session);
            if (xmpp_session_get_state(c->session) != XMPP_STATE_CLOSED)
                xmpp_session_transport_closed(c->session, XMPP_CAUSE_LOCAL_CLOSE, NULL);
        }
        return XMPP_OK;
    }
    xmpp_session_close(c->session);
    if (!c->in_action)
        after_io(c);
    return XMPP_OK;
}

const char *xmpp_client_error(const xmpp_client *c) {
    return (c && c->err[0]) ? c->err : NULL;
}
