/* im_client: the IM plugins between two real accounts (run by
 * tests/integration/im.sh against Prosody and ejabberd).
 *
 *   im_client HOST PORT CAFILE JID_A PASSWORD_A JID_B PASSWORD_B
 *
 * Both accounts log in through the driver (xmpp/client.h) and run in one
 * loop. Steps, each printed as "ok: ..." or "FAIL: ...":
 *   XEP-0184 receipts to a full and to a bare JID; XEP-0085/0308/0333/
 *   0461/0428/0444/0424/0245 markup read back by the peer; XEP-0030
 *   features of the peer; XEP-0202 time and XEP-0012 last activity of the
 *   peer (refused, then revealed); XEP-0054 vCard published and read back
 *   by the peer; XEP-0153 avatar hash in directed presence.
 * Exit status 0 when every step passed, 1 otherwise. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <xmpp/xmpp.h>
#include <xmpp/xep/disco.h>
#include <xmpp/xep/im.h>
#include <xmpp/xep/last.h>
#include <xmpp/xep/receipts.h>
#include <xmpp/xep/time.h>
#include <xmpp/xep/vcard.h>

typedef struct peer {
    xmpp_client *c;
    int ready, closed;
    char jid[256];
    /* what arrived */
    int receipts;
    char receipt_id[64], receipt_from[256];
    int messages;
    xmpp_stanza *last_msg;
    int avatars;
    char avatar_hash[48], avatar_from[256];
} peer;

static int failures;
static peer A, B;
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

static void on_receipt(xmpp_session *s, const char *id, const char *from, void *ud) {
    peer *p = ud;
    (void)s;
    p->receipts++;
    snprintf(p->receipt_id, sizeof(p->receipt_id), "%s", id);
    snprintf(p->receipt_from, sizeof(p->receipt_from), "%s", from);
}

static int on_message(xmpp_session *s, xmpp_stanza *m, void *ud) {
    peer *p = ud;
    (void)s;
    /* keep the chat payloads, not the receipts themselves */
    if (xmpp_stanza_child(m, "received", XMPP_NS_RECEIPTS) && !xmpp_stanza_child(m, "body", NULL))
        return 1;
    p->messages++;
    xmpp_stanza_unref(p->last_msg);
    p->last_msg = xmpp_stanza_ref(m);
    return 1;
}

static void on_avatar(xmpp_session *s, const char *from, const char *hash, void *ud) {
    peer *p = ud;
    (void)s;
    p->avatars++;
    snprintf(p->avatar_hash, sizeof(p->avatar_hash), "%s", hash);
    snprintf(p->avatar_from, sizeof(p->avatar_from), "%s", from);
}

/* Runs both clients until *flag != from or 10 s pass. */
static int run_until(const int *flag, int from) {
    double limit = now_s() + 10;
    while (*flag == from && now_s() < limit) {
        xmpp_client_run_once(A.c, 5);
        xmpp_client_run_once(B.c, 5);
    }
    return *flag != from;
}

static const char *const plugins[] = {"disco", "receipts", "im", "time", "last", "vcard"};

static void make_client(xmpp_ctx *ctx, xmpp_tls_config *cfg, const char *host, unsigned port,
                        const char *jid, const char *pw, peer *p) {
    xmpp_session_options *o = NULL;
    size_t i;
    int rc;
    if ((rc = xmpp_session_options_new(&o, ctx)) != XMPP_OK ||
        (rc = xmpp_session_options_set_jid(o, jid)) != XMPP_OK ||
        (rc = xmpp_session_options_set_password(o, pw)) != XMPP_OK ||
        (rc = xmpp_session_options_set_tls_config(o, cfg)) != XMPP_OK ||
        (rc = xmpp_session_options_set_callbacks(o, on_ready, on_closed, p)) != XMPP_OK)
        goto fail;
    for (i = 0; i < sizeof(plugins) / sizeof(plugins[0]); i++)
        if ((rc = xmpp_session_options_enable_plugin(o, plugins[i])) != XMPP_OK)
            goto fail;
    if ((rc = xmpp_client_new(&p->c, ctx, o)) != XMPP_OK ||
        (rc = xmpp_client_set_server(p->c, host, port)) != XMPP_OK ||
        (rc = xmpp_session_add_handler(xmpp_client_session(p->c), "message", NULL, NULL, on_message,
                                       p, NULL)) != XMPP_OK ||
        (rc = xmpp_receipts_set_callback(xmpp_client_session(p->c), on_receipt, p)) != XMPP_OK ||
        (rc = xmpp_vcard_set_avatar_callback(xmpp_client_session(p->c), on_avatar, p)) != XMPP_OK)
        goto fail;
    xmpp_session_options_free(o);
    return;
fail:
    fprintf(stderr, "im_client: setting up %s: %s\n", jid, xmpp_strerror(rc));
    exit(1);
}

