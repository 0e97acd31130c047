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
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/crypto.h>
#include <xmpp/client.h>
#include <xmpp/jid.h>
#include <xmpp/sys/io.h>

#include "session/session_int.h"
#include "transport/proxy.h"

#define MAX_TARGETS 16       /* RES-06: SRV records considered */
#define MAX_ADDRS 16         /* addresses raced per target */
#define MAX_SOURCES        8          /* xmpp_client_add_source() */
#define MAX_FDS            (MAX_ADDRS + 8 + 2 * MAX_SOURCES)
#define HE_DELAY_MS 250      /* RFC 8305 §5: connection attempt delay */
#define CONNECT_TIMEOUT_MS 10000
#define MAX_HOPS 3           /* see-other-host redirects followed */
#define PORT_STARTTLS 5222   /* RFC 6120 §3.2.2, §4.9.3.19 */
#define PORT_DIRECT 5223     /* XEP-0368 fallback */

/* options.c */
int xmpp__options_copy(struct xmpp_session_options *dst, const xmpp_session_options *src);
void xmpp__options_clear(struct xmpp_session_options *o);

/* Internal hooks (not exported; used by tests/unit/test_client.c). */
int xmpp__srv_order(const unsigned *prio, const unsigned *weight, size_t n, size_t *order);
int xmpp__client_parse_redirect(const char *in, char *host, size_t hostsz, unsigned *port,
                                unsigned default_port);
void xmpp__client_test_params(xmpp_client *c, unsigned fallback_port,
                              unsigned fallback_direct_port, unsigned connect_timeout_ms);
unsigned long xmpp__client_connect_count(const xmpp_client *c);

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
    unsigned long owner; /* 0: the client itself, else a source's handle */
} watched;

/* An I/O source added with xmpp_client_add_source() (an HTTP upload). */
typedef struct source {
    unsigned long id; /* 0: free slot */
    xmpp_source_action_fn action;
    xmpp_source_timeout_fn timeout;
    xmpp_source_detach_fn detach;
    void *ud;
} source;

/* C_WAIT: between connections, waiting for the reconnect backoff;
 * C_PROXY: connected to the proxy, its handshake in progress */
typedef enum { C_IDLE, C_SRV, C_ADDR, C_CONNECTING, C_UP, C_DONE, C_WAIT, C_PROXY } cstate;

struct xmpp_client {
    xmpp_ctx *ctx;
    xmpp_session *session;
    char *domain;
    char *host_override;
    char *dns_servers; /* applied whenever a channel is created */
    unsigned port_override;
    int tls_direct_pref;
    cstate state;
    ares_channel ares;
    int ares_ok;
    int srv_pending;
    int srv_dot; /* _xmpp-client is a lone "." target: no service (RFC 2782) */
    int any_addr; /* some target resolved: a final failure is TCP, not DNS */
    size_t tcp_target; /* the last target a connection was attempted to */
    char dns_err[160];
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
    source sources[MAX_SOURCES];
    unsigned long next_source_id;
    xmpp_socket_fn sock_fn;
    void *sock_ud;
    xmpp_timer_fn timer_fn;
    void *timer_ud;
    long last_timer;
    int end_reported; /* socket_action() returned XMPP_ERR_CLOSED once */
    int in_action;
    char err[256];
    int last_errno;
    /* the application's options (deep copy; on_ready/on_closed replaced by
     * the client's own, which forward to app_ready/app_closed) */
    struct xmpp_session_options *opts;
    xmpp_ready_fn app_ready;
    xmpp_closed_fn app_closed;
    void *app_ud;
    int cur_direct;       /* the current connection is direct TLS */
    unsigned hops;        /* see-other-host redirects followed */
    int redirect_pending; /* the session ended with a redirect to follow */
    char redirect_host[256];
    unsigned redirect_port;
    /* reconnect policy (0 initial delay: off) */
    unsigned rc_initial_ms, rc_max_ms, rc_max_attempts;
    unsigned rc_attempt;      /* consecutive failed connections */
    uint64_t rc_at;           /* C_WAIT until this time */
    int rc_pending;           /* a reconnect is to be scheduled after the socket closed */
    xmpp_disconnect_cause rc_cause;
    int closing;              /* the application asked to close */
    xmpp_reconnect_fn rc_fn;
    void *rc_ud;
    unsigned long n_reconnects, n_resumed;
    /* proxy (type XMPP_PROXY_NONE: direct connections) */
    xmpp__proxy_url proxy_url;
    xmpp__proxy *proxy;   /* the handshake in progress (C_PROXY) */
    int proxy_fatal;      /* the last proxy failure cannot be cured by retrying */
    xmpp_buf proxy_out;   /* its bytes not yet written (may hold credentials) */
    /* test hooks */
    unsigned fallback_port, fallback_direct_port, connect_timeout_ms;
    unsigned long nconnects;
};

/* Where the TCP connection goes: the proxy when one is set (the target's
 * name then travels to the proxy, which resolves it), else the target. */
static const char *conn_host(const xmpp_client *c) {
    return c->proxy_url.type != XMPP_PROXY_NONE ? c->proxy_url.host : c->targets[c->cur_target].host;
}

static unsigned conn_port(const xmpp_client *c) {
    return c->proxy_url.type != XMPP_PROXY_NONE ? c->proxy_url.port : c->targets[c->cur_target].port;
}

static uint64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ---- descriptor bookkeeping: tells the application what to watch */
static int watch_owned(xmpp_client *c, unsigned long owner, int fd, int events) {
    size_t i;
    for (i = 0; i < c->nwatch; i++)
        if (c->watch[i].fd == fd)
            break;
    if (i == c->nwatch) {
        if (events == XMPP_IO_NONE)
            return XMPP_OK;
        if (c->nwatch == MAX_FDS)
            return XMPP_ERR_LIMIT;
        c->watch[c->nwatch].fd = fd;
        c->watch[c->nwatch].events = -1;
        c->watch[c->nwatch].owner = owner;
        c->nwatch++;
    }
    if (c->watch[i].owner != owner)
        return XMPP_ERR_INVALID;
    if (c->watch[i].events == events)
        return XMPP_OK;
    if (events == XMPP_IO_NONE) {
        c->watch[i] = c->watch[--c->nwatch];
    } else {
        c->watch[i].events = events;
    }
    if (c->sock_fn)
        c->sock_fn(c, fd, events, c->sock_ud);
    return XMPP_OK;
}

static void watch_set(xmpp_client *c, int fd, int events) {
    (void)watch_owned(c, 0, fd, events);
}

static int drop_source(xmpp_client *c, unsigned long handle);

/* The source that watches fd, or NULL. */
static source *fd_source(xmpp_client *c, int fd) {
    size_t i, j;
    for (i = 0; i < c->nwatch; i++)
        if (c->watch[i].fd == fd && c->watch[i].owner != 0)
            for (j = 0; j < MAX_SOURCES; j++)
                if (c->sources[j].id == c->watch[i].owner)
                    return &c->sources[j];
    return NULL;
}

static void ares_sock_cb(void *data, ares_socket_t fd, int readable, int writable) {
    xmpp_client *c = data;
    watch_set(c, (int)fd, (readable ? XMPP_IO_IN : 0) | (writable ? XMPP_IO_OUT : 0));
}

static void connection_ended(xmpp_client *c, xmpp_session *s, xmpp_disconnect_cause cause);
static void schedule_reconnect(xmpp_client *c);
static void reconnect_now(xmpp_client *c);

