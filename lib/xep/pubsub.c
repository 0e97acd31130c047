/* XEP-0060 Publish-Subscribe requests and notifications, XEP-0163 +notify
 * interests and XEP-0223 private publishing: the "pubsub" plugin. Uses
 * only the public plugin interface. */
#include "core/internal.h"

#include <stdio.h>
#include <string.h>

#include <xmpp/jid.h>
#include <xmpp/session.h>
#include <xmpp/stanza.h>
#include <xmpp/sys/plugin.h>
#include <xmpp/xep/disco.h>
#include <xmpp/xep/pubsub.h>

#include "plugin/plugin_int.h"

#define NS_XDATA "jabber:x:data"
#define MAX_EVENT_HANDLERS 1024
#define MAX_EVENT_CHILDREN 16 /* elements read in one <event/> */
#define MAX_NOTIFY_NODE 1000  /* bytes of a +notify node name */

struct ev_handler {
    unsigned long id;
    xmpp_jid *service; /* NULL: PEP */
    char *node;        /* NULL: any */
    unsigned flags;
    xmpp_pubsub_event_fn cb;
    void *ud;
    int removed;
};

struct pubsub_state {
    unsigned long msg_handler;
    struct ev_handler *h;
    size_t n_h;
    unsigned long next_id;
    int dispatching;
    int po_ok; /* our PEP service announced publish-options */
};

struct xmpp_pubsub_items {
    const char *from;
    const char *node;
    xmpp_pubsub_event_kind kind;
    const xmpp_stanza *parent; /* <items/>, or NULL */
    const char *child;         /* "item" or "retract" */
    const char *ns;
};

static int same(const char *a, const char *b) {
    return a && b && strcmp(a, b) == 0;
}

/* ---- the items view */
static const xmpp_stanza *item_at(const xmpp_pubsub_items *it, size_t i) {
    const xmpp_stanza *c;
    if (it == NULL || it->parent == NULL)
        return NULL;
    for (c = xmpp_stanza_child(it->parent, it->child, it->ns); c;
         c = xmpp_stanza_next_match(c, it->child, it->ns))
        if (i-- == 0)
            return c;
    return NULL;
}

const char *xmpp_pubsub_items_from(const xmpp_pubsub_items *items) {
    return items ? items->from : NULL;
}

const char *xmpp_pubsub_items_node(const xmpp_pubsub_items *items) {
    return items ? items->node : NULL;
}

xmpp_pubsub_event_kind xmpp_pubsub_items_kind(const xmpp_pubsub_items *items) {
    return items ? items->kind : XMPP_PUBSUB_EVENT_ITEMS;
}

size_t xmpp_pubsub_items_count(const xmpp_pubsub_items *items) {
    const xmpp_stanza *c;
    size_t n = 0;
    if (items == NULL || items->parent == NULL)
        return 0;
    for (c = xmpp_stanza_child(items->parent, items->child, items->ns); c;
         c = xmpp_stanza_next_match(c, items->child, items->ns))
        n++;
    return n;
}

const char *xmpp_pubsub_items_id_at(const xmpp_pubsub_items *items, size_t i) {
    const xmpp_stanza *c = item_at(items, i);
    return c ? xmpp_stanza_attr(c, "id") : NULL;
}

xmpp_stanza *xmpp_pubsub_items_payload_at(const xmpp_pubsub_items *items, size_t i) {
    const xmpp_stanza *c = item_at(items, i);
    if (c == NULL || items->kind != XMPP_PUBSUB_EVENT_ITEMS)
        return NULL;
    for (c = xmpp_stanza_first_child(c); c; c = xmpp_stanza_next(c))
        if (!xmpp_stanza_is_text(c))
            return (xmpp_stanza *)c;
    return NULL;
}

/* ---- notifications */
static void sweep(struct pubsub_state *ps, xmpp_ctx *ctx) {
    size_t i, j = 0;
    for (i = 0; i < ps->n_h; i++) {
        if (ps->h[i].removed) {
            xmpp_jid_free(ps->h[i].service);
            xmpp_free(ctx, ps->h[i].node);
        } else {
            ps->h[j++] = ps->h[i];
        }
    }
    ps->n_h = j;
}

/* SECURITY.md ORG-06. from: the parsed sender, NULL when the stanza had
 * none (our own account, RFC 6120 §8.1.2.1). own: our bare JID. */
static int sender_ok(const struct ev_handler *h, const xmpp_jid *from, const xmpp_jid *own) {
    const xmpp_jid *eff = from ? from : own;
    if (eff == NULL || xmpp_jid_is_full(eff))
        return 0; /* a full JID never speaks for a pubsub service or a PEP account */
    if ((h->flags & XMPP_PUBSUB_OWN_ONLY) && !xmpp_jid_equal(eff, own))
        return 0;
    if (h->service)
        return xmpp_jid_equal(eff, h->service);
    return xmpp_jid_local(eff) != NULL; /* PEP: an account's bare JID */
}

