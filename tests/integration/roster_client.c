/* roster_client: roster, presence subscriptions, blocking and XEP-0077
 * against a real server (run by tests/integration/roster.sh for Prosody
 * and ejabberd). Prints "ok: ..." / "FAIL: ..." / "info: ..." lines;
 * exit 0 when every check passed.
 *
 * usage: roster_client HOST PORT CAFILE A_JID A_PW B_JID B_PW C_JID C_PW
 *        D_JID F_JID F_PW
 *   A (alice) and B (bob) subscribe to each other, A edits its roster and
 *   block list, B sends A spoofed pushes; C (carol) changes its password
 *   (and logs in with it); F (frank) cancels its registration. A ends with
 *   D in its roster (name "Dave W", groups Work and Team) for the CLI
 *   checks of the script. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <xmpp/xmpp.h>
#include <xmpp/xep/blocking.h>
#include <xmpp/xep/presence.h>
#include <xmpp/xep/register.h>
#include <xmpp/xep/roster.h>

typedef struct state {
    int ready, closed;
    xmpp_disconnect_cause cause;
    char jid[256];
    int changes, subs_in, fetched, unchanged, iq_done, avail;
    xmpp_iq_status iq_status;
    xmpp_stanza_condition cond;
    char last_sub_from[256];
    xmpp_subscription_type last_sub;
    int blocked_changes;
    int reg_calls, reg_ok;
    xmpp_stanza_condition reg_cond;
} state;

static int g_register; /* make_client: register the account before login */

static int failures;
static xmpp_client *g_all[4];
static double now_s(void);
static double g_t0;

