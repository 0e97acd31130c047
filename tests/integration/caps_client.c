/* caps_client: XEP-0030 service discovery, XEP-0128 forms and XEP-0115
 * entity capabilities against a real server (run by
 * tests/integration/caps.sh against Prosody and ejabberd).
 *
 *   caps_client HOST PORT CAFILE ALICE_JID ALICE_PW BOB_JID BOB_PW
 *               MUC_DOMAIN UPLOAD_DOMAIN MAX_FILE_SIZE
 *
 * Three sessions in one loop: alice/caps-1 and alice/caps-2 (plugins disco,
 * ping, caps) and bob (disco, caps). Each session registers an observer
 * for incoming disco#info requests before its plugins are enabled, so it
 * counts the caps queries it receives (from bob) without claiming them.
 * Steps, each printed as "ok: ..." or "FAIL: ...":
 *   1. disco#items of the server lists the MUC and upload services;
 *      disco#info of the upload service has the max-file-size of its
 *      urn:xmpp:http:upload:0 form (XEP-0128), equal to MAX_FILE_SIZE.
 *   2. alice/caps-1 sends directed presence decorated with
 *      xmpp_caps_decorate() to bob: bob asks once (node#ver), verifies,
 *      caches; its callback names alice's full JID; has_feature says 1
 *      for urn:xmpp:ping and 0 for an absent feature.
 *   3. alice/caps-2 (same plugins, same ver) does the same: bob's callback
 *      fires from the cache, no query reaches caps-2, the cache stays 1.
 *   4. caps-1 enables "version" (a new ver): asked again, cache grows to 2.
 *   5. caps-2 announces a made-up ver and answers the query with features
 *      that do not hash to it (a hostile peer): bob rejects the answer
 *      (logged, not cached, no callback, not known).
 * Exit status 0 when every step passed, 1 otherwise. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <xmpp/plugin.h>
#include <xmpp/xep/caps.h>
#include <xmpp/xep/disco.h>
#include <xmpp/xmpp.h>

typedef struct peer {
    xmpp_client *c;
    int ready, closed;
    char jid[256];
    int queries;         /* disco#info requests with a node, from bob */
    int caps_calls;      /* bob: caps callback firings */
    char caps_jid[256];  /* bob: last JID the callback named */
    int cb_ping, cb_absent;
    int forge;           /* answer caps queries with made-up features */
} peer;

static int failures;
static int rejected; /* caps plugin: "does not match its caps ver" logs */
static peer A1, A2, B;
static xmpp_ctx *g_ctx;

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
    peer *p = ud;
    (void)s;
    p->ready = 1;
    snprintf(p->jid, sizeof(p->jid), "%s", jid);
}

static void on_closed(xmpp_session *s, xmpp_disconnect_cause cause, void *ud) {
    peer *p = ud;
    (void)s;
    (void)cause;
    p->closed = 1;
}

static void pump(void) {
    xmpp_client_run_once(A1.c, 3);
    xmpp_client_run_once(A2.c, 3);
    xmpp_client_run_once(B.c, 3);
}

/* Runs all clients until *flag != from or 10 s pass. */
static int run_until(const int *flag, int from) {
    double limit = now_s() + 10;
    while (*flag == from && now_s() < limit)
        pump();
    return *flag != from;
}

/* Runs all clients for ms milliseconds (to see that nothing more comes). */
static void run_for(int ms) {
    double limit = now_s() + ms / 1000.0;
    while (now_s() < limit)
        pump();
}

/* Observer of incoming disco#info requests: counts those from bob that
 * name a node (caps queries); never claims, so the disco plugin answers. */
static int on_info_get(xmpp_session *s, xmpp_stanza *st, void *ud) {
    peer *p = ud;
    xmpp_stanza *q = xmpp_stanza_child(st, "query", XMPP_NS_DISCO_INFO);
    const char *from = xmpp_stanza_from(st);
    xmpp_stanza *r = NULL, *rq = NULL, *f = NULL;
    if (!q || !xmpp_stanza_attr(q, "node") || !from || !B.jid[0] || strcmp(from, B.jid) != 0)
        return 0;
    p->queries++;
    if (!p->forge)
        return 0;
    /* a hostile peer: a result for node#ver whose features do not hash
     * to ver (only ping, no disco#info) */
    if (xmpp_iq_result_new(&r, st) == XMPP_OK &&
        xmpp_stanza_add_child_new(r, "query", XMPP_NS_DISCO_INFO, &rq) == XMPP_OK &&
        xmpp_stanza_set_attr(rq, "node", xmpp_stanza_attr(q, "node")) == XMPP_OK &&
        xmpp_stanza_add_child_new(rq, "feature", NULL, &f) == XMPP_OK &&
        xmpp_stanza_set_attr(f, "var", "urn:xmpp:ping") == XMPP_OK)
        xmpp_session_send(s, r);
    else
        check(0, "building the forged answer");
    xmpp_stanza_unref(r);
    return 1;
}