/* Runs the handlers for one view; returns delivered/refused counts. */
static void deliver(xmpp_session *s, struct pubsub_state *ps, const xmpp_pubsub_items *v,
                    const xmpp_jid *from, const xmpp_jid *own, int *delivered, int *refused) {
    size_t i, n = ps->n_h; /* handlers added from a callback wait for the next stanza */
    for (i = 0; i < n; i++) {
        struct ev_handler *h = &ps->h[i];
        if (h->removed || (h->node && !same(h->node, v->node)))
            continue;
        if (!sender_ok(h, from, own)) {
            if (h->node)
                (*refused)++; /* a handler for this very node: a spoof */
            continue;
        }
        (*delivered)++;
        h->cb(s, v, h->ud);
        h = NULL; /* ps->h may move: callbacks can add handlers */
    }
}

static int on_message(xmpp_session *s, xmpp_stanza *st, void *ud) {
    struct pubsub_state *ps = ud;
    xmpp_ctx *ctx = xmpp_session_ctx(s);
    xmpp_stanza *ev = xmpp_stanza_child(st, "event", XMPP_NS_PUBSUB_EVENT), *c;
    const char *from_s = xmpp_stanza_from(st);
    xmpp_jid *from = NULL, *me = NULL, *own = NULL;
    int delivered = 0, refused = 0, n = 0;
    if (ev == NULL || same(xmpp_stanza_type(st), "error"))
        return 0;
    if (from_s && xmpp_jid_parse(&from, ctx, from_s) != XMPP_OK) {
        xmpp__log(ctx, XMPP_LOG_WARN, "pubsub", "dropping a notification from a malformed JID");
        return 1;
    }
    if (xmpp_session_jid(s) && xmpp_jid_parse(&me, ctx, xmpp_session_jid(s)) == XMPP_OK)
        (void)xmpp_jid_to_bare(&own, me);
    xmpp_jid_free(me);
    ps->dispatching++;
    for (c = xmpp_stanza_first_child(ev); c && n < MAX_EVENT_CHILDREN; c = xmpp_stanza_next(c)) {
        xmpp_pubsub_items v;
        const char *name;
        if (xmpp_stanza_is_text(c) || !same(xmpp_stanza_ns(c), XMPP_NS_PUBSUB_EVENT))
            continue;
        n++;
        memset(&v, 0, sizeof(v));
        v.from = from ? xmpp_jid_full(from) : (own ? xmpp_jid_bare(own) : NULL);
        v.node = xmpp_stanza_attr(c, "node");
        v.ns = XMPP_NS_PUBSUB_EVENT;
        name = xmpp_stanza_name(c);
        if (v.node == NULL)
            continue; /* XEP-0060 §7.1.2: the node attribute is required */
        if (same(name, "items")) {
            v.parent = c;
            v.kind = XMPP_PUBSUB_EVENT_ITEMS;
            v.child = "item";
            if (xmpp_pubsub_items_count(&v) > 0)
                deliver(s, ps, &v, from, own, &delivered, &refused);
            v.kind = XMPP_PUBSUB_EVENT_RETRACT;
            v.child = "retract";
            if (xmpp_pubsub_items_count(&v) > 0)
                deliver(s, ps, &v, from, own, &delivered, &refused);
        } else if (same(name, "purge") || same(name, "delete")) {
            v.kind = same(name, "purge") ? XMPP_PUBSUB_EVENT_PURGE : XMPP_PUBSUB_EVENT_DELETE;
            deliver(s, ps, &v, from, own, &delivered, &refused);
        }
    }
    ps->dispatching--;
    if (ps->dispatching == 0)
        sweep(ps, ctx);
    if (refused && !delivered)
        xmpp__log(ctx, XMPP_LOG_WARN, "pubsub",
                  "dropping a notification from %s: not the trusted publisher",
                  from_s ? from_s : "(our account)");
    xmpp_jid_free(from);
    xmpp_jid_free(own);
    return delivered || refused;
}