static void check(int ok, const char *what) {
    if (getenv("ROSTER_TIMES"))
        fprintf(stderr, "%6.2f s ", now_s() - g_t0);
    printf("%s: %s\n", ok ? "ok" : "FAIL", what);
    fflush(stdout);
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

static void on_change(xmpp_session *s, xmpp_roster_change ch, const xmpp_roster_item *it,
                      void *ud) {
    (void)s;
    (void)ch;
    (void)it;
    ((state *)ud)->changes++;
}

static void on_sub(xmpp_session *s, const char *from, xmpp_subscription_type t,
                   const xmpp_stanza *p, void *ud) {
    state *st = ud;
    (void)s;
    (void)p;
    st->subs_in++;
    st->last_sub = t;
    snprintf(st->last_sub_from, sizeof(st->last_sub_from), "%s", from);
}

static void on_avail(xmpp_session *s, const char *jid, int available,
                     const xmpp_presence_info *in, void *ud) {
    (void)s;
    (void)jid;
    (void)in;
    if (available)
        ((state *)ud)->avail++;
}

static void on_block(xmpp_session *s, int blocked, const char *jid, void *ud) {
    (void)s;
    (void)blocked;
    (void)jid;
    ((state *)ud)->blocked_changes++;
}

static void on_reg(xmpp_session *s, int ok, xmpp_stanza_condition cond, const char *text,
                   void *ud) {
    state *st = ud;
    (void)s;
    (void)text;
    st->reg_calls++;
    st->reg_ok = ok;
    st->reg_cond = cond;
}

static void on_fetch(xmpp_session *s, xmpp_iq_status status, int unchanged, void *ud) {
    state *st = ud;
    (void)s;
    st->fetched++;
    st->iq_status = status;
    st->unchanged = unchanged;
}

static void on_done(xmpp_session *s, xmpp_iq_status status, xmpp_stanza *reply, void *ud) {
    state *st = ud;
    (void)s;
    st->iq_done++;
    st->iq_status = status;
    st->cond = 0;
    if (status == XMPP_IQ_ERROR)
        (void)xmpp_stanza_get_error(reply, &st->cond, NULL);
}

/* Runs every client until *flag differs from `from` (or 10 s pass). */
static int run_until(const int *flag, int from) {
    double limit = now_s() + 10;
    size_t i;
    while (*flag == from && now_s() < limit)
        for (i = 0; i < 4; i++)
            if (g_all[i])
                (void)xmpp_client_run_once(g_all[i], 5);
    return *flag != from;
}

/* Runs every client for a while (to let pushes and presence settle). */
static void settle(double seconds) {
    double limit = now_s() + seconds;
    size_t i;
    while (now_s() < limit)
        for (i = 0; i < 4; i++)
            if (g_all[i])
                (void)xmpp_client_run_once(g_all[i], 10);
}

typedef struct target {
    const char *host;
    unsigned port;
    xmpp_tls_config *cfg;
} target;

static xmpp_client *make_client(xmpp_ctx *ctx, const target *t, const char *jid,
                                const char *password, state *st, int slot) {
    xmpp_session_options *o = NULL;
    xmpp_client *c = NULL;
    int rc;
    memset(st, 0, sizeof(*st));
    if ((rc = xmpp_session_options_new(&o, ctx)) != XMPP_OK ||
        (rc = xmpp_session_options_set_jid(o, jid)) != XMPP_OK ||
        (rc = xmpp_session_options_set_tls_config(o, t->cfg)) != XMPP_OK ||
        (rc = xmpp_session_options_set_password(o, password)) != XMPP_OK ||
        (rc = xmpp_session_options_set_callbacks(o, on_ready, on_closed, st)) != XMPP_OK ||
        (rc = xmpp_session_options_enable_plugin(o, "roster")) != XMPP_OK ||
        (rc = xmpp_session_options_enable_plugin(o, "presence")) != XMPP_OK ||
        (rc = xmpp_session_options_enable_plugin(o, "blocking")) != XMPP_OK ||
        (g_register && (rc = xmpp_session_options_set_register(o, NULL, on_reg, st)) != XMPP_OK) ||
        (rc = xmpp_client_new(&c, ctx, o)) != XMPP_OK ||
        (rc = xmpp_client_set_server(c, t->host, t->port)) != XMPP_OK) {
        fprintf(stderr, "roster_client: setting up: %s\n", xmpp_strerror(rc));
        exit(1);
    }
    xmpp_session_options_free(o);
    xmpp_roster_set_change_callback(xmpp_client_session(c), on_change, st);
    xmpp_presence_set_subscription_callback(xmpp_client_session(c), on_sub, st);
    xmpp_presence_set_change_callback(xmpp_client_session(c), on_avail, st);
    xmpp_blocking_set_change_callback(xmpp_client_session(c), on_block, st);
    g_all[slot] = c;
    return c;
}

/* Connects; waits for the login or the end of the connection. */
static int connect_ready(xmpp_client *c, state *st) {
    int before = st->ready, closed = st->closed;
    double limit = now_s() + 10;
    size_t i;
    if (xmpp_client_connect(c) != XMPP_OK)
        return 0;
    while (st->ready == before && st->closed == closed && now_s() < limit)
        for (i = 0; i < 4; i++)
            if (g_all[i])
                (void)xmpp_client_run_once(g_all[i], 5);
    return st->ready > before;
}

static void close_client(xmpp_client *c, state *st, int slot) {
    double limit = now_s() + 5;
    xmpp_client_close(c);
    while (!st->closed && now_s() < limit)
        if (xmpp_client_run_once(c, 50) == XMPP_ERR_CLOSED)
            break;
    xmpp_client_free(c);
    g_all[slot] = NULL;
}

/* A request, then waiting for its completion. */
#define WAIT_IQ(st, call) ((st).iq_done = 0, (call) == XMPP_OK && run_until(&(st).iq_done, 0))

int main(int argc, char **argv) {
    xmpp_ctx *ctx = NULL;
    target t;
    state a, b, c, f;
    xmpp_client *ca, *cb, *cc, *cf;
    xmpp_session *sa, *sb;
    const char *ajid, *bjid, *cjid, *djid, *fjid;
    const xmpp_roster_item *it;
    double t0 = g_t0 = now_s();
    if (argc != 13) {
        fprintf(stderr, "usage: %s HOST PORT CAFILE A_JID A_PW B_JID B_PW C_JID C_PW D_JID "
                        "F_JID F_PW\n", argv[0]);
        return 2;
    }
    ajid = argv[4], bjid = argv[6], cjid = argv[8], djid = argv[10], fjid = argv[11];
    t.host = argv[1];
    t.port = (unsigned)strtoul(argv[2], NULL, 10);
    if (xmpp_ctx_new(&ctx, NULL) != XMPP_OK || xmpp_tls_config_new(&t.cfg, ctx) != XMPP_OK ||
        xmpp_tls_config_use_system_trust(t.cfg, 0) != XMPP_OK ||
        xmpp_tls_config_add_cafile(t.cfg, argv[3]) != XMPP_OK) {
        fprintf(stderr, "roster_client: TLS configuration failed\n");
        return 1;
    }

    /* 1. both log in, fetch their rosters, send initial presence */
    ca = make_client(ctx, &t, ajid, argv[5], &a, 0);
    cb = make_client(ctx, &t, bjid, argv[7], &b, 1);
    check(connect_ready(ca, &a) && connect_ready(cb, &b), "alice and bob logged in");
    sa = xmpp_client_session(ca);
    sb = xmpp_client_session(cb);
    check(xmpp_roster_fetch(sa, 0, on_fetch, &a) == XMPP_OK && run_until(&a.fetched, 0) &&
              a.iq_status == XMPP_IQ_RESULT && xmpp_roster_count(sa) == 0,
          "alice fetched her (empty) roster");
    check(xmpp_roster_fetch(sb, 0, on_fetch, &b) == XMPP_OK && run_until(&b.fetched, 0) &&
              b.iq_status == XMPP_IQ_RESULT,
          "bob fetched his roster");
    check(xmpp_presence_send_available(sa, NULL, NULL, "alice here", 1) == XMPP_OK &&
              xmpp_presence_send_available(sb, NULL, "chat", "bob here", 5) == XMPP_OK,
          "initial presence sent");

    /* 2. alice adds bob: the result and the push */
    {
        const char *groups[] = {"Friends"};
        a.changes = 0;
        check(WAIT_IQ(a, xmpp_roster_set_item(sa, bjid, "Bob", groups, 1, 0, on_done, &a)) &&
                  a.iq_status == XMPP_IQ_RESULT,
              "roster set: the server confirmed");
        if (a.changes == 0)
            run_until(&a.changes, 0);
        it = xmpp_roster_find(sa, bjid);
        check(it && xmpp_roster_item_name(it) && strcmp(xmpp_roster_item_name(it), "Bob") == 0 &&
                  xmpp_roster_item_group_count(it) == 1 &&
                  strcmp(xmpp_roster_item_group_at(it, 0), "Friends") == 0 &&
                  xmpp_roster_item_subscription(it) == XMPP_SUBSCRIPTION_NONE,
              "roster push applied: bob is in alice's roster, name Bob, group Friends");
    }

    /* 3. subscription: alice asks, bob approves, alice sees bob */
    b.subs_in = 0;
    check(xmpp_presence_send_subscription(sa, bjid, XMPP_PRESENCE_SUBSCRIBE) == XMPP_OK &&
              run_until(&b.subs_in, 0) && b.last_sub == XMPP_PRESENCE_SUBSCRIBE &&
              strcmp(b.last_sub_from, ajid) == 0,
          "bob got alice's subscription request");
    settle(0.3);
    it = xmpp_roster_find(sa, bjid);
    check(it && xmpp_roster_item_ask(it), "alice's item shows the pending request (ask)");
    a.avail = 0;
    check(xmpp_presence_send_subscription(sb, ajid, XMPP_PRESENCE_SUBSCRIBED) == XMPP_OK,
          "bob approved");
    {
        double limit = now_s() + 10;
        while (now_s() < limit && (xmpp_presence_resource_count(sa, bjid) == 0 ||
                                   xmpp_roster_item_subscription(xmpp_roster_find(sa, bjid)) !=
                                       XMPP_SUBSCRIPTION_TO))
            settle(0.05);
    }
    it = xmpp_roster_find(sa, bjid);
    check(it && xmpp_roster_item_subscription(it) == XMPP_SUBSCRIPTION_TO &&
              !xmpp_roster_item_ask(it),
          "alice's roster: subscription to, no longer pending");
    {
        const xmpp_presence_info *in = xmpp_presence_best(sa, bjid);
        check(in && xmpp_presence_info_priority(in) == 5 && xmpp_presence_info_show(in) &&
                  strcmp(xmpp_presence_info_show(in), "chat") == 0 &&
                  xmpp_presence_info_status(in) &&
                  strcmp(xmpp_presence_info_status(in), "bob here") == 0,
              "alice tracks bob's resource: show chat, status, priority 5");
    }
    /* bob's roster got alice through the server (subscription from) */
    settle(0.3);
    it = xmpp_roster_find(sb, ajid);
    check(it && xmpp_roster_item_subscription(it) == XMPP_SUBSCRIPTION_FROM,
          "bob's roster: alice with subscription from");

    /* 4. a spoofed roster push from bob to alice's resource */
    {
        xmpp_stanza *iq = NULL, *q = NULL, *item = NULL;
        size_t before = xmpp_roster_count(sa);
        b.iq_done = 0;
        if (xmpp_iq_new(&iq, ctx, "set", a.jid, "spoof1") == XMPP_OK &&
            xmpp_stanza_add_child_new(iq, "query", XMPP_NS_ROSTER, &q) == XMPP_OK &&
            xmpp_stanza_add_child_new(q, "item", NULL, &item) == XMPP_OK &&
            xmpp_stanza_set_attr(item, "jid", "mallory@evil.example") == XMPP_OK &&
            xmpp_stanza_set_attr(item, "subscription", "both") == XMPP_OK)
            (void)xmpp_session_send_iq(sb, iq, 5000, on_done, &b);
        xmpp_stanza_unref(iq);
        check(run_until(&b.iq_done, 0) && b.iq_status == XMPP_IQ_ERROR &&
                  b.cond == XMPP_EC_SERVICE_UNAVAILABLE,
              "a roster push from bob to alice is answered with service-unavailable");
        check(xmpp_roster_count(sa) == before && !xmpp_roster_find(sa, "mallory@evil.example"),
              "alice's roster is unchanged by the spoofed push");
        b.iq_done = 0;
        iq = NULL;
        if (xmpp_iq_new(&iq, ctx, "set", a.jid, "spoof2") == XMPP_OK &&
            xmpp_stanza_add_child_new(iq, "unblock", XMPP_NS_BLOCKING, NULL) == XMPP_OK)
            (void)xmpp_session_send_iq(sb, iq, 5000, on_done, &b);
        xmpp_stanza_unref(iq);
        check(run_until(&b.iq_done, 0) && b.iq_status == XMPP_IQ_ERROR &&
                  b.cond == XMPP_EC_SERVICE_UNAVAILABLE,
              "a block list push from bob is answered with service-unavailable");
    }

    /* 5. roster versioning: a second resource with the stored roster */
    {
        int offered = xmpp_session_feature_offered(sa, "ver", XMPP_NS_ROSTER_VER);
        const char *ver = xmpp_roster_version(sa);
        printf("info: roster versioning %s; version %s\n", offered ? "offered" : "not offered",
               ver ? ver : "(none)");
        if (offered && ver) {
            state a2;
            xmpp_client *c2 = make_client(ctx, &t, ajid, argv[5], &a2, 2);
            xmpp_session *s2 = xmpp_client_session(c2);
            size_t i;
            const char *groups[XMPP_ROSTER_MAX_GROUPS];
            check(connect_ready(c2, &a2), "alice's second resource logged in");
            for (i = 0; i < xmpp_roster_count(sa); i++) {
                const xmpp_roster_item *x = xmpp_roster_item_at(sa, i);
                size_t g;
                for (g = 0; g < xmpp_roster_item_group_count(x); g++)
                    groups[g] = xmpp_roster_item_group_at(x, g);
                xmpp_roster_load_item(s2, xmpp_roster_item_jid(x), xmpp_roster_item_name(x),
                                      xmpp_roster_item_subscription(x), xmpp_roster_item_ask(x),
                                      groups, xmpp_roster_item_group_count(x));
            }
            xmpp_roster_set_version(s2, ver);
            a2.changes = 0;
            check(xmpp_roster_fetch(s2, 0, on_fetch, &a2) == XMPP_OK &&
                      run_until(&a2.fetched, 0) && a2.iq_status == XMPP_IQ_RESULT &&
                      a2.changes == 0 && xmpp_roster_find(s2, bjid) != NULL,
                  "fetch with the current version: the stored roster stands, no change");
            printf("info: the server answered %s\n",
                   a2.unchanged ? "with an empty result" : "with the full roster");
            /* an outdated version gets the roster (or the pushes) again */
            close_client(c2, &a2, 2);
        } else {
            printf("info: this server does not offer roster versioning: not tested here\n");
        }
    }

    /* 6. blocking */
    a.blocked_changes = 0;
    check(WAIT_IQ(a, xmpp_blocking_fetch(sa, 0, on_done, &a)) && a.iq_status == XMPP_IQ_RESULT &&
              xmpp_blocking_count(sa) == 0,
          "block list fetched (empty)");
    {
        const char *j[] = {cjid};
        check(WAIT_IQ(a, xmpp_blocking_block(sa, j, 1, 0, on_done, &a)) &&
                  a.iq_status == XMPP_IQ_RESULT,
              "block: the server confirmed");
        if (!xmpp_blocking_is_blocked(sa, cjid))
            run_until(&a.blocked_changes, 0);
        check(xmpp_blocking_is_blocked(sa, cjid) && xmpp_blocking_count(sa) == 1,
              "block push applied: carol is blocked");
        a.blocked_changes = 0;
        check(WAIT_IQ(a, xmpp_blocking_unblock(sa, j, 1, 0, on_done, &a)) &&
                  a.iq_status == XMPP_IQ_RESULT,
              "unblock: the server confirmed");
        if (xmpp_blocking_count(sa) != 0)
            run_until(&a.blocked_changes, 0);
        check(xmpp_blocking_count(sa) == 0, "unblock push applied");
        check(WAIT_IQ(a, xmpp_blocking_block(sa, j, 1, 0, on_done, &a)) &&
                  WAIT_IQ(a, xmpp_blocking_unblock(sa, NULL, 0, 0, on_done, &a)) &&
                  a.iq_status == XMPP_IQ_RESULT,
              "block, then unblock all: confirmed");
        settle(0.3);
        check(xmpp_blocking_count(sa) == 0, "the block list is empty after unblock all");
    }

    /* 7. removal, and the item the script's CLI check expects */
    a.changes = 0;
    check(WAIT_IQ(a, xmpp_roster_remove_item(sa, bjid, 0, on_done, &a)) &&
              a.iq_status == XMPP_IQ_RESULT,
          "roster remove: confirmed");
    if (xmpp_roster_find(sa, bjid))
        run_until(&a.changes, 0);
    check(xmpp_roster_find(sa, bjid) == NULL, "bob is gone from alice's roster (push)");
    {
        const char *groups[] = {"Work", "Team"};
        check(WAIT_IQ(a, xmpp_roster_set_item(sa, djid, "Dave W", groups, 2, 0, on_done, &a)) &&
                  a.iq_status == XMPP_IQ_RESULT,
              "dave added for the CLI check");
    }
    settle(0.2);
    close_client(cb, &b, 1);
    close_client(ca, &a, 0);

    /* 8. XEP-0077: carol changes her password and logs in with it */
    cc = make_client(ctx, &t, cjid, argv[9], &c, 0);
    check(connect_ready(cc, &c), "carol logged in");
    check(WAIT_IQ(c, xmpp_register_change_password(xmpp_client_session(cc), "pw-carol-new", 0,
                                                   on_done, &c)) &&
              c.iq_status == XMPP_IQ_RESULT,
          "password change confirmed");
    close_client(cc, &c, 0);
    cc = make_client(ctx, &t, cjid, "pw-carol-new", &c, 0);
    check(connect_ready(cc, &c), "carol logs in with the new password");
    close_client(cc, &c, 0);
    cc = make_client(ctx, &t, cjid, argv[9], &c, 0);
    check(!connect_ready(cc, &c) && c.cause == XMPP_CAUSE_SASL,
          "the old password is refused");
    xmpp_client_free(cc);
    g_all[0] = NULL;

    /* 9. frank cancels his registration */
    cf = make_client(ctx, &t, fjid, argv[12], &f, 0);
    check(connect_ready(cf, &f), "frank logged in");
    f.iq_done = 0;
    check(xmpp_register_cancel(xmpp_client_session(cf), 0, on_done, &f) == XMPP_OK &&
              (run_until(&f.iq_done, 0) || f.closed),
          "cancellation sent");
    printf("info: cancellation answer: %s\n",
           !f.iq_done ? "none yet (stream closed)"
           : f.iq_status == XMPP_IQ_RESULT ? "result"
           : f.iq_status == XMPP_IQ_CANCELLED ? "none (the server closed the stream first)"
                                              : "error or timeout");
    check((f.iq_done && f.iq_status == XMPP_IQ_RESULT) || f.closed,
          "the server accepted the cancellation");
    close_client(cf, &f, 0);
    cf = make_client(ctx, &t, fjid, argv[12], &f, 0);
    check(!connect_ready(cf, &f) && f.cause == XMPP_CAUSE_SASL,
          "frank's account is gone: login refused");
    xmpp_client_free(cf);
    g_all[0] = NULL;

    /* 10. XEP-0077 before login: a new account, then the same name again */
    {
        char newjid[128], pw[64];
        const char *domain = strchr(ajid, '@') + 1;
        snprintf(newjid, sizeof(newjid), "reg%ld-%ld@%s", (long)time(NULL) % 100000,
                 (long)getpid() % 100000, domain);
        snprintf(pw, sizeof(pw), "pw-%ld", (long)getpid());
        g_register = 1;
        cf = make_client(ctx, &t, newjid, pw, &f, 0);
        check(connect_ready(cf, &f) && f.reg_calls == 1 && f.reg_ok == 1,
              "in-band registration before login created a new account, then logged in");
        close_client(cf, &f, 0);
        cf = make_client(ctx, &t, newjid, "another-password", &f, 0);
        /* ejabberd's mod_register refuses a second registration from the
         * same address within registration_timeout (resource-constraint)
         * before it looks at the name */
        check(!connect_ready(cf, &f) && f.reg_calls == 1 && !f.reg_ok &&
                  (f.reg_cond == XMPP_EC_CONFLICT || f.reg_cond == XMPP_EC_RESOURCE_CONSTRAINT) &&
                  f.cause == XMPP_CAUSE_SASL,
              "registering the same name again is refused, and so is the wrong password");
        printf("info: second registration: condition %s\n",
               f.reg_calls ? xmpp_stanza_condition_name(f.reg_cond) : "(no callback)");
        xmpp_client_free(cf);
        g_all[0] = NULL;
        g_register = 0;
        cf = make_client(ctx, &t, newjid, pw, &f, 0);
        check(connect_ready(cf, &f) && f.reg_calls == 0, "the new account logs in without registering");
        close_client(cf, &f, 0);
    }

    printf("info: %.1f s\n", now_s() - t0);
    xmpp_tls_config_unref(t.cfg);
    xmpp_ctx_free(ctx);
    return failures ? 1 : 0;
}
