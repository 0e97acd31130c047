/* conn_strophe: libstrophe's counterpart of conn_libxmpp.c (same arguments,
 * same RESULT lines; see conn_common.h and conn.sh).
 *
 * Not built by automake: libstrophe exports xmpp_* symbols that clash with
 * libxmpp's, so conn.sh compiles it on its own against libstrophe only.
 *
 * One xmpp_ctx_t serves every connection (libstrophe's shared object); each
 * login is a fresh xmpp_conn_t with the test CA set by xmpp_conn_set_cafile()
 * and TLS made mandatory. libstrophe 0.12 has no API to choose the SASL
 * mechanism: it takes its strongest SCRAM (SHA-512, then SHA-256, then SHA-1;
 * -PLUS variants first when TLS gives channel binding), so conn.sh runs
 * ejabberd with SCRAM-SHA-1 only, and Prosody offers only SCRAM-SHA-1 (and
 * -PLUS on TLS 1.2, which both libraries' TLS 1.3 handshakes never get).
 * Stream management (XEP-0198) is disabled: libxmpp does not enable it at
 * login either, and it would add a round trip after binding. The connection
 * is "bound" when the XMPP_CONN_CONNECT event fires. */
#include "conn_common.h"

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <strophe.h>

typedef struct login_state {
    int ready;
    int closed;
    int error;
    double t_ready;
    unsigned long messages;
} login_state;

static void conn_event(xmpp_conn_t *conn, xmpp_conn_event_t ev, int error,
                       xmpp_stream_error_t *stream_error, void *ud) {
    login_state *st = ud;
    (void)conn, (void)stream_error;
    if (ev == XMPP_CONN_CONNECT) {
        st->ready = 1;
        st->t_ready = conn_now();
    } else if (ev == XMPP_CONN_DISCONNECT || ev == XMPP_CONN_FAIL) {
        st->closed = 1;
        st->error = error;
    }
}

static int on_message(xmpp_conn_t *conn, xmpp_stanza_t *stanza, void *ud) {
    login_state *st = ud;
    (void)conn, (void)stanza;
    st->messages++;
    return 1; /* keep the handler */
}

static void *a_alloc(size_t n, void *ud) {
    (void)ud;
    return cnt_malloc(n);
}
static void *a_realloc(void *p, size_t n, void *ud) {
    (void)ud;
    return cnt_realloc(p, n);
}
static void a_free(void *p, void *ud) {
    (void)ud;
    cnt_free(p);
}

/* CONN_STROPHE_NODELAY=1: TCP_NODELAY on libstrophe's socket, as libxmpp's
 * driver always sets it (libstrophe leaves Nagle on by default). */
