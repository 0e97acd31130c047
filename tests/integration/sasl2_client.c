/* sasl2_client: the modern login against a real server (run by
 * tests/integration/sasl2.sh against the private Prosody of
 * tests/servers/prosody.sh, which offers SASL2, Bind2, inline SM and
 * FAST).
 *
 *   sasl2_client HOST PORT CAFILE JID PASSWORD PEER_JID PEER_PASSWORD
 *
 * HOST is an IP literal (nothing resolves names). Steps, each printed as
 * "ok: ..." or "FAIL: ...":
 *   1. JID logs in with the password: SASL2 + Bind2 with SM and carbons
 *      inline, and receives a FAST token through the callback;
 *   2. a new session logs in with that token alone (no password);
 *   3. its connection is cut (shutdown(2) of the socket, no stream close);
 *      PEER sends it a message meanwhile (a libxmpp session with SASL2
 *      forbidden: the RFC 6120 path against the same server); the next
 *      connection resumes the stream inside the SASL2 authentication and
 *      receives the message;
 *   4. a wrong token is refused with the condition fast-token-rejected and
 *      the callback is told to forget it.
 * Exit status 0 when every step passed, 1 otherwise. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <xmpp/xmpp.h>

#define UA_ID "6c1e1b7e-3a57-4e0b-9d0e-5b2f7f1a9c11"

typedef struct state {
    int ready, closed, messages, tokens, forgets;
    xmpp_disconnect_cause cause;
    char token[512];
    char mech[64];
    int64_t expiry;
    char jid[256];
} state;

static int failures;

static void check(int ok, const char *what) {
    printf("%s: %s\n", ok ? "ok" : "FAIL", what);
    if (!ok)
        failures++;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void on_ready(xmpp_session *s, const char *jid, void *ud) {
    state *st = ud;
    (void)s;
    st->ready++;
    snprintf(st->jid, sizeof(st->jid), "%s", jid);
}

static void on_closed(xmpp_session *s, xmpp_disconnect_cause cause, void *ud) {
    state *st = ud;
    (void)s;
    st->closed++;
    st->cause = cause;
}

static void on_token(xmpp_session *s, const char *mech, const char *token, int64_t expiry,
                     void *ud) {
    state *st = ud;
    (void)s;
    snprintf(st->mech, sizeof(st->mech), "%s", mech);
    if (token == NULL) {
        st->forgets++;
        st->token[0] = '\0';
        return;
    }
    st->tokens++;
    snprintf(st->token, sizeof(st->token), "%s", token);
    st->expiry = expiry;
}

static int on_message(xmpp_session *s, xmpp_stanza *m, void *ud) {
    state *st = ud;
    (void)s;
    (void)m;
    st->messages++;
    return 1;
}

/* Runs the client until *flag changes (or it ends, or 15 s pass). */
static void run_until(xmpp_client *c, const int *flag, int from, const state *st) {
    double limit = now_s() + 15;
    while (*flag == from && now_s() < limit)
        if (xmpp_client_run_once(c, 50) == XMPP_ERR_CLOSED && st->closed)
            break;
}

static void close_client(xmpp_client *c, state *st) {
    double limit = now_s() + 5;
    xmpp_client_close(c);
    while (!st->closed && now_s() < limit)
        if (xmpp_client_run_once(c, 50) == XMPP_ERR_CLOSED)
            break;
    xmpp_client_free(c);
}

typedef struct target {
    const char *host;
    unsigned port;
    xmpp_tls_config *cfg;
} target;

