/* conn_libxmpp: libxmpp's connection benchmarks (login, ingest, idle memory)
 * through its I/O driver (xmpp/client.h). The libstrophe counterpart is
 * conn_strophe.c; tests/bench/conn.sh runs both against the same servers.
 * Arguments, the round-trip counter and the counting allocator are in
 * conn_common.h.
 *
 * login:  LOGINS sequential logins of JID, STARTTLS verified against CAFILE
 *         (one xmpp_tls_config for all of them, as intended: the trust store
 *         is loaded once per configuration), SASL restricted to SCRAM-SHA-1,
 *         the RFC 6120 negotiation (SASL2 forbidden). Each is timed from
 *         xmpp_client_connect() (socket creation) to the ready callback
 *         (resource bound, stream management enabled where offered); then
 *         it is closed politely and freed (not timed).
 * login-sasl2: the same over SASL2 (XEP-0388) with Bind2 and stream
 *         management inline, where the server offers them.
 * login-fast: one untimed SASL2 password login that obtains a FAST token
 *         (XEP-0484), then LOGINS logins with that token alone (no
 *         password: HT-SHA-256-NONE, one round trip for authentication).
 * ingest: one plaintext login (PLAIN) to conn_server, then counts the
 *         messages it streams until the server ends the stream; timed from
 *         ready to the end of the stream.
 * idle:   CONNECTIONS logins kept open in one process and one thread; the
 *         heap (mallinfo2), RSS and libxmpp's own bytes (counting allocator)
 *         grow by the printed amount per connection, measured between the
 *         first connection (which pays for one-time costs: GnuTLS and trust
 *         store) and the last.
 *
 * Output: one RESULT line (see conn.sh). */
/* The socket wrappers of conn_common.h must be exported (-rdynamic) to
 * see libxmpp.so's calls; the Makefile compiles this file with the
 * library's -fvisibility=hidden, which would hide them (0 round trips). */
#pragma GCC visibility push(default)
#include "conn_common.h"
#pragma GCC visibility pop

#include <xmpp/xmpp.h>

#define BENCH_UA "5d0c8a9e-7b61-4c1f-a2e4-0f3b6d9c2e71"

typedef struct login_state {
    int ready;
    int closed;
    double t_ready;
    int count_messages; /* register the message counter when ready */
    xmpp_disconnect_cause cause;
    unsigned long messages;
} login_state;

static int on_message(xmpp_session *s, xmpp_stanza *st, void *ud);

static void on_ready(xmpp_session *s, const char *jid, void *ud) {
    login_state *st = ud;
    (void)s, (void)jid;
    st->ready = 1;
    st->t_ready = conn_now();
    /* here, not after login(): the stanzas may arrive with the bind result */
    if (st->count_messages &&
        xmpp_session_add_handler(s, "message", NULL, NULL, on_message, st, NULL) != XMPP_OK)
        st->closed = 1;
}

/* FAST tokens (login-fast): kept here for the next logins */
static char fast_token[1024];
static int64_t fast_expiry;

static void on_token(xmpp_session *s, const char *mech, const char *token, int64_t expiry,
                     void *ud) {
    (void)s, (void)mech, (void)ud;
    snprintf(fast_token, sizeof fast_token, "%s", token ? token : "");
    fast_expiry = expiry;
}

static void on_closed(xmpp_session *s, xmpp_disconnect_cause cause, void *ud) {
    login_state *st = ud;
    (void)s;
    st->closed = 1;
    st->cause = cause;
}

static int on_message(xmpp_session *s, xmpp_stanza *st, void *ud) {
    login_state *ls = ud;
    (void)s, (void)st;
    ls->messages++;
    return 1;
}