static xmpp_session *SA(void) {
    return xmpp_client_session(A.c);
}
static xmpp_session *SB(void) {
    return xmpp_client_session(B.c);
}

/* ---- request completions */
struct done {
    int calls, err, cond;
    xmpp_iq_status status;
    xmpp_entity_time t;
    long secs;
    int has_reactions, has_receipts;
    char fn[64], nick[64], email[64], url[64], type[32];
    size_t photo_len;
    unsigned char photo[64];
};

static void time_cb(xmpp_session *s, xmpp_iq_status st, int err, const xmpp_entity_time *t,
                    xmpp_stanza *r, void *ud) {
    struct done *d = ud;
    (void)s;
    (void)r;
    d->status = st;
    d->err = err;
    if (t)
        d->t = *t;
    d->calls++;
}

static void last_cb(xmpp_session *s, xmpp_iq_status st, int err, long secs, const char *text,
                    xmpp_stanza *r, void *ud) {
    struct done *d = ud;
    (void)s;
    (void)text;
    d->cond = -1;
    if (st == XMPP_IQ_ERROR && r) {
        xmpp_stanza_condition c;
        if (xmpp_stanza_get_error(r, &c, NULL) == XMPP_OK)
            d->cond = (int)c;
    }
    d->status = st;
    d->err = err;
    d->secs = secs;
    d->calls++;
}

static void disco_cb(xmpp_session *s, xmpp_iq_status st, const xmpp_disco_info *info,
                     xmpp_stanza *error, void *ud) {
    struct done *d = ud;
    (void)s;
    (void)error;
    d->status = st;
    if (info) {
        d->has_reactions = xmpp_disco_info_has_feature(info, XMPP_NS_REACTIONS);
        d->has_receipts = xmpp_disco_info_has_feature(info, XMPP_NS_RECEIPTS);
    }
    d->calls++;
}

static void iq_cb(xmpp_session *s, xmpp_iq_status st, xmpp_stanza *r, void *ud) {
    struct done *d = ud;
    (void)s;
    (void)r;
    d->status = st;
    d->calls++;
}

static void vcard_cb(xmpp_session *s, xmpp_iq_status st, int err, const xmpp_vcard *vc,
                     xmpp_stanza *r, void *ud) {
    struct done *d = ud;
    (void)s;
    (void)r;
    d->status = st;
    d->err = err;
    if (vc) {
        snprintf(d->fn, sizeof(d->fn), "%s", vc->fn ? vc->fn : "");
        snprintf(d->nick, sizeof(d->nick), "%s", vc->nickname ? vc->nickname : "");
        snprintf(d->email, sizeof(d->email), "%s", vc->email ? vc->email : "");
        snprintf(d->url, sizeof(d->url), "%s", vc->url ? vc->url : "");
        snprintf(d->type, sizeof(d->type), "%s", vc->photo_type ? vc->photo_type : "");
        d->photo_len = vc->photo_len;
        if (vc->photo_len <= sizeof(d->photo))
            memcpy(d->photo, vc->photo, vc->photo_len);
    }
    d->calls++;
}

static void send_presence(xmpp_session *s, const char *to, const char *hash) {
    xmpp_stanza *p = NULL;
    if (xmpp_presence_new(&p, g_ctx, NULL, to, NULL) != XMPP_OK ||
        xmpp_vcard_update_add(p, hash) != XMPP_OK || xmpp_session_send(s, p) != XMPP_OK)
        check(0, "sending presence");
    xmpp_stanza_unref(p);
}

/* Sends msg from A and waits until B's message count grows. */
static xmpp_stanza *deliver(xmpp_stanza *m) {
    int before = B.messages;
    if (xmpp_session_send(SA(), m) != XMPP_OK)
        return NULL;
    if (!run_until(&B.messages, before))
        return NULL;
    return B.last_msg;
}

