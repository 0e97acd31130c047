/* mam_muc_client: a room's archive (XEP-0313 §6 with XEP-0045) against a
 * real server (run by tests/integration/mam.sh against Prosody and
 * ejabberd).
 *
 *   mam_muc_client HOST PORT CAFILE MUC_DOMAIN ALICE_JID ALICE_PASSWORD BOB_JID BOB_PASSWORD
 *
 * HOST is an IP literal. Steps, each printed as "ok: ..." or "FAIL: ...":
 *   1. alice creates a fresh room on MUC_DOMAIN (an instant room: both
 *      servers archive rooms by default) and bob joins it;
 *   2. alice posts 5 numbered groupchat messages; bob sees them live, each
 *      with a XEP-0359 stanza-id set by the room;
 *   3. bob queries the room archive (the IQ to the room) forwards in pages
 *      of 2 (2+2+1, complete at the end): the 5 bodies in order, each once,
 *      from the room JID with alice's nick, stamps valid, not decreasing and
 *      within the run, archive ids equal to the live stanza-ids by the room;
 *      then backwards from the end: the newest 2, then the 2 before;
 *   4. catch-up: alice posts one more; bob asks for what follows the last
 *      id he paged to and gets exactly that message, complete.
 * Exit status 0 when every step passed, 1 otherwise. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <xmpp/xmpp.h>
#include <xmpp/xep/mam.h>
#include <xmpp/xep/muc.h>
#include <xmpp/xep/sid.h>

/* NFIRST messages first, then one more (the catch-up) */
#define NFIRST 5
#define NMSG 6

typedef struct state {
    int ready, closed, joins, join_ok, iq_done;
    unsigned join_bits;
    xmpp_iq_status iq_status;
    /* bob: live groupchat messages with the tag and their stanza-ids */
    int live;
    char live_sid[NMSG][128];
    /* bob: archive pages */
    char page[512];
    int page_n, page_done, complete, stamps_ok, from_ok;
    int64_t last_stamp;
    char first[128], last[128];
    char result_ids[NMSG][128];
} state;

static int failures;
static xmpp_ctx *g_ctx;
static char tag[32];
static char room[300];
static int64_t t_start, t_end;
static xmpp_client *clients[2];
static state *states[2];

static void check(int ok, const char *what) {
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
    (void)jid;
    st->ready++;
}

static void on_closed(xmpp_session *s, xmpp_disconnect_cause cause, void *ud) {
    state *st = ud;
    (void)s;
    (void)cause;
    st->closed++;
}

static void on_join(xmpp_session *s, const char *r, xmpp_muc_join_status status,
                    xmpp_stanza_condition cond, const char *text, unsigned bits, void *ud) {
    state *st = ud;
    (void)s;
    (void)r;
    (void)cond;
    if (status != XMPP_MUC_JOIN_OK)
        fprintf(stderr, "mam_muc_client: join failed (%d): %s\n", (int)status, text ? text : "");
    st->joins++;
    st->join_ok = status == XMPP_MUC_JOIN_OK;
    st->join_bits = bits;
}

static void on_iq(xmpp_session *s, xmpp_iq_status status, xmpp_stanza *reply, void *ud) {
    state *st = ud;
    (void)s;
    (void)reply;
    st->iq_done++;
    st->iq_status = status;
}

/* bob: the live groupchat messages "TAG gN" and the room's stanza-id */
static void on_room_message(xmpp_session *s, const char *r, const char *nick, const char *body,
                            int is_private, int delayed, xmpp_stanza *m, void *ud) {
    state *st = ud;
    int n;
    (void)s;
    (void)nick;
    if (is_private || delayed || strcmp(r, room) != 0 || !body ||
        strncmp(body, tag, strlen(tag)) != 0 || sscanf(body + strlen(tag), " g%d", &n) != 1 ||
        n < 0 || n >= NMSG)
        return;
    {
        const char *sid = xmpp_sid_stanza_id(m, room);
        snprintf(st->live_sid[n], sizeof(st->live_sid[n]), "%s", sid ? sid : "");
    }
    st->live++;
}

