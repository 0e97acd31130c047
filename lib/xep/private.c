/* XEP-0049 Private XML Storage: typed get and set. Uses only the public
 * interface; the core's IQ tracker checks that replies come from our own
 * account (the requests carry no "to"). */
#include "core/internal.h"

#include <string.h>

#include <xmpp/session.h>
#include <xmpp/stanza.h>
#include <xmpp/sys/plugin.h>
#include <xmpp/xep/private.h>

struct get_req {
    xmpp_private_fn cb;
    void *ud;
    char *name, *ns;
};

static int ns_ok(const char *ns) {
    return ns && ns[0] && strcmp(ns, XMPP_NS_CLIENT) != 0 && strcmp(ns, XMPP_NS_PRIVATE) != 0 &&
           xmpp__xml_text_ok(ns, strlen(ns));
}

static int new_query(xmpp_session *s, const char *type, xmpp_stanza **iq, xmpp_stanza **q) {
    char id[32];
    int rc;
    *iq = NULL;
    if ((rc = xmpp_session_new_id(s, id, sizeof(id))) != XMPP_OK)
        return rc;
    if ((rc = xmpp_iq_new(iq, xmpp_session_ctx(s), type, NULL, id)) != XMPP_OK ||
        (rc = xmpp_stanza_add_child_new(*iq, "query", XMPP_NS_PRIVATE, q)) != XMPP_OK) {
        xmpp_stanza_unref(*iq);
        *iq = NULL;
    }
    return rc;
}

static void get_done(xmpp_session *s, xmpp_iq_status status, xmpp_stanza *reply, void *ud) {
    struct get_req *r = ud;
    xmpp_ctx *ctx = xmpp_session_ctx(s);
    xmpp_stanza *el = NULL, *q;
    if (status == XMPP_IQ_RESULT && (q = xmpp_stanza_child(reply, "query", XMPP_NS_PRIVATE)))
        el = xmpp_stanza_child(q, r->name, r->ns);
    r->cb(s, status, el, status == XMPP_IQ_ERROR ? reply : NULL, r->ud);
    xmpp_free(ctx, r->name);
    xmpp_free(ctx, r->ns);
    xmpp_free(ctx, r);
}

int xmpp_private_get(xmpp_session *s, const char *name, const char *ns, unsigned timeout_ms,
                     xmpp_private_fn cb, void *user_data) {
    xmpp_ctx *ctx = xmpp_session_ctx(s);
    xmpp_stanza *iq = NULL, *q, *e;
    struct get_req *r;
    int rc;
    if (s == NULL || cb == NULL || name == NULL || !ns_ok(ns))
        return XMPP_ERR_INVALID;
    if ((rc = new_query(s, "get", &iq, &q)) != XMPP_OK ||
        (rc = xmpp_stanza_add_child_new(q, name, ns, &e)) != XMPP_OK) {
        xmpp_stanza_unref(iq);
        return rc;
    }
    if ((r = xmpp__malloc(ctx, sizeof(*r))) == NULL) {
        xmpp_stanza_unref(iq);
        return XMPP_ERR_NOMEM;
    }
    r->cb = cb;
    r->ud = user_data;
    r->name = xmpp__strdup(ctx, name);
    r->ns = xmpp__strdup(ctx, ns);
    if (r->name == NULL || r->ns == NULL)
        rc = XMPP_ERR_NOMEM;
    else
        rc = xmpp_session_send_iq(s, iq, timeout_ms, get_done, r);
    if (rc != XMPP_OK) {
        xmpp_free(ctx, r->name);
        xmpp_free(ctx, r->ns);
        xmpp_free(ctx, r);
    }
    xmpp_stanza_unref(iq);
    return rc;
}

int xmpp_private_set(xmpp_session *s, const xmpp_stanza *element, unsigned timeout_ms,
                     xmpp_iq_fn cb, void *user_data) {
    xmpp_stanza *iq = NULL, *q, *copy = NULL;
    int rc;
    if (s == NULL || element == NULL || xmpp_stanza_is_text(element) ||
        !ns_ok(xmpp_stanza_ns(element)))
        return XMPP_ERR_INVALID;
    if ((rc = new_query(s, "set", &iq, &q)) != XMPP_OK)
        return rc;
    if ((rc = xmpp_stanza_copy(&copy, element)) == XMPP_OK) {
        rc = xmpp_stanza_add_child(q, copy);
        xmpp_stanza_unref(copy);
    }
    if (rc == XMPP_OK)
        rc = xmpp_session_send_iq(s, iq, timeout_ms, cb, user_data);
    xmpp_stanza_unref(iq);
    return rc;
}