/* A client for JID; password and token may be NULL. */
static xmpp_client *make_client(xmpp_ctx *ctx, const target *t, const char *jid,
                                const char *password, const char *token, int64_t expiry,
                                int sasl2, state *st) {
    xmpp_session_options *o = NULL;
    xmpp_client *c = NULL;
    int rc;
    memset(st, 0, sizeof(*st));
    if ((rc = xmpp_session_options_new(&o, ctx)) != XMPP_OK ||
        (rc = xmpp_session_options_set_jid(o, jid)) != XMPP_OK ||
        (rc = xmpp_session_options_set_tls_config(o, t->cfg)) != XMPP_OK ||
        (rc = xmpp_session_options_set_sasl2(o, sasl2)) != XMPP_OK ||
        (rc = xmpp_session_options_set_user_agent(o, UA_ID, "libxmpp-it", "integration")) !=
            XMPP_OK ||
        (rc = xmpp_session_options_set_carbons(o, 1)) != XMPP_OK ||
        (rc = xmpp_session_options_set_fast(o, on_token, st)) != XMPP_OK ||
        (rc = xmpp_session_options_set_callbacks(o, on_ready, on_closed, st)) != XMPP_OK ||
        (password && (rc = xmpp_session_options_set_password(o, password)) != XMPP_OK) ||
        (token && (rc = xmpp_session_options_set_fast_token(o, "HT-SHA-256-NONE", token,
                                                            expiry)) != XMPP_OK) ||
        (rc = xmpp_client_new(&c, ctx, o)) != XMPP_OK ||
        (rc = xmpp_client_set_server(c, t->host, t->port)) != XMPP_OK ||
        (rc = xmpp_session_add_handler(xmpp_client_session(c), "message", NULL, NULL, on_message,
                                       st, NULL)) != XMPP_OK) {
        fprintf(stderr, "sasl2_client: setting up: %s\n", xmpp_strerror(rc));
        exit(1);
    }
    xmpp_session_options_free(o);
    return c;
}

static const char *why(xmpp_client *c) {
    const char *text = NULL;
    xmpp_session_get_error(xmpp_client_session(c), NULL, &text);
    if (xmpp_client_error(c))
        text = xmpp_client_error(c);
    return text ? text : "?";
}

static int connect_ready(xmpp_client *c, state *st) {
    int before = st->ready;
    if (xmpp_client_connect(c) != XMPP_OK)
        return 0;
    run_until(c, &st->ready, before, st);
    if (st->ready == before)
        fprintf(stderr, "sasl2_client: not ready (cause %d): %s\n", (int)st->cause, why(c));
    return st->ready > before;
}