static void fail(xmpp_client *c, xmpp_disconnect_cause cause, const char *prefix,
                 const char *arg) {
    snprintf(c->err, sizeof(c->err), "%s%s", prefix, arg ? arg : "");
    xmpp__log(c->ctx, XMPP_LOG_ERROR, "client", "%s", c->err);
    c->state = C_DONE;
    if (xmpp_session_get_state(c->session) == XMPP_STATE_CLOSED) {
        /* a reconnection attempt: the session was not started */
        connection_ended(c, c->session, cause);
        return;
    }
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
        c->nconnects++;
        c->tcp_target = c->cur_target;
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

static void proxy_reset(xmpp_client *c) {
    xmpp__proxy_free(c->proxy);
    c->proxy = NULL;
    if (c->proxy_out.data)
        memset(c->proxy_out.data, 0, c->proxy_out.cap); /* credentials */
    xmpp__buf_reset(&c->proxy_out);
}

/* The stream starts on @p fd: a direct connection, or an open tunnel. */
static void stream_start(xmpp_client *c, int fd) {
    const target *t = &c->targets[c->cur_target];
    c->fd = fd;
    c->state = C_UP;
    c->cur_direct = t->direct;
    if (c->proxy_url.type != XMPP_PROXY_NONE)
        xmpp__log(c->ctx, XMPP_LOG_INFO, "client", "connected to %s:%u%s through the %s proxy %s:%u",
                  t->host, t->port, t->direct ? " (direct TLS)" : "",
                  xmpp__proxy_type_name(c->proxy_url.type), c->proxy_url.host, c->proxy_url.port);
    else
        xmpp__log(c->ctx, XMPP_LOG_INFO, "client", "connected to %s:%u%s", t->host, t->port,
                  t->direct ? " (direct TLS)" : "");
    if (t->direct && c->session->o.tls_mode == XMPP_TLS_STARTTLS)
        c->session->o.tls_mode = XMPP_TLS_DIRECT;
    else if (!t->direct && c->session->o.tls_mode == XMPP_TLS_DIRECT && c->host_override == NULL)
        c->session->o.tls_mode = XMPP_TLS_STARTTLS;
    watch_set(c, fd, XMPP_IO_IN);
    xmpp_session_start(c->session, now_ms());
}

static void proxy_send(xmpp_client *c);

static void connected(xmpp_client *c, int fd) {
    const target *t = &c->targets[c->cur_target];
    int rc;
    close_attempts(c, fd);
    if (c->proxy_url.type == XMPP_PROXY_NONE) {
        stream_start(c, fd);
        return;
    }
    /* the handshake shares the connect deadline's length */
    c->fd = fd;
    c->state = C_PROXY;
    c->connect_deadline = now_ms() + c->connect_timeout_ms;
    proxy_reset(c);
    xmpp__log(c->ctx, XMPP_LOG_INFO, "client", "connected to the %s proxy %s:%u; asking for %s:%u",
              xmpp__proxy_type_name(c->proxy_url.type), c->proxy_url.host, c->proxy_url.port,
              t->host, t->port);
    if ((rc = xmpp__proxy_new(&c->proxy, c->ctx, &c->proxy_url, t->host, t->port)) != XMPP_OK ||
        (rc = xmpp__buf_reserve(&c->proxy_out, 1024)) != XMPP_OK ||
        (rc = xmpp__proxy_start(c->proxy, &c->proxy_out)) != XMPP_OK) {
        watch_set(c, fd, XMPP_IO_NONE);
        close(fd);
        c->fd = -1;
        proxy_reset(c);
        fail(c, rc == XMPP_ERR_NOMEM ? XMPP_CAUSE_NOMEM : XMPP_CAUSE_PROXY,
             rc == XMPP_ERR_NOMEM ? "out of memory" : "cannot ask the proxy for ", t->host);
        return;
    }
    proxy_send(c);
}

/* The proxy handshake failed (code from proxy.h, text in msg): another
 * target when the proxy could not reach this one, else the end. */
static void proxy_failed(xmpp_client *c, int code, const char *msg) {
    char text[sizeof(c->err)];
    snprintf(text, sizeof(text), "%s", msg);
    if (c->fd >= 0) {
        watch_set(c, c->fd, XMPP_IO_NONE);
        close(c->fd);
        c->fd = -1;
    }
    proxy_reset(c);
    c->proxy_fatal = code == XMPP_PROXY_ERR_AUTH || code == XMPP_PROXY_ERR_AUTH_NEEDED ||
                     code == XMPP_PROXY_ERR_MALFORMED;
    if (code == XMPP_PROXY_ERR_UNREACHABLE && c->cur_target + 1 < c->ntargets) {
        xmpp__log(c->ctx, XMPP_LOG_WARN, "client", "%s; trying the next server", text);
        c->state = C_CONNECTING;
        next_target(c);
        return;
    }
    fail(c, code == XMPP_ERR_NOMEM ? XMPP_CAUSE_NOMEM : XMPP_CAUSE_PROXY, text, NULL);
}

static void proxy_send(xmpp_client *c) {
    while (c->fd >= 0 && c->proxy_out.len > 0) {
        ssize_t w = send(c->fd, c->proxy_out.data, c->proxy_out.len, MSG_NOSIGNAL);
        if (w < 0) {
            char text[160];
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return;
            if (errno == EINTR)
                continue;
            snprintf(text, sizeof(text), "%s proxy %s:%u: send: %s",
                     xmpp__proxy_type_name(c->proxy_url.type), c->proxy_url.host,
                     c->proxy_url.port, strerror(errno));
            proxy_failed(c, XMPP_PROXY_ERR_CLOSED, text);
            return;
        }
        memmove(c->proxy_out.data, c->proxy_out.data + w, c->proxy_out.len - (size_t)w);
        memset(c->proxy_out.data + c->proxy_out.len - (size_t)w, 0, (size_t)w);
        c->proxy_out.len -= (size_t)w;
    }
}

static void read_socket(xmpp_client *c);

/* Reads the proxy's replies; once the tunnel is open the stream starts
 * and the bytes after the reply are the server's. */
static void proxy_io(xmpp_client *c, int events) {
    unsigned char buf[1024];
    if (events & XMPP_IO_OUT)
        proxy_send(c);
    while (c->state == C_PROXY && c->fd >= 0) {
        size_t used = 0;
        int rc;
        ssize_t r = recv(c->fd, buf, sizeof(buf), 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (r < 0) {
            char text[160];
            snprintf(text, sizeof(text), "%s proxy %s:%u: recv: %s",
                     xmpp__proxy_type_name(c->proxy_url.type), c->proxy_url.host,
                     c->proxy_url.port, strerror(errno));
            proxy_failed(c, XMPP_PROXY_ERR_CLOSED, text);
            return;
        }
        if (r == 0) {
            rc = xmpp__proxy_eof(c->proxy);
        } else {
            rc = xmpp__proxy_feed(c->proxy, buf, (size_t)r, &used, &c->proxy_out);
        }
        if (rc == XMPP_PROXY_AGAIN) {
            proxy_send(c);
            continue;
        }
        if (rc != XMPP_OK) {
            char text[sizeof(c->err)];
            snprintf(text, sizeof(text), "%s proxy %s:%u: %s",
                     xmpp__proxy_type_name(c->proxy_url.type), c->proxy_url.host,
                     c->proxy_url.port,
                     rc == XMPP_ERR_NOMEM ? "out of memory" : xmpp__proxy_error(c->proxy));
            proxy_failed(c, rc, text);
            return;
        }
        proxy_reset(c);
        stream_start(c, c->fd);
        if ((size_t)r > used) /* RFC 9110 §9.3.6: the tunnel's first bytes */
            xmpp_session_recv(c->session, buf + used, (size_t)r - used, now_ms());
        read_socket(c);
        return;
    }
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
        struct sockaddr_storage peer;
        socklen_t plen = sizeof(peer);
        /* a stale readiness report (an earlier descriptor with the same
         * number) must not pass for a completed connect */
        if (getpeername(fd, (struct sockaddr *)&peer, &plen) < 0) {
            if (errno == ENOTCONN)
                return;
            err = errno;
        }
    }
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
    if (status == ARES_EDESTRUCTION || status == ARES_ECANCELLED || c->state != C_ADDR) {
        if (res)
            ares_freeaddrinfo(res);
        return;
    }
    if (status != ARES_SUCCESS || res == NULL) {
        xmpp__log(c->ctx, XMPP_LOG_WARN, "client", "cannot resolve %s: %s", conn_host(c),
                  ares_strerror(status));
        if (res)
            ares_freeaddrinfo(res);
        snprintf(c->dns_err, sizeof(c->dns_err), "cannot resolve %s%s: %s",
                 c->proxy_url.type != XMPP_PROXY_NONE ? "the proxy " : "", conn_host(c),
                 ares_strerror(status));
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
    if (c->naddrs == 0) {
        snprintf(c->dns_err, sizeof(c->dns_err), "cannot resolve %s: no IPv4/IPv6 address",
                 conn_host(c));
        next_target(c);
        return;
    }
    c->any_addr = 1;
    c->next_addr = 0;
    c->nattempts = 0;
    c->state = C_CONNECTING;
    c->connect_deadline = now_ms() + c->connect_timeout_ms;
    if (!start_attempt(c))
        next_target(c);
}

/* The c-ares channel exists only while a name is being resolved: an idle
 * connected client holds none (it costs tens of KiB per client). */
/* c-ares' process-wide initialisation is not thread-safe (c-ares 1.18):
 * once per process, never cleaned up. */
static pthread_once_t ares_once = PTHREAD_ONCE_INIT;
static int ares_init_status = ARES_SUCCESS;
static void ares_init_once(void) {
    ares_init_status = ares_library_init(ARES_LIB_INIT_ALL);
}

static int ares_lib_init(void) {
    pthread_once(&ares_once, ares_init_once);
    return ares_init_status;
}

static int ares_up(xmpp_client *c) {
    struct ares_options ao;
    if (c->ares_ok)
        return XMPP_OK;
    memset(&ao, 0, sizeof(ao));
    ao.sock_state_cb = ares_sock_cb;
    ao.sock_state_cb_data = c;
    if (ares_lib_init() != ARES_SUCCESS)
        return XMPP_ERR_NOMEM;
    if (ares_init_options(&c->ares, &ao, ARES_OPT_SOCK_STATE_CB) != ARES_SUCCESS) {
        return XMPP_ERR_NOMEM;
    }
    c->ares_ok = 1;
    if (c->dns_servers != NULL &&
        ares_set_servers_ports_csv(c->ares, c->dns_servers) != ARES_SUCCESS) {
        ares_destroy(c->ares);
        c->ares_ok = 0;
        return XMPP_ERR_INVALID;
    }
    return XMPP_OK;
}

/* Never called from inside a c-ares callback. */
static void ares_down(xmpp_client *c) {
    if (!c->ares_ok)
        return;
    c->ares_ok = 0;
    ares_destroy(c->ares);
}

/* An IP literal needs no resolver: never send a DNS query for it. */
static int literal_target(xmpp_client *c) {
    const char *host = conn_host(c);
    unsigned port = conn_port(c);
    struct sockaddr_in *v4 = (struct sockaddr_in *)&c->addrs[0];
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&c->addrs[0];
    char h6[INET6_ADDRSTRLEN + 2];
    size_t hl = strlen(host);
    memset(&c->addrs[0], 0, sizeof(c->addrs[0]));
    /* "[::1]" as well as "::1" */
    if (hl > 2 && hl < sizeof(h6) && host[0] == '[' && host[hl - 1] == ']') {
        memcpy(h6, host + 1, hl - 2);
        h6[hl - 2] = '\0';
    } else {
        snprintf(h6, sizeof(h6), "%s", hl < sizeof(h6) ? host : "");
    }
    if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)port);
        c->addrlens[0] = sizeof(*v4);
    } else if (inet_pton(AF_INET6, h6, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)port);
        c->addrlens[0] = sizeof(*v6);
    } else {
        return 0;
    }
    c->naddrs = 1;
    c->any_addr = 1;
    c->next_addr = 0;
    c->nattempts = 0;
    c->state = C_CONNECTING;
    c->connect_deadline = now_ms() + c->connect_timeout_ms;
    if (!start_attempt(c))
        next_target(c);
    return 1;
}