static void *a_malloc(size_t n, void *ud) {
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

static void fail(const char *what, int rc) {
    fprintf(stderr, "conn_libxmpp: %s: %s\n", what, xmpp_strerror(rc));
    exit(1);
}

static const char *cause_text(xmpp_client *c) {
    const char *text = NULL;
    xmpp_session *s = xmpp_client_session(c);
    xmpp_session_get_error(s, NULL, &text);
    if (xmpp_client_error(c))
        text = xmpp_client_error(c);
    return text ? text : "?";
}

/* Creates a client for st and connects it; runs until ready. Returns the
 * client, or exits on failure. */
static xmpp_client *login(xmpp_ctx *ctx, xmpp_session_options *o, login_state *st,
                          const char *host, unsigned port, int count, double *t0) {
    xmpp_client *c = NULL;
    int rc;
    double limit;
    memset(st, 0, sizeof *st);
    st->count_messages = count;
    if ((rc = xmpp_session_options_set_callbacks(o, on_ready, on_closed, st)) != XMPP_OK ||
        (rc = xmpp_client_new(&c, ctx, o)) != XMPP_OK ||
        (rc = xmpp_client_set_server(c, host, port)) != XMPP_OK)
        fail("client", rc);
    *t0 = conn_now();
    if ((rc = xmpp_client_connect(c)) != XMPP_OK)
        fail("connect", rc);
    limit = *t0 + 30;
    while (!st->ready && !st->closed && conn_now() < limit)
        xmpp_client_run_once(c, 100);
    if (!st->ready) {
        fprintf(stderr, "conn_libxmpp: login failed (cause %d): %s\n", (int)st->cause,
                cause_text(c));
        exit(1);
    }
    return c;
}

static void close_client(xmpp_client *c, login_state *st) {
    double limit = conn_now() + 5;
    xmpp_client_close(c);
    while (!st->closed && conn_now() < limit)
        if (xmpp_client_run_once(c, 100) == XMPP_ERR_CLOSED)
            break;
    xmpp_client_free(c);
}

static xmpp_session_options *make_options(xmpp_ctx *ctx, const char *jid, const char *pw,
                                          xmpp_tls_config *cfg, const char *mech) {
    xmpp_session_options *o = NULL;
    int rc;
    if ((rc = xmpp_session_options_new(&o, ctx)) != XMPP_OK ||
        (rc = xmpp_session_options_set_jid(o, jid)) != XMPP_OK ||
        (rc = xmpp_session_options_set_password(o, pw)) != XMPP_OK ||
        (rc = xmpp_session_options_set_mechanisms(o, &mech, 1)) != XMPP_OK)
        fail("options", rc);
    if (cfg) {
        if ((rc = xmpp_session_options_set_tls_config(o, cfg)) != XMPP_OK)
            fail("options", rc);
    } else if ((rc = xmpp_session_options_set_tls_mode(o, XMPP_TLS_NONE)) != XMPP_OK ||
               (rc = xmpp_session_options_allow_plaintext(o, 1)) != XMPP_OK) {
        fail("options", rc);
    }
    return o;
}

static xmpp_tls_config *make_tls(xmpp_ctx *ctx, const char *cafile) {
    xmpp_tls_config *cfg = NULL;
    int rc;
    if ((rc = xmpp_tls_config_new(&cfg, ctx)) != XMPP_OK ||
        (rc = xmpp_tls_config_add_cafile(cfg, cafile)) != XMPP_OK)
        fail("tls config", rc);
    return cfg;
}

int main(int argc, char **argv) {
    const char *prog = "conn_libxmpp";
    xmpp_allocator al = {a_malloc, a_realloc, a_free, NULL};
    xmpp_ctx *ctx = NULL;
    const char *mode, *host, *jid, *pw;
    unsigned port;
    int rc;

    if (argc < 7)
        conn_usage(prog);
    mode = argv[1];
    host = argv[2];
    port = (unsigned)conn_ulong(argv[3], prog);
    jid = argv[4];
    pw = argv[5];
    if ((rc = xmpp_ctx_new(&ctx, &al)) != XMPP_OK)
        fail("context", rc);

    if ((strcmp(mode, "login") == 0 || strcmp(mode, "login-sasl2") == 0 ||
         strcmp(mode, "login-fast") == 0) &&
        argc == 8) {
        unsigned long n = conn_ulong(argv[7], prog), i, tmin = ~0ul, tmax = 0;
        double *ms = calloc(n ? n : 1, sizeof *ms), t0, sum = 0;
        xmpp_tls_config *cfg = make_tls(ctx, argv[6]);
        xmpp_session_options *o = make_options(ctx, jid, pw, cfg, "SCRAM-SHA-1");
        const char *mech = "?";
        unsigned flags = 0;
        const char *ws_url = getenv("CONN_WS_URL"); /* XMPP over WebSocket (RFC 7395) */
        if (ws_url != NULL && *ws_url != '\0' &&
            ((rc = xmpp_session_options_set_websocket(o, ws_url)) != XMPP_OK ||
             (rc = xmpp_session_options_allow_plaintext(o, strncmp(ws_url, "ws:", 3) == 0)) !=
                 XMPP_OK))
            fail("websocket url", rc);
        if ((rc = xmpp_session_options_set_sasl2(o, strcmp(mode, "login") != 0)) != XMPP_OK ||
            (rc = xmpp_session_options_set_user_agent(o, BENCH_UA, "conn_libxmpp", NULL)) !=
                XMPP_OK)
            fail("options", rc);
        if (strcmp(mode, "login-fast") == 0) {
            /* the token, from one password login (not measured) */
            login_state st;
            xmpp_client *c;
            if ((rc = xmpp_session_options_set_fast(o, on_token, NULL)) != XMPP_OK)
                fail("options", rc);
            c = login(ctx, o, &st, host, port, 0, &t0);
            close_client(c, &st);
            if (fast_token[0] == '\0') {
                fprintf(stderr, "conn_libxmpp: the server gave no FAST token\n");
                exit(1);
            }
            xmpp_session_options_free(o);
            if ((rc = xmpp_session_options_new(&o, ctx)) != XMPP_OK ||
                (rc = xmpp_session_options_set_jid(o, jid)) != XMPP_OK ||
                (rc = xmpp_session_options_set_tls_config(o, cfg)) != XMPP_OK ||
                (rc = xmpp_session_options_set_user_agent(o, BENCH_UA, "conn_libxmpp", NULL)) !=
                    XMPP_OK ||
                (rc = xmpp_session_options_set_fast(o, on_token, NULL)) != XMPP_OK ||
                (rc = xmpp_session_options_set_fast_token(o, "HT-SHA-256-NONE", fast_token,
                                                          fast_expiry)) != XMPP_OK)
                fail("options", rc);
        }
        for (i = 0; i < n; i++) {
            login_state st;
            unsigned long trips = rt_trips;
            xmpp_client *c = login(ctx, o, &st, host, port, 0, &t0);
            trips = rt_trips - trips;
            ms[i] = (st.t_ready - t0) * 1e3;
            sum += ms[i];
            mech = xmpp_session_mechanism(xmpp_client_session(c));
            flags = xmpp_session_login_flags(xmpp_client_session(c));
            if (trips < tmin)
                tmin = trips;
            if (trips > tmax)
                tmax = trips;
            close_client(c, &st);
        }
        printf("RESULT bench=libxmpp mode=%s logins=%lu mech=%s login_flags=%u total_ms=%.3f",
               mode, n, mech ? mech : "?", flags, sum);
        printf(" median_ms=%.3f trips_min=%lu trips_max=%lu\n", median(ms, n),
               n ? tmin : 0, n ? tmax : 0);
        xmpp_session_options_free(o);
        xmpp_tls_config_unref(cfg);
        free(ms);
    } else if (strcmp(mode, "ingest") == 0 && argc == 7) {
        unsigned long expect = conn_ulong(argv[6], prog);
        xmpp_session_options *o = make_options(ctx, jid, pw, NULL, "PLAIN");
        login_state st;
        double t0, t1, limit;
        xmpp_client *c = login(ctx, o, &st, host, port, 1, &t0);
        limit = conn_now() + 600;
        while (!st.closed && conn_now() < limit)
            if (xmpp_client_run_once(c, 100) == XMPP_ERR_CLOSED)
                break;
        t1 = conn_now();
        if (st.messages != expect) {
            fprintf(stderr, "conn_libxmpp: %lu messages, expected %lu\n", st.messages, expect);
            return 1;
        }
        printf("RESULT bench=libxmpp mode=ingest stanzas=%lu seconds=%.6f stanzas_per_s=%.0f\n",
               st.messages, t1 - st.t_ready,
               t1 > st.t_ready ? (double)st.messages / (t1 - st.t_ready) : 0);
        xmpp_client_free(c);
        xmpp_session_options_free(o);
    } else if (strcmp(mode, "idle") == 0 && argc == 8) {
        unsigned long n = conn_ulong(argv[7], prog), i;
        xmpp_client **cs = calloc(n ? n : 1, sizeof *cs);
        login_state *sts = calloc(n ? n : 1, sizeof *sts);
        xmpp_tls_config *cfg = make_tls(ctx, argv[6]);
        xmpp_session_options *o = make_options(ctx, jid, pw, cfg, "SCRAM-SHA-1");
        size_t heap0 = 0, rss0 = 0, own0 = 0, heap1, rss1, own1;
        double t0;
        if (n < 2)
            conn_usage(prog);
        for (i = 0; i < n; i++) {
            cs[i] = login(ctx, o, &sts[i], host, port, 0, &t0);
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
            if (xmpp_session_get_state(xmpp_client_session(cs[i])) != XMPP_STATE_READY) {
                fprintf(stderr, "conn_libxmpp: connection %lu is not ready\n", i);
                return 1;
            }
        printf("RESULT bench=libxmpp mode=idle conns=%lu heap_per_conn=%.0f"
               " rss_per_conn=%.0f own_per_conn=%.0f heap_total=%zu rss_total=%zu\n",
               n, ((double)heap1 - (double)heap0) / (double)(n - 1),
               ((double)rss1 - (double)rss0) / (double)(n - 1),
               ((double)own1 - (double)own0) / (double)(n - 1), heap1, rss1);
        fflush(stdout);
        for (i = 0; i < n; i++)
            xmpp_client_free(cs[i]);
        xmpp_session_options_free(o);
        xmpp_tls_config_unref(cfg);
        free(cs);
        free(sts);
    } else {
        conn_usage(prog);
    }
    xmpp_ctx_free(ctx);
    return 0;
}
