/* XEP-0184 Message Delivery Receipts: answers requests, sends requests
 * and matches receipts to the messages they acknowledge, by id and by the
 * sender the message went to. Uses only the public plugin interface. */
#include "core/internal.h"

#include <string.h>

#include <xmpp/jid.h>
#include <xmpp/session.h>
#include <xmpp/stanza.h>
#include <xmpp/sys/plugin.h>
#include <xmpp/xep/receipts.h>

#include "plugin/plugin_int.h"

struct pending {
    char *id;
    xmpp_jid *to;
};

struct receipts_state {
    unsigned long handler;
    int auto_reply;
    xmpp_receipt_fn cb;
    void *cb_ud;
    struct pending ring[XMPP_RECEIPTS_MAX_PENDING];
    size_t head, count; /* oldest at head */
};

static void pending_clear(xmpp_ctx *ctx, struct pending *p) {
    xmpp_free(ctx, p->id);
    xmpp_jid_free(p->to);
    p->id = NULL;
    p->to = NULL;
}

static int is_type(const xmpp_stanza *st, const char *t) {
    const char *type = xmpp_stanza_type(st);
    return type && strcmp(type, t) == 0;
}

/* Whether @p from (NULL: the own server) is the own account. */
static int from_self(xmpp_session *s, const char *from) {
    xmpp_ctx *ctx = xmpp_session_ctx(s);
    xmpp_jid *a = NULL, *b = NULL;
    int self = 1;
    const char *own = xmpp_session_jid(s);
    if (from == NULL || own == NULL)
        return 1;
    if (xmpp_jid_parse(&a, ctx, from) == XMPP_OK && xmpp_jid_parse(&b, ctx, own) == XMPP_OK)
        self = xmpp_jid_bare_equal(a, b);
    xmpp_jid_free(a);
    xmpp_jid_free(b);
    return self;
}

static void answer(xmpp_session *s, const xmpp_stanza *st) {
    xmpp_ctx *ctx = xmpp_session_ctx(s);
    xmpp_stanza *m = NULL, *r = NULL;
    char id[32];
    if (xmpp_session_new_id(s, id, sizeof(id)) != XMPP_OK)
        return;
    /* XEP-0184 §5.2: the receipt goes to the sender, carries the id */
    if (xmpp_message_new(&m, ctx, NULL, xmpp_stanza_from(st), id, NULL) == XMPP_OK &&
        xmpp_stanza_add_child_new(m, "received", XMPP_NS_RECEIPTS, &r) == XMPP_OK &&
        xmpp_stanza_set_attr(r, "id", xmpp_stanza_id(st)) == XMPP_OK)
        (void)xmpp_session_send(s, m);
    xmpp_stanza_unref(m);
}

static void receipt_in(xmpp_session *s, struct receipts_state *rs, const char *id,
                       const char *from) {
    xmpp_ctx *ctx = xmpp_session_ctx(s);
    xmpp_jid *fj = NULL;
    size_t i;
    if (from == NULL || xmpp_jid_parse(&fj, ctx, from) != XMPP_OK)
        return;
    for (i = 0; i < rs->count; i++) {
        struct pending *p = &rs->ring[(rs->head + i) % XMPP_RECEIPTS_MAX_PENDING];
        if (p->id == NULL || strcmp(p->id, id) != 0)
            continue;
        /* only the JID the message went to (any resource of a bare JID) */
        if (xmpp_jid_is_full(p->to) ? !xmpp_jid_equal(p->to, fj) : !xmpp_jid_bare_equal(p->to, fj))
            continue;
        pending_clear(ctx, p);
        /* drop cleared entries at the head so the ring does not fill up */
        while (rs->count && rs->ring[rs->head].id == NULL) {
            rs->head = (rs->head + 1) % XMPP_RECEIPTS_MAX_PENDING;
            rs->count--;
        }
        if (rs->cb) {
            char *idc = xmpp__strdup(ctx, id);
            if (idc) {
                rs->cb(s, idc, xmpp_jid_full(fj), rs->cb_ud);
                xmpp_free(ctx, idc);
            }
        }
        break;
    }
    xmpp_jid_free(fj);
}

static int on_message(xmpp_session *s, xmpp_stanza *st, void *ud) {
    struct receipts_state *rs = ud;
    xmpp_stanza *req, *rcv;
    if (is_type(st, "error"))
        return 0;
    rcv = xmpp_stanza_child(st, "received", XMPP_NS_RECEIPTS);
    if (rcv != NULL) {
        const char *id = xmpp_stanza_attr(rcv, "id");
        if (id && *id)
            receipt_in(s, rs, id, xmpp_stanza_from(st));
        return 0; /* a receipt is never answered */
    }
    req = xmpp_stanza_child(st, "request", XMPP_NS_RECEIPTS);
    /* XEP-0184 §5.4: no receipts in groupchat; §5.2: the id is required */
    if (req == NULL || !rs->auto_reply || is_type(st, "groupchat") || xmpp_stanza_id(st) == NULL ||
        xmpp_stanza_id(st)[0] == '\0' || from_self(s, xmpp_stanza_from(st)))
        return 0;
    answer(s, st);
    return 0;
}