static void resolve_target(xmpp_client *c) {
    struct ares_addrinfo_hints hints;
    char port[8];
    if (literal_target(c))
        return;
    if (ares_up(c) != XMPP_OK) {
        fail(c, XMPP_CAUSE_DNS, "cannot start the resolver", NULL);
        return;
    }
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    snprintf(port, sizeof(port), "%u", conn_port(c));
    c->state = C_ADDR;
    ares_getaddrinfo(c->ares, conn_host(c), port, &hints, addr_cb, c);
}

/* All targets failed: XMPP_CAUSE_DNS when no target had an address,
 * else XMPP_CAUSE_TCP with the last connection error. */
static void fail_targets(xmpp_client *c) {
    char msg[sizeof(c->err)];
    if (!c->any_addr) {
        snprintf(msg, sizeof(msg), "%s",
                 c->dns_err[0] ? c->dns_err : "cannot resolve the server");
        fail(c, XMPP_CAUSE_DNS, msg, NULL);
        return;
    }
    {
        const target *t = &c->targets[c->tcp_target < c->ntargets ? c->tcp_target : 0];
        const char *why = c->last_errno == ETIMEDOUT ? "connection timed out"
                          : c->last_errno > 0        ? strerror(c->last_errno)
                                                     : "no connection";
        if (c->proxy_url.type != XMPP_PROXY_NONE)
            snprintf(msg, sizeof(msg), "cannot connect to the %s proxy %s:%u: %s",
                     xmpp__proxy_type_name(c->proxy_url.type), c->proxy_url.host,
                     c->proxy_url.port, why);
        else if (c->ntargets > 1)
            snprintf(msg, sizeof(msg), "cannot connect to %s (%zu servers tried, last %s:%u: %s)",
                     c->domain, c->ntargets, t->host, t->port, why);
        else
            snprintf(msg, sizeof(msg), "cannot connect to %s:%u: %s", t->host, t->port, why);
    }
    fail(c, XMPP_CAUSE_TCP, msg, NULL);
}

static void next_target(xmpp_client *c) {
    if (c->state == C_DONE)
        return;
    close_attempts(c, -1);
    if (c->state != C_SRV && c->state != C_IDLE)
        c->cur_target++;
    c->state = C_ADDR;
    if (c->cur_target >= c->ntargets) {
        fail_targets(c);
        return;
    }
    resolve_target(c);
}

