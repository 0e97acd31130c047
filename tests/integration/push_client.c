/* push_client: XEP-0357 push notifications against a real server (run by
 * tests/integration/upload.sh against Prosody with mod_cloud_notify and
 * ejabberd with mod_push).
 *
 *   push_client HOST PORT CAFILE JID PASSWORD
 *
 * Steps, each printed as "ok: ..." or "FAIL: ...": log in; the account's
 * disco#info lists urn:xmpp:push:0; enable push to a service and node
 * with a publish-options form (a secret) and disable every node of the
 * service; enable another node without a form and disable that node:
 * each IQ gets a result.
 * Exit status 0 when every step passed, 1 otherwise. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <xmpp/xmpp.h>
#include <xmpp/xep/disco.h>
#include <xmpp/xep/push.h>

typedef struct state {
    int ready, closed, done;
    xmpp_iq_status status;
    int has_push;
    char cond[64];
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
    (void)s;
    (void)jid;
    ((state *)ud)->ready = 1;
}

static void on_closed(xmpp_session *s, xmpp_disconnect_cause cause, void *ud) {
    (void)s;
    (void)cause;
    ((state *)ud)->closed = 1;
}

static void on_info(xmpp_session *s, xmpp_iq_status status, const xmpp_disco_info *info,
                    xmpp_stanza *error, void *ud) {
    state *st = ud;
    (void)s;
    (void)error;
    st->done = 1;
    st->status = status;
    st->has_push = info ? xmpp_disco_info_has_feature(info, XMPP_NS_PUSH) : 0;
}

static void on_push(xmpp_session *s, xmpp_iq_status status, xmpp_stanza *error, void *ud) {
    state *st = ud;
    xmpp_stanza_condition cond;
    (void)s;
    st->done = 1;
    st->status = status;
    st->cond[0] = '\0';
    if (error && xmpp_stanza_get_error(error, &cond, NULL) == XMPP_OK)
        snprintf(st->cond, sizeof(st->cond), "%s", xmpp_stanza_condition_name(cond));
}

/* Runs the loop until the step is done (or 10 s passed). */
static int wait_done(xmpp_client *c, state *st) {
    double until = now_s() + 10;
    while (!st->done && !st->closed && now_s() < until)
        if (xmpp_client_run_once(c, 100) == XMPP_ERR_CLOSED)
            break;
    return st->done;
}

static void step(xmpp_client *c, state *st, int rc, const char *what) {
    char line[256];
    int ok = rc == XMPP_OK && wait_done(c, st) && st->status == XMPP_IQ_RESULT;
    snprintf(line, sizeof(line), "%s (rc %d, status %d%s%s)", what, rc, (int)st->status,
             st->cond[0] ? ", " : "", st->cond);
    check(ok, line);
    st->done = 0;
    st->cond[0] = '\0';
}

int main(int argc, char **argv) {
    static const char *const vars[] = {"secret"};
    static const char *const vals[] = {"eruio234vzxc2kla-91"};
    xmpp_ctx *ctx = NULL;
    xmpp_session_options *o = NULL;
    xmpp_tls_config *cfg = NULL;
    xmpp_client *c = NULL;
    xmpp_session *s;
    state st;
    double until;
    if (argc != 6) {
        fprintf(stderr, "usage: push_client HOST PORT CAFILE JID PASSWORD\n");
        return 2;
    }
    memset(&st, 0, sizeof(st));
    if (xmpp_ctx_new(&ctx, NULL) != XMPP_OK || xmpp_session_options_new(&o, ctx) != XMPP_OK ||
        xmpp_tls_config_new(&cfg, ctx) != XMPP_OK ||
        xmpp_tls_config_add_cafile(cfg, argv[3]) != XMPP_OK ||
        xmpp_session_options_set_tls_config(o, cfg) != XMPP_OK ||
        xmpp_session_options_set_jid(o, argv[4]) != XMPP_OK ||
        xmpp_session_options_set_password(o, argv[5]) != XMPP_OK ||
        xmpp_session_options_set_callbacks(o, on_ready, on_closed, &st) != XMPP_OK ||
        xmpp_client_new(&c, ctx, o) != XMPP_OK ||
        xmpp_client_set_server(c, argv[1], (unsigned)atoi(argv[2])) != XMPP_OK) {
        fprintf(stderr, "push_client: setup failed\n");
        return 1;
    }
    xmpp_tls_config_unref(cfg);
    xmpp_session_options_free(o);
    xmpp_client_connect(c);
    until = now_s() + 15;
    while (!st.ready && !st.closed && now_s() < until)
        if (xmpp_client_run_once(c, 100) == XMPP_ERR_CLOSED)
            break;
    check(st.ready, "logged in");
    if (!st.ready)
        return 1;
    s = xmpp_client_session(c);
    step(c, &st, xmpp_disco_info_request(s, NULL, NULL, 0, on_info, &st),
         "disco#info of the account");
    check(st.has_push, "the account advertises urn:xmpp:push:0");
    /* a server may keep one registration per session (ejabberd replaces
     * it on each enable): each enable is followed by its disable */
    step(c, &st,
         xmpp_push_enable(s, "push.example.net", "yxs32uqsflafdk3iuqo", vars, vals, 1, 0, on_push,
                          &st),
         "enable with a publish-options form: result");
    step(c, &st, xmpp_push_disable(s, "push.example.net", NULL, 0, on_push, &st),
         "disable every node of the service: result");
    step(c, &st, xmpp_push_enable(s, "push.example.net", "node2", NULL, NULL, 0, 0, on_push, &st),
         "enable without a form: result");
    step(c, &st, xmpp_push_disable(s, "push.example.net", "node2", 0, on_push, &st),
         "disable one node: result");
    xmpp_client_close(c);
    until = now_s() + 2;
    while (now_s() < until && xmpp_client_run_once(c, 100) != XMPP_ERR_CLOSED)
        ;
    xmpp_client_free(c);
    xmpp_ctx_free(ctx);
    return failures ? 1 : 0;
}