int xmpp_pubsub_add_event_handler(xmpp_session *s, const char *service, const char *node,
                                  unsigned flags, xmpp_pubsub_event_fn cb, void *user_data,
                                  unsigned long *handle) {
    struct pubsub_state *ps = xmpp_session_plugin_state(s, "pubsub");
    xmpp_ctx *ctx = xmpp_session_ctx(s);
    struct ev_handler h, *a;
    if (handle)
        *handle = 0;
    if (s == NULL || cb == NULL || (flags & ~XMPP_PUBSUB_OWN_ONLY))
        return XMPP_ERR_INVALID;
    if (ps == NULL)
        return XMPP_ERR_STATE;
    if (ps->n_h >= MAX_EVENT_HANDLERS)
        return XMPP_ERR_LIMIT;
    memset(&h, 0, sizeof(h));
    if (service && xmpp_jid_parse(&h.service, ctx, service) != XMPP_OK)
        return XMPP_ERR_INVALID;
    if (node && (h.node = xmpp__strdup(ctx, node)) == NULL)
        goto nomem;
    if ((a = xmpp__realloc(ctx, ps->h, (ps->n_h + 1) * sizeof(*a))) == NULL)
        goto nomem;
    ps->h = a;
    h.id = ++ps->next_id;
    h.flags = flags;
    h.cb = cb;
    h.ud = user_data;
    ps->h[ps->n_h++] = h;
    if (handle)
        *handle = h.id;
    return XMPP_OK;
nomem:
    xmpp_jid_free(h.service);
    xmpp_free(ctx, h.node);
    return XMPP_ERR_NOMEM;
}

int xmpp_pubsub_remove_event_handler(xmpp_session *s, unsigned long handle) {
    struct pubsub_state *ps = xmpp_session_plugin_state(s, "pubsub");
    size_t i;
    if (ps == NULL)
        return XMPP_ERR_STATE;
    for (i = 0; i < ps->n_h; i++) {
        if (ps->h[i].id == handle && !ps->h[i].removed) {
            ps->h[i].removed = 1;
            if (ps->dispatching == 0)
                sweep(ps, xmpp_session_ctx(s));
            return XMPP_OK;
        }
    }
    return XMPP_ERR_NOT_FOUND;
}

/* ---- requests */
static int text_ok(const char *t) {
    return t == NULL || xmpp__xml_text_ok(t, strlen(t));
}

/* <x xmlns='jabber:x:data' type='submit'> with FORM_TYPE and the pairs
 * (XEP-0004 §3.4, XEP-0068 FORM_TYPE). Until xmpp/xep/forms.h exists. */
static int add_form(xmpp_stanza *parent, const char *form_type, const char *const *pairs) {
    xmpp_stanza *x, *f, *v;
    size_t i;
    int rc;
    if ((rc = xmpp_stanza_add_child_new(parent, "x", NS_XDATA, &x)) != XMPP_OK ||
        (rc = xmpp_stanza_set_attr(x, "type", "submit")) != XMPP_OK ||
        (rc = xmpp_stanza_add_child_new(x, "field", NULL, &f)) != XMPP_OK ||
        (rc = xmpp_stanza_set_attr(f, "var", "FORM_TYPE")) != XMPP_OK ||
        (rc = xmpp_stanza_set_attr(f, "type", "hidden")) != XMPP_OK ||
        (rc = xmpp_stanza_add_child_new(f, "value", NULL, &v)) != XMPP_OK ||
        (rc = xmpp_stanza_add_text(v, form_type, strlen(form_type))) != XMPP_OK)
        return rc;
    for (i = 0; pairs[i]; i += 2) {
        if ((rc = xmpp_stanza_add_child_new(x, "field", NULL, &f)) != XMPP_OK ||
            (rc = xmpp_stanza_set_attr(f, "var", pairs[i])) != XMPP_OK ||
            (rc = xmpp_stanza_add_child_new(f, "value", NULL, &v)) != XMPP_OK ||
            (rc = xmpp_stanza_add_text(v, pairs[i + 1], strlen(pairs[i + 1]))) != XMPP_OK)
            return rc;
    }
    return XMPP_OK;
}

static int pairs_ok(const char *const *pairs) {
    size_t i;
    if (pairs == NULL)
        return 1;
    for (i = 0; pairs[i]; i += 2)
        if (pairs[i + 1] == NULL || pairs[i][0] == '\0' || !text_ok(pairs[i]) ||
            !text_ok(pairs[i + 1]))
            return 0;
    return 1;
}

/* <iq type to id><pubsub xmlns=ns><verb node/></pubsub></iq>; *el gets
 * the verb element, *ps_el the <pubsub/>. */