/* ---- SRV (RFC 2782, RFC 6120 §3.2.1, XEP-0368) */
static int add_target(xmpp_client *c, const char *host, unsigned port, int direct,
                      unsigned prio, unsigned weight) {
    target *t;
    char *h;
    if (c->ntargets == MAX_TARGETS) {
        /* RES-06: a bounded list, but keep the most preferred records
         * rather than whichever came first */
        size_t i, worst = 0;
        for (i = 1; i < c->ntargets; i++)
            if (c->targets[i].prio > c->targets[worst].prio)
                worst = i;
        if (c->targets[worst].prio <= prio)
            return XMPP_ERR_LIMIT;
        if ((h = xmpp__strdup(c->ctx, host)) == NULL)
            return XMPP_ERR_NOMEM;
        xmpp__free(c->ctx, c->targets[worst].host);
        t = &c->targets[worst];
    } else {
        if ((h = xmpp__strdup(c->ctx, host)) == NULL)
            return XMPP_ERR_NOMEM;
        t = &c->targets[c->ntargets++];
    }
    t->host = h;
    t->port = port;
    t->direct = direct;
    t->prio = prio;
    t->weight = weight;
    return XMPP_OK;
}

static uint32_t rnd32(void) {
    uint32_t r = 0;
    gnutls_rnd(GNUTLS_RND_NONCE, &r, sizeof(r));
    return r;
}

/* RFC 2782 ordering: @p order receives the indices of @p n records sorted
 * by priority (ascending); within one priority, records are picked by
 * weighted random selection: the remaining records are listed with the
 * weight-0 ones first, a number is drawn uniformly from [0, sum of
 * weights] and the first record whose running sum reaches it is taken. A
 * priority whose remaining records all weigh 0 is picked uniformly. */
int xmpp__srv_order(const unsigned *prio, const unsigned *weight, size_t n, size_t *order) {
    size_t start = 0, i, j;
    if (n > 0 && (prio == NULL || weight == NULL || order == NULL))
        return XMPP_ERR_INVALID;
    for (i = 0; i < n; i++)
        order[i] = i;
    /* stable insertion sort by priority, weight 0 first within one */
    for (i = 1; i < n; i++)
        for (j = i; j > 0; j--) {
            size_t a = order[j - 1], b = order[j];
            if (prio[a] < prio[b] || (prio[a] == prio[b] && (weight[a] == 0 || weight[b] != 0)))
                break;
            order[j - 1] = b;
            order[j] = a;
        }
    while (start < n) {
        size_t end = start;
        while (end < n && prio[order[end]] == prio[order[start]])
            end++;
        for (i = start; i + 1 < end; i++) {
            unsigned long total = 0, pick, sum = 0;
            size_t tmp;
            for (j = i; j < end; j++)
                total += weight[order[j]];
            if (total == 0) {
                j = i + rnd32() % (uint32_t)(end - i);
            } else {
                pick = rnd32() % (total + 1);
                for (j = i; j < end; j++) {
                    sum += weight[order[j]];
                    if (sum >= pick)
                        break;
                }
                if (j == end)
                    j = end - 1;
            }
            /* take the pick out, keep the rest in order (weight 0 first) */
            tmp = order[j];
            memmove(&order[i + 1], &order[i], (j - i) * sizeof(order[0]));
            order[i] = tmp;
        }
        start = end;
    }
    return XMPP_OK;
}

static void order_targets(xmpp_client *c) {
    unsigned prio[MAX_TARGETS], weight[MAX_TARGETS];
    size_t order[MAX_TARGETS], i;
    target tmp[MAX_TARGETS];
    for (i = 0; i < c->ntargets; i++) {
        prio[i] = c->targets[i].prio;
        weight[i] = c->targets[i].weight;
        tmp[i] = c->targets[i];
    }
    xmpp__srv_order(prio, weight, c->ntargets, order);
    for (i = 0; i < c->ntargets; i++)
        c->targets[i] = tmp[order[i]];
}