static int receipts_attach(xmpp_session *s, void **state, void *ud) {
    xmpp_ctx *ctx = xmpp_session_ctx(s);
    struct receipts_state *rs = xmpp__malloc(ctx, sizeof(*rs));
    int rc;
    (void)ud;
    if (rs == NULL)
        return XMPP_ERR_NOMEM;
    memset(rs, 0, sizeof(*rs));
    rs->auto_reply = 1;
    rc = xmpp_session_add_handler(s, "message", NULL, NULL, on_message, rs, &rs->handler);
    if (rc != XMPP_OK) {
        xmpp_free(ctx, rs);
        return rc;
    }
    *state = rs;
    return XMPP_OK;
}

static void receipts_detach(xmpp_session *s, void *state, void *ud) {
    struct receipts_state *rs = state;
    xmpp_ctx *ctx = xmpp_session_ctx(s);
    size_t i;
    (void)ud;
    xmpp_session_remove_handler(s, rs->handler);
    for (i = 0; i < XMPP_RECEIPTS_MAX_PENDING; i++)
        pending_clear(ctx, &rs->ring[i]);
    xmpp_free(ctx, rs);
}

static const char *const receipts_features[] = {XMPP_NS_RECEIPTS, NULL};

const xmpp_plugin_desc xmpp__plugin_receipts = {
    XMPP_PLUGIN_ABI_VERSION, "receipts",      NULL, receipts_features, NULL, 0,
    receipts_attach,         receipts_detach, NULL};

int xmpp_receipts_set_callback(xmpp_session *s, xmpp_receipt_fn cb, void *user_data) {
    struct receipts_state *rs = xmpp_session_plugin_state(s, "receipts");
    if (rs == NULL)
        return XMPP_ERR_STATE;
    rs->cb = cb;
    rs->cb_ud = user_data;
    return XMPP_OK;
}

int xmpp_receipts_set_auto_reply(xmpp_session *s, int on) {
    struct receipts_state *rs = xmpp_session_plugin_state(s, "receipts");
    if (rs == NULL)
        return XMPP_ERR_STATE;
    rs->auto_reply = on != 0;
    return XMPP_OK;
}

int xmpp_receipts_requested(const xmpp_stanza *msg) {
    return msg != NULL && xmpp_stanza_child(msg, "request", XMPP_NS_RECEIPTS) != NULL;
}

int xmpp_receipts_send(xmpp_session *s, xmpp_stanza *msg) {
    struct receipts_state *rs = xmpp_session_plugin_state(s, "receipts");
    xmpp_ctx *ctx = xmpp_session_ctx(s);
    xmpp_stanza *req = NULL;
    xmpp_jid *to = NULL;
    struct pending *slot;
    char idbuf[32], *id;
    int rc;
    if (msg == NULL || xmpp_stanza_name(msg) == NULL ||
        strcmp(xmpp_stanza_name(msg), "message") != 0 || xmpp_stanza_to(msg) == NULL ||
        is_type(msg, "groupchat") || is_type(msg, "error") || xmpp_receipts_requested(msg))
        return XMPP_ERR_INVALID;
    if (rs == NULL)
        return XMPP_ERR_STATE;
    if ((rc = xmpp_jid_parse(&to, ctx, xmpp_stanza_to(msg))) != XMPP_OK)
        return XMPP_ERR_INVALID;
    if (xmpp_stanza_id(msg) == NULL || xmpp_stanza_id(msg)[0] == '\0') {
        if ((rc = xmpp_session_new_id(s, idbuf, sizeof(idbuf))) != XMPP_OK ||
            (rc = xmpp_stanza_set_attr(msg, "id", idbuf)) != XMPP_OK) {
            xmpp_jid_free(to);
            return rc;
        }
    }
    if ((id = xmpp__strdup(ctx, xmpp_stanza_id(msg))) == NULL) {
        xmpp_jid_free(to);
        return XMPP_ERR_NOMEM;
    }
    if ((rc = xmpp_stanza_add_child_new(msg, "request", XMPP_NS_RECEIPTS, &req)) != XMPP_OK ||
        (rc = xmpp_session_send(s, msg)) != XMPP_OK) {
        if (req)
            xmpp_stanza_remove_child(msg, req);
        xmpp_free(ctx, id);
        xmpp_jid_free(to);
        return rc;
    }
    if (rs->count == XMPP_RECEIPTS_MAX_PENDING) { /* forget the oldest */
        pending_clear(ctx, &rs->ring[rs->head]);
        rs->head = (rs->head + 1) % XMPP_RECEIPTS_MAX_PENDING;
        rs->count--;
    }
    slot = &rs->ring[(rs->head + rs->count) % XMPP_RECEIPTS_MAX_PENDING];
    slot->id = id;
    slot->to = to;
    rs->count++;
    return XMPP_OK;
}
