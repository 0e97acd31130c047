/* XEP-0357 Push Notifications: the enable and disable requests. Uses
 * only the public session and stanza API. */
#include "core/internal.h"

#include <string.h>

#include <xmpp/session.h>
#include <xmpp/stanza.h>
#include <xmpp/sys/plugin.h>
#include <xmpp/xep/push.h>

#define NS_DATA         "jabber:x:data"
#define PUBLISH_OPTIONS "http://jabber.org/protocol/pubsub#publish-options"

struct push_req {
    xmpp_push_fn cb;
    void *ud;
};

static void push_done(xmpp_session *s, xmpp_iq_status status, xmpp_stanza *reply, void *ud) {
    struct push_req r = *(struct push_req *)ud;
    xmpp_free(xmpp_session_ctx(s), ud);
    if (r.cb)
        r.cb(s, status, status == XMPP_IQ_ERROR ? reply : NULL, r.ud);
}

static int add_field(xmpp_stanza *x, const char *var, const char *value) {
    xmpp_stanza *f = NULL, *v = NULL;
    int rc;
    if ((rc = xmpp_stanza_add_child_new(x, "field", NULL, &f)) != XMPP_OK ||
        (rc = xmpp_stanza_set_attr(f, "var", var)) != XMPP_OK ||
        (rc = xmpp_stanza_add_child_new(f, "value", NULL, &v)) != XMPP_OK)
        return rc;
    return *value ? xmpp_stanza_set_text(v, value, strlen(value)) : XMPP_OK;
}

/* Sends <iq type='set'><ELEM xmlns='urn:xmpp:push:0' jid= node=>[form]. */
static int push_send(xmpp_session *s, const char *elem, const char *service, const char *node,
                     const char *const *vars, const char *const *values, size_t n,
                     unsigned timeout_ms, xmpp_push_fn cb, void *ud) {
    xmpp_ctx *ctx = xmpp_session_ctx(s);
    xmpp_stanza *iq = NULL, *e = NULL, *x = NULL;
    struct push_req *r;
    char id[32];
    size_t i;
    int rc;
    if ((rc = xmpp_session_new_id(s, id, sizeof(id))) != XMPP_OK)
        return rc;
    /* to the own account: no 'to' (XEP-0357 §5) */
    if ((rc = xmpp_iq_new(&iq, ctx, "set", NULL, id)) != XMPP_OK ||
        (rc = xmpp_stanza_add_child_new(iq, elem, XMPP_NS_PUSH, &e)) != XMPP_OK ||
        (rc = xmpp_stanza_set_attr(e, "jid", service)) != XMPP_OK ||
        (node && (rc = xmpp_stanza_set_attr(e, "node", node)) != XMPP_OK))
        goto out;
    if (n > 0) {
        if ((rc = xmpp_stanza_add_child_new(e, "x", NS_DATA, &x)) != XMPP_OK ||
            (rc = xmpp_stanza_set_attr(x, "type", "submit")) != XMPP_OK ||
            (rc = add_field(x, "FORM_TYPE", PUBLISH_OPTIONS)) != XMPP_OK)
            goto out;
        for (i = 0; i < n; i++)
            if ((rc = add_field(x, vars[i], values[i])) != XMPP_OK)
                goto out;
    }
    if ((r = xmpp__malloc(ctx, sizeof(*r))) == NULL) {
        rc = XMPP_ERR_NOMEM;
        goto out;
    }
    r->cb = cb;
    r->ud = ud;
    if ((rc = xmpp_session_send_iq(s, iq, timeout_ms, push_done, r)) != XMPP_OK)
        xmpp_free(ctx, r);
out:
    xmpp_stanza_unref(iq);
    return rc;
}

int xmpp_push_enable(xmpp_session *s, const char *service, const char *node,
                     const char *const *vars, const char *const *values, size_t n_fields,
                     unsigned timeout_ms, xmpp_push_fn cb, void *user_data) {
    size_t i;
    if (s == NULL || service == NULL || *service == '\0' || node == NULL || *node == '\0' ||
        (n_fields > 0 && (vars == NULL || values == NULL)))
        return XMPP_ERR_INVALID;
    if (n_fields > XMPP_PUSH_MAX_FIELDS)
        return XMPP_ERR_LIMIT;
    for (i = 0; i < n_fields; i++)
        if (vars[i] == NULL || *vars[i] == '\0' || strcmp(vars[i], "FORM_TYPE") == 0 ||
            values[i] == NULL)
            return XMPP_ERR_INVALID;
    return push_send(s, "enable", service, node, vars, values, n_fields, timeout_ms, cb, user_data);
}

int xmpp_push_disable(xmpp_session *s, const char *service, const char *node, unsigned timeout_ms,
                      xmpp_push_fn cb, void *user_data) {
    if (s == NULL || service == NULL || *service == '\0' || (node != NULL && *node == '\0'))
        return XMPP_ERR_INVALID;
    return push_send(s, "disable", service, node, NULL, NULL, 0, timeout_ms, cb, user_data);
}
