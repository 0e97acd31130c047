/* XEP-0191 Blocking Command: block list in memory, fetch, block, unblock,
 * pushes from the account only. Uses only the public plugin interface. */
#include "core/internal.h"

#include <string.h>

#include <xmpp/jid.h>
#include <xmpp/session.h>
#include <xmpp/stanza.h>
#include <xmpp/sys/plugin.h>
#include <xmpp/xep/blocking.h>

#include "plugin/plugin_int.h"
#include "xep/roster_int.h"

struct blocking_state {
    unsigned long h_block;
    char **jids;
    size_t n, cap;
    xmpp_blocking_change_fn cb;
    void *cb_ud;
};

static struct blocking_state *state_of(const xmpp_session *s) {
    return xmpp_session_plugin_state(s, "blocking");
}

/* The prepared form of any JID (bare, full or domain); NULL if invalid. */
static char *prep(xmpp_ctx *ctx, const char *jid) {
    xmpp_jid *j = NULL;
    char *out = NULL;
    if (jid == NULL || xmpp_jid_parse(&j, ctx, jid) != XMPP_OK)
        return NULL;
    out = xmpp__strdup(ctx, xmpp_jid_full(j));
    xmpp_jid_free(j);
    return out;
}

static size_t find(const struct blocking_state *bs, const char *jid) {
    size_t i;
    for (i = 0; i < bs->n; i++)
        if (strcmp(bs->jids[i], jid) == 0)
            return i;
    return (size_t)-1;
}

static void add(xmpp_session *s, struct blocking_state *bs, const char *raw) {
    xmpp_ctx *ctx = xmpp_session_ctx(s);
    char *j = prep(ctx, raw);
    if (j == NULL)
        return;
    if (find(bs, j) != (size_t)-1 || bs->n >= XMPP_BLOCKING_MAX_ITEMS) {
        xmpp_free(ctx, j);
        return;
    }
    if (bs->n == bs->cap) {
        size_t nc = bs->cap ? bs->cap * 2 : 16;
        char **nj = xmpp__realloc(ctx, bs->jids, nc * sizeof(*nj));
        if (nj == NULL) {
            xmpp_free(ctx, j);
            return;
        }
        bs->jids = nj;
        bs->cap = nc;
    }
    bs->jids[bs->n++] = j;
    if (bs->cb)
        bs->cb(s, 1, j, bs->cb_ud);
}

static void del_at(xmpp_session *s, struct blocking_state *bs, size_t i, int notify) {
    char *j = bs->jids[i];
    memmove(bs->jids + i, bs->jids + i + 1, (bs->n - i - 1) * sizeof(*bs->jids));
    bs->n--;
    if (notify && bs->cb)
        bs->cb(s, 0, j, bs->cb_ud);
    xmpp_free(xmpp_session_ctx(s), j);
}

static void del(xmpp_session *s, struct blocking_state *bs, const char *raw) {
    char *j = prep(xmpp_session_ctx(s), raw);
    size_t i;
    if (j == NULL)
        return;
    if ((i = find(bs, j)) != (size_t)-1)
        del_at(s, bs, i, 1);
    xmpp_free(xmpp_session_ctx(s), j);
}

static void clear(xmpp_session *s, struct blocking_state *bs, int notify) {
    int had = bs->n > 0;
    while (bs->n)
        del_at(s, bs, bs->n - 1, 0);
    if (notify && had && bs->cb)
        bs->cb(s, 0, NULL, bs->cb_ud);
}