static void srv_done(xmpp_client *c) {
    if (c->srv_dot && c->ntargets == 0) {
        /* RFC 2782 / RFC 6120 §3.2.1: decidedly not offered; no fallback */
        fail(c, XMPP_CAUSE_DNS, "no XMPP service (SRV target \".\") for ", c->domain);
        return;
    }
    if (c->ntargets == 0) {
        /* RFC 6120 §3.2.2: fall back to the domain itself */
        int direct = c->session->o.tls_mode == XMPP_TLS_DIRECT;
        if (add_target(c, c->domain, direct ? c->fallback_direct_port : c->fallback_port, direct,
                       0, 0) != XMPP_OK) {
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
    if (status == ARES_EDESTRUCTION || status == ARES_ECANCELLED || c->state != C_SRV)
        return;
    if (status == ARES_SUCCESS && ares_parse_srv_reply(abuf, alen, &srv) == ARES_SUCCESS) {
        for (r = srv; r; r = r->next) {
            if (strcmp(r->host, ".") == 0 || r->host[0] == '\0') {
                /* RFC 2782: only a lone "." means "not offered"; for
                 * _xmpps-client it only rules out direct TLS */
                if (srv == r && r->next == NULL && !direct)
                    c->srv_dot = 1;
                continue;
            }
            if (r->port == 0)
                continue;
            /* direct TLS needs TLS; a plaintext-only session skips them */
            if (direct && c->session->o.tls_mode == XMPP_TLS_NONE)
                continue;
            /* XMPP_ERR_LIMIT: a worse record past the cap, look further */
            if (add_target(c, r->host, r->port, direct, r->priority, r->weight) ==
                XMPP_ERR_NOMEM)
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

/* ---- see-other-host (RFC 6120 §4.9.3.19)
 *
 * The client creates every session from its own copy of the application's
 * options in which on_ready/on_closed are the client's: they forward to
 * the application's callbacks with its user_data, except the on_closed of
 * a session that ended with a see-other-host the client is going to
 * follow. The redirect itself happens once the old session's last bytes
 * are written (after_io): a fresh session from the same options (so the
 * TLS reference identity stays the JID domain or the configured tls_name),
 * the application's handlers copied over with their handles, and a new
 * connection to the given host. */

/* "host", "host:port", "[v6]" or "[v6]:port"; the host is a DNS name
 * (LDH labels), an IPv4 literal or a bracketed IPv6 literal (returned with
 * its brackets). Surrounding whitespace is ignored. */
int xmpp__client_parse_redirect(const char *in, char *host, size_t hostsz, unsigned *port,
                                unsigned default_port) {
    const char *p, *e, *hs, *he;
    char tmp[256];
    size_t hl, i, label = 0;
    if (in == NULL || host == NULL || port == NULL || hostsz == 0)
        return XMPP_ERR_INVALID;
    for (p = in; *p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'; p++)
        ;
    for (e = p + strlen(p); e > p && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' ||
                                      e[-1] == '\n'); e--)
        ;
    if (p == e)
        return XMPP_ERR_INVALID;
    *port = default_port;
    if (*p == '[') {
        hs = p;
        he = memchr(p, ']', (size_t)(e - p));
        if (he == NULL)
            return XMPP_ERR_INVALID;
        he++;
    } else {
        hs = p;
        for (he = p; he < e && *he != ':'; he++)
            ;
    }
    if (he < e) {
        unsigned long v = 0;
        const char *q = he + 1;
        if (*he != ':' || q == e || e - q > 5)
            return XMPP_ERR_INVALID;
        for (; q < e; q++) {
            if (*q < '0' || *q > '9')
                return XMPP_ERR_INVALID;
            v = v * 10 + (unsigned long)(*q - '0');
        }
        if (v == 0 || v > 65535)
            return XMPP_ERR_INVALID;
        *port = (unsigned)v;
    }
    hl = (size_t)(he - hs);
    if (hl == 0 || hl >= sizeof(tmp) || hl >= hostsz)
        return XMPP_ERR_INVALID;
    memcpy(tmp, hs, hl);
    tmp[hl] = '\0';
    if (tmp[0] == '[') {
        struct in6_addr a6;
        char inner[sizeof(tmp)];
        if (hl < 3 || tmp[hl - 1] != ']')
            return XMPP_ERR_INVALID;
        memcpy(inner, tmp + 1, hl - 2);
        inner[hl - 2] = '\0';
        if (inet_pton(AF_INET6, inner, &a6) != 1)
            return XMPP_ERR_INVALID;
    } else {
        if (tmp[hl - 1] == '.') /* an absolute name */
            tmp[--hl] = '\0';
        if (hl == 0 || hl > 253)
            return XMPP_ERR_INVALID;
        for (i = 0; i <= hl; i++) {
            char ch = tmp[i];
            if (ch == '.' || ch == '\0') {
                if (label == 0 || label > 63 || tmp[i - 1] == '-')
                    return XMPP_ERR_INVALID;
                label = 0;
            } else if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                       (ch >= '0' && ch <= '9') || ch == '-') {
                if (label == 0 && ch == '-')
                    return XMPP_ERR_INVALID;
                label++;
            } else {
                return XMPP_ERR_INVALID;
            }
        }
    }
    memcpy(host, tmp, hl + 1);
    return XMPP_OK;
}

/* Output queued on the session from outside the driver's calls: watch
 * the socket for writability so that the loop brings us back to write it
 * (the application need not call xmpp_client_socket_action()). */
static void client_out_hook(void *ud) {
    xmpp_client *c = ud;
    if (c->in_action || c->fd < 0 || c->state != C_UP)
        return;
    watch_set(c, c->fd, XMPP_IO_IN | XMPP_IO_OUT);
}

static void client_on_ready(xmpp_session *s, const char *jid, void *ud) {
    xmpp_client *c = ud;
    c->rc_attempt = 0; /* success resets the backoff */
    if (xmpp_session_resumed(s))
        c->n_resumed++;
    if (c->app_ready)
        c->app_ready(s, jid, c->app_ud);
}

/* Whether a connection that ended this way is worth another one: never
 * after our own close, an authentication failure, a certificate or TLS
 * policy refusal, or a stream error that says trying again cannot help. */
static int may_reconnect(xmpp_session *s, xmpp_disconnect_cause cause) {
    xmpp_stream_condition cond = XMPP_SC_NONE;
    xmpp_session_get_error(s, &cond, NULL);
    switch (cause) {
    case XMPP_CAUSE_LOCAL_CLOSE:
    case XMPP_CAUSE_SASL:
    case XMPP_CAUSE_TLS_VERIFY:
    case XMPP_CAUSE_TLS_REQUIRED:
    case XMPP_CAUSE_NOMEM:
    case XMPP_CAUSE_NONE:
        return 0;
    case XMPP_CAUSE_STREAM_ERROR:
        switch (cond) {
        case XMPP_SC_SYSTEM_SHUTDOWN:
        case XMPP_SC_CONNECTION_TIMEOUT:
        case XMPP_SC_RESET:
        case XMPP_SC_INTERNAL_SERVER_ERROR:
        case XMPP_SC_REMOTE_CONNECTION_FAILED:
        case XMPP_SC_RESOURCE_CONSTRAINT:
        case XMPP_SC_UNDEFINED_CONDITION:
            return 1;
        default: /* conflict, policy-violation, not-authorized, host-unknown, ... */
            return 0;
        }
    default:
        return 1;
    }
}

/* The connection is over (session ended, or a reconnection attempt could
 * not connect): schedule the next one per the policy, or report the end. */
static void connection_ended(xmpp_client *c, xmpp_session *s, xmpp_disconnect_cause cause) {
    if (c->rc_initial_ms && !c->closing && may_reconnect(s, cause) &&
        !(cause == XMPP_CAUSE_PROXY && c->proxy_fatal) &&
        (c->rc_max_attempts == 0 || c->rc_attempt < c->rc_max_attempts)) {
        c->rc_pending = 1;
        c->rc_cause = cause;
        return; /* not the end for the application */
    }
    if (c->app_closed)
        c->app_closed(s, cause, c->app_ud);
}

static void client_on_closed(xmpp_session *s, xmpp_disconnect_cause cause, void *ud) {
    xmpp_client *c = ud;
    xmpp_stream_condition cond = XMPP_SC_NONE;
    const char *to = xmpp_session_redirect(s);
    xmpp_session_get_error(s, &cond, NULL);
    if (s == c->session && c->state == C_UP && cause == XMPP_CAUSE_STREAM_ERROR &&
        cond == XMPP_SC_SEE_OTHER_HOST) {
        if (c->hops >= MAX_HOPS) {
            snprintf(c->err, sizeof(c->err), "too many see-other-host redirects (limit %u)",
                     MAX_HOPS);
        } else if (to == NULL ||
                   xmpp__client_parse_redirect(to, c->redirect_host, sizeof(c->redirect_host),
                                               &c->redirect_port,
                                               c->cur_direct ? PORT_DIRECT : PORT_STARTTLS) !=
                       XMPP_OK) {
            snprintf(c->err, sizeof(c->err), "invalid see-other-host target \"%.100s\"",
                     to ? to : "");
        } else {
            xmpp__log(c->ctx, XMPP_LOG_INFO, "client", "redirected to %s:%u",
                      c->redirect_host, c->redirect_port);
            c->redirect_pending = 1;
            return; /* not the end for the application */
        }
        xmpp__log(c->ctx, XMPP_LOG_ERROR, "client", "%s", c->err);
    }
    if (s == c->session)
        connection_ended(c, s, cause);
    else if (c->app_closed)
        c->app_closed(s, cause, c->app_ud);
}

/* Copies the live handlers of @p src to @p dst, keeping their handles. */
static int copy_handlers(xmpp_session *dst, const xmpp_session *src) {
    const xmpp_handler *h;
    for (h = src->handlers; h; h = h->all_next) {
        xmpp_handler *n;
        int rc;
        if (h->removed)
            continue;
        rc = xmpp_session_add_handler(dst, h->name, h->ns, h->type, h->fn, h->ud, NULL);
        if (rc != XMPP_OK)
            return rc;
        for (n = dst->handlers; n->all_next; n = n->all_next)
            ;
        n->id = h->id;
    }
    dst->next_handler_id = src->next_handler_id;
    return XMPP_OK;
}

static void reset_targets(xmpp_client *c) {
    size_t i;
    for (i = 0; i < c->ntargets; i++)
        xmpp__free(c->ctx, c->targets[i].host);
    c->ntargets = c->cur_target = 0;
    c->naddrs = c->next_addr = c->nattempts = 0;
}

/* Called outside any session call once the redirecting session is over
 * and its socket closed. */
static void follow_redirect(xmpp_client *c) {
    xmpp_session *old = c->session, *s = NULL;
    int rc;
    c->redirect_pending = 0;
    if ((rc = xmpp_session_new(&s, c->ctx, c->opts)) == XMPP_OK &&
        (rc = copy_handlers(s, old)) == XMPP_OK) {
        reset_targets(c);
        if (add_target(c, c->redirect_host, c->redirect_port, c->cur_direct, 0, 0) == XMPP_OK) {
            c->session = s;
            s->out_hook = client_out_hook;
            s->out_hook_ud = c;
            xmpp_session_free(old);
            c->hops++;
            c->any_addr = 0;
            c->last_errno = 0;
            c->dns_err[0] = '\0';
            c->err[0] = '\0';
            c->state = C_ADDR;
            resolve_target(c);
            return;
        }
    }
    xmpp_session_free(s);
    snprintf(c->err, sizeof(c->err), "out of memory following see-other-host");
    if (c->app_closed)
        c->app_closed(old, xmpp_session_get_error(old, NULL, NULL), c->app_ud);
}

/* ---- public API */
int xmpp_client_new(xmpp_client **out, xmpp_ctx *ctx, const xmpp_session_options *opts) {
    xmpp_client *c;
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
    xmpp__buf_init(&c->proxy_out, ctx);
    c->fallback_port = PORT_STARTTLS;
    c->fallback_direct_port = PORT_DIRECT;
    c->connect_timeout_ms = CONNECT_TIMEOUT_MS;
    c->opts = xmpp__malloc(ctx, sizeof(*c->opts));
    if (c->opts == NULL || xmpp__options_copy(c->opts, opts) != XMPP_OK) {
        xmpp__free(ctx, c->opts);
        xmpp__free(ctx, c);
        return XMPP_ERR_NOMEM;
    }
    c->app_ready = opts->on_ready;
    c->app_closed = opts->on_closed;
    c->app_ud = opts->user_data;
    c->opts->on_ready = client_on_ready;
    c->opts->on_closed = client_on_closed;
    c->opts->user_data = c;
    if ((rc = xmpp_session_new(&c->session, ctx, c->opts)) != XMPP_OK) {
        xmpp__options_clear(c->opts);
        xmpp__free(ctx, c->opts);
        xmpp__free(ctx, c);
        return rc;
    }
    c->session->out_hook = client_out_hook;
    c->session->out_hook_ud = c;
    c->domain = xmpp__strdup(ctx, xmpp_jid_domain(c->session->jid));
    if (c->domain == NULL) {
        xmpp_client_free(c);
        return XMPP_ERR_NOMEM;
    }
    *out = c;
    return XMPP_OK;
}

void xmpp_client_free(xmpp_client *c) {
    size_t i;
    if (c == NULL || c->in_action)
        return;
    for (i = 0; i < MAX_SOURCES; i++) {
        source src = c->sources[i];
        if (src.id == 0)
            continue;
        (void)drop_source(c, src.id);
        if (src.detach)
            src.detach(c, src.ud); /* the source's completions fire here */
    }
    ares_down(c);
    close_attempts(c, -1);
    if (c->fd >= 0) {
        if (c->sock_fn)
            c->sock_fn(c, c->fd, XMPP_IO_NONE, c->sock_ud);
        close(c->fd);
    }
    for (i = 0; i < c->ntargets; i++)
        xmpp__free(c->ctx, c->targets[i].host);
    xmpp_session_free(c->session);
    if (c->opts) {
        xmpp__options_clear(c->opts); /* wipes the password */
        xmpp__free(c->ctx, c->opts);
    }
    xmpp__free(c->ctx, c->domain);
    xmpp__free(c->ctx, c->host_override);
    xmpp__free(c->ctx, c->dns_servers);
    proxy_reset(c);
    xmpp__buf_free(&c->proxy_out);
    xmpp__proxy_url_clear(c->ctx, &c->proxy_url); /* wipes the credentials */
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

int xmpp_client_set_proxy(xmpp_client *c, const char *url) {
    xmpp__proxy_url u;
    char why[120];
    int rc;
    if (c == NULL)
        return XMPP_ERR_INVALID;
    if (c->state != C_IDLE)
        return XMPP_ERR_STATE;
    if (url == NULL) {
        xmpp__proxy_url_clear(c->ctx, &c->proxy_url);
        return XMPP_OK;
    }
    rc = xmpp__proxy_url_parse(c->ctx, url, &u, why, sizeof(why));
    if (rc != XMPP_OK) {
        /* the URL may hold a password: name the problem, not the URL */
        snprintf(c->err, sizeof(c->err), "invalid proxy URL: %s", why);
        xmpp__log(c->ctx, XMPP_LOG_ERROR, "client", "%s", c->err);
        return rc == XMPP_ERR_NOMEM ? XMPP_ERR_NOMEM : XMPP_ERR_INVALID;
    }
    xmpp__proxy_url_clear(c->ctx, &c->proxy_url);
    c->proxy_url = u;
    c->err[0] = '\0';
    return XMPP_OK;
}

int xmpp_client_set_dns_servers(xmpp_client *c, const char *servers) {
    struct ares_options ao;
    ares_channel probe;
    char *copy;
    int rc;
    if (c == NULL || servers == NULL || *servers == '\0')
        return XMPP_ERR_INVALID;
    if (c->state != C_IDLE)
        return XMPP_ERR_STATE;
    /* validate now, on a throw-away channel; applied to every channel the
     * client creates later */
    memset(&ao, 0, sizeof(ao));
    if (ares_lib_init() != ARES_SUCCESS)
        return XMPP_ERR_NOMEM;
    if (ares_init_options(&probe, &ao, 0) != ARES_SUCCESS) {
        return XMPP_ERR_NOMEM;
    }
    rc = ares_set_servers_ports_csv(probe, servers);
    ares_destroy(probe);
    if (rc != ARES_SUCCESS)
        return rc == ARES_ENOMEM ? XMPP_ERR_NOMEM : XMPP_ERR_INVALID;
    if ((copy = xmpp__strdup(c->ctx, servers)) == NULL)
        return XMPP_ERR_NOMEM;
    xmpp__free(c->ctx, c->dns_servers);
    c->dns_servers = copy;
    return XMPP_OK;
}

void xmpp__client_test_params(xmpp_client *c, unsigned fallback_port,
                              unsigned fallback_direct_port, unsigned connect_timeout_ms) {
    if (fallback_port)
        c->fallback_port = fallback_port;
    if (fallback_direct_port)
        c->fallback_direct_port = fallback_direct_port;
    if (connect_timeout_ms)
        c->connect_timeout_ms = connect_timeout_ms;
}

unsigned long xmpp__client_connect_count(const xmpp_client *c) {
    return c->nconnects;
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

static long core_timeout(xmpp_client *c) {
    uint64_t now = now_ms(), d = UINT64_MAX;
    struct timeval tv, *tvp;
    /* Ended but not yet reported (the end came from xmpp_client_connect()
     * or xmpp_client_close() rather than from socket_action): ask for an
     * immediate wake-up, so that the application's next socket_action()
     * returns XMPP_ERR_CLOSED. */
    if (c->state == C_DONE)
        return c->fd < 0 && !c->end_reported ? 0 : -1;
    if (c->state == C_WAIT)
        return c->rc_at <= now ? 0 : (long)(c->rc_at - now);
    if (c->state == C_UP)
        d = xmpp_session_next_deadline(c->session);
    if (c->state == C_PROXY)
        d = c->connect_deadline;
    if (c->state == C_CONNECTING) {
        d = c->connect_deadline;
        if (c->next_addr < c->naddrs && c->next_attempt_at < d)
            d = c->next_attempt_at;
    }
    tvp = c->ares_ok ? ares_timeout(c->ares, NULL, &tv) : NULL;
    if (tvp != NULL) {
        uint64_t a = now + (uint64_t)tv.tv_sec * 1000u + (uint64_t)(tv.tv_usec + 999) / 1000u;
        if (a < d)
            d = a;
    }
    if (d == UINT64_MAX)
        return -1;
    return d <= now ? 0 : (long)(d - now);
}

/* The client's own next wake-up, or an earlier one of a source. */
static long next_timeout(xmpp_client *c) {
    long t = core_timeout(c);
    size_t i;
    for (i = 0; i < MAX_SOURCES; i++) {
        long st;
        if (c->sources[i].id == 0 || c->sources[i].timeout == NULL)
            continue;
        st = c->sources[i].timeout(c, c->sources[i].ud);
        if (st >= 0 && (t < 0 || st < t))
            t = st;
    }
    return t;
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
    /* connected (or finished): the resolver is no longer needed */
    if (c->state == C_UP || (c->state == C_DONE && !c->redirect_pending))
        ares_down(c);
    if (c->redirect_pending && c->state == C_DONE && c->fd < 0)
        follow_redirect(c);
    if (c->rc_pending && c->state == C_DONE && c->fd < 0) {
        close_attempts(c, -1);
        ares_down(c);
        schedule_reconnect(c);
    }
    if (c->fd >= 0 && c->state == C_PROXY) {
        watch_set(c, c->fd, XMPP_IO_IN | (c->proxy_out.len ? XMPP_IO_OUT : 0));
    } else if (c->fd >= 0) {
        xmpp_session_drain(c->session, &d, &n);
        watch_set(c, c->fd, XMPP_IO_IN | (n ? XMPP_IO_OUT : 0));
    }
    update_timer(c);
}

/* Resolves and connects: to the stream-management location when resuming
 * there, else to the configured server, else by SRV. */
static int start_connecting(xmpp_client *c, int use_location) {
    const char *loc = use_location ? xmpp_session_sm_location(c->session) : NULL;
    if (loc != NULL && xmpp_session_can_resume(c->session, now_ms())) {
        char host[256];
        unsigned port;
        if (xmpp__client_parse_redirect(loc, host, sizeof(host), &port,
                                        c->cur_direct ? PORT_DIRECT : PORT_STARTTLS) == XMPP_OK) {
            xmpp__log(c->ctx, XMPP_LOG_INFO, "client", "resuming at the server's location %s:%u",
                      host, port);
            if (add_target(c, host, port, c->cur_direct, 0, 0) != XMPP_OK)
                return XMPP_ERR_NOMEM;
            c->cur_target = 0;
            resolve_target(c);
            return XMPP_OK;
        }
        xmpp__log(c->ctx, XMPP_LOG_WARN, "client", "ignoring malformed resumption location");
    }
    if (c->host_override) {
        int direct = c->session->o.tls_mode == XMPP_TLS_DIRECT;
        if (add_target(c, c->host_override, c->port_override, direct, 0, 0) != XMPP_OK)
            return XMPP_ERR_NOMEM;
        c->cur_target = 0;
        resolve_target(c);
    } else {
        char name[300];
        c->state = C_SRV;
        c->srv_pending = 2;
        c->srv_dot = 0;
        if (ares_up(c) != XMPP_OK)
            return XMPP_ERR_NOMEM;
        snprintf(name, sizeof(name), "_xmpp-client._tcp.%s", c->domain);
        ares_query(c->ares, name, 1 /* C_IN */, 33 /* T_SRV */, srv_cb_starttls, c);
        snprintf(name, sizeof(name), "_xmpps-client._tcp.%s", c->domain);
        if (c->state == C_SRV)
            ares_query(c->ares, name, 1, 33, srv_cb_direct, c);
    }
    return XMPP_OK;
}

/* Another connection for the same session (reconnect policy, or
 * xmpp_client_connect() after the end). */
static void reconnect_now(xmpp_client *c) {
    reset_targets(c);
    proxy_reset(c);
    c->any_addr = 0;
    c->last_errno = 0;
    c->dns_err[0] = '\0';
    c->err[0] = '\0';
    c->end_reported = 0;
    c->state = C_IDLE;
    c->n_reconnects++;
    /* the session wiped its copy once authenticated */
    if (c->opts->password && xmpp_session_set_password(c->session, c->opts->password) != XMPP_OK) {
        fail(c, XMPP_CAUSE_NOMEM, "out of memory reconnecting", NULL);
        return;
    }
    /* the location only on the first try: if it fails, the usual servers */
    if (start_connecting(c, c->rc_attempt <= 1) != XMPP_OK)
        fail(c, XMPP_CAUSE_NOMEM, "out of memory reconnecting", NULL);
}

/* Exponential backoff with jitter: the n-th consecutive attempt waits a
 * random time in [d/2, d] with d = min(max, initial * 2^(n-1)). */
static unsigned backoff_ms(const xmpp_client *c, unsigned n) {
    uint64_t d = c->rc_initial_ms;
    unsigned i;
    uint32_t r;
    for (i = 1; i < n && d < c->rc_max_ms; i++)
        d *= 2;
    if (d > c->rc_max_ms)
        d = c->rc_max_ms;
    if (gnutls_rnd(GNUTLS_RND_NONCE, &r, sizeof(r)) != 0)
        r = (uint32_t)rand();
    return (unsigned)(d / 2 + r % (d - d / 2 + 1));
}

static void schedule_reconnect(xmpp_client *c) {
    unsigned delay;
    c->rc_pending = 0;
    c->rc_attempt++;
    delay = backoff_ms(c, c->rc_attempt);
    c->rc_at = now_ms() + delay;
    c->state = C_WAIT;
    xmpp__log(c->ctx, XMPP_LOG_INFO, "client", "connection lost; reconnecting in %u ms (attempt %u)",
              delay, c->rc_attempt);
    if (c->rc_fn)
        c->rc_fn(c, c->rc_cause, c->rc_attempt, delay, c->rc_ud);
}

int xmpp_client_connect(xmpp_client *c) {
    int rc;
    if (c == NULL)
        return XMPP_ERR_INVALID;
    if (c->state == C_DONE && c->fd < 0 &&
        xmpp_session_get_state(c->session) == XMPP_STATE_CLOSED) {
        /* a new connection after the end: the same session starts again */
        c->closing = 0;
        c->rc_attempt = 0;
        c->rc_pending = 0;
        c->rc_at = now_ms();
        c->state = C_WAIT;
        c->end_reported = 0;
        if (!c->in_action)
            update_timer(c);
        return XMPP_OK;
    }
    if (c->state != C_IDLE)
        return XMPP_OK; /* connecting or connected already */
    if (c->in_action)
        return XMPP_ERR_RECURSIVE;
    c->in_action++;
    c->closing = 0;
    rc = start_connecting(c, 0);
    if (rc == XMPP_OK)
        after_io(c);
    c->in_action--;
    return rc;
}

int xmpp_client_socket_action(xmpp_client *c, int fd, int events) {
    uint64_t now;
    size_t si;
    if (c == NULL)
        return XMPP_ERR_INVALID;
    if (c->in_action)
        return XMPP_ERR_RECURSIVE;
    c->in_action++;
    now = now_ms();
    if (fd >= 0 && fd_source(c, fd) != NULL) {
        source *src = fd_source(c, fd);
        src->action(c, fd, events, src->ud);
    } else if (fd >= 0 && fd == c->fd && c->state == C_PROXY) {
        proxy_io(c, events);
    } else if (fd >= 0 && fd == c->fd) {
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
        else if (c->ares_ok)
            ares_process_fd(c->ares, (events & XMPP_IO_IN) ? fd : ARES_SOCKET_BAD,
                            (events & XMPP_IO_OUT) ? fd : ARES_SOCKET_BAD);
    } else if (fd >= 0 && c->ares_ok) {
        ares_process_fd(c->ares, (events & XMPP_IO_IN) ? fd : ARES_SOCKET_BAD,
                        (events & XMPP_IO_OUT) ? fd : ARES_SOCKET_BAD);
    } else {
        /* The application's one-shot timer has fired: the next one must be
         * announced even if its delay equals the last one announced. */
        c->last_timer = -2;
        /* timers: c-ares, Happy Eyeballs, connect timeout, the session */
        if (c->ares_ok)
            ares_process_fd(c->ares, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
        if (c->state == C_CONNECTING) {
            if (now >= c->connect_deadline) {
                c->last_errno = ETIMEDOUT;
                next_target(c);
            } else if (now >= c->next_attempt_at) {
                start_attempt(c);
            }
        }
        if (c->state == C_PROXY && now >= c->connect_deadline) {
            char text[160];
            snprintf(text, sizeof(text), "%s proxy %s:%u: no answer to the handshake in %u ms",
                     xmpp__proxy_type_name(c->proxy_url.type), c->proxy_url.host,
                     c->proxy_url.port, c->connect_timeout_ms);
            proxy_failed(c, XMPP_PROXY_ERR_CLOSED, text);
        }
        if (c->state == C_UP)
            xmpp_session_handle_timeout(c->session, now);
        if (c->state == C_WAIT && now >= c->rc_at)
            reconnect_now(c);
        for (si = 0; si < MAX_SOURCES; si++)
            if (c->sources[si].id != 0) /* each source checks its own deadline */
                c->sources[si].action(c, -1, 0, c->sources[si].ud);
    }
    after_io(c);
    c->in_action--;
    if (c->state == C_DONE && c->fd < 0) {
        if (!c->end_reported) {
            c->end_reported = 1;
            update_timer(c); /* no wake-up needed any more */
        }
        return XMPP_ERR_CLOSED;
    }
    return XMPP_OK;
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
    c->closing = 1;
    c->rc_pending = 0;
    if (c->state == C_PROXY) {
        /* the handshake is dropped like a connection attempt */
        watch_set(c, c->fd, XMPP_IO_NONE);
        close(c->fd);
        c->fd = -1;
        proxy_reset(c);
        c->state = C_CONNECTING;
    }
    if (c->state != C_UP && c->state != C_DONE &&
        xmpp_session_get_state(c->session) == XMPP_STATE_CLOSED) {
        /* between connections (backoff, or a reconnection attempt not yet
         * connected): the end is ours */
        close_attempts(c, -1);
        if (c->ares_ok)
            ares_cancel(c->ares);
        c->state = C_DONE;
        if (c->app_closed)
            c->app_closed(c->session, XMPP_CAUSE_LOCAL_CLOSE, c->app_ud);
        if (!c->in_action)
            update_timer(c);
        return XMPP_OK;
    }
    if (c->state != C_UP) {
        if (c->state != C_DONE) {
            close_attempts(c, -1);
            c->state = C_DONE;
            if (c->ares_ok)
                ares_cancel(c->ares); /* pending lookups end here */
            xmpp_session_close(c->session);
            if (xmpp_session_get_state(c->session) != XMPP_STATE_CLOSED)
                xmpp_session_transport_closed(c->session, XMPP_CAUSE_LOCAL_CLOSE, NULL);
            if (!c->in_action)
                update_timer(c); /* a wake-up to report the end */
        }
        return XMPP_OK;
    }
    /* From outside a callback the session's clock is that of the last
     * event, possibly long ago: bring it up to date, so that the bounded
     * wait for the server's </stream:stream> runs from now. */
    if (!c->in_action && c->session->now < now_ms())
        c->session->now = now_ms();
    xmpp_session_close(c->session);
    if (!c->in_action)
        after_io(c);
    return XMPP_OK;
}

int xmpp_client_set_reconnect(xmpp_client *c, unsigned initial_ms, unsigned max_ms,
                              unsigned max_attempts) {
    if (c == NULL || (initial_ms != 0 && max_ms < initial_ms))
        return XMPP_ERR_INVALID;
    c->rc_initial_ms = initial_ms;
    c->rc_max_ms = max_ms;
    c->rc_max_attempts = max_attempts;
    return XMPP_OK;
}

int xmpp_client_set_reconnect_fn(xmpp_client *c, xmpp_reconnect_fn fn, void *user_data) {
    if (c == NULL)
        return XMPP_ERR_INVALID;
    c->rc_fn = fn;
    c->rc_ud = user_data;
    return XMPP_OK;
}

int xmpp_client_stats(const xmpp_client *c, unsigned long *reconnects, unsigned long *resumed) {
    if (c == NULL)
        return XMPP_ERR_INVALID;
    if (reconnects)
        *reconnects = c->n_reconnects;
    if (resumed)
        *resumed = c->n_resumed;
    return XMPP_OK;
}

const char *xmpp_client_error(const xmpp_client *c) {
    return (c && c->err[0]) ? c->err : NULL;
}

/* ---- I/O sources of other protocols on the same loop (xmpp/sys/io.h) */
int xmpp_client_add_source(xmpp_client *c, xmpp_source_action_fn action,
                           xmpp_source_timeout_fn timeout, xmpp_source_detach_fn detach,
                           void *user_data, unsigned long *handle) {
    size_t i;
    if (c == NULL || action == NULL || handle == NULL)
        return XMPP_ERR_INVALID;
    for (i = 0; i < MAX_SOURCES; i++)
        if (c->sources[i].id == 0)
            break;
    if (i == MAX_SOURCES)
        return XMPP_ERR_LIMIT;
    c->sources[i].id = ++c->next_source_id;
    c->sources[i].action = action;
    c->sources[i].timeout = timeout;
    c->sources[i].detach = detach;
    c->sources[i].ud = user_data;
    *handle = c->sources[i].id;
    return XMPP_OK;
}

/* Forgets a source and unwatches its descriptors. */
static int drop_source(xmpp_client *c, unsigned long handle) {
    size_t i;
    for (i = 0; i < MAX_SOURCES; i++)
        if (c->sources[i].id == handle)
            break;
    if (i == MAX_SOURCES)
        return XMPP_ERR_NOT_FOUND;
    memset(&c->sources[i], 0, sizeof(c->sources[i]));
    for (i = c->nwatch; i-- > 0;)
        if (c->watch[i].owner == handle)
            (void)watch_owned(c, handle, c->watch[i].fd, XMPP_IO_NONE);
    return XMPP_OK;
}

int xmpp_client_remove_source(xmpp_client *c, unsigned long handle) {
    int rc;
    if (c == NULL || handle == 0)
        return XMPP_ERR_INVALID;
    if ((rc = drop_source(c, handle)) != XMPP_OK)
        return rc;
    return xmpp_client_source_changed(c);
}

int xmpp_client_source_watch(xmpp_client *c, unsigned long handle, int fd, int events) {
    size_t i;
    if (c == NULL || handle == 0 || fd < 0 || (events & ~(XMPP_IO_IN | XMPP_IO_OUT)) != 0)
        return XMPP_ERR_INVALID;
    for (i = 0; i < MAX_SOURCES; i++)
        if (c->sources[i].id == handle)
            break;
    if (i == MAX_SOURCES)
        return XMPP_ERR_NOT_FOUND;
    return watch_owned(c, handle, fd, events);
}

int xmpp_client_source_changed(xmpp_client *c) {
    if (c == NULL)
        return XMPP_ERR_INVALID;
    if (!c->in_action)
        update_timer(c); /* inside socket_action, after_io() does it */
    return XMPP_OK;
}
