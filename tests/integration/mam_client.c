/* mam_client: archives and carbons against a real server (run by
 * tests/integration/mam.sh against Prosody and ejabberd).
 *
 *   mam_client HOST PORT CAFILE ALICE_JID ALICE_PASSWORD BOB_JID BOB_PASSWORD
 *
 * HOST is an IP literal. Steps, each printed as "ok: ..." or "FAIL: ...":
 *   1. alice logs in twice (resources a1, a2) and bob once; the alice
 *      sessions enable carbons (XEP-0280) with the IQ;
 *   2. a1 sends bob a message: a2 gets a "sent" carbon; bob sends a1 a
 *      message: a2 gets a "received" carbon; a1 sends a private message
 *      and then a normal one: a2 gets the normal one's carbon only;
 *   3. a1 sends bob 7 numbered messages; bob reads his archive with alice
 *      (XEP-0313) forwards in pages of 3 (3+3+1, complete on the last),
 *      then backwards from the end (the newest 3 first, chronological
 *      within the page), each result with a valid XEP-0203 stamp and an
 *      archive id equal to the XEP-0359 stanza-id bob saw live.
 * Exit status 0 when every step passed, 1 otherwise. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <xmpp/xmpp.h>
#include <xmpp/xep/carbons.h>
#include <xmpp/xep/delay.h>
#include <xmpp/xep/mam.h>
#include <xmpp/xep/sid.h>

#define NMSG 7

typedef struct state {
    int ready, closed, iq_done;
    xmpp_iq_status iq_status;
    char jid[256];
    /* carbons seen (a2) */
    char carbons[2048];
    /* bob: live messages with the tag, and their stanza-ids */
    int live;
    char live_sid[NMSG][128];
    /* bob: archive pages */
    char page[1024];
    int page_n, page_done, complete, stamps_ok;
    char first[128], last[128];
    char result_ids[NMSG][128];
} state;

static int failures;
static xmpp_ctx *g_ctx;
static char tag[32];

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
    xmpp_stanza *p = NULL;
    st->ready++;
    snprintf(st->jid, sizeof(st->jid), "%s", jid);
    if (xmpp_presence_new(&p, g_ctx, NULL, NULL, NULL) == XMPP_OK)
        xmpp_session_send(s, p);
    xmpp_stanza_unref(p);
}

static void on_closed(xmpp_session *s, xmpp_disconnect_cause cause, void *ud) {
    state *st = ud;
    (void)s;
    (void)cause;
    st->closed++;
}

static char *body_of(xmpp_stanza *m) {
    char *t = NULL;
    xmpp_stanza_text(xmpp_stanza_child(m, "body", NULL), &t, NULL);
    return t;
}

/* bob: live messages "TAG n" */
static int on_message(xmpp_session *s, xmpp_stanza *m, void *ud) {
    state *st = ud;
    char *b = body_of(m);
    int n;
    if (b && strncmp(b, tag, strlen(tag)) == 0 && sscanf(b + strlen(tag), " m%d", &n) == 1 &&
        n >= 0 && n < NMSG) {
        const char *sid = xmpp_sid_archive_id(s, m);
        snprintf(st->live_sid[n], sizeof(st->live_sid[n]), "%s", sid ? sid : "");
        st->live++;
    }
    xmpp_free(g_ctx, b);
    return 1;
}

static void on_carbon(xmpp_session *s, xmpp_carbon_dir dir, xmpp_stanza *m, xmpp_stanza *c,
                      void *ud) {
    state *st = ud;
    char *b = body_of(m);
    size_t n = strlen(st->carbons);
    (void)c;
    if (b && strncmp(b, tag, strlen(tag)) == 0)
        snprintf(st->carbons + n, sizeof(st->carbons) - n, "[%s %s]",
                 dir == XMPP_CARBON_SENT ? "sent" : "received", b + strlen(tag) + 1);
    xmpp_free(g_ctx, b);
}

static void on_iq_done(xmpp_session *s, xmpp_iq_status status, void *ud) {
    state *st = ud;
    (void)s;
    st->iq_done++;
    st->iq_status = status;
}