static int build(xmpp_session *s, const char *type, const char *service, const char *ns,
                 const char *verb, const char *node, xmpp_stanza **iq, xmpp_stanza **ps_el,
                 xmpp_stanza **el) {
    xmpp_stanza *p = NULL, *e = NULL;
    char id[32];
    int rc;
    *iq = NULL;
    if (!xmpp_session_plugin_enabled(s, "pubsub"))
        return XMPP_ERR_STATE;
    if (!text_ok(service) || !text_ok(node) || (node && node[0] == '\0'))
        return XMPP_ERR_INVALID;
    if ((rc = xmpp_session_new_id(s, id, sizeof(id))) != XMPP_OK)
        return rc;
    if ((rc = xmpp_iq_new(iq, xmpp_session_ctx(s), type, service, id)) != XMPP_OK ||
        (rc = xmpp_stanza_add_child_new(*iq, "pubsub", ns, &p)) != XMPP_OK ||
        (rc = xmpp_stanza_add_child_new(p, verb, NULL, &e)) != XMPP_OK ||
        (node && (rc = xmpp_stanza_set_attr(e, "node", node)) != XMPP_OK)) {
        xmpp_stanza_unref(*iq);
        *iq = NULL;
        return rc;
    }
    if (ps_el)
        *ps_el = p;
    if (el)
        *el = e;
    return XMPP_OK;
}

static int send_req(xmpp_session *s, xmpp_stanza *iq, unsigned timeout_ms, xmpp_iq_fn cb,
                void *ud) {
    int rc = xmpp_session_send_iq(s, iq, timeout_ms, cb, ud);
    xmpp_stanza_unref(iq);
    return rc;
}

int xmpp_pubsub_create(xmpp_session *s, const char *service, const char *node,
                       const char *const *config, unsigned timeout_ms, xmpp_iq_fn cb,
                       void *user_data) {
    xmpp_stanza *iq, *p, *cfg;
    int rc;
    if (!pairs_ok(config))
        return XMPP_ERR_INVALID;
    if ((rc = build(s, "set", service, XMPP_NS_PUBSUB, "create", node, &iq, &p, NULL)) !=
        XMPP_OK)
        return rc;
    if (config && config[0]) { /* XEP-0060 §8.1.3 */
        if ((rc = xmpp_stanza_add_child_new(p, "configure", NULL, &cfg)) != XMPP_OK ||
            (rc = add_form(cfg, XMPP_NS_PUBSUB "#node_config", config)) != XMPP_OK) {
            xmpp_stanza_unref(iq);
            return rc;
        }
    }
    return send_req(s, iq, timeout_ms, cb, user_data);
}

int xmpp_pubsub_delete(xmpp_session *s, const char *service, const char *node,
                       unsigned timeout_ms, xmpp_iq_fn cb, void *user_data) {
    xmpp_stanza *iq;
    int rc;
    if (node == NULL)
        return XMPP_ERR_INVALID;
    if ((rc = build(s, "set", service, XMPP_NS_PUBSUB_OWNER, "delete", node, &iq, NULL,
                    NULL)) != XMPP_OK)
        return rc;
    return send_req(s, iq, timeout_ms, cb, user_data);
}

static int build_publish(xmpp_session *s, const char *service, const char *node,
                         const char *item_id, const xmpp_stanza *payload,
                         const char *const *options, xmpp_stanza **out) {
    xmpp_stanza *iq, *p, *pub, *item, *copy = NULL, *po;
    int rc;
    if (node == NULL || !text_ok(item_id) || !pairs_ok(options) ||
        (payload && xmpp_stanza_is_text(payload)))
        return XMPP_ERR_INVALID;
    if ((rc = build(s, "set", service, XMPP_NS_PUBSUB, "publish", node, &iq, &p, &pub)) !=
        XMPP_OK)
        return rc;
    if ((rc = xmpp_stanza_add_child_new(pub, "item", NULL, &item)) != XMPP_OK ||
        (item_id && (rc = xmpp_stanza_set_attr(item, "id", item_id)) != XMPP_OK))
        goto fail;
    if (payload) {
        if ((rc = xmpp_stanza_copy(&copy, payload)) != XMPP_OK)
            goto fail;
        rc = xmpp_stanza_add_child(item, copy);
        xmpp_stanza_unref(copy);
        if (rc != XMPP_OK)
            goto fail;
    }
    if (options && options[0]) { /* XEP-0060 §7.1.5 */
        if ((rc = xmpp_stanza_add_child_new(p, "publish-options", NULL, &po)) != XMPP_OK ||
            (rc = add_form(po, XMPP_NS_PUBSUB "#publish-options", options)) != XMPP_OK)
            goto fail;
    }
    *out = iq;
    return XMPP_OK;
fail:
    xmpp_stanza_unref(iq);
    return rc;
}

int xmpp_pubsub_publish(xmpp_session *s, const char *service, const char *node,
                        const char *item_id, const xmpp_stanza *payload,
                        const char *const *options, unsigned timeout_ms, xmpp_iq_fn cb,
                        void *user_data) {
    xmpp_stanza *iq = NULL;
    int rc = build_publish(s, service, node, item_id, payload, options, &iq);
    if (rc != XMPP_OK)
        return rc;
    return send_req(s, iq, timeout_ms, cb, user_data);
}