/* <iq type='set'><block/> or <unblock/> from the server (XEP-0191 §3.3-3.5) */
static int on_push(xmpp_session *s, xmpp_stanza *st, void *ud) {
    struct blocking_state *bs = ud;
    const xmpp_stanza *op = xmpp_stanza_first_child(st);
    const xmpp_stanza *e;
    int block;
    while (op && xmpp_stanza_is_text(op))
        op = xmpp_stanza_next(op);
    if (op == NULL)
        return 0;
    if (!xmpp__im_from_account(s, xmpp_stanza_from(st))) {
        xmpp__log(xmpp_session_ctx(s), XMPP_LOG_WARN, "blocking",
                  "ignored a block list push from %s", xmpp_stanza_from(st));
        xmpp__im_iq_error(s, st, XMPP_EC_SERVICE_UNAVAILABLE);
        return 1;
    }
    block = strcmp(xmpp_stanza_name(op), "block") == 0;
    e = xmpp_stanza_child(op, "item", NULL);
    if (block && e == NULL) {
        xmpp__im_iq_error(s, st, XMPP_EC_BAD_REQUEST);
        return 1;
    }
    if (!block && e == NULL)
        clear(s, bs, 1);
    for (; e; e = xmpp_stanza_next_match(e, "item", NULL)) {
        if (block)
            add(s, bs, xmpp_stanza_attr(e, "jid"));
        else
            del(s, bs, xmpp_stanza_attr(e, "jid"));
    }
    xmpp__im_iq_result(s, st);
    return 1;
}

static int blocking_attach(xmpp_session *s, void **state, void *ud) {
    xmpp_ctx *ctx = xmpp_session_ctx(s);
    struct blocking_state *bs = xmpp__malloc(ctx, sizeof(*bs));
    int rc;
    (void)ud;
    if (bs == NULL)
        return XMPP_ERR_NOMEM;
    memset(bs, 0, sizeof(*bs));
    rc = xmpp_session_add_handler(s, "iq", XMPP_NS_BLOCKING, "set", on_push, bs, &bs->h_block);
    if (rc != XMPP_OK) {
        xmpp_free(ctx, bs);
        return rc;
    }
    *state = bs;
    return XMPP_OK;
}

static void blocking_detach(xmpp_session *s, void *state, void *ud) {
    struct blocking_state *bs = state;
    (void)ud;
    xmpp_session_remove_handler(s, bs->h_block);
    bs->cb = NULL;
    clear(s, bs, 0);
    xmpp_free(xmpp_session_ctx(s), bs->jids);
    xmpp_free(xmpp_session_ctx(s), bs);
}

const xmpp_plugin_desc xmpp__plugin_blocking = {
    XMPP_PLUGIN_ABI_VERSION, "blocking", NULL, NULL, NULL, 0, blocking_attach, blocking_detach,
    NULL};

int xmpp_blocking_set_change_callback(xmpp_session *s, xmpp_blocking_change_fn cb,
                                      void *user_data) {
    struct blocking_state *bs;
    if (s == NULL)
        return XMPP_ERR_INVALID;
    if ((bs = state_of(s)) == NULL)
        return XMPP_ERR_STATE;
    bs->cb = cb;
    bs->cb_ud = user_data;
    return XMPP_OK;
}

size_t xmpp_blocking_count(const xmpp_session *s) {
    struct blocking_state *bs = s ? state_of(s) : NULL;
    return bs ? bs->n : 0;
}

const char *xmpp_blocking_at(const xmpp_session *s, size_t i) {
    struct blocking_state *bs = s ? state_of(s) : NULL;
    return bs && i < bs->n ? bs->jids[i] : NULL;
}

int xmpp_blocking_is_blocked(const xmpp_session *s, const char *jid) {
    struct blocking_state *bs = s ? state_of(s) : NULL;
    char *j;
    int r;
    if (bs == NULL || (j = prep(xmpp_session_ctx(s), jid)) == NULL)
        return 0;
    r = find(bs, j) != (size_t)-1;
    xmpp_free(xmpp_session_ctx(s), j);
    return r;
}

struct req {
    xmpp_iq_fn cb;
    void *ud;
    int fetch;
};