static void on_result(xmpp_session *s, const xmpp_mam_result *r, void *ud) {
    state *st = ud;
    char *b = body_of(xmpp_mam_result_message(r));
    int64_t t = 0;
    int n;
    size_t l = strlen(st->page);
    if (xmpp_mam_result_stamp(r, &t) != XMPP_OK || t < 1700000000)
        st->stamps_ok = 0;
    if (b && strncmp(b, tag, strlen(tag)) == 0 && sscanf(b + strlen(tag), " m%d", &n) == 1 &&
        n >= 0 && n < NMSG) {
        snprintf(st->page + l, sizeof(st->page) - l, "m%d ", n);
        snprintf(st->result_ids[n], sizeof(st->result_ids[n]), "%s", xmpp_mam_result_id(r));
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
    st->complete = xmpp_mam_fin_complete(fin);
    snprintf(st->first, sizeof(st->first), "%s",
             xmpp_mam_fin_first(fin) ? xmpp_mam_fin_first(fin) : "");
    snprintf(st->last, sizeof(st->last), "%s",
             xmpp_mam_fin_last(fin) ? xmpp_mam_fin_last(fin) : "");
}

static xmpp_client *clients[3];
static state *states[3];

/* Runs every client until *flag reaches want (or 10 s pass). */
static int run_until(const int *flag, int want) {
    double limit = now_s() + 10;
    int i;
    while (*flag < want && now_s() < limit)
        for (i = 0; i < 3; i++)
            if (clients[i])
                xmpp_client_run_once(clients[i], 5);
    return *flag >= want;
}

static void settle(double secs) {
    double limit = now_s() + secs;
    int i;
    while (now_s() < limit)
        for (i = 0; i < 3; i++)
            xmpp_client_run_once(clients[i], 5);
}

static xmpp_client *make_client(xmpp_ctx *ctx, const char *host, unsigned port,
                                xmpp_tls_config *cfg, const char *jid, const char *password,
                                state *st) {
    xmpp_session_options *o = NULL;
    xmpp_client *c = NULL;
    int rc;
    memset(st, 0, sizeof(*st));
    st->stamps_ok = 1;
    if ((rc = xmpp_session_options_new(&o, ctx)) != XMPP_OK ||
        (rc = xmpp_session_options_set_jid(o, jid)) != XMPP_OK ||
        (rc = xmpp_session_options_set_password(o, password)) != XMPP_OK ||
        (rc = xmpp_session_options_set_tls_config(o, cfg)) != XMPP_OK ||
        (rc = xmpp_session_options_enable_plugin(o, "carbons")) != XMPP_OK ||
        (rc = xmpp_session_options_enable_plugin(o, "mam")) != XMPP_OK ||
        (rc = xmpp_session_options_set_callbacks(o, on_ready, on_closed, st)) != XMPP_OK ||
        (rc = xmpp_client_new(&c, ctx, o)) != XMPP_OK ||
        (rc = xmpp_client_set_server(c, host, port)) != XMPP_OK ||
        (rc = xmpp_session_add_handler(xmpp_client_session(c), "message", NULL, NULL, on_message,
                                       st, NULL)) != XMPP_OK ||
        (rc = xmpp_carbons_set_handler(xmpp_client_session(c), on_carbon, st)) != XMPP_OK ||
        (rc = xmpp_client_connect(c)) != XMPP_OK) {
        fprintf(stderr, "mam_client: setting up: %s\n", xmpp_strerror(rc));
        exit(1);
    }
    xmpp_session_options_free(o);
    return c;
}

static void send_msg(xmpp_client *c, const char *to, const char *text, int private_) {
    xmpp_session *s = xmpp_client_session(c);
    xmpp_stanza *m = NULL;
    char body[128];
    snprintf(body, sizeof(body), "%s %s", tag, text);
    if (xmpp_message_new(&m, g_ctx, "chat", to, NULL, body) != XMPP_OK ||
        (private_ && xmpp_carbons_mark_private(m) != XMPP_OK) ||
        xmpp_session_send(s, m) != XMPP_OK)
        check(0, "sending a message");
    xmpp_stanza_unref(m);
}

/* One page of bob's archive with alice; returns the results as "mN ...". */
static void fetch(state *b, const char *with, unsigned max, xmpp_mam_dir dir, const char *id,
                  int64_t start) {
    xmpp_mam_query *q = NULL;
    int want = b->page_done + 1;
    b->page[0] = '\0';
    b->page_n = 0;
    if (xmpp_mam_query_new(&q, g_ctx) != XMPP_OK ||
        xmpp_mam_query_set_with(q, with) != XMPP_OK ||
        xmpp_mam_query_set_time(q, start, -1) != XMPP_OK ||
        xmpp_mam_query_set_page(q, max, dir, id) != XMPP_OK ||
        xmpp_mam_fetch(xmpp_client_session(clients[2]), q, 10000, on_result, on_done, b) !=
            XMPP_OK)
        check(0, "sending a MAM query");
    xmpp_mam_query_free(q);
    run_until(&b->page_done, want);
}

int main(int argc, char **argv) {
    xmpp_ctx *ctx = NULL;
    xmpp_tls_config *cfg = NULL;
    state a1, a2, b;
    char a1full[300], bare[256], buf[256];
    unsigned port;
    int i, ok;
    int64_t start;
    if (argc != 8) {
        fprintf(stderr, "usage: %s HOST PORT CAFILE ALICE_JID ALICE_PASSWORD BOB_JID BOB_PASSWORD\n",
                argv[0]);
        return 2;
    }
    port = (unsigned)strtoul(argv[2], NULL, 10);
    snprintf(tag, sizeof(tag), "t%ld-%d", (long)time(NULL), (int)(now_s() * 1000) % 100000);
    if (xmpp_ctx_new(&ctx, NULL) != XMPP_OK || (g_ctx = ctx) == NULL || xmpp_tls_config_new(&cfg, ctx) != XMPP_OK ||
        xmpp_tls_config_use_system_trust(cfg, 0) != XMPP_OK ||
        xmpp_tls_config_add_cafile(cfg, argv[3]) != XMPP_OK) {
        fprintf(stderr, "mam_client: TLS configuration failed\n");
        return 1;
    }
    snprintf(buf, sizeof(buf), "%s/a1", argv[4]);
    clients[0] = make_client(ctx, argv[1], port, cfg, buf, argv[5], &a1);
    snprintf(buf, sizeof(buf), "%s/a2", argv[4]);
    clients[1] = make_client(ctx, argv[1], port, cfg, buf, argv[5], &a2);
    clients[2] = make_client(ctx, argv[1], port, cfg, argv[6], argv[7], &b);
    states[0] = &a1;
    states[1] = &a2;
    states[2] = &b;
    ok = run_until(&a1.ready, 1) && run_until(&a2.ready, 1) && run_until(&b.ready, 1);
    check(ok, "alice/a1, alice/a2 and bob logged in");
    if (!ok)
        return 1;
    snprintf(a1full, sizeof(a1full), "%s", a1.jid);
    snprintf(bare, sizeof(bare), "%.*s", (int)strcspn(a1.jid, "/"), a1.jid);

    /* 1. carbons on both alice sessions */
    xmpp_carbons_enable(xmpp_client_session(clients[0]), 1, 10000, on_iq_done, &a1);
    xmpp_carbons_enable(xmpp_client_session(clients[1]), 1, 10000, on_iq_done, &a2);
    run_until(&a1.iq_done, 1);
    run_until(&a2.iq_done, 1);
    check(a1.iq_status == XMPP_IQ_RESULT && a2.iq_status == XMPP_IQ_RESULT,
          "carbons enabled on both alice sessions (XEP-0280 IQ)");
    settle(0.3);

    /* 2. sent, received, private */
    send_msg(clients[0], argv[6], "c-sent", 0);
    send_msg(clients[2], a1full, "c-received", 0);
    {
        double limit = now_s() + 10;
        while ((strstr(a2.carbons, "c-sent") == NULL || strstr(a2.carbons, "c-received") == NULL) &&
               now_s() < limit)
            settle(0.05);
    }
    check(strstr(a2.carbons, "[sent c-sent]") != NULL,
          "a2 got the sent carbon of a1's message to bob");
    check(strstr(a2.carbons, "[received c-received]") != NULL,
          "a2 got the received carbon of bob's message to a1");
    send_msg(clients[0], argv[6], "c-private", 1);
    send_msg(clients[0], argv[6], "c-after", 0);
    {
        double limit = now_s() + 10;
        while (strstr(a2.carbons, "c-after") == NULL && now_s() < limit)
            settle(0.05);
    }
    check(strstr(a2.carbons, "c-after") != NULL && strstr(a2.carbons, "c-private") == NULL,
          "a private message (XEP-0280 <private/>) is not copied");
    printf("carbons seen by a2: %s\n", a2.carbons);

    /* 3. archive: alice sends bob NMSG messages */
    start = (int64_t)time(NULL) - 120;
    for (i = 0; i < NMSG; i++) {
        snprintf(buf, sizeof(buf), "m%d", i);
        send_msg(clients[0], argv[6], buf, 0);
    }
    check(run_until(&b.live, NMSG), "bob received the 7 messages live");
    settle(0.5); /* archived */
    {
        int have_sid = 1;
        for (i = 0; i < NMSG; i++)
            have_sid &= b.live_sid[i][0] != '\0';
        check(have_sid, "each live message carries a stanza-id by bob's own account (XEP-0359)");
    }
    /* forwards, pages of 3: the tagged messages only among the others of
     * the same conversation, so filter by the first tagged result */
    {
        char all[1024] = "", after[128] = "";
        int pages = 0, maxn = 0, complete = 0;
        do {
            fetch(&b, bare, 3, XMPP_MAM_FORWARD, after[0] ? after : NULL, start);
            if (b.iq_status != XMPP_IQ_RESULT)
                break;
            pages++;
            if (b.page_n > maxn)
                maxn = b.page_n;
            strncat(all, b.page, sizeof(all) - strlen(all) - 1);
            complete = b.complete;
            snprintf(after, sizeof(after), "%s", b.last);
        } while (!complete && after[0] && pages < 20);
        printf("forward pages: %d, results: %s\n", pages, all);
        check(b.iq_status == XMPP_IQ_RESULT && complete, "forward paging ended with complete");
        check(maxn <= 3 && pages >= 3, "pages of at most 3 results, several pages");
        check(strstr(all, "m0 m1 m2 m3 m4 m5 m6 ") != NULL,
              "forward paging gave the 7 messages in order, each once");
        check(b.stamps_ok, "every result has a valid XEP-0203 stamp");
        ok = 1;
        for (i = 0; i < NMSG; i++)
            ok &= strcmp(b.result_ids[i], b.live_sid[i]) == 0;
        check(ok, "archive ids equal the stanza-ids seen live");
    }
    /* backwards from the end */
    fetch(&b, bare, 3, XMPP_MAM_BACKWARD, NULL, start);
    printf("last page: %s\n", b.page);
    check(b.iq_status == XMPP_IQ_RESULT && strcmp(b.page, "m4 m5 m6 ") == 0,
          "backward paging: the newest 3 first, in chronological order");
    fetch(&b, bare, 3, XMPP_MAM_BACKWARD, b.first, start);
    printf("page before: %s\n", b.page);
    check(b.iq_status == XMPP_IQ_RESULT && strcmp(b.page, "m1 m2 m3 ") == 0,
          "backward paging: the page before");
    /* an unknown id: servers differ (an error, or an empty page) */
    i = b.page_done;
    fetch(&b, bare, 3, XMPP_MAM_FORWARD, "no-such-archive-id", start);
    settle(0.2);
    check(b.page_done == i + 1, "a query after an unknown id completes once");
    printf("note: after an unknown id the server answered %s\n",
           b.iq_status == XMPP_IQ_ERROR ? "with an error" : "with a page");

    for (i = 0; i < 3; i++) {
        double limit = now_s() + 3;
        xmpp_client_close(clients[i]);
        while (!states[i]->closed && now_s() < limit)
            if (xmpp_client_run_once(clients[i], 20) == XMPP_ERR_CLOSED)
                break;
    }
    for (i = 0; i < 3; i++)
        xmpp_client_free(clients[i]);
    xmpp_tls_config_unref(cfg);
    xmpp_ctx_free(ctx);
    return failures ? 1 : 0;
}