static void on_log(xmpp_log_level level, const char *area, const char *msg, void *ud) {
    (void)ud;
    if (level >= XMPP_LOG_WARN)
        fprintf(stderr, "log: %s: %s\n", area, msg);
    if (strcmp(area, "caps") == 0 && strstr(msg, "does not match its caps ver"))
        rejected++;
}

static void on_caps(xmpp_session *s, const char *jid, const xmpp_disco_info *info, void *ud) {
    peer *p = ud;
    (void)s;
    p->caps_calls++;
    snprintf(p->caps_jid, sizeof(p->caps_jid), "%s", jid);
    p->cb_ping = xmpp_disco_info_has_feature(info, "urn:xmpp:ping");
    p->cb_absent = xmpp_disco_info_has_feature(info, "urn:example:absent");
}

static void make_client(xmpp_tls_config *cfg, const char *host, unsigned port, const char *jid,
                        const char *pw, peer *p, const char *const *plugins, size_t n) {
    xmpp_session_options *o = NULL;
    xmpp_session *s;
    size_t i;
    int rc;
    if ((rc = xmpp_session_options_new(&o, g_ctx)) != XMPP_OK ||
        (rc = xmpp_session_options_set_jid(o, jid)) != XMPP_OK ||
        (rc = xmpp_session_options_set_password(o, pw)) != XMPP_OK ||
        (rc = xmpp_session_options_set_tls_config(o, cfg)) != XMPP_OK ||
        (rc = xmpp_session_options_set_callbacks(o, on_ready, on_closed, p)) != XMPP_OK ||
        (rc = xmpp_client_new(&p->c, g_ctx, o)) != XMPP_OK ||
        (rc = xmpp_client_set_server(p->c, host, port)) != XMPP_OK)
        goto fail;
    s = xmpp_client_session(p->c);
    /* the observer first: handlers of one key run in registration order */
    if ((rc = xmpp_session_add_handler(s, "iq", XMPP_NS_DISCO_INFO, "get", on_info_get, p,
                                       NULL)) != XMPP_OK)
        goto fail;
    for (i = 0; i < n; i++)
        if ((rc = xmpp_session_enable_plugin(s, plugins[i])) != XMPP_OK)
            goto fail;
    xmpp_session_options_free(o);
    return;
fail:
    fprintf(stderr, "caps_client: setting up %s: %s\n", jid, xmpp_strerror(rc));
    exit(1);
}

/* ---- request completions */
struct done {
    int calls;
    xmpp_iq_status status;
    int has_muc, has_upload;
    size_t nitems;
    int form_rc;
    char max[64];
    const char *muc, *upload;
};

static void items_cb(xmpp_session *s, xmpp_iq_status st, const xmpp_disco_items *items,
                     xmpp_stanza *error, void *ud) {
    struct done *d = ud;
    size_t i;
    (void)s;
    (void)error;
    d->status = st;
    if (items) {
        d->nitems = xmpp_disco_items_count(items);
        for (i = 0; i < d->nitems; i++) {
            const char *jid = NULL;
            if (xmpp_disco_items_at(items, i, &jid, NULL, NULL) != XMPP_OK)
                continue;
            printf("info: server item %s\n", jid);
            if (strcmp(jid, d->muc) == 0)
                d->has_muc = 1;
            if (strcmp(jid, d->upload) == 0)
                d->has_upload = 1;
        }
    }
    d->calls++;
}

static void info_cb(xmpp_session *s, xmpp_iq_status st, const xmpp_disco_info *info,
                    xmpp_stanza *error, void *ud) {
    struct done *d = ud;
    (void)s;
    (void)error;
    d->status = st;
    d->form_rc = XMPP_ERR_NOT_FOUND;
    if (info) {
        char *v = NULL;
        d->form_rc = xmpp_disco_info_form_value(info, "urn:xmpp:http:upload:0", "max-file-size", &v);
        if (d->form_rc == XMPP_OK)
            snprintf(d->max, sizeof(d->max), "%s", v);
        xmpp_free(g_ctx, v);
    }
    d->calls++;
}