static void on_result(xmpp_session *s, const xmpp_mam_result *r, void *ud) {
    state *st = ud;
    xmpp_stanza *m = xmpp_mam_result_message(r);
    const char *from = xmpp_stanza_from(m);
    char *b = NULL;
    int64_t t = 0;
    int n;
    size_t l = strlen(st->page), rl = strlen(room);
    (void)s;
    xmpp_stanza_text(xmpp_stanza_child(m, "body", NULL), &b, NULL);
    if (xmpp_mam_result_stamp(r, &t) != XMPP_OK || t < t_start - 2 || t > t_end + 2 ||
        t < st->last_stamp)
        st->stamps_ok = 0;
    st->last_stamp = t;
    if (b && strncmp(b, tag, strlen(tag)) == 0 && sscanf(b + strlen(tag), " g%d", &n) == 1 &&
        n >= 0 && n < NMSG) {
        snprintf(st->page + l, sizeof(st->page) - l, "g%d ", n);
        snprintf(st->result_ids[n], sizeof(st->result_ids[n]), "%s", xmpp_mam_result_id(r));
        if (!from || strncmp(from, room, rl) != 0 || strcmp(from + rl, "/alice") != 0 ||
            strcmp(xmpp_stanza_attr(m, "type") ? xmpp_stanza_attr(m, "type") : "", "groupchat"))
            st->from_ok = 0;
    } else {
        snprintf(st->page + l, sizeof(st->page) - l, "? ");
    }
    st->page_n++;
    xmpp_free(g_ctx, b);
}

static void on_done(xmpp_session *s, xmpp_iq_status status, const xmpp_mam_fin *fin,
                    xmpp_stanza *error, void *ud) {
    state *st = ud;
    (void)s;
    (void)error;
    st->page_done++;
    st->iq_status = status;
    st->complete = fin ? xmpp_mam_fin_complete(fin) : 0;
    snprintf(st->first, sizeof(st->first), "%s",
             fin && xmpp_mam_fin_first(fin) ? xmpp_mam_fin_first(fin) : "");
    snprintf(st->last, sizeof(st->last), "%s",
             fin && xmpp_mam_fin_last(fin) ? xmpp_mam_fin_last(fin) : "");
}

/* Runs both clients until *flag reaches want (or 10 s pass). */
static int run_until(const int *flag, int want) {
    double limit = now_s() + 10;
    int i;
    while (*flag < want && now_s() < limit)
        for (i = 0; i < 2; i++)
            xmpp_client_run_once(clients[i], 5);
    return *flag >= want;
}

static void settle(double secs) {
    double limit = now_s() + secs;
    int i;
    while (now_s() < limit)
        for (i = 0; i < 2; i++)
            xmpp_client_run_once(clients[i], 5);
}

static const xmpp_muc_callbacks CBS = {NULL, on_room_message, NULL, NULL, NULL};

static xmpp_client *make_client(xmpp_ctx *ctx, const char *host, unsigned port,
                                xmpp_tls_config *cfg, const char *jid, const char *password,
                                state *st) {
    xmpp_session_options *o = NULL;
    xmpp_client *c = NULL;
    int rc;
    memset(st, 0, sizeof(*st));
    st->stamps_ok = 1;
    st->from_ok = 1;
    if ((rc = xmpp_session_options_new(&o, ctx)) != XMPP_OK ||
        (rc = xmpp_session_options_set_jid(o, jid)) != XMPP_OK ||
        (rc = xmpp_session_options_set_password(o, password)) != XMPP_OK ||
        (rc = xmpp_session_options_set_tls_config(o, cfg)) != XMPP_OK ||
        (rc = xmpp_session_options_enable_plugin(o, "muc")) != XMPP_OK ||
        (rc = xmpp_session_options_enable_plugin(o, "mam")) != XMPP_OK ||
        (rc = xmpp_session_options_set_callbacks(o, on_ready, on_closed, st)) != XMPP_OK ||
        (rc = xmpp_client_new(&c, ctx, o)) != XMPP_OK ||
        (rc = xmpp_client_set_server(c, host, port)) != XMPP_OK ||
        (rc = xmpp_muc_set_callbacks(xmpp_client_session(c), &CBS, st)) != XMPP_OK ||
        (rc = xmpp_client_connect(c)) != XMPP_OK) {
        fprintf(stderr, "mam_muc_client: setting up: %s\n", xmpp_strerror(rc));
        exit(1);
    }
    xmpp_session_options_free(o);
    return c;
}