int main(int argc, char **argv) {
    xmpp_ctx *ctx = NULL;
    target t;
    state a, b, x;
    xmpp_client *c, *peer, *bad;
    xmpp_session *s;
    unsigned flags;
    char token[512];
    int64_t expiry;
    if (argc != 8) {
        fprintf(stderr, "usage: %s HOST PORT CAFILE JID PASSWORD PEER_JID PEER_PASSWORD\n",
                argv[0]);
        return 2;
    }
    t.host = argv[1];
    t.port = (unsigned)strtoul(argv[2], NULL, 10);
    if (xmpp_ctx_new(&ctx, NULL) != XMPP_OK || xmpp_tls_config_new(&t.cfg, ctx) != XMPP_OK ||
        xmpp_tls_config_use_system_trust(t.cfg, 0) != XMPP_OK ||
        xmpp_tls_config_add_cafile(t.cfg, argv[3]) != XMPP_OK) {
        fprintf(stderr, "sasl2_client: TLS configuration failed\n");
        return 1;
    }

    /* 1. password login: SASL2 + Bind2 (SM, carbons) + a FAST token */
    c = make_client(ctx, &t, argv[4], argv[5], NULL, 0, 1, &a);
    check(connect_ready(c, &a), "password login over SASL2");
    s = xmpp_client_session(c);
    flags = xmpp_session_login_flags(s);
    check((flags & (XMPP_LOGIN_SASL2 | XMPP_LOGIN_BIND2 | XMPP_LOGIN_SM_INLINE |
                    XMPP_LOGIN_CARBONS)) ==
              (XMPP_LOGIN_SASL2 | XMPP_LOGIN_BIND2 | XMPP_LOGIN_SM_INLINE | XMPP_LOGIN_CARBONS),
          "Bind2 bound the resource with stream management and carbons inline");
    check(!(flags & XMPP_LOGIN_FAST) && xmpp_session_mechanism(s) &&
              strncmp(xmpp_session_mechanism(s), "SCRAM-", 6) == 0,
          "authenticated with SCRAM (the password)");
    check(xmpp_session_jid(s) && strchr(xmpp_session_jid(s), '/') != NULL, "a full JID bound");
    check(a.tokens == 1 && a.token[0] && strcmp(a.mech, "HT-SHA-256-NONE") == 0 &&
              a.expiry > (int64_t)time(NULL),
          "a FAST token was delivered to the callback");
    printf("info: %s as %s, flags 0x%x, token expires %lld\n", xmpp_session_mechanism(s),
           a.jid, flags, (long long)a.expiry);
    snprintf(token, sizeof(token), "%s", a.token);
    expiry = a.expiry;
    close_client(c, &a);

    /* 2. the token alone */
    c = make_client(ctx, &t, argv[4], NULL, token, expiry, 1, &a);
    check(connect_ready(c, &a), "token login (no password)");
    s = xmpp_client_session(c);
    flags = xmpp_session_login_flags(s);
    check((flags & (XMPP_LOGIN_FAST | XMPP_LOGIN_BIND2 | XMPP_LOGIN_SM_INLINE)) ==
              (XMPP_LOGIN_FAST | XMPP_LOGIN_BIND2 | XMPP_LOGIN_SM_INLINE) &&
              xmpp_session_mechanism(s) &&
              strcmp(xmpp_session_mechanism(s), "HT-SHA-256-NONE") == 0,
          "authenticated with HT-SHA-256-NONE, bound with Bind2");
    check(xmpp_session_can_resume(s, 0), "the stream can be resumed");

    /* 3. cut the connection; the peer writes meanwhile; resume inline */
    {
        int fds[6], to, n = xmpp_client_get_pollfds(c, fds, 2, &to), i;
        for (i = 0; i < n; i++)
            shutdown(fds[i * 3], SHUT_RDWR);
        run_until(c, &a.closed, 0, &a);
        check(a.closed == 1 && a.cause != XMPP_CAUSE_LOCAL_CLOSE, "connection cut");
    }
    peer = make_client(ctx, &t, argv[6], argv[7], NULL, 0, 0, &b);
    check(connect_ready(peer, &b), "peer logs in (SASL2 forbidden: RFC 6120)");
    check(xmpp_session_login_flags(xmpp_client_session(peer)) == 0,
          "the peer's login used no SASL2");
    {
        xmpp_stanza *m = NULL;
        if (xmpp_message_new(&m, ctx, "chat", a.jid, "while-away", "sent while you were away") ==
                XMPP_OK &&
            xmpp_session_send(xmpp_client_session(peer), m) == XMPP_OK)
            xmpp_client_socket_action(peer, -1, 0);
        xmpp_stanza_unref(m);
    }
    close_client(peer, &b);
    a.closed = 0;
    check(connect_ready(c, &a), "reconnected");
    s = xmpp_client_session(c);
    flags = xmpp_session_login_flags(s);
    check(xmpp_session_resumed(s) && (flags & XMPP_LOGIN_RESUMED_INLINE) &&
              (flags & XMPP_LOGIN_FAST),
          "stream resumed inside the SASL2 authentication (with the token)");
    {
        double limit = now_s() + 5;
        while (a.messages == 0 && now_s() < limit)
            xmpp_client_run_once(c, 50);
    }
    check(a.messages >= 1, "the message sent meanwhile arrived on the resumed stream");
    check(a.ready == 2, "on_ready once per connection");
    close_client(c, &a);

    /* 4. a token the server does not know */
    bad = make_client(ctx, &t, argv[4], NULL, "secret-token:not-a-valid-one", expiry, 1, &x);
    if (xmpp_client_connect(bad) == XMPP_OK)
        run_until(bad, &x.closed, 0, &x);
    check(x.closed == 1 && x.cause == XMPP_CAUSE_SASL &&
              xmpp_session_sasl_condition(xmpp_client_session(bad)) &&
              strcmp(xmpp_session_sasl_condition(xmpp_client_session(bad)),
                     XMPP_SASL_FAST_REJECTED) == 0 &&
              x.forgets == 1,
          "a wrong token is refused as fast-token-rejected, the callback told to forget it");
    xmpp_client_free(bad);

    xmpp_tls_config_unref(t.cfg);
    xmpp_ctx_free(ctx);
    printf("sasl2_client: %s\n", failures ? "FAILED" : "all passed");
    return failures ? 1 : 0;
}