/* Directed presence from p to bob, with caps; ver overrides the hash. */
static void presence_to_bob(peer *p, const char *ver) {
    xmpp_session *s = xmpp_client_session(p->c);
    xmpp_stanza *pr = NULL;
    int rc;
    if ((rc = xmpp_presence_new(&pr, g_ctx, NULL, B.jid, NULL)) == XMPP_OK &&
        (rc = xmpp_caps_decorate(s, pr)) == XMPP_OK && ver)
        rc = xmpp_stanza_set_attr(xmpp_stanza_child(pr, "c", XMPP_NS_CAPS), "ver", ver);
    if (rc == XMPP_OK)
        rc = xmpp_session_send(s, pr);
    if (rc != XMPP_OK)
        check(0, "sending decorated presence");
    xmpp_stanza_unref(pr);
}

int main(int argc, char **argv) {
    xmpp_tls_config *cfg = NULL;
    xmpp_session *sb;
    struct done d;
    char jid1[300], jid2[300];
    const char *domain;
    unsigned port;
    double t0;
    static const char *const alice_plugins[] = {"disco", "ping", "caps"};
    static const char *const bob_plugins[] = {"disco", "caps"};
    if (argc != 11) {
        fprintf(stderr,
                "usage: %s HOST PORT CAFILE ALICE_JID ALICE_PW BOB_JID BOB_PW MUC_DOMAIN "
                "UPLOAD_DOMAIN MAX_FILE_SIZE\n",
                argv[0]);
        return 2;
    }
    port = (unsigned)strtoul(argv[2], NULL, 10);
    domain = strchr(argv[4], '@') ? strchr(argv[4], '@') + 1 : argv[4];
    if (xmpp_ctx_new(&g_ctx, NULL) != XMPP_OK || xmpp_tls_config_new(&cfg, g_ctx) != XMPP_OK ||
        xmpp_tls_config_use_system_trust(cfg, 0) != XMPP_OK ||
        xmpp_tls_config_add_cafile(cfg, argv[3]) != XMPP_OK) {
        fprintf(stderr, "caps_client: TLS configuration failed\n");
        return 1;
    }
    xmpp_ctx_set_log(g_ctx, on_log, XMPP_LOG_WARN, NULL);
    snprintf(jid1, sizeof(jid1), "%s/caps-1", argv[4]);
    snprintf(jid2, sizeof(jid2), "%s/caps-2", argv[4]);
    make_client(cfg, argv[1], port, jid1, argv[5], &A1, alice_plugins, 3);
    make_client(cfg, argv[1], port, jid2, argv[5], &A2, alice_plugins, 3);
    make_client(cfg, argv[1], port, argv[6], argv[7], &B, bob_plugins, 2);
    sb = xmpp_client_session(B.c);
    if (xmpp_caps_set_callback(sb, on_caps, &B) != XMPP_OK) {
        fprintf(stderr, "caps_client: xmpp_caps_set_callback failed\n");
        return 1;
    }
    t0 = now_s();
    if (xmpp_client_connect(A1.c) != XMPP_OK || xmpp_client_connect(A2.c) != XMPP_OK ||
        xmpp_client_connect(B.c) != XMPP_OK)
        return 1;
    run_until(&A1.ready, 0);
    run_until(&A2.ready, 0);
    run_until(&B.ready, 0);
    check(A1.ready && A2.ready && B.ready, "alice (two resources) and bob logged in");
    if (!A1.ready || !A2.ready || !B.ready)
        return 1;
    printf("info: logged in after %.0f ms (%s, %s, %s)\n", (now_s() - t0) * 1000, A1.jid,
           A2.jid, B.jid);

    /* ---- 1. the server's services, the upload service's form */
    memset(&d, 0, sizeof(d));
    d.muc = argv[8];
    d.upload = argv[9];
    t0 = now_s();
    check(xmpp_disco_items_request(sb, domain, NULL, 0, items_cb, &d) == XMPP_OK,
          "disco#items request sent to the server");
    run_until(&d.calls, 0);
    check(d.calls == 1 && d.status == XMPP_IQ_RESULT, "XEP-0030: the server answered disco#items");
    check(d.has_muc, "XEP-0030: the server's items list the MUC service");
    check(d.has_upload, "XEP-0030: the server's items list the upload service");
    printf("info: disco#items round trip %.1f ms, %zu items\n", (now_s() - t0) * 1000, d.nitems);
    memset(&d, 0, sizeof(d));
    check(xmpp_disco_info_request(sb, argv[9], NULL, 0, info_cb, &d) == XMPP_OK,
          "disco#info request sent to the upload service");
    run_until(&d.calls, 0);
    check(d.calls == 1 && d.status == XMPP_IQ_RESULT,
          "XEP-0030: the upload service answered disco#info");
    check(d.form_rc == XMPP_OK && strcmp(d.max, argv[10]) == 0,
          "XEP-0128: max-file-size read from the urn:xmpp:http:upload:0 form");
    printf("info: max-file-size '%s' (expected %s), form_value rc %d\n", d.max, argv[10],
           d.form_rc);

    /* ---- 2. alice/caps-1: a real caps query, verified and cached */
    check(xmpp_caps_cache_size(sb) == 0, "bob's caps cache starts empty");
    check(xmpp_caps_has_feature(sb, A1.jid, "urn:xmpp:ping") == XMPP_ERR_NOT_FOUND,
          "XEP-0115: alice's features unknown before her presence");
    t0 = now_s();
    presence_to_bob(&A1, NULL);
    run_until(&B.caps_calls, 0);
    check(B.caps_calls == 1 && strcmp(B.caps_jid, A1.jid) == 0,
          "XEP-0115: bob's caps callback named alice's full JID");
    printf("info: presence to verified caps %.1f ms\n", (now_s() - t0) * 1000);
    check(A1.queries == 1, "XEP-0115: bob sent one disco#info (node#ver) to alice/caps-1");
    check(xmpp_caps_cache_size(sb) == 1, "XEP-0115: the verified answer is cached (1 entry)");
    check(B.cb_ping == 1 && B.cb_absent == 0, "XEP-0115: the callback's info has ping, not absent");
    check(xmpp_caps_has_feature(sb, A1.jid, "urn:xmpp:ping") == 1,
          "XEP-0115: has_feature(alice, urn:xmpp:ping) = 1");
    check(xmpp_caps_has_feature(sb, A1.jid, "urn:example:absent") == 0,
          "XEP-0115: has_feature(alice, absent feature) = 0");

    /* ---- 3. alice/caps-2, same ver: from the cache */
    presence_to_bob(&A2, NULL);
    run_until(&B.caps_calls, 1);
    check(B.caps_calls == 2 && strcmp(B.caps_jid, A2.jid) == 0,
          "XEP-0115: bob's callback named alice's second resource");
    run_for(300); /* a query, if bob sent one, would arrive in this time */
    check(A2.queries == 0 && A1.queries == 1,
          "XEP-0115: the same ver was answered from the cache (no second query)");
    check(xmpp_caps_cache_size(sb) == 1, "XEP-0115: the cache still holds 1 entry");
    check(xmpp_caps_has_feature(sb, A2.jid, "urn:xmpp:ping") == 1,
          "XEP-0115: has_feature(alice/caps-2, urn:xmpp:ping) = 1");

    /* ---- 4. caps-1 enables "version": a new ver, asked again */
    check(xmpp_session_enable_plugin(xmpp_client_session(A1.c), "version") == XMPP_OK,
          "alice/caps-1 enabled the version plugin");
    presence_to_bob(&A1, NULL);
    run_until(&B.caps_calls, 2);
    check(B.caps_calls == 3 && A1.queries == 2 && xmpp_caps_cache_size(sb) == 2,
          "XEP-0115: a changed ver is asked for and cached (2 entries)");
    check(xmpp_caps_has_feature(sb, A1.jid, "jabber:iq:version") == 1 &&
              xmpp_caps_has_feature(sb, A2.jid, "jabber:iq:version") == 0,
          "XEP-0115: the new feature is known for caps-1 only");

    /* ---- 5. a hostile peer: the answer does not hash to the ver */
    A2.forge = 1;
    presence_to_bob(&A2, "AAAAAAAAAAAAAAAAAAAAAAAAAAA=");
    run_until(&rejected, 0);
    check(A2.queries == 1, "XEP-0115: bob asked alice/caps-2 about the unknown ver");
    check(rejected == 1, "XEP-0115: bob rejected the answer that does not match its ver");
    check(B.caps_calls == 3 && xmpp_caps_cache_size(sb) == 2,
          "XEP-0115: the forged answer fired no callback and was not cached");
    check(xmpp_caps_has_feature(sb, A2.jid, "urn:xmpp:ping") == XMPP_ERR_NOT_FOUND,
          "XEP-0115: alice/caps-2's features are unknown after the bad ver");

    xmpp_client_close(A1.c);
    xmpp_client_close(A2.c);
    xmpp_client_close(B.c);
    {
        double limit = now_s() + 5;
        while ((!A1.closed || !A2.closed || !B.closed) && now_s() < limit)
            pump();
    }
    xmpp_client_free(A1.c);
    xmpp_client_free(A2.c);
    xmpp_client_free(B.c);
    xmpp_tls_config_unref(cfg);
    xmpp_ctx_free(g_ctx);
    printf("%s: %d failure(s)\n", failures ? "FAIL" : "ok", failures);
    return failures ? 1 : 0;
}