int main(int argc, char **argv) {
    xmpp_ctx *ctx = NULL;
    xmpp_tls_config *cfg = NULL;
    xmpp_stanza *m = NULL, *got;
    struct done d;
    char bareB[256], bareA[256], hash[41];
    const char *str;
    unsigned port;
    double t0;
    static const unsigned char photo[] = {0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0,
                                          13,   'I', 'H', 'D', 'R',  1,    2,    3,    4, 5};
    static const char *const react[] = {"\xF0\x9F\x91\x8D", "\xF0\x9F\x8E\x89"};
    if (argc != 8) {
        fprintf(stderr, "usage: %s HOST PORT CAFILE JID_A PASSWORD_A JID_B PASSWORD_B\n", argv[0]);
        return 2;
    }
    port = (unsigned)strtoul(argv[2], NULL, 10);
    if (xmpp_ctx_new(&ctx, NULL) != XMPP_OK || xmpp_tls_config_new(&cfg, ctx) != XMPP_OK ||
        xmpp_tls_config_use_system_trust(cfg, 0) != XMPP_OK ||
        xmpp_tls_config_add_cafile(cfg, argv[3]) != XMPP_OK) {
        fprintf(stderr, "im_client: TLS configuration failed\n");
        return 1;
    }
    g_ctx = ctx;
    snprintf(bareA, sizeof(bareA), "%s", argv[4]);
    snprintf(bareB, sizeof(bareB), "%s", argv[6]);
    make_client(ctx, cfg, argv[1], port, argv[4], argv[5], &A);
    make_client(ctx, cfg, argv[1], port, argv[6], argv[7], &B);
    t0 = now_s();
    if (xmpp_client_connect(A.c) != XMPP_OK || xmpp_client_connect(B.c) != XMPP_OK)
        return 1;
    run_until(&A.ready, 0);
    run_until(&B.ready, 0);
    check(A.ready && B.ready, "both accounts logged in");
    if (!A.ready || !B.ready)
        return 1;
    printf("info: both logged in after %.0f ms\n", (now_s() - t0) * 1000);
    /* B available (bare-JID messages reach it), no avatar yet */
    send_presence(SB(), NULL, "");
    send_presence(SA(), NULL, "");

    /* ---- XEP-0184 to the full JID, then to the bare JID */
    t0 = now_s();
    xmpp_message_new(&m, ctx, "chat", B.jid, NULL, "receipt please");
    check(xmpp_receipts_send(SA(), m) == XMPP_OK, "receipt request sent to the full JID");
    run_until(&A.receipts, 0);
    check(A.receipts == 1 && strcmp(A.receipt_id, xmpp_stanza_id(m)) == 0 &&
              strcmp(A.receipt_from, B.jid) == 0,
          "XEP-0184: the peer's plugin answered, the receipt matched id and full JID");
    printf("info: receipt round trip %.1f ms\n", (now_s() - t0) * 1000);
    xmpp_stanza_unref(m);
    m = NULL;
    xmpp_message_new(&m, ctx, "chat", bareB, NULL, "receipt please, bare");
    check(xmpp_receipts_send(SA(), m) == XMPP_OK, "receipt request sent to the bare JID");
    run_until(&A.receipts, 1);
    check(A.receipts == 2 && strcmp(A.receipt_id, xmpp_stanza_id(m)) == 0,
          "XEP-0184: a receipt from a resource of the bare JID matched");
    xmpp_stanza_unref(m);
    m = NULL;

    /* ---- markup: chat state, correction, markable, reply with quote */
    xmpp_message_new(&m, ctx, "chat", B.jid, "im-2", "I agree");
    xmpp_chatstate_add(m, XMPP_CHATSTATE_ACTIVE);
    xmpp_correction_add(m, "im-1");
    xmpp_marker_add_markable(m);
    check(xmpp_reply_add(m, A.jid, "orig-1", "Shall we meet?") == XMPP_OK, "reply built");
    got = deliver(m);
    xmpp_stanza_unref(m);
    m = NULL;
    {
        xmpp_chatstate cs = 0;
        xmpp_reply rp;
        char *body = NULL;
        const char *rid = NULL;
        check(got != NULL, "the marked-up message arrived");
        check(got && xmpp_chatstate_get(got, &cs) == XMPP_OK && cs == XMPP_CHATSTATE_ACTIVE,
              "XEP-0085: chat state read back");
        check(got && xmpp_correction_get(got, &rid) == XMPP_OK && strcmp(rid, "im-1") == 0,
              "XEP-0308: correction read back");
        check(got && xmpp_marker_is_markable(got), "XEP-0333: markable read back");
        check(got && xmpp_reply_get(got, &rp) == XMPP_OK && strcmp(rp.id, "orig-1") == 0 && rp.to &&
                  strcmp(rp.to, A.jid) == 0,
              "XEP-0461: reply reference read back");
        check(got && xmpp_fallback_strip(got, XMPP_NS_REPLY, &body) == XMPP_OK &&
                  strcmp(body, "I agree") == 0,
              "XEP-0428: the quote stripped by its fallback range");
        xmpp_free(ctx, body);
    }
    /* displayed marker, reactions, /me, retraction */
    xmpp_message_new(&m, ctx, "chat", B.jid, "im-3", NULL);
    xmpp_marker_add(m, XMPP_MARKER_DISPLAYED, "im-2");
    xmpp_reactions_add(m, "im-2", react, 2);
    got = deliver(m);
    xmpp_stanza_unref(m);
    m = NULL;
    {
        xmpp_marker mk = 0;
        xmpp_reactions rx;
        const char *mid = NULL;
        check(got && xmpp_marker_get(got, &mk, &mid) == XMPP_OK && mk == XMPP_MARKER_DISPLAYED &&
                  strcmp(mid, "im-2") == 0,
              "XEP-0333: displayed marker read back");
        check(got && xmpp_reactions_get(got, &rx) == XMPP_OK && rx.count == 2 &&
                  strcmp(rx.reactions[1], react[1]) == 0 && strcmp(rx.id, "im-2") == 0,
              "XEP-0444: reactions read back");
    }
    xmpp_message_new(&m, ctx, "chat", B.jid, "im-4", "/me waves");
    got = deliver(m);
    xmpp_stanza_unref(m);
    m = NULL;
    {
        xmpp_stanza *b = got ? xmpp_stanza_child(got, "body", NULL) : NULL;
        char *text = NULL;
        const char *act = NULL;
        check(b && xmpp_stanza_text(b, &text, NULL) == XMPP_OK && xmpp_me_command(text, &act) &&
                  strcmp(act, "waves") == 0,
              "XEP-0245: /me detected");
        xmpp_free(ctx, text);
    }
    xmpp_message_new(&m, ctx, "chat", B.jid, "im-5", NULL);
    xmpp_retraction_add(m, "im-4");
    got = deliver(m);
    xmpp_stanza_unref(m);
    m = NULL;
    check(got && xmpp_retraction_get(got, &str) == XMPP_OK && strcmp(str, "im-4") == 0,
          "XEP-0424: retraction read back");

    /* ---- disco, time, last */
    memset(&d, 0, sizeof(d));
    xmpp_disco_info_request(SA(), B.jid, NULL, 0, disco_cb, &d);
    run_until(&d.calls, 0);
    check(d.status == XMPP_IQ_RESULT && d.has_reactions && d.has_receipts,
          "XEP-0030: the peer advertises reactions and receipts");
    memset(&d, 0, sizeof(d));
    xmpp_time_request(SA(), B.jid, 0, time_cb, &d);
    run_until(&d.calls, 0);
    {
        long long diff = (long long)d.t.utc - (long long)time(NULL);
        check(d.status == XMPP_IQ_RESULT && d.err == XMPP_OK && diff > -5 && diff < 5,
              "XEP-0202: the peer's time (within 5 s of ours)");
    }
    memset(&d, 0, sizeof(d));
    xmpp_time_request(SA(), strchr(bareA, '@') + 1, 0, time_cb, &d);
    run_until(&d.calls, 0);
    check(d.status == XMPP_IQ_RESULT && d.err == XMPP_OK, "XEP-0202: the server's time parsed");
    if (d.status != XMPP_IQ_RESULT || d.err != XMPP_OK)
        printf("info: server time status %d err %d\n", (int)d.status, d.err);
    memset(&d, 0, sizeof(d));
    xmpp_last_request(SA(), B.jid, 0, last_cb, &d);
    run_until(&d.calls, 0);
    if (d.status == XMPP_IQ_ERROR && d.cond == XMPP_EC_SERVICE_UNAVAILABLE) {
        /* ejabberd answers jabber:iq:last to a full JID itself unless the
         * asker has a presence subscription (XEP-0012 §5 privacy) */
        printf("info: the server refuses jabber:iq:last to a full JID without a presence "
               "subscription (ejabberd policy): XEP-0012 responder not reachable here\n");
    } else {
        check(d.status == XMPP_IQ_ERROR && d.cond == XMPP_EC_FORBIDDEN,
              "XEP-0012: idle time refused (forbidden) while not set");
        xmpp_last_set_idle_since(SB(), (int64_t)time(NULL) - 90);
        memset(&d, 0, sizeof(d));
        xmpp_last_request(SA(), B.jid, 0, last_cb, &d);
        run_until(&d.calls, 0);
        check(d.status == XMPP_IQ_RESULT && d.err == XMPP_OK && d.secs >= 90 && d.secs < 100,
              "XEP-0012: idle time revealed once set");
    }
    /* the server's uptime (a request to the domain) */
    memset(&d, 0, sizeof(d));
    xmpp_last_request(SA(), strchr(bareA, '@') + 1, 0, last_cb, &d);
    run_until(&d.calls, 0);
    check(d.status == XMPP_IQ_RESULT && d.err == XMPP_OK && d.secs >= 0,
          "XEP-0012: the server's uptime parsed");

    /* ---- vCard: publish, read back from the peer and as own */
    {
        xmpp_vcard vc;
        memset(&vc, 0, sizeof(vc));
        vc.fn = "Alice Example";
        vc.nickname = "ally";
        vc.email = "alice@example.org";
        vc.url = "https://example.org/alice";
        vc.photo_type = "image/png";
        vc.photo = photo;
        vc.photo_len = sizeof(photo);
        memset(&d, 0, sizeof(d));
        check(xmpp_vcard_publish(SA(), &vc, 0, iq_cb, &d) == XMPP_OK, "vCard publish sent");
        run_until(&d.calls, 0);
        check(d.status == XMPP_IQ_RESULT, "XEP-0054: vCard stored by the server");
        memset(&d, 0, sizeof(d));
        xmpp_vcard_request(SB(), bareA, 0, vcard_cb, &d);
        run_until(&d.calls, 0);
        check(d.status == XMPP_IQ_RESULT && d.err == XMPP_OK && strcmp(d.fn, vc.fn) == 0 &&
                  strcmp(d.nick, vc.nickname) == 0,
              "XEP-0054: the peer reads FN and NICKNAME");
        if (strcmp(d.email, vc.email) != 0 || strcmp(d.url, vc.url) != 0)
            printf("info: EMAIL/URL came back as '%s' / '%s'\n", d.email, d.url);
        check(d.photo_len == sizeof(photo) && memcmp(d.photo, photo, sizeof(photo)) == 0 &&
                  strcmp(d.type, "image/png") == 0,
              "XEP-0054: the peer reads the photo (type and bytes)");
        memset(&d, 0, sizeof(d));
        xmpp_vcard_request(SA(), NULL, 0, vcard_cb, &d);
        run_until(&d.calls, 0);
        check(d.status == XMPP_IQ_RESULT && d.err == XMPP_OK && strcmp(d.fn, vc.fn) == 0,
              "XEP-0054: own vCard read back");
    }
    /* ---- XEP-0153: directed presence with the photo hash */
    xmpp_vcard_photo_hash(photo, sizeof(photo), hash, sizeof(hash));
    B.avatars = 0;
    send_presence(SA(), B.jid, hash);
    {
        double limit = now_s() + 10;
        while (now_s() < limit && strcmp(B.avatar_hash, hash) != 0) {
            xmpp_client_run_once(A.c, 5);
            xmpp_client_run_once(B.c, 5);
        }
    }
    check(B.avatars > 0 && strcmp(B.avatar_hash, hash) == 0 &&
              strncmp(B.avatar_from, bareA, strlen(bareA)) == 0,
          "XEP-0153: the peer got the avatar hash from the presence");

    xmpp_stanza_unref(A.last_msg);
    xmpp_stanza_unref(B.last_msg);
    A.last_msg = B.last_msg = NULL;
    xmpp_client_close(A.c);
    xmpp_client_close(B.c);
    {
        double limit = now_s() + 5;
        while ((!A.closed || !B.closed) && now_s() < limit) {
            xmpp_client_run_once(A.c, 5);
            xmpp_client_run_once(B.c, 5);
        }
    }
    xmpp_client_free(A.c);
    xmpp_client_free(B.c);
    xmpp_tls_config_unref(cfg);
    xmpp_ctx_free(ctx);
    printf("%s: %d failure(s)\n", failures ? "FAIL" : "ok", failures);
    return failures ? 1 : 0;
}
