/* XEP-0199 XMPP Ping: answers pings, sends them. Uses only the public
 * plugin interface. */
#include "core/internal.h"

#include <string.h>

#include <xmpp/session.h>
#include <xmpp/stanza.h>
#include <xmpp/sys/plugin.h>
#include <xmpp/xep/ping.h>

#include "plugin/plugin_int.h"

struct ping_state {
    unsigned long handler;
};

static int on_ping(xmpp_session *s, xmpp_stanza *st, void *ud) {
    xmpp_stanza *res = NULL;
    (void)ud;
    if (xmpp_iq_result_new(&res, st) == XMPP_OK)
        (void)xmpp_session_send(s, res);
    xmpp_stanza_unref(res);
    return 1;
}

static int ping_attach(xmpp_session *s, void **state, void *ud) {
    xmpp_ctx *ctx = xmpp_session_ctx(s);
    struct ping_state *ps = xmpp__malloc(ctx, sizeof(*ps));
    int rc;
    (void)ud;
    if (ps == NULL)
        return XMPP_ERR_NOMEM;
    rc = xmpp_session_add_handler(s, "iq", XMPP_NS_PING_XEP, "get", on_ping, ps, &ps->handler);
    if (rc != XMPP_OK) {
        xmpp_free(ctx, ps);
        return rc;
    }
    *state = ps;
    return XMPP_OK;
}

static void ping_detach(xmpp_session *s, void *state, void *ud) {
    struct ping_state *ps = state;
    (void)ud;
    xmpp_session_remove_handler(s, ps->handler);
    xmpp_free(xmpp_session_ctx(s), ps);
}

static const char *const ping_features[] = {XMPP_NS_PING_XEP, NULL};

const xmpp_plugin_desc xmpp__plugin_ping = {
    XMPP_PLUGIN_ABI_VERSION, "ping", NULL, ping_features, NULL, 0,
    ping_attach,             ping_detach, NULL};

struct ping_req {
    xmpp_ping_fn cb;
    void *ud;
};

static void ping_done(xmpp_session *s, xmpp_iq_status status, xmpp_stanza *reply, void *ud) {
    struct ping_req r = *(struct ping_req *)ud;
    (void)reply;
    xmpp_free(xmpp_session_ctx(s), ud);
    if (r.cb)
        r.cb(s, status, r.ud);
}

int xmpp_ping_send(xmpp_session *s, const char *to, unsigned timeout_ms, xmpp_ping_fn cb,
                   void *user_data) {
    xmpp_ctx *ctx = xmpp_session_ctx(s);
    xmpp_stanza *iq = NULL;
    struct ping_req *r;
    char id[32];
    int rc;
    if (s == NULL || xmpp_session_new_id(s, id, sizeof(id)) != XMPP_OK)
        return XMPP_ERR_INVALID;
    if ((rc = xmpp_iq_new(&iq, ctx, "get", to, id)) != XMPP_OK ||
        (rc = xmpp_stanza_add_child_new(iq, "ping", XMPP_NS_PING_XEP, NULL)) != XMPP_OK) {
        xmpp_stanza_unref(iq);
        return rc;
    }
    if ((r = xmpp__malloc(ctx, sizeof(*r))) == NULL) {
        xmpp_stanza_unref(iq);
        return XMPP_ERR_NOMEM;
    }
    r->cb = cb;
    r->ud = user_data;
    rc = xmpp_session_send_iq(s, iq, timeout_ms, ping_done, r);
    if (rc != XMPP_OK)
        xmpp_free(ctx, r);
    xmpp_stanza_unref(iq);
    return rc;
}