static void req_done(xmpp_session *s, xmpp_iq_status status, xmpp_stanza *reply, void *ud) {
    struct req r = *(struct req *)ud;
    struct blocking_state *bs = state_of(s);
    xmpp_free(xmpp_session_ctx(s), ud);
    if (r.fetch && status == XMPP_IQ_RESULT && bs) {
        const xmpp_stanza *l = xmpp_stanza_child(reply, "blocklist", XMPP_NS_BLOCKING);
        const xmpp_stanza *e;
        size_t i;
        /* replace: drop what is no longer listed, add what is new */
        for (i = bs->n; i-- > 0;) {
            int listed = 0;
            for (e = xmpp_stanza_child(l, "item", NULL); e && !listed;
                 e = xmpp_stanza_next_match(e, "item", NULL)) {
                char *j = prep(xmpp_session_ctx(s), xmpp_stanza_attr(e, "jid"));
                listed = j && strcmp(j, bs->jids[i]) == 0;
                xmpp_free(xmpp_session_ctx(s), j);
            }
            if (!listed)
                del_at(s, bs, i, 1);
        }
        for (e = xmpp_stanza_child(l, "item", NULL); e; e = xmpp_stanza_next_match(e, "item", NULL))
            add(s, bs, xmpp_stanza_attr(e, "jid"));
    }
    if (r.cb)
        r.cb(s, status, reply, r.ud);
}

static int send_op(xmpp_session *s, const char *type, const char *op, const char *const *jids,
                   size_t n, int fetch, unsigned timeout_ms, xmpp_iq_fn cb, void *user_data) {
    xmpp_ctx *ctx;
    xmpp_stanza *iq, *q, *item;
    struct req *r;
    size_t i;
    int rc;
    if (s == NULL || (n && jids == NULL))
        return XMPP_ERR_INVALID;
    if (state_of(s) == NULL)
        return XMPP_ERR_STATE;
    ctx = xmpp_session_ctx(s);
    if ((rc = xmpp__im_iq_new(s, type, NULL, op, XMPP_NS_BLOCKING, &iq, &q)) != XMPP_OK)
        return rc;
    for (i = 0; rc == XMPP_OK && i < n; i++) {
        char *j = prep(ctx, jids[i]);
        if (j == NULL) {
            rc = XMPP_ERR_INVALID;
            break;
        }
        rc = xmpp_stanza_add_child_new(q, "item", NULL, &item);
        if (rc == XMPP_OK)
            rc = xmpp_stanza_set_attr(item, "jid", j);
        xmpp_free(ctx, j);
    }
    if (rc == XMPP_OK && (r = xmpp__malloc(ctx, sizeof(*r))) == NULL)
        rc = XMPP_ERR_NOMEM;
    if (rc != XMPP_OK) {
        xmpp_stanza_unref(iq);
        return rc;
    }
    r->cb = cb;
    r->ud = user_data;
    r->fetch = fetch;
    rc = xmpp_session_send_iq(s, iq, timeout_ms, req_done, r);
    if (rc != XMPP_OK)
        xmpp_free(ctx, r);
    xmpp_stanza_unref(iq);
    return rc;
}

int xmpp_blocking_fetch(xmpp_session *s, unsigned timeout_ms, xmpp_iq_fn cb, void *user_data) {
    return send_op(s, "get", "blocklist", NULL, 0, 1, timeout_ms, cb, user_data);
}

int xmpp_blocking_block(xmpp_session *s, const char *const *jids, size_t n, unsigned timeout_ms,
                        xmpp_iq_fn cb, void *user_data) {
    if (n == 0)
        return XMPP_ERR_INVALID;
    return send_op(s, "set", "block", jids, n, 0, timeout_ms, cb, user_data);
}

int xmpp_blocking_unblock(xmpp_session *s, const char *const *jids, size_t n,
                          unsigned timeout_ms, xmpp_iq_fn cb, void *user_data) {
    return send_op(s, "set", "unblock", jids, n, 0, timeout_ms, cb, user_data);
}