int xmpp_pubsub_retract(xmpp_session *s, const char *service, const char *node,
                        const char *item_id, int notify, unsigned timeout_ms, xmpp_iq_fn cb,
                        void *user_data) {
    xmpp_stanza *iq, *r, *item;
    int rc;
    if (node == NULL || item_id == NULL || !text_ok(item_id))
        return XMPP_ERR_INVALID;
    if ((rc = build(s, "set", service, XMPP_NS_PUBSUB, "retract", node, &iq, NULL, &r)) !=
        XMPP_OK)
        return rc;
    if ((notify && (rc = xmpp_stanza_set_attr(r, "notify", "true")) != XMPP_OK) ||
        (rc = xmpp_stanza_add_child_new(r, "item", NULL, &item)) != XMPP_OK ||
        (rc = xmpp_stanza_set_attr(item, "id", item_id)) != XMPP_OK) {
        xmpp_stanza_unref(iq);
        return rc;
    }
    return send_req(s, iq, timeout_ms, cb, user_data);
}

struct items_req {
    xmpp_pubsub_items_fn cb;
    void *ud;
};

static void items_done(xmpp_session *s, xmpp_iq_status status, xmpp_stanza *reply, void *ud) {
    struct items_req r = *(struct items_req *)ud;
    xmpp_free(xmpp_session_ctx(s), ud);
    if (status == XMPP_IQ_RESULT) {
        xmpp_pubsub_items v;
        memset(&v, 0, sizeof(v));
        v.from = xmpp_stanza_from(reply);
        v.parent = xmpp_stanza_path(reply, "pubsub@" XMPP_NS_PUBSUB "/items@" XMPP_NS_PUBSUB);
        v.node = v.parent ? xmpp_stanza_attr(v.parent, "node") : NULL;
        v.kind = XMPP_PUBSUB_EVENT_ITEMS;
        v.child = "item";
        v.ns = XMPP_NS_PUBSUB;
        r.cb(s, status, &v, NULL, r.ud);
    } else {
        r.cb(s, status, NULL, status == XMPP_IQ_ERROR ? reply : NULL, r.ud);
    }
}

int xmpp_pubsub_get_items(xmpp_session *s, const char *service, const char *node, unsigned max,
                          const char *const *ids, unsigned timeout_ms, xmpp_pubsub_items_fn cb,
                          void *user_data) {
    xmpp_stanza *iq, *items, *item;
    struct items_req *r;
    char num[24];
    size_t i;
    int rc;
    if (node == NULL || cb == NULL)
        return XMPP_ERR_INVALID;
    for (i = 0; ids && ids[i]; i++)
        if (!text_ok(ids[i]))
            return XMPP_ERR_INVALID;
    if ((rc = build(s, "get", service, XMPP_NS_PUBSUB, "items", node, &iq, NULL, &items)) !=
        XMPP_OK)
        return rc;
    if (max > 0) { /* XEP-0060 §6.5.7 */
        snprintf(num, sizeof(num), "%u", max);
        if ((rc = xmpp_stanza_set_attr(items, "max_items", num)) != XMPP_OK)
            goto fail;
    }
    for (i = 0; ids && ids[i]; i++) /* XEP-0060 §6.5.8 */
        if ((rc = xmpp_stanza_add_child_new(items, "item", NULL, &item)) != XMPP_OK ||
            (rc = xmpp_stanza_set_attr(item, "id", ids[i])) != XMPP_OK)
            goto fail;
    if ((r = xmpp__malloc(xmpp_session_ctx(s), sizeof(*r))) == NULL) {
        rc = XMPP_ERR_NOMEM;
        goto fail;
    }
    r->cb = cb;
    r->ud = user_data;
    rc = xmpp_session_send_iq(s, iq, timeout_ms, items_done, r);
    if (rc != XMPP_OK)
        xmpp_free(xmpp_session_ctx(s), r);
    xmpp_stanza_unref(iq);
    return rc;
fail:
    xmpp_stanza_unref(iq);
    return rc;
}

