/* im-features: the instant-messaging plugins in a few lines.
 *
 *   im-features HOST PORT CAFILE JID PASSWORD PEER_JID
 *
 * Logs in (trusting only CAFILE, connecting to HOST:PORT), enables the
 * IM plugins, asks the server for its time (XEP-0202) and uptime
 * (XEP-0012), reads the own vCard (XEP-0054), then sends PEER_JID a
 * markable chat message with a chat state and a receipt request
 * (XEP-0085, XEP-0333, XEP-0184) and a reaction to it (XEP-0444), and
 * exits. Exit status 0 when the queries were answered. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <xmpp/xmpp.h>
#include <xmpp/xep/im.h>
#include <xmpp/xep/last.h>
#include <xmpp/xep/receipts.h>
#include <xmpp/xep/time.h>
#include <xmpp/xep/vcard.h>

static int ready, pending;

static void on_ready(xmpp_session *s, const char *jid, void *ud) {
    (void)s;
    (void)ud;
    printf("logged in as %s\n", jid);
    ready = 1;
}

static void on_time(xmpp_session *s, xmpp_iq_status status, int err, const xmpp_entity_time *t,
                    xmpp_stanza *reply, void *ud) {
    (void)s;
    (void)reply;
    (void)ud;
    if (t)
        printf("server time: %lld s since 1970 (UTC%+d min)\n", (long long)t->utc, t->tzo_minutes);
    else
        printf("server time: no answer (status %d, %s)\n", (int)status, xmpp_strerror(err));
    *(int *)ud = t != NULL;
    pending--;
}

static void on_last(xmpp_session *s, xmpp_iq_status status, int err, long seconds, const char *text,
                    xmpp_stanza *reply, void *ud) {
    (void)s;
    (void)text;
    (void)reply;
    (void)ud;
    if (status == XMPP_IQ_RESULT && err == XMPP_OK)
        printf("server uptime: %ld s\n", seconds);
    else
        printf("server uptime: not told (status %d)\n", (int)status);
    pending--;
}

static void on_vcard(xmpp_session *s, xmpp_iq_status status, int err, const xmpp_vcard *vc,
                     xmpp_stanza *reply, void *ud) {
    (void)s;
    (void)reply;
    (void)ud;
    if (vc)
        printf("own vCard: FN=%s, photo %lu bytes\n", vc->fn ? vc->fn : "(none)",
               (unsigned long)vc->photo_len);
    else
        printf("own vCard: none (status %d, %s)\n", (int)status, xmpp_strerror(err));
    pending--;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    static const char *const plugins[] = {"disco", "receipts", "im", "time", "last", "vcard"};
    static const char *const thumbs[] = {"\xF0\x9F\x91\x8D"};
    xmpp_ctx *ctx = NULL;
    xmpp_tls_config *cfg = NULL;
    xmpp_session_options *o = NULL;
    xmpp_client *c = NULL;
    xmpp_session *s;
    xmpp_stanza *m = NULL;
    double limit;
    int time_ok = 0;
    size_t i;
    if (argc != 7) {
        fprintf(stderr, "usage: %s HOST PORT CAFILE JID PASSWORD PEER_JID\n", argv[0]);
        return 2;
    }
    if (xmpp_ctx_new(&ctx, NULL) != XMPP_OK || xmpp_tls_config_new(&cfg, ctx) != XMPP_OK ||
        xmpp_tls_config_use_system_trust(cfg, 0) != XMPP_OK ||
        xmpp_tls_config_add_cafile(cfg, argv[3]) != XMPP_OK ||
        xmpp_session_options_new(&o, ctx) != XMPP_OK ||
        xmpp_session_options_set_jid(o, argv[4]) != XMPP_OK ||
        xmpp_session_options_set_password(o, argv[5]) != XMPP_OK ||
        xmpp_session_options_set_tls_config(o, cfg) != XMPP_OK ||
        xmpp_session_options_set_callbacks(o, on_ready, NULL, NULL) != XMPP_OK)
        return 1;
    for (i = 0; i < sizeof(plugins) / sizeof(plugins[0]); i++)
        if (xmpp_session_options_enable_plugin(o, plugins[i]) != XMPP_OK)
            return 1;
    if (xmpp_client_new(&c, ctx, o) != XMPP_OK ||
        xmpp_client_set_server(c, argv[1], (unsigned)atoi(argv[2])) != XMPP_OK ||
        xmpp_client_connect(c) != XMPP_OK)
        return 1;
    xmpp_session_options_free(o);
    limit = now_s() + 10;
    while (!ready && now_s() < limit)
        if (xmpp_client_run_once(c, 50) == XMPP_ERR_CLOSED)
            break;
    if (!ready) {
        fprintf(stderr, "im-features: login failed\n");
        return 1;
    }
    s = xmpp_client_session(c);
    /* the own domain: the part of the JID after '@' */
    {
        const char *dom = argv[4];
        while (*dom && *dom != '@')
            dom++;
        dom = *dom ? dom + 1 : argv[4];
        pending = 3;
        xmpp_time_request(s, dom, 0, on_time, &time_ok);
        xmpp_last_request(s, dom, 0, on_last, NULL);
        xmpp_vcard_request(s, NULL, 0, on_vcard, NULL);
    }
    limit = now_s() + 10;
    while (pending > 0 && now_s() < limit)
        xmpp_client_run_once(c, 50);
    /* a markable message with a chat state and a receipt request */
    xmpp_message_new(&m, ctx, "chat", argv[6], NULL, "Hello from libxmpp");
    xmpp_chatstate_add(m, XMPP_CHATSTATE_ACTIVE);
    xmpp_marker_add_markable(m);
    if (xmpp_receipts_send(s, m) == XMPP_OK)
        printf("sent message %s with a receipt request\n", xmpp_stanza_id(m));
    {
        xmpp_stanza *r = NULL;
        xmpp_message_new(&r, ctx, "chat", argv[6], NULL, NULL);
        if (xmpp_reactions_add(r, xmpp_stanza_id(m), thumbs, 1) == XMPP_OK &&
            xmpp_session_send(s, r) == XMPP_OK)
            printf("reacted to it\n");
        xmpp_stanza_unref(r);
    }
    xmpp_stanza_unref(m);
    xmpp_client_close(c);
    limit = now_s() + 3;
    while (now_s() < limit && xmpp_client_run_once(c, 50) != XMPP_ERR_CLOSED)
        ;
    xmpp_client_free(c);
    xmpp_tls_config_unref(cfg);
    xmpp_ctx_free(ctx);
    return pending == 0 && time_ok ? 0 : 1;
}