static int set_nodelay(xmpp_conn_t *conn, void *sock) {
    int one = 1;
    (void)conn;
    return setsockopt(*(int *)sock, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

static void fail(const char *what) {
    fprintf(stderr, "conn_strophe: %s failed\n", what);
    exit(1);
}

/* A new connection for st, connected and run until bound. cafile NULL:
 * plaintext. */
static xmpp_conn_t *login(xmpp_ctx_t *ctx, login_state *st, const char *host,
                          unsigned port, const char *jid, const char *pw,
                          const char *cafile, int count, double *t0) {
    xmpp_conn_t *conn = xmpp_conn_new(ctx);
    double limit;
    memset(st, 0, sizeof *st);
    if (conn == NULL)
        fail("xmpp_conn_new");
    xmpp_conn_set_jid(conn, jid);
    xmpp_conn_set_pass(conn, pw);
    if (cafile != NULL) {
        xmpp_conn_set_cafile(conn, cafile);
        xmpp_conn_set_flags(conn, XMPP_CONN_FLAG_MANDATORY_TLS | XMPP_CONN_FLAG_DISABLE_SM);
    } else {
        xmpp_conn_set_flags(conn, XMPP_CONN_FLAG_DISABLE_TLS | XMPP_CONN_FLAG_DISABLE_SM);
    }
    if (getenv("CONN_STROPHE_NODELAY") && atoi(getenv("CONN_STROPHE_NODELAY")) == 1)
        xmpp_conn_set_sockopt_callback(conn, set_nodelay);
    /* before connecting: the stanzas may arrive with the bind result */
    if (count)
        xmpp_handler_add(conn, on_message, NULL, "message", NULL, st);
    *t0 = conn_now();
    if (xmpp_connect_client(conn, host, (unsigned short)port, conn_event, st) != XMPP_EOK)
        fail("xmpp_connect_client");
    limit = *t0 + 30;
    while (!st->ready && !st->closed && conn_now() < limit)
        xmpp_run_once(ctx, 100);
    if (!st->ready) {
        fprintf(stderr, "conn_strophe: login failed (error %d)\n", st->error);
        exit(1);
    }
    return conn;
}

static void close_conn(xmpp_ctx_t *ctx, xmpp_conn_t *conn, login_state *st) {
    double limit = conn_now() + 5;
    xmpp_disconnect(conn);
    while (!st->closed && conn_now() < limit)
        xmpp_run_once(ctx, 100);
    xmpp_conn_release(conn);
}

int main(int argc, char **argv) {
    const char *prog = "conn_strophe";
    xmpp_mem_t mem = {a_alloc, a_free, a_realloc, NULL};
    xmpp_ctx_t *ctx;
    const char *mode, *host, *jid, *pw;
    unsigned port;

    if (argc < 7)
        conn_usage(prog);
    mode = argv[1];
    host = argv[2];
    port = (unsigned)conn_ulong(argv[3], prog);
    jid = argv[4];
    pw = argv[5];
    xmpp_initialize();
    ctx = xmpp_ctx_new(&mem, getenv("CONN_STROPHE_DEBUG") ?
                                 xmpp_get_default_logger(XMPP_LEVEL_DEBUG) : NULL);
    if (ctx == NULL)
        fail("xmpp_ctx_new");

    if (strcmp(mode, "login") == 0 && argc == 8) {
        unsigned long n = conn_ulong(argv[7], prog), i, tmin = ~0ul, tmax = 0;
        double *ms = calloc(n ? n : 1, sizeof *ms), t0, sum = 0;
        for (i = 0; i < n; i++) {
            login_state st;
            unsigned long trips = rt_trips;
            xmpp_conn_t *conn = login(ctx, &st, host, port, jid, pw, argv[6], 0, &t0);
            trips = rt_trips - trips;
            ms[i] = (st.t_ready - t0) * 1e3;
            sum += ms[i];
            if (trips < tmin)
                tmin = trips;
            if (trips > tmax)
                tmax = trips;
            close_conn(ctx, conn, &st);
        }
        /* the mechanism is not exposed: conn.sh finds it in the debug log */
        printf("RESULT bench=strophe mode=login logins=%lu mech=? total_ms=%.3f", n, sum);
        printf(" median_ms=%.3f trips_min=%lu trips_max=%lu\n", median(ms, n),
               n ? tmin : 0, n ? tmax : 0);
        free(ms);
    } else if (strcmp(mode, "ingest") == 0 && argc == 7) {
        unsigned long expect = conn_ulong(argv[6], prog);
        login_state st;
        double t0, t1, limit;
        xmpp_conn_t *conn = login(ctx, &st, host, port, jid, pw, NULL, 1, &t0);
        limit = conn_now() + 600;
        while (!st.closed && conn_now() < limit)
            xmpp_run_once(ctx, 100);
        t1 = conn_now();
        if (st.messages != expect) {
            fprintf(stderr, "conn_strophe: %lu messages, expected %lu\n", st.messages, expect);
            return 1;
        }
        printf("RESULT bench=strophe mode=ingest stanzas=%lu seconds=%.6f stanzas_per_s=%.0f\n",
               st.messages, t1 - st.t_ready,
               t1 > st.t_ready ? (double)st.messages / (t1 - st.t_ready) : 0);
        xmpp_conn_release(conn);
    } else if (strcmp(mode, "idle") == 0 && argc == 8) {
        unsigned long n = conn_ulong(argv[7], prog), i;
        xmpp_conn_t **cs = calloc(n ? n : 1, sizeof *cs);
        login_state *sts = calloc(n ? n : 1, sizeof *sts);
        size_t heap0 = 0, rss0 = 0, own0 = 0, heap1, rss1, own1;
        double t0;
        if (n < 2)
            conn_usage(prog);
        for (i = 0; i < n; i++) {
            cs[i] = login(ctx, &sts[i], host, port, jid, pw, argv[6], 0, &t0);
            if (i == 0) {
                heap0 = heap_in_use();
                rss0 = rss_bytes();
                own0 = cnt.live;
            }
        }
        heap1 = heap_in_use();
        rss1 = rss_bytes();
        own1 = cnt.live;
        for (i = 0; i < n; i++)
            if (sts[i].closed) {
                fprintf(stderr, "conn_strophe: connection %lu closed\n", i);
                return 1;
            }
        printf("RESULT bench=strophe mode=idle conns=%lu heap_per_conn=%.0f"
               " rss_per_conn=%.0f own_per_conn=%.0f heap_total=%zu rss_total=%zu\n",
               n, ((double)heap1 - (double)heap0) / (double)(n - 1),
               ((double)rss1 - (double)rss0) / (double)(n - 1),
               ((double)own1 - (double)own0) / (double)(n - 1), heap1, rss1);
        fflush(stdout);
        /* releasing a connected xmpp_conn_t closes its socket */
        for (i = 0; i < n; i++)
            xmpp_conn_release(cs[i]);
        free(cs);
        free(sts);
    } else {
        conn_usage(prog);
    }
    xmpp_ctx_free(ctx);
    xmpp_shutdown();
    return 0;
}