static int sub_unsub(xmpp_session *s, const char *verb, const char *service, const char *node,
                     const char *jid, unsigned timeout_ms, xmpp_iq_fn cb, void *user_data) {
    xmpp_ctx *ctx = xmpp_session_ctx(s);
    xmpp_jid *me = NULL, *bare = NULL;
    xmpp_stanza *iq, *e;
    int rc;
    if (service == NULL || node == NULL || !text_ok(jid))
        return XMPP_ERR_INVALID;
    if ((rc = build(s, "set", service, XMPP_NS_PUBSUB, verb, node, &iq, NULL, &e)) != XMPP_OK)
        return rc;
    if (jid == NULL) {
        if (xmpp_session_jid(s) == NULL) {
            xmpp_stanza_unref(iq);
            return XMPP_ERR_STATE;
        }
        if ((rc = xmpp_jid_parse(&me, ctx, xmpp_session_jid(s))) != XMPP_OK ||
            (rc = xmpp_jid_to_bare(&bare, me)) != XMPP_OK) {
            xmpp_jid_free(me);
            xmpp_stanza_unref(iq);
            return rc;
        }
        jid = xmpp_jid_bare(bare);
    }
    rc = xmpp_stanza_set_attr(e, "jid", jid);
    xmpp_jid_free(me);
    xmpp_jid_free(bare);
    if (rc != XMPP_OK) {
        xmpp_stanza_unref(iq);
        return rc;
    }
    return send_req(s, iq, timeout_ms, cb, user_data);
}

int xmpp_pubsub_subscribe(xmpp_session *s, const char *service, const char *node,
                          const char *jid, unsigned timeout_ms, xmpp_iq_fn cb,
                          void *user_data) {
    return sub_unsub(s, "subscribe", service, node, jid, timeout_ms, cb, user_data);
}

int xmpp_pubsub_unsubscribe(xmpp_session *s, const char *service, const char *node,
                            const char *jid, unsigned timeout_ms, xmpp_iq_fn cb,
                            void *user_data) {
    return sub_unsub(s, "unsubscribe", service, node, jid, timeout_ms, cb, user_data);
}

const char *xmpp_pubsub_result_item_id(const xmpp_stanza *reply) {
    const xmpp_stanza *item = reply ? xmpp_stanza_path(reply, "pubsub@" XMPP_NS_PUBSUB
                                                              "/publish@" XMPP_NS_PUBSUB
                                                              "/item@" XMPP_NS_PUBSUB)
                                    : NULL;
    return item ? xmpp_stanza_attr(item, "id") : NULL;
}

const char *xmpp_pubsub_error_condition(const xmpp_stanza *reply) {
    const xmpp_stanza *e = reply ? xmpp_stanza_child(reply, "error", NULL) : NULL, *c;
    if (e == NULL)
        return NULL;
    for (c = xmpp_stanza_first_child(e); c; c = xmpp_stanza_next(c))
        if (!xmpp_stanza_is_text(c) && same(xmpp_stanza_ns(c), XMPP_NS_PUBSUB_ERRORS))
            return xmpp_stanza_name(c);
    return NULL;
}

/* ---- XEP-0223 private publishing */
#define MAX_EXTRA 16 /* extra publish-options pairs */

/* pubsub#persist_items=true, pubsub#access_model=whitelist, then extra;
 * out has room for 4 + 2 * MAX_EXTRA + 1 entries. */
static int private_options(const char *const *extra, const char **out) {
    size_t i, n = 0;
    out[n++] = "pubsub#persist_items";
    out[n++] = "true";
    out[n++] = "pubsub#access_model";
    out[n++] = "whitelist";
    for (i = 0; extra && extra[i]; i += 2) {
        if (i >= 2 * MAX_EXTRA || extra[i + 1] == NULL)
            return XMPP_ERR_INVALID;
        out[n++] = extra[i];
        out[n++] = extra[i + 1];
    }
    out[n] = NULL;
    return XMPP_OK;
}

struct priv_req {
    xmpp_iq_fn cb;
    void *ud;
    xmpp_stanza *publish; /* the publish iq, re-sent after a reconfiguration */
    char *node;
    unsigned timeout_ms;
    int retried;
    xmpp_stanza *form; /* the publish-options form, reused to configure */
};

static void priv_free(xmpp_session *s, struct priv_req *r) {
    xmpp_stanza_unref(r->publish);
    xmpp_stanza_unref(r->form);
    xmpp_free(xmpp_session_ctx(s), r->node);
    xmpp_free(xmpp_session_ctx(s), r);
}

static void priv_finish(xmpp_session *s, struct priv_req *r, xmpp_iq_status st,
                        xmpp_stanza *reply) {
    xmpp_iq_fn cb = r->cb;
    void *ud = r->ud;
    priv_free(s, r);
    if (cb)
        cb(s, st, reply, ud);
}

static void priv_published(xmpp_session *s, xmpp_iq_status st, xmpp_stanza *reply, void *ud);

static void priv_send_publish(xmpp_session *s, struct priv_req *r) {
    int rc;
    /* a fresh id for each attempt */
    char id[32];
    if ((rc = xmpp_session_new_id(s, id, sizeof(id))) != XMPP_OK ||
        (rc = xmpp_stanza_set_attr(r->publish, "id", id)) != XMPP_OK ||
        (rc = xmpp_session_send_iq(s, r->publish, r->timeout_ms, priv_published, r)) !=
            XMPP_OK)
        priv_finish(s, r, XMPP_IQ_CANCELLED, NULL);
}

