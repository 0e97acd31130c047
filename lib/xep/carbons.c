/* XEP-0280 Message Carbons: enabling, the private hint, and delivery of
 * carbon copies with the exact-sender rule (XEP-0280 §11: a carbon is
 * only trusted from our own bare JID; CVE-2017-5589). Uses only the
 * public plugin interface. */
#include "core/internal.h"

#include <string.h>

#include <xmpp/session.h>
#include <xmpp/stanza.h>
#include <xmpp/sys/plugin.h>
#include <xmpp/xep/carbons.h>
#include <xmpp/xep/forward.h>

#include "plugin/plugin_int.h"
#include "xep/xep_util.h"

struct carbons_state {
    unsigned long handler;
    xmpp_carbon_fn fn;
    void *ud;
};

/* Returns 1 (consumed) for every message that carries a carbon wrapper. */
static int on_message(xmpp_session *s, xmpp_stanza *st, void *ud) {
    struct carbons_state *cs = ud;
    xmpp_ctx *ctx = xmpp_session_ctx(s);
    xmpp_stanza *rcv = xmpp_stanza_child(st, "received", XMPP_NS_CARBONS_XEP);
    xmpp_stanza *snt = xmpp_stanza_child(st, "sent", XMPP_NS_CARBONS_XEP);
    xmpp_stanza *w = rcv ? rcv : snt, *m = NULL;
    const char *me = xmpp_session_jid(s);
    xmpp_carbon_dir dir = rcv ? XMPP_CARBON_RECEIVED : XMPP_CARBON_SENT;
    if (w == NULL)
        return 0;
    /* exactly one wrapper, from our bare JID (not a resource, not a
     * contact, not our server) */
    if ((rcv && snt) || xmpp_stanza_next_match(w, xmpp_stanza_name(w), XMPP_NS_CARBONS_XEP) ||
        !xep__bare_is(ctx, xmpp_stanza_from(st), me)) {
        xmpp__log(ctx, XMPP_LOG_WARN, "carbons", "dropped a carbon from %s: not our account",
                  xmpp_stanza_from(st) ? xmpp_stanza_from(st) : "(none)");
        return 1;
    }
    if (xmpp_forward_unwrap(w, &m, NULL) != XMPP_OK) {
        xmpp__log(ctx, XMPP_LOG_WARN, "carbons", "dropped a malformed carbon");
        return 1;
    }
    /* a sent carbon is a message from one of our own resources */
    if (dir == XMPP_CARBON_SENT && !xep__same_account(ctx, xmpp_stanza_from(m), me)) {
        xmpp__log(ctx, XMPP_LOG_WARN, "carbons", "dropped a sent carbon not sent by us");
        return 1;
    }
    if (cs->fn)
        cs->fn(s, dir, m, st, cs->ud);
    return 1;
}

static int carbons_attach(xmpp_session *s, void **state, void *ud) {
    xmpp_ctx *ctx = xmpp_session_ctx(s);
    struct carbons_state *cs = xmpp__malloc(ctx, sizeof(*cs));
    int rc;
    (void)ud;
    if (cs == NULL)
        return XMPP_ERR_NOMEM;
    memset(cs, 0, sizeof(*cs));
    rc = xmpp_session_add_handler(s, "message", NULL, NULL, on_message, cs, &cs->handler);
    if (rc != XMPP_OK) {
        xmpp_free(ctx, cs);
        return rc;
    }
    *state = cs;
    return XMPP_OK;
}

static void carbons_detach(xmpp_session *s, void *state, void *ud) {
    struct carbons_state *cs = state;
    (void)ud;
    xmpp_session_remove_handler(s, cs->handler);
    xmpp_free(xmpp_session_ctx(s), cs);
}

static const char *const carbons_features[] = {XMPP_NS_CARBONS_XEP, NULL};

const xmpp_plugin_desc xmpp__plugin_carbons = {
    XMPP_PLUGIN_ABI_VERSION, "carbons", NULL, carbons_features, NULL, 0,
    carbons_attach,          carbons_detach, NULL};

int xmpp_carbons_set_handler(xmpp_session *s, xmpp_carbon_fn fn, void *user_data) {
    struct carbons_state *cs;
    int rc;
    if (s == NULL)
        return XMPP_ERR_INVALID;
    if ((rc = xmpp_session_enable_plugin(s, "carbons")) != XMPP_OK)
        return rc;
    cs = xmpp_session_plugin_state(s, "carbons");
    cs->fn = fn;
    cs->ud = user_data;
    return XMPP_OK;
}

struct enable_req {
    xmpp_carbons_done_fn cb;
    void *ud;
};

static void enable_done(xmpp_session *s, xmpp_iq_status status, xmpp_stanza *reply, void *ud) {
    struct enable_req r = *(struct enable_req *)ud;
    (void)reply;
    xmpp_free(xmpp_session_ctx(s), ud);
    if (r.cb)
        r.cb(s, status, r.ud);
}

int xmpp_carbons_enable(xmpp_session *s, int enable, unsigned timeout_ms,
                        xmpp_carbons_done_fn cb, void *user_data) {
    xmpp_ctx *ctx = xmpp_session_ctx(s);
    xmpp_stanza *iq = NULL;
    struct enable_req *r;
    char id[32];
    int rc;
    if (s == NULL || xmpp_session_new_id(s, id, sizeof(id)) != XMPP_OK)
        return XMPP_ERR_INVALID;
    if ((rc = xmpp_session_enable_plugin(s, "carbons")) != XMPP_OK)
        return rc;
    /* XEP-0280 §4.1: an IQ set to our own account (no "to") */
    if ((rc = xmpp_iq_new(&iq, ctx, "set", NULL, id)) != XMPP_OK ||
        (rc = xmpp_stanza_add_child_new(iq, enable ? "enable" : "disable", XMPP_NS_CARBONS_XEP,
                                        NULL)) != XMPP_OK) {
        xmpp_stanza_unref(iq);
        return rc;
    }
    if ((r = xmpp__malloc(ctx, sizeof(*r))) == NULL) {
        xmpp_stanza_unref(iq);
        return XMPP_ERR_NOMEM;
    }
    r->cb = cb;
    r->ud = user_data;
    rc = xmpp_session_send_iq(s, iq, timeout_ms, enable_done, r);
    if (rc != XMPP_OK)
        xmpp_free(ctx, r);
    xmpp_stanza_unref(iq);
    return rc;
}

int xmpp_carbons_mark_private(xmpp_stanza *msg) {
    int rc;
    if (msg == NULL)
        return XMPP_ERR_INVALID;
    if (xmpp_stanza_child(msg, "private", XMPP_NS_CARBONS_XEP) == NULL &&
        (rc = xmpp_stanza_add_child_new(msg, "private", XMPP_NS_CARBONS_XEP, NULL)) != XMPP_OK)
        return rc;
    if (xmpp_stanza_child(msg, "no-copy", XMPP_NS_HINTS) == NULL &&
        (rc = xmpp_stanza_add_child_new(msg, "no-copy", XMPP_NS_HINTS, NULL)) != XMPP_OK)
        return rc;
    return XMPP_OK;
}
