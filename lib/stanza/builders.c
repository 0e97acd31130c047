/* Builders for message, presence and iq stanzas and stanza errors
 * (RFC 6120 §8, RFC 6121 §4–5). */
#include "stanza/stanza_int.h"

#include <string.h>

static int set_opt(xmpp_stanza *st, const char *name, const char *value) {
    return value ? xmpp_stanza_set_attr(st, name, value) : XMPP_OK;
}

static int new_basic(xmpp_stanza **out, xmpp_ctx *ctx, const char *elem,
                     const char *type, const char *to, const char *id) {
    xmpp_stanza *st;
    int rc;
    if (out == NULL)
        return XMPP_ERR_INVALID;
    *out = NULL;
    if ((rc = xmpp_stanza_new(&st, ctx, elem, XMPP_NS_CLIENT)) != XMPP_OK)
        return rc;
    if ((rc = set_opt(st, "type", type)) != XMPP_OK || (rc = set_opt(st, "to", to)) != XMPP_OK ||
        (rc = set_opt(st, "id", id)) != XMPP_OK) {
        xmpp_stanza_unref(st);
        return rc;
    }
    *out = st;
    return XMPP_OK;
}

int xmpp_message_new(xmpp_stanza **out, xmpp_ctx *ctx, const char *type, const char *to,
                     const char *id, const char *body) {
    xmpp_stanza *b;
    int rc = new_basic(out, ctx, "message", type, to, id);
    if (rc != XMPP_OK || body == NULL)
        return rc;
    if ((rc = xmpp_stanza_add_child_new(*out, "body", NULL, &b)) != XMPP_OK ||
        (rc = xmpp_stanza_add_text(b, body, strlen(body))) != XMPP_OK) {
        xmpp_stanza_unref(*out);
        *out = NULL;
    }
    return rc;
}

int xmpp_presence_new(xmpp_stanza **out, xmpp_ctx *ctx, const char *type, const char *to,
                      const char *id) {
    return new_basic(out, ctx, "presence", type, to, id);
}

static int iq_type_ok(const char *type) {
    return type != NULL && (strcmp(type, "get") == 0 || strcmp(type, "set") == 0 ||
                            strcmp(type, "result") == 0 || strcmp(type, "error") == 0);
}

int xmpp_iq_new(xmpp_stanza **out, xmpp_ctx *ctx, const char *type, const char *to,
                const char *id) {
    if (out != NULL)
        *out = NULL;
    if (!iq_type_ok(type) || id == NULL || *id == '\0') /* RFC 6120 §8.2.3 */
        return XMPP_ERR_INVALID;
    return new_basic(out, ctx, "iq", type, to, id);
}

static int is_request(const xmpp_stanza *req) {
    const char *t = xmpp_stanza_type(req);
    return req != NULL && !xmpp_stanza_is_text(req) && strcmp(req->name, "iq") == 0 &&
           t != NULL && (strcmp(t, "get") == 0 || strcmp(t, "set") == 0) &&
           xmpp_stanza_id(req) != NULL;
}

int xmpp_iq_result_new(xmpp_stanza **out, const xmpp_stanza *request) {
    if (out != NULL)
        *out = NULL;
    if (!is_request(request))
        return XMPP_ERR_INVALID;
    return new_basic(out, request->ctx, "iq", "result", xmpp_stanza_from(request),
                     xmpp_stanza_id(request));
}

int xmpp_stanza_error_new(xmpp_stanza **out, const xmpp_stanza *request,
                          xmpp_stanza_condition cond, const char *text) {
    xmpp_stanza *st, *err, *t;
    const char *rtype, *ns;
    int rc;
    if (out == NULL)
        return XMPP_ERR_INVALID;
    *out = NULL;
    if (request == NULL || xmpp_stanza_is_text(request) ||
        *xmpp_stanza_condition_name(cond) == '\0')
        return XMPP_ERR_INVALID;
    rtype = xmpp_stanza_type(request);
    if (rtype != NULL && strcmp(rtype, "error") == 0)
        return XMPP_ERR_INVALID; /* RFC 6120 §8.3.1: never answer an error */
    if (strcmp(request->name, "iq") == 0 && !is_request(request))
        return XMPP_ERR_INVALID; /* only get/set are answered */
    ns = request->ns ? request->ns : XMPP_NS_CLIENT;
    if ((rc = xmpp_stanza_new(&st, request->ctx, request->name, ns)) != XMPP_OK)
        return rc;
    if ((rc = xmpp_stanza_set_attr(st, "type", "error")) != XMPP_OK ||
        (rc = set_opt(st, "to", xmpp_stanza_from(request))) != XMPP_OK ||
        (rc = set_opt(st, "id", xmpp_stanza_id(request))) != XMPP_OK ||
        (rc = xmpp_stanza_add_child_new(st, "error", NULL, &err)) != XMPP_OK ||
        (rc = xmpp_stanza_set_attr(err, "type", xmpp_stanza_condition_type(cond))) != XMPP_OK ||
        (rc = xmpp_stanza_add_child_new(err, xmpp_stanza_condition_name(cond),
                                        XMPP_NS_STANZAS, NULL)) != XMPP_OK)
        goto fail;
    if (text != NULL &&
        ((rc = xmpp_stanza_add_child_new(err, "text", XMPP_NS_STANZAS, &t)) != XMPP_OK ||
         (rc = xmpp_stanza_add_text(t, text, strlen(text))) != XMPP_OK))
        goto fail;
    *out = st;
    return XMPP_OK;
fail:
    xmpp_stanza_unref(st);
    return rc;
}

int xmpp_stanza_get_error(const xmpp_stanza *st, xmpp_stanza_condition *cond,
                          const char **text) {
    const xmpp_stanza *err, *c;
    if (text)
        *text = NULL;
    if (st == NULL || cond == NULL)
        return XMPP_ERR_INVALID;
    err = xmpp_stanza_child(st, "error", NULL);
    if (err == NULL)
        return XMPP_ERR_NOT_FOUND;
    *cond = (xmpp_stanza_condition)0;
    for (c = err->first; c != NULL; c = c->next) {
        const char *ns = xmpp_stanza_ns(c);
        if (xmpp_stanza_is_text(c) || ns == NULL || strcmp(ns, XMPP_NS_STANZAS) != 0)
            continue;
        if (strcmp(c->name, "text") == 0) {
            if (text && c->first && (c->first->flags & XMPP__F_TEXT))
                *text = c->first->text;
        } else if (*cond == 0) {
            *cond = (xmpp_stanza_condition)xmpp__stanza_condition_from_name(c->name);
        }
    }
    return *cond ? XMPP_OK : XMPP_ERR_NOT_FOUND;
}