static void priv_configured(xmpp_session *s, xmpp_iq_status st, xmpp_stanza *reply, void *ud) {
    struct priv_req *r = ud;
    if (st != XMPP_IQ_RESULT) {
        priv_finish(s, r, st, reply);
        return;
    }
    priv_send_publish(s, r);
}

static void priv_published(xmpp_session *s, xmpp_iq_status st, xmpp_stanza *reply, void *ud) {
    struct priv_req *r = ud;
    xmpp_stanza *iq = NULL, *cfg = NULL;
    int rc;
    if (st == XMPP_IQ_ERROR && !r->retried &&
        same(xmpp_pubsub_error_condition(reply), "precondition-not-met")) {
        /* XEP-0223 §4.2 / XEP-0060 §7.1.5: the node exists with another
         * configuration; make it private, then publish once more. */
        r->retried = 1;
        if ((rc = build(s, "set", NULL, XMPP_NS_PUBSUB_OWNER, "configure", r->node, &iq, NULL,
                        &cfg)) == XMPP_OK &&
            (rc = xmpp_stanza_add_child(cfg, r->form)) == XMPP_OK &&
            (rc = xmpp_session_send_iq(s, iq, r->timeout_ms, priv_configured, r)) == XMPP_OK) {
            xmpp_stanza_unref(iq);
            return;
        }
        xmpp_stanza_unref(iq);
    }
    priv_finish(s, r, st, reply);
}

/* The reply given when our service lacks publish-options. */
static void priv_unsupported(xmpp_session *s, struct priv_req *r) {
    xmpp_stanza *err = NULL, *e, *u;
    if (xmpp_stanza_error_new(&err, r->publish, XMPP_EC_FEATURE_NOT_IMPLEMENTED,
                              "publish-options is not supported: private data not published") ==
            XMPP_OK &&
        (e = xmpp_stanza_child(err, "error", NULL)) != NULL &&
        xmpp_stanza_add_child_new(e, "unsupported", XMPP_NS_PUBSUB_ERRORS, &u) == XMPP_OK &&
        xmpp_stanza_set_attr(u, "feature", "publish-options") == XMPP_OK) {
        priv_finish(s, r, XMPP_IQ_ERROR, err);
    } else {
        priv_finish(s, r, XMPP_IQ_CANCELLED, NULL);
    }
    xmpp_stanza_unref(err);
}

static void priv_disco(xmpp_session *s, xmpp_iq_status st, const xmpp_disco_info *info,
                       xmpp_stanza *error, void *ud) {
    struct priv_req *r = ud;
    struct pubsub_state *ps;
    if (st == XMPP_IQ_RESULT && xmpp_disco_info_has_feature(info, XMPP_NS_PUBSUB_PUBLISH_OPTIONS)) {
        if ((ps = xmpp_session_plugin_state(s, "pubsub")) != NULL)
            ps->po_ok = 1;
        priv_send_publish(s, r);
    } else if (st == XMPP_IQ_RESULT) {
        priv_unsupported(s, r);
    } else {
        priv_finish(s, r, st, error);
    }
}

