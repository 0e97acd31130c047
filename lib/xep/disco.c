/* XEP-0030 Service Discovery: the disco#info responder for the enabled
 * plugins and the typed disco#info request. Uses only the public plugin
 * interface. */
#include "core/internal.h"

#include <string.h>

#include <xmpp/session.h>
#include <xmpp/stanza.h>
#include <xmpp/sys/plugin.h>
#include <xmpp/xep/caps.h>
#include <xmpp/xep/disco.h>

#include "plugin/plugin_int.h"
#include "xep/disco_int.h"

#define XMPP_NS_DATA "jabber:x:data"

struct disco_state {
    unsigned long handler, items_handler;
};

struct xmpp_disco_items {
    const xmpp_stanza *query;
    const char *from;
};

static int same(const char *a, const char *b) {
    return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

/* Whether an identity was already added by an earlier plugin. */
static int identity_seen(xmpp_session *s, size_t upto, size_t upto_j,
                         const xmpp_plugin_identity *id) {
    size_t i, j;
    for (i = 0; i <= upto; i++) {
        const xmpp_plugin_desc *d = xmpp_session_plugin_at(s, i);
        for (j = 0; j < d->n_identities && (i < upto || j < upto_j); j++) {
            const xmpp_plugin_identity *o = &d->identities[j];
            if (strcmp(o->category, id->category) == 0 && strcmp(o->type, id->type) == 0 &&
                same(o->name, id->name) && same(o->lang, id->lang))
                return 1;
        }
    }
    return 0;
}

static int feature_seen(const xmpp_stanza *q, const char *var) {
    const xmpp_stanza *c;
    for (c = xmpp_stanza_child(q, "feature", NULL); c; c = xmpp_stanza_next_match(c, "feature", NULL))
        if (same(xmpp_stanza_attr(c, "var"), var))
            return 1;
    return 0;
}

static int fill_info(xmpp_session *s, xmpp_stanza *q) {
    size_t n = xmpp_session_plugin_count(s), i, j;
    xmpp_stanza *c;
    int rc;
    for (i = 0; i < n; i++) {
        const xmpp_plugin_desc *d = xmpp_session_plugin_at(s, i);
        for (j = 0; j < d->n_identities; j++) {
            const xmpp_plugin_identity *id = &d->identities[j];
            if (identity_seen(s, i, j, id))
                continue;
            if ((rc = xmpp_stanza_add_child_new(q, "identity", NULL, &c)) != XMPP_OK ||
                (rc = xmpp_stanza_set_attr(c, "category", id->category)) != XMPP_OK ||
                (rc = xmpp_stanza_set_attr(c, "type", id->type)) != XMPP_OK ||
                (id->name && (rc = xmpp_stanza_set_attr(c, "name", id->name)) != XMPP_OK) ||
                (id->lang && (rc = xmpp_stanza_set_attr(c, "xml:lang", id->lang)) != XMPP_OK))
                return rc;
        }
    }
    for (i = 0; i < n; i++) {
        const xmpp_plugin_desc *d = xmpp_session_plugin_at(s, i);
        for (j = 0; d->features && d->features[j]; j++) {
            if (feature_seen(q, d->features[j]))
                continue;
            if ((rc = xmpp_stanza_add_child_new(q, "feature", NULL, &c)) != XMPP_OK ||
                (rc = xmpp_stanza_set_attr(c, "var", d->features[j])) != XMPP_OK)
                return rc;
        }
    }
    n = xmpp_session_feature_count(s); /* run-time features (XEP-0163 +notify) */
    for (i = 0; i < n; i++) {
        const char *var = xmpp_session_feature_at(s, i);
        if (feature_seen(q, var))
            continue;
        if ((rc = xmpp_stanza_add_child_new(q, "feature", NULL, &c)) != XMPP_OK ||
            (rc = xmpp_stanza_set_attr(c, "var", var)) != XMPP_OK)
            return rc;
    }
    return XMPP_OK;
}

/* A node is answered only when it is our caps node#ver (XEP-0115 §6.2). */
static int node_known(xmpp_session *s, const char *node) {
    const char *cn = xmpp_caps_node(s);
    char *ver = NULL;
    size_t l;
    int ok = 0;
    if (cn == NULL || xmpp_caps_ver(s, &ver) != XMPP_OK)
        return 0;
    l = strlen(cn);
    ok = strncmp(node, cn, l) == 0 && node[l] == '#' && strcmp(node + l + 1, ver) == 0;
    xmpp_free(xmpp_session_ctx(s), ver);
    return ok;
}

static int on_info(xmpp_session *s, xmpp_stanza *st, void *ud) {
    xmpp_stanza *req = xmpp_stanza_child(st, "query", XMPP_NS_DISCO_INFO);
    const char *node = req ? xmpp_stanza_attr(req, "node") : NULL;
    xmpp_stanza *res = NULL, *q = NULL;
    (void)ud;
    if (req == NULL)
        return 0; /* another element in the namespace: not ours */
    if (node != NULL && !node_known(s, node)) {
        if (xmpp_stanza_error_new(&res, st, XMPP_EC_ITEM_NOT_FOUND, NULL) == XMPP_OK)
            (void)xmpp_session_send(s, res);
    } else if (xmpp_iq_result_new(&res, st) == XMPP_OK &&
               xmpp_stanza_add_child_new(res, "query", XMPP_NS_DISCO_INFO, &q) == XMPP_OK &&
               (node == NULL || xmpp_stanza_set_attr(q, "node", node) == XMPP_OK) &&
               fill_info(s, q) == XMPP_OK) {
        (void)xmpp_session_send(s, res);
    }
    xmpp_stanza_unref(res);
    return 1;
}

/* disco#items: a client has no items to offer (XEP-0030 §4); a node is
 * unknown. */
static int on_items(xmpp_session *s, xmpp_stanza *st, void *ud) {
    xmpp_stanza *req = xmpp_stanza_child(st, "query", XMPP_NS_DISCO_ITEMS);
    xmpp_stanza *res = NULL;
    (void)ud;
    if (req == NULL)
        return 0;
    if (xmpp_stanza_attr(req, "node") != NULL) {
        if (xmpp_stanza_error_new(&res, st, XMPP_EC_ITEM_NOT_FOUND, NULL) == XMPP_OK)
            (void)xmpp_session_send(s, res);
    } else if (xmpp_iq_result_new(&res, st) == XMPP_OK &&
               xmpp_stanza_add_child_new(res, "query", XMPP_NS_DISCO_ITEMS, NULL) == XMPP_OK) {
        (void)xmpp_session_send(s, res);
    }
    xmpp_stanza_unref(res);
    return 1;
}

static int disco_attach(xmpp_session *s, void **state, void *ud) {
    xmpp_ctx *ctx = xmpp_session_ctx(s);
    struct disco_state *ds = xmpp__malloc(ctx, sizeof(*ds));
    int rc;
    (void)ud;
    if (ds == NULL)
        return XMPP_ERR_NOMEM;
    rc = xmpp_session_add_handler(s, "iq", XMPP_NS_DISCO_INFO, "get", on_info, ds, &ds->handler);
    if (rc != XMPP_OK) {
        xmpp_free(ctx, ds);
        return rc;
    }
    rc = xmpp_session_add_handler(s, "iq", XMPP_NS_DISCO_ITEMS, "get", on_items, ds,
                                  &ds->items_handler);
    if (rc != XMPP_OK) {
        xmpp_session_remove_handler(s, ds->handler);
        xmpp_free(ctx, ds);
        return rc;
    }
    *state = ds;
    return XMPP_OK;
}

static void disco_detach(xmpp_session *s, void *state, void *ud) {
    struct disco_state *ds = state;
    (void)ud;
    xmpp_session_remove_handler(s, ds->handler);
    xmpp_session_remove_handler(s, ds->items_handler);
    xmpp_free(xmpp_session_ctx(s), ds);
}

static const xmpp_plugin_identity disco_identities[] = {{"client", "pc", NULL, NULL}};
static const char *const disco_features[] = {XMPP_NS_DISCO_INFO, XMPP_NS_DISCO_ITEMS, NULL};

const xmpp_plugin_desc xmpp__plugin_disco = {
    XMPP_PLUGIN_ABI_VERSION, "disco", NULL, disco_features, disco_identities, 1,
    disco_attach,            disco_detach, NULL};

/* ---- requests */
struct info_req {
    xmpp_disco_info_fn cb;
    void *ud;
};

static void info_done(xmpp_session *s, xmpp_iq_status status, xmpp_stanza *reply, void *ud) {
    struct info_req r = *(struct info_req *)ud;
    xmpp_free(xmpp_session_ctx(s), ud);
    if (status == XMPP_IQ_RESULT) {
        xmpp_disco_info info;
        info.query = xmpp_stanza_child(reply, "query", XMPP_NS_DISCO_INFO);
        info.from = xmpp_stanza_from(reply);
        r.cb(s, status, &info, NULL, r.ud);
    } else {
        r.cb(s, status, NULL, status == XMPP_IQ_ERROR ? reply : NULL, r.ud);
    }
}

int xmpp_disco_info_request(xmpp_session *s, const char *to, const char *node,
                            unsigned timeout_ms, xmpp_disco_info_fn cb, void *user_data) {
    xmpp_ctx *ctx = xmpp_session_ctx(s);
    xmpp_stanza *iq = NULL, *q = NULL;
    struct info_req *r;
    char id[32];
    int rc;
    if (s == NULL || xmpp_session_new_id(s, id, sizeof(id)) != XMPP_OK || cb == NULL)
        return XMPP_ERR_INVALID;
    if ((rc = xmpp_iq_new(&iq, ctx, "get", to, id)) != XMPP_OK ||
        (rc = xmpp_stanza_add_child_new(iq, "query", XMPP_NS_DISCO_INFO, &q)) != XMPP_OK ||
        (node && (rc = xmpp_stanza_set_attr(q, "node", node)) != XMPP_OK)) {
        xmpp_stanza_unref(iq);
        return rc;
    }
    if ((r = xmpp__malloc(ctx, sizeof(*r))) == NULL) {
        xmpp_stanza_unref(iq);
        return XMPP_ERR_NOMEM;
    }
    r->cb = cb;
    r->ud = user_data;
    rc = xmpp_session_send_iq(s, iq, timeout_ms, info_done, r);
    if (rc != XMPP_OK)
        xmpp_free(ctx, r);
    xmpp_stanza_unref(iq);
    return rc;
}

const char *xmpp_disco_info_from(const xmpp_disco_info *info) {
    return info ? info->from : NULL;
}

const char *xmpp_disco_info_node(const xmpp_disco_info *info) {
    return info && info->query ? xmpp_stanza_attr(info->query, "node") : NULL;
}

static const xmpp_stanza *nth(const xmpp_disco_info *info, const char *name, size_t i) {
    const xmpp_stanza *c;
    if (info == NULL || info->query == NULL)
        return NULL;
    for (c = xmpp_stanza_child(info->query, name, XMPP_NS_DISCO_INFO); c;
         c = xmpp_stanza_next_match(c, name, XMPP_NS_DISCO_INFO)) {
        if (i == 0)
            return c;
        i--;
    }
    return NULL;
}

static size_t count(const xmpp_disco_info *info, const char *name) {
    const xmpp_stanza *c;
    size_t n = 0;
    if (info == NULL || info->query == NULL)
        return 0;
    for (c = xmpp_stanza_child(info->query, name, XMPP_NS_DISCO_INFO); c;
         c = xmpp_stanza_next_match(c, name, XMPP_NS_DISCO_INFO))
        n++;
    return n;
}

size_t xmpp_disco_info_feature_count(const xmpp_disco_info *info) {
    return count(info, "feature");
}

const char *xmpp_disco_info_feature_at(const xmpp_disco_info *info, size_t i) {
    const xmpp_stanza *c = nth(info, "feature", i);
    return c ? xmpp_stanza_attr(c, "var") : NULL;
}

int xmpp_disco_info_has_feature(const xmpp_disco_info *info, const char *feature) {
    size_t i, n = xmpp_disco_info_feature_count(info);
    if (feature == NULL)
        return 0;
    for (i = 0; i < n; i++)
        if (same(xmpp_disco_info_feature_at(info, i), feature))
            return 1;
    return 0;
}

size_t xmpp_disco_info_identity_count(const xmpp_disco_info *info) {
    return count(info, "identity");
}

int xmpp_disco_info_identity_at(const xmpp_disco_info *info, size_t i, const char **category,
                                const char **type, const char **name, const char **lang) {
    const xmpp_stanza *c = nth(info, "identity", i);
    if (c == NULL)
        return XMPP_ERR_NOT_FOUND;
    if (category)
        *category = xmpp_stanza_attr(c, "category");
    if (type)
        *type = xmpp_stanza_attr(c, "type");
    if (name)
        *name = xmpp_stanza_attr(c, "name");
    if (lang)
        *lang = xmpp_stanza_attr(c, "xml:lang");
    return XMPP_OK;
}

/* ---- XEP-0128 extended information */
const char *xmpp__elem_text(const xmpp_stanza *e) {
    const xmpp_stanza *c = xmpp_stanza_first_child(e);
    if (c == NULL)
        return "";
    if (!xmpp_stanza_is_text(c) || xmpp_stanza_next(c) != NULL)
        return NULL;
    return xmpp_stanza_text_ptr(c);
}

const char *xmpp__disco_form_type(const xmpp_stanza *x) {
    const xmpp_stanza *f, *v;
    for (f = xmpp_stanza_child(x, "field", XMPP_NS_DATA); f;
         f = xmpp_stanza_next_match(f, "field", XMPP_NS_DATA)) {
        const char *var = xmpp_stanza_attr(f, "var"), *type = xmpp_stanza_attr(f, "type");
        if (var == NULL || strcmp(var, "FORM_TYPE") != 0)
            continue;
        if (type == NULL || strcmp(type, "hidden") != 0)
            return NULL;
        v = xmpp_stanza_child(f, "value", XMPP_NS_DATA);
        if (v == NULL || xmpp_stanza_next_match(v, "value", XMPP_NS_DATA) != NULL)
            return NULL;
        return xmpp__elem_text(v);
    }
    return NULL;
}

const xmpp_stanza *xmpp_disco_info_form(const xmpp_disco_info *info, const char *form_type) {
    const xmpp_stanza *x;
    if (info == NULL || info->query == NULL || form_type == NULL)
        return NULL;
    for (x = xmpp_stanza_child(info->query, "x", XMPP_NS_DATA); x;
         x = xmpp_stanza_next_match(x, "x", XMPP_NS_DATA)) {
        const char *ft = xmpp__disco_form_type(x);
        if (ft != NULL && strcmp(ft, form_type) == 0)
            return x;
    }
    return NULL;
}

int xmpp_disco_info_form_value(const xmpp_disco_info *info, const char *form_type,
                               const char *var, char **out) {
    const xmpp_stanza *x, *f, *v;
    if (out)
        *out = NULL;
    if (info == NULL || form_type == NULL || var == NULL || out == NULL)
        return XMPP_ERR_INVALID;
    if ((x = xmpp_disco_info_form(info, form_type)) == NULL)
        return XMPP_ERR_NOT_FOUND;
    for (f = xmpp_stanza_child(x, "field", XMPP_NS_DATA); f;
         f = xmpp_stanza_next_match(f, "field", XMPP_NS_DATA)) {
        if (!same(xmpp_stanza_attr(f, "var"), var))
            continue;
        if ((v = xmpp_stanza_child(f, "value", XMPP_NS_DATA)) == NULL)
            return XMPP_ERR_NOT_FOUND;
        return xmpp_stanza_text(v, out, NULL);
    }
    return XMPP_ERR_NOT_FOUND;
}

/* ---- disco#items requests */
struct items_req {
    xmpp_disco_items_fn cb;
    void *ud;
};

static void items_done(xmpp_session *s, xmpp_iq_status status, xmpp_stanza *reply, void *ud) {
    struct items_req r = *(struct items_req *)ud;
    xmpp_free(xmpp_session_ctx(s), ud);
    if (status == XMPP_IQ_RESULT) {
        xmpp_disco_items items;
        items.query = xmpp_stanza_child(reply, "query", XMPP_NS_DISCO_ITEMS);
        items.from = xmpp_stanza_from(reply);
        r.cb(s, status, &items, NULL, r.ud);
    } else {
        r.cb(s, status, NULL, status == XMPP_IQ_ERROR ? reply : NULL, r.ud);
    }
}

int xmpp_disco_items_request(xmpp_session *s, const char *to, const char *node,
                             unsigned timeout_ms, xmpp_disco_items_fn cb, void *user_data) {
    xmpp_ctx *ctx;
    xmpp_stanza *iq = NULL, *q = NULL;
    struct items_req *r;
    char id[32];
    int rc;
    if (s == NULL || cb == NULL || xmpp_session_new_id(s, id, sizeof(id)) != XMPP_OK)
        return XMPP_ERR_INVALID;
    ctx = xmpp_session_ctx(s);
    if ((rc = xmpp_iq_new(&iq, ctx, "get", to, id)) != XMPP_OK ||
        (rc = xmpp_stanza_add_child_new(iq, "query", XMPP_NS_DISCO_ITEMS, &q)) != XMPP_OK ||
        (node && (rc = xmpp_stanza_set_attr(q, "node", node)) != XMPP_OK)) {
        xmpp_stanza_unref(iq);
        return rc;
    }
    if ((r = xmpp__malloc(ctx, sizeof(*r))) == NULL) {
        xmpp_stanza_unref(iq);
        return XMPP_ERR_NOMEM;
    }
    r->cb = cb;
    r->ud = user_data;
    rc = xmpp_session_send_iq(s, iq, timeout_ms, items_done, r);
    if (rc != XMPP_OK)
        xmpp_free(ctx, r);
    xmpp_stanza_unref(iq);
    return rc;
}

const char *xmpp_disco_items_from(const xmpp_disco_items *items) {
    return items ? items->from : NULL;
}

static const xmpp_stanza *nth_item(const xmpp_disco_items *items, size_t i) {
    const xmpp_stanza *c;
    if (items == NULL || items->query == NULL)
        return NULL;
    for (c = xmpp_stanza_child(items->query, "item", XMPP_NS_DISCO_ITEMS); c;
         c = xmpp_stanza_next_match(c, "item", XMPP_NS_DISCO_ITEMS)) {
        if (xmpp_stanza_attr(c, "jid") == NULL)
            continue;
        if (i == 0)
            return c;
        i--;
    }
    return NULL;
}

size_t xmpp_disco_items_count(const xmpp_disco_items *items) {
    const xmpp_stanza *c;
    size_t n = 0;
    if (items == NULL || items->query == NULL)
        return 0;
    for (c = xmpp_stanza_child(items->query, "item", XMPP_NS_DISCO_ITEMS); c;
         c = xmpp_stanza_next_match(c, "item", XMPP_NS_DISCO_ITEMS))
        if (xmpp_stanza_attr(c, "jid") != NULL)
            n++;
    return n;
}

int xmpp_disco_items_at(const xmpp_disco_items *items, size_t i, const char **jid,
                        const char **node, const char **name) {
    const xmpp_stanza *c = nth_item(items, i);
    if (c == NULL)
        return XMPP_ERR_NOT_FOUND;
    if (jid)
        *jid = xmpp_stanza_attr(c, "jid");
    if (node)
        *node = xmpp_stanza_attr(c, "node");
    if (name)
        *name = xmpp_stanza_attr(c, "name");
    return XMPP_OK;
}