/* One page of the room archive, queried by bob. */
static void fetch(state *b, unsigned max, xmpp_mam_dir dir, const char *id) {
    xmpp_mam_query *q = NULL;
    int want = b->page_done + 1;
    b->page[0] = '\0';
    b->page_n = 0;
    b->last_stamp = 0;
    if (xmpp_mam_query_new(&q, g_ctx) != XMPP_OK || xmpp_mam_query_set_archive(q, room) != XMPP_OK ||
        xmpp_mam_query_set_page(q, max, dir, id) != XMPP_OK ||
        xmpp_mam_fetch(xmpp_client_session(clients[1]), q, 10000, on_result, on_done, b) !=
            XMPP_OK)
        check(0, "sending a MAM query to the room");
    xmpp_mam_query_free(q);
    run_until(&b->page_done, want);
}

int main(int argc, char **argv) {
    xmpp_ctx *ctx = NULL;
    xmpp_tls_config *cfg = NULL;
    xmpp_muc_history none = {0, -1, -1, NULL};
    state a, b;
    char buf[128];
    unsigned port;
    int i, ok;
    if (argc != 9) {
        fprintf(stderr,
                "usage: %s HOST PORT CAFILE MUC_DOMAIN ALICE_JID ALICE_PASSWORD BOB_JID "
                "BOB_PASSWORD\n",
                argv[0]);
        return 2;
    }
    port = (unsigned)strtoul(argv[2], NULL, 10);
    snprintf(tag, sizeof(tag), "r%ld-%d", (long)time(NULL), (int)(now_s() * 1000) % 100000);
    snprintf(room, sizeof(room), "arch%s@%s", tag + 1, argv[4]);
    if (xmpp_ctx_new(&ctx, NULL) != XMPP_OK || (g_ctx = ctx) == NULL ||
        xmpp_tls_config_new(&cfg, ctx) != XMPP_OK ||
        xmpp_tls_config_use_system_trust(cfg, 0) != XMPP_OK ||
        xmpp_tls_config_add_cafile(cfg, argv[3]) != XMPP_OK) {
        fprintf(stderr, "mam_muc_client: TLS configuration failed\n");
        return 1;
    }
    clients[0] = make_client(ctx, argv[1], port, cfg, argv[5], argv[6], &a);
    clients[1] = make_client(ctx, argv[1], port, cfg, argv[7], argv[8], &b);
    states[0] = &a;
    states[1] = &b;
    ok = run_until(&a.ready, 1) && run_until(&b.ready, 1);
    check(ok, "alice and bob logged in");
    if (!ok)
        return 1;

    /* 1. the room */
    t_start = (int64_t)time(NULL);
    ok = xmpp_muc_join(xmpp_client_session(clients[0]), room, "alice", NULL, &none, 10000,
                       on_join, &a) == XMPP_OK &&
         run_until(&a.joins, 1) && a.join_ok;
    check(ok && (a.join_bits & XMPP_MUC_STATUS_CREATED), "alice created the room");
    if (!ok)
        return 1;
    if (a.join_bits & XMPP_MUC_STATUS_CREATED) {
        xmpp_muc_instant_room(xmpp_client_session(clients[0]), room, on_iq, &a);
        check(run_until(&a.iq_done, 1) && a.iq_status == XMPP_IQ_RESULT,
              "the room is configured (instant room)");
    }
    ok = xmpp_muc_join(xmpp_client_session(clients[1]), room, "bob", NULL, &none, 10000, on_join,
                       &b) == XMPP_OK &&
         run_until(&b.joins, 1) && b.join_ok;
    check(ok, "bob joined the room");
    if (!ok)
        return 1;

    /* 2. alice posts */
    for (i = 0; i < NFIRST; i++) {
        snprintf(buf, sizeof(buf), "%s g%d", tag, i);
        if (xmpp_muc_send(xmpp_client_session(clients[0]), room, buf, NULL, 0) != XMPP_OK)
            check(0, "sending a groupchat message");
    }
    check(run_until(&b.live, NFIRST), "bob received the 5 groupchat messages live");
    settle(0.5); /* archived */
    t_end = (int64_t)time(NULL);
    {
        int have_sid = 1;
        for (i = 0; i < NFIRST; i++)
            have_sid &= b.live_sid[i][0] != '\0';
        check(have_sid, "each live groupchat message carries a stanza-id by the room (XEP-0359)");
    }

    /* 3. the room archive, forwards in pages of 2 */
    char after[128] = "";
    {
        char all[512] = "";
        int pages = 0, maxn = 0, complete = 0;
        do {
            fetch(&b, 2, XMPP_MAM_FORWARD, after[0] ? after : NULL);
            if (b.iq_status != XMPP_IQ_RESULT)
                break;
            pages++;
            if (b.page_n > maxn)
                maxn = b.page_n;
            strncat(all, b.page, sizeof(all) - strlen(all) - 1);
            complete = b.complete;
            snprintf(after, sizeof(after), "%s", b.last);
        } while (!complete && after[0] && pages < 10);
        printf("room archive forward pages: %d, results: %s\n", pages, all);
        check(b.iq_status == XMPP_IQ_RESULT && complete,
              "room archive: forward paging ended with complete");
        check(maxn <= 2 && pages >= 3, "room archive: pages of at most 2 results, several pages");
        check(strcmp(all, "g0 g1 g2 g3 g4 ") == 0,
              "room archive: the 5 messages in order, each once, nothing else");
        check(b.stamps_ok, "room archive: every result has a valid XEP-0203 stamp within the "
                           "run, not decreasing");
        check(b.from_ok, "room archive: every result is a groupchat message from ROOM/alice");
        ok = 1;
        for (i = 0; i < NFIRST; i++)
            ok &= b.result_ids[i][0] != '\0' && strcmp(b.result_ids[i], b.live_sid[i]) == 0;
        check(ok, "room archive: archive ids equal the stanza-ids by the room seen live");
    }
    /* backwards from the end */
    fetch(&b, 2, XMPP_MAM_BACKWARD, NULL);
    printf("room archive last page: %s\n", b.page);
    check(b.iq_status == XMPP_IQ_RESULT && strcmp(b.page, "g3 g4 ") == 0,
          "room archive backward: the newest 2, in chronological order");
    fetch(&b, 2, XMPP_MAM_BACKWARD, b.first);
    printf("room archive page before: %s\n", b.page);
    check(b.iq_status == XMPP_IQ_RESULT && strcmp(b.page, "g1 g2 ") == 0,
          "room archive backward: the page before");

    /* 4. catch-up after the last id paged to */
    snprintf(buf, sizeof(buf), "%s g%d", tag, NFIRST);
    if (xmpp_muc_send(xmpp_client_session(clients[0]), room, buf, NULL, 0) != XMPP_OK)
        check(0, "sending a groupchat message");
    check(run_until(&b.live, NMSG), "bob received one more groupchat message live");
    settle(0.5);
    t_end = (int64_t)time(NULL);
    fetch(&b, 2, XMPP_MAM_FORWARD, after[0] ? after : "none");
    printf("room archive after the last id: %s\n", b.page);
    check(b.iq_status == XMPP_IQ_RESULT && strcmp(b.page, "g5 ") == 0 && b.complete &&
              b.live_sid[NFIRST][0] != '\0' &&
              strcmp(b.result_ids[NFIRST], b.live_sid[NFIRST]) == 0 && b.stamps_ok && b.from_ok,
          "room archive catch-up: after the last id paged to, exactly the new message, "
          "complete, with its live stanza-id");

    xmpp_muc_leave(xmpp_client_session(clients[1]), room, NULL);
    xmpp_muc_destroy(xmpp_client_session(clients[0]), room, NULL, NULL, NULL, NULL);
    settle(0.2);
    for (i = 0; i < 2; i++) {
        double limit = now_s() + 3;
        xmpp_client_close(clients[i]);
        while (!states[i]->closed && now_s() < limit)
            if (xmpp_client_run_once(clients[i], 20) == XMPP_ERR_CLOSED)
                break;
    }
    for (i = 0; i < 2; i++)
        xmpp_client_free(clients[i]);
    xmpp_tls_config_unref(cfg);
    xmpp_ctx_free(ctx);
    return failures ? 1 : 0;
}