int xmpp_pubsub_publish_private(xmpp_session *s, const char *node, const char *item_id,
                                const xmpp_stanza *payload, const char *const *extra,
                                unsigned timeout_ms, xmpp_iq_fn cb, void *user_data) {
    struct pubsub_state *ps = xmpp_session_plugin_state(s, "pubsub");
    xmpp_ctx *ctx = xmpp_session_ctx(s);
    struct priv_req *r;
    xmpp_jid *me = NULL, *bare = NULL;
    const char *opts[4 + 2 * MAX_EXTRA + 1];
    xmpp_stanza *x;
    int rc;
    if (ps == NULL)
        return XMPP_ERR_STATE;
    if (payload == NULL || node == NULL || private_options(extra, opts) != XMPP_OK)
        return XMPP_ERR_INVALID;
    if ((r = xmpp__malloc(ctx, sizeof(*r))) == NULL)
        return XMPP_ERR_NOMEM;
    memset(r, 0, sizeof(*r));
    r->cb = cb;
    r->ud = user_data;
    r->timeout_ms = timeout_ms;
    if ((rc = build_publish(s, NULL, node, item_id, payload, opts, &r->publish)) != XMPP_OK)
        goto fail;
    /* the same fields as a node_config form, for a reconfiguration */
    x = xmpp_stanza_path(r->publish, "pubsub@" XMPP_NS_PUBSUB "/publish-options@" XMPP_NS_PUBSUB
                                     "/x@" NS_XDATA);
    if ((rc = xmpp_stanza_copy(&r->form, x)) != XMPP_OK)
        goto fail;
    x = xmpp_stanza_child(r->form, "field", NULL);
    x = x ? xmpp_stanza_child(x, "value", NULL) : NULL;
    if (x == NULL) {
        rc = XMPP_ERR_INVALID;
        goto fail;
    }
    if ((rc = xmpp_stanza_set_text(x, XMPP_NS_PUBSUB "#node_config",
                                   strlen(XMPP_NS_PUBSUB "#node_config"))) != XMPP_OK)
        goto fail;
    if ((r->node = xmpp__strdup(ctx, node)) == NULL) {
        rc = XMPP_ERR_NOMEM;
        goto fail;
    }
    if (ps->po_ok) {
        rc = xmpp_session_send_iq(s, r->publish, timeout_ms, priv_published, r);
    } else {
        /* SECURITY.md ORG-06: confirm publish-options before publishing */
        if (xmpp_session_jid(s) == NULL) {
            rc = XMPP_ERR_STATE;
            goto fail;
        }
        if ((rc = xmpp_jid_parse(&me, ctx, xmpp_session_jid(s))) == XMPP_OK &&
            (rc = xmpp_jid_to_bare(&bare, me)) == XMPP_OK)
            rc = xmpp_disco_info_request(s, xmpp_jid_bare(bare), NULL, timeout_ms, priv_disco,
                                         r);
        xmpp_jid_free(me);
        xmpp_jid_free(bare);
    }
    if (rc != XMPP_OK)
        goto fail;
    return XMPP_OK;
fail:
    priv_free(s, r);
    return rc;
}

/* ---- XEP-0163 interests */
static int notify_name(xmpp_session *s, const char *node, char **out) {
    size_t n;
    if (node == NULL || (n = strlen(node)) == 0 || n > MAX_NOTIFY_NODE)
        return XMPP_ERR_INVALID;
    if ((*out = xmpp__malloc(xmpp_session_ctx(s), n + 8)) == NULL)
        return XMPP_ERR_NOMEM;
    memcpy(*out, node, n);
    memcpy(*out + n, "+notify", 8);
    return XMPP_OK;
}

int xmpp_pep_notify_add(xmpp_session *s, const char *node) {
    char *f = NULL;
    int rc;
    if (!xmpp_session_plugin_enabled(s, "pubsub"))
        return XMPP_ERR_STATE;
    if ((rc = notify_name(s, node, &f)) != XMPP_OK)
        return rc;
    rc = xmpp_session_add_feature(s, f);
    xmpp_free(xmpp_session_ctx(s), f);
    return rc;
}

int xmpp_pep_notify_remove(xmpp_session *s, const char *node) {
    char *f = NULL;
    int rc;
    if (s == NULL)
        return XMPP_ERR_INVALID;
    if ((rc = notify_name(s, node, &f)) != XMPP_OK)
        return rc;
    rc = xmpp_session_remove_feature(s, f);
    xmpp_free(xmpp_session_ctx(s), f);
    return rc;
}

/* ---- the plugin */
static int pubsub_attach(xmpp_session *s, void **state, void *ud) {
    xmpp_ctx *ctx = xmpp_session_ctx(s);
    struct pubsub_state *ps = xmpp__malloc(ctx, sizeof(*ps));
    int rc;
    (void)ud;
    if (ps == NULL)
        return XMPP_ERR_NOMEM;
    memset(ps, 0, sizeof(*ps));
    rc = xmpp_session_add_handler(s, "message", NULL, NULL, on_message, ps, &ps->msg_handler);
    if (rc != XMPP_OK) {
        xmpp_free(ctx, ps);
        return rc;
    }
    *state = ps;
    return XMPP_OK;
}

static void pubsub_detach(xmpp_session *s, void *state, void *ud) {
    struct pubsub_state *ps = state;
    size_t i;
    (void)ud;
    xmpp_session_remove_handler(s, ps->msg_handler);
    for (i = 0; i < ps->n_h; i++)
        ps->h[i].removed = 1;
    sweep(ps, xmpp_session_ctx(s));
    xmpp_free(xmpp_session_ctx(s), ps->h);
    xmpp_free(xmpp_session_ctx(s), ps);
}

static const char *const pubsub_depends[] = {"disco", NULL};

const xmpp_plugin_desc xmpp__plugin_pubsub = {
    XMPP_PLUGIN_ABI_VERSION, "pubsub", pubsub_depends, NULL, NULL, 0,
    pubsub_attach,           pubsub_detach, NULL};
