/* RFC 6121 roster: in-memory roster, fetch with versioning (§2.6), pushes
 * from the account only (§2.1.6, SECURITY ORG-02), set and remove. Uses
 * only the public plugin interface. */
#include "core/internal.h"

#include <string.h>

#include <xmpp/jid.h>
#include <xmpp/session.h>
#include <xmpp/stanza.h>
#include <xmpp/sys/plugin.h>
#include <xmpp/xep/roster.h>

#include "plugin/plugin_int.h"
#include "xep/roster_int.h"

struct xmpp_roster_item {
    char *jid, *name;
    xmpp_roster_subscription sub;
    int ask, approved, seen;
    char **groups;
    size_t n_groups;
};

struct roster_state {
    unsigned long handler;
    xmpp_roster_item **items;
    size_t n, cap;
    char *ver;
    xmpp_roster_change_fn cb;
    void *cb_ud;
};

static struct roster_state *state_of(const xmpp_session *s) {
    return xmpp_session_plugin_state(s, "roster");
}

static void item_free(xmpp_ctx *ctx, xmpp_roster_item *it) {
    size_t i;
    if (it == NULL)
        return;
    for (i = 0; i < it->n_groups; i++)
        xmpp_free(ctx, it->groups[i]);
    xmpp_free(ctx, it->groups);
    xmpp_free(ctx, it->jid);
    xmpp_free(ctx, it->name);
    xmpp_free(ctx, it);
}

static int item_add_group(xmpp_ctx *ctx, xmpp_roster_item *it, const char *g) {
    char **ng;
    size_t i;
    if (g == NULL || *g == '\0')
        return XMPP_OK; /* an empty group means none */
    for (i = 0; i < it->n_groups; i++)
        if (strcmp(it->groups[i], g) == 0)
            return XMPP_OK; /* duplicates collapse */
    if (it->n_groups >= XMPP_ROSTER_MAX_GROUPS)
        return XMPP_ERR_LIMIT;
    ng = xmpp__realloc(ctx, it->groups, (it->n_groups + 1) * sizeof(*ng));
    if (ng == NULL)
        return XMPP_ERR_NOMEM;
    it->groups = ng;
    if ((ng[it->n_groups] = xmpp__strdup(ctx, g)) == NULL)
        return XMPP_ERR_NOMEM;
    it->n_groups++;
    return XMPP_OK;
}

static int item_new(xmpp_ctx *ctx, xmpp_roster_item **out, const char *jid, const char *name) {
    xmpp_roster_item *it = xmpp__malloc(ctx, sizeof(*it));
    *out = NULL;
    if (it == NULL)
        return XMPP_ERR_NOMEM;
    memset(it, 0, sizeof(*it));
    if ((it->jid = xmpp__im_bare(ctx, jid, 0)) == NULL) {
        xmpp_free(ctx, it);
        return XMPP_ERR_INVALID;
    }
    if (name && *name && (it->name = xmpp__strdup(ctx, name)) == NULL) {
        item_free(ctx, it);
        return XMPP_ERR_NOMEM;
    }
    *out = it;
    return XMPP_OK;
}

static xmpp_roster_subscription sub_parse(const char *v, int *remove) {
    *remove = 0;
    if (v == NULL)
        return XMPP_SUBSCRIPTION_NONE;
    if (strcmp(v, "to") == 0)
        return XMPP_SUBSCRIPTION_TO;
    if (strcmp(v, "from") == 0)
        return XMPP_SUBSCRIPTION_FROM;
    if (strcmp(v, "both") == 0)
        return XMPP_SUBSCRIPTION_BOTH;
    if (strcmp(v, "remove") == 0)
        *remove = 1;
    return XMPP_SUBSCRIPTION_NONE;
}

/* An <item/> of a result or push; *remove for subscription='remove'. */
static int item_parse(xmpp_ctx *ctx, const xmpp_stanza *e, xmpp_roster_item **out, int *remove) {
    xmpp_roster_item *it;
    const xmpp_stanza *g;
    const char *v;
    int rc = item_new(ctx, &it, xmpp_stanza_attr(e, "jid"), xmpp_stanza_attr(e, "name"));
    if (rc != XMPP_OK)
        return rc;
    it->sub = sub_parse(xmpp_stanza_attr(e, "subscription"), remove);
    v = xmpp_stanza_attr(e, "ask");
    it->ask = v != NULL && strcmp(v, "subscribe") == 0;
    v = xmpp_stanza_attr(e, "approved");
    it->approved = v != NULL && (strcmp(v, "true") == 0 || strcmp(v, "1") == 0);
    for (g = xmpp_stanza_child(e, "group", NULL); g; g = xmpp_stanza_next_match(g, "group", NULL)) {
        char *t = NULL;
        if (xmpp_stanza_text(g, &t, NULL) != XMPP_OK)
            continue;
        rc = item_add_group(ctx, it, t);
        xmpp_free(ctx, t);
        if (rc == XMPP_ERR_LIMIT)
            break; /* the rest is dropped */
        if (rc != XMPP_OK) {
            item_free(ctx, it);
            return rc;
        }
    }
    *out = it;
    return XMPP_OK;
}

static size_t find_index(const struct roster_state *rs, const char *bare) {
    size_t i;
    for (i = 0; i < rs->n; i++)
        if (strcmp(rs->items[i]->jid, bare) == 0)
            return i;
    return (size_t)-1;
}

static int item_same(const xmpp_roster_item *a, const xmpp_roster_item *b) {
    size_t i;
    if (a->sub != b->sub || a->ask != b->ask || a->approved != b->approved ||
        a->n_groups != b->n_groups)
        return 0;
    if ((a->name == NULL) != (b->name == NULL) || (a->name && strcmp(a->name, b->name) != 0))
        return 0;
    for (i = 0; i < a->n_groups; i++)
        if (strcmp(a->groups[i], b->groups[i]) != 0)
            return 0;
    return 1;
}

static void remove_at(xmpp_session *s, struct roster_state *rs, size_t i, int notify) {
    xmpp_roster_item *old = rs->items[i];
    memmove(rs->items + i, rs->items + i + 1, (rs->n - i - 1) * sizeof(*rs->items));
    rs->n--;
    if (notify && rs->cb)
        rs->cb(s, XMPP_ROSTER_REMOVED, old, rs->cb_ud);
    item_free(xmpp_session_ctx(s), old);
}

/* Takes ownership of it. */
static int apply(xmpp_session *s, struct roster_state *rs, xmpp_roster_item *it, int remove,
                 int notify) {
    xmpp_ctx *ctx = xmpp_session_ctx(s);
    size_t i = find_index(rs, it->jid);
    if (remove) {
        if (i != (size_t)-1)
            remove_at(s, rs, i, notify);
        item_free(ctx, it);
        return XMPP_OK;
    }
    it->seen = 1;
    if (i != (size_t)-1) {
        xmpp_roster_item *old = rs->items[i];
        if (item_same(old, it)) {
            old->seen = 1;
            item_free(ctx, it);
            return XMPP_OK;
        }
        rs->items[i] = it;
        item_free(ctx, old);
        if (notify && rs->cb)
            rs->cb(s, XMPP_ROSTER_UPDATED, it, rs->cb_ud);
        return XMPP_OK;
    }
    if (rs->n >= XMPP_ROSTER_MAX_ITEMS) {
        xmpp__log(ctx, XMPP_LOG_WARN, "roster", "roster larger than %d items: item dropped",
                  XMPP_ROSTER_MAX_ITEMS);
        item_free(ctx, it);
        return XMPP_ERR_LIMIT;
    }
    if (rs->n == rs->cap) {
        size_t nc = rs->cap ? rs->cap * 2 : 16;
        xmpp_roster_item **ni = xmpp__realloc(ctx, rs->items, nc * sizeof(*ni));
        if (ni == NULL) {
            item_free(ctx, it);
            return XMPP_ERR_NOMEM;
        }
        rs->items = ni;
        rs->cap = nc;
    }
    rs->items[rs->n++] = it;
    if (notify && rs->cb)
        rs->cb(s, XMPP_ROSTER_ADDED, it, rs->cb_ud);
    return XMPP_OK;
}

static int set_ver(xmpp_ctx *ctx, struct roster_state *rs, const char *ver) {
    char *v = NULL;
    if (ver && (v = xmpp__strdup(ctx, ver)) == NULL)
        return XMPP_ERR_NOMEM;
    xmpp_free(ctx, rs->ver);
    rs->ver = v;
    return XMPP_OK;
}

/* A roster push (RFC 6121 §2.1.6). */
static int on_push(xmpp_session *s, xmpp_stanza *st, void *ud) {
    struct roster_state *rs = ud;
    xmpp_ctx *ctx = xmpp_session_ctx(s);
    const xmpp_stanza *q = xmpp_stanza_child(st, "query", XMPP_NS_ROSTER);
    const xmpp_stanza *e = xmpp_stanza_child(q, "item", NULL);
    xmpp_roster_item *it = NULL;
    int remove = 0;
    if (!xmpp__im_from_account(s, xmpp_stanza_from(st))) {
        /* a spoofed push: ignored, the roster is unchanged (ORG-02) */
        xmpp__log(ctx, XMPP_LOG_WARN, "roster", "ignored a roster push from %s",
                  xmpp_stanza_from(st));
        xmpp__im_iq_error(s, st, XMPP_EC_SERVICE_UNAVAILABLE);
        return 1;
    }
    /* exactly one item (RFC 6121 §2.1.6) */
    if (e == NULL || xmpp_stanza_next_match(e, "item", NULL) != NULL ||
        item_parse(ctx, e, &it, &remove) != XMPP_OK) {
        xmpp__im_iq_error(s, st, XMPP_EC_BAD_REQUEST);
        return 1;
    }
    if (xmpp_stanza_attr(q, "ver"))
        (void)set_ver(ctx, rs, xmpp_stanza_attr(q, "ver"));
    (void)apply(s, rs, it, remove, 1);
    xmpp__im_iq_result(s, st);
    return 1;
}

static int roster_attach(xmpp_session *s, void **state, void *ud) {
    xmpp_ctx *ctx = xmpp_session_ctx(s);
    struct roster_state *rs = xmpp__malloc(ctx, sizeof(*rs));
    int rc;
    (void)ud;
    if (rs == NULL)
        return XMPP_ERR_NOMEM;
    memset(rs, 0, sizeof(*rs));
    rc = xmpp_session_add_handler(s, "iq", XMPP_NS_ROSTER, "set", on_push, rs, &rs->handler);
    if (rc != XMPP_OK) {
        xmpp_free(ctx, rs);
        return rc;
    }
    *state = rs;
    return XMPP_OK;
}

static void roster_detach(xmpp_session *s, void *state, void *ud) {
    struct roster_state *rs = state;
    xmpp_ctx *ctx = xmpp_session_ctx(s);
    size_t i;
    (void)ud;
    xmpp_session_remove_handler(s, rs->handler);
    for (i = 0; i < rs->n; i++)
        item_free(ctx, rs->items[i]);
    xmpp_free(ctx, rs->items);
    xmpp_free(ctx, rs->ver);
    xmpp_free(ctx, rs);
}

const xmpp_plugin_desc xmpp__plugin_roster = {
    XMPP_PLUGIN_ABI_VERSION, "roster", NULL, NULL, NULL, 0, roster_attach, roster_detach, NULL};

/* ---- items */
const char *xmpp_roster_item_jid(const xmpp_roster_item *item) {
    return item ? item->jid : NULL;
}
const char *xmpp_roster_item_name(const xmpp_roster_item *item) {
    return item ? item->name : NULL;
}
xmpp_roster_subscription xmpp_roster_item_subscription(const xmpp_roster_item *item) {
    return item ? item->sub : XMPP_SUBSCRIPTION_NONE;
}
int xmpp_roster_item_ask(const xmpp_roster_item *item) {
    return item ? item->ask : 0;
}
int xmpp_roster_item_approved(const xmpp_roster_item *item) {
    return item ? item->approved : 0;
}
size_t xmpp_roster_item_group_count(const xmpp_roster_item *item) {
    return item ? item->n_groups : 0;
}
const char *xmpp_roster_item_group_at(const xmpp_roster_item *item, size_t i) {
    return item && i < item->n_groups ? item->groups[i] : NULL;
}
const char *xmpp_roster_subscription_name(xmpp_roster_subscription sub) {
    switch (sub) {
    case XMPP_SUBSCRIPTION_TO: return "to";
    case XMPP_SUBSCRIPTION_FROM: return "from";
    case XMPP_SUBSCRIPTION_BOTH: return "both";
    default: return "none";
    }
}

int xmpp_roster_set_change_callback(xmpp_session *s, xmpp_roster_change_fn cb, void *user_data) {
    struct roster_state *rs;
    if (s == NULL)
        return XMPP_ERR_INVALID;
    if ((rs = state_of(s)) == NULL)
        return XMPP_ERR_STATE;
    rs->cb = cb;
    rs->cb_ud = user_data;
    return XMPP_OK;
}

int xmpp_roster_load_item(xmpp_session *s, const char *jid, const char *name,
                          xmpp_roster_subscription sub, int ask, const char *const *groups,
                          size_t n_groups) {
    struct roster_state *rs;
    xmpp_ctx *ctx;
    xmpp_roster_item *it;
    size_t i;
    int rc;
    if (s == NULL || jid == NULL || (n_groups && groups == NULL) || sub < XMPP_SUBSCRIPTION_NONE ||
        sub > XMPP_SUBSCRIPTION_BOTH)
        return XMPP_ERR_INVALID;
    if ((rs = state_of(s)) == NULL)
        return XMPP_ERR_STATE;
    if (n_groups > XMPP_ROSTER_MAX_GROUPS)
        return XMPP_ERR_LIMIT;
    ctx = xmpp_session_ctx(s);
    if ((rc = item_new(ctx, &it, jid, name)) != XMPP_OK)
        return rc;
    it->sub = sub;
    it->ask = ask != 0;
    for (i = 0; i < n_groups; i++)
        if ((rc = item_add_group(ctx, it, groups[i])) != XMPP_OK) {
            item_free(ctx, it);
            return rc;
        }
    return apply(s, rs, it, 0, 0);
}

int xmpp_roster_set_version(xmpp_session *s, const char *ver) {
    struct roster_state *rs = s ? state_of(s) : NULL;
    if (rs == NULL)
        return XMPP_ERR_STATE;
    return set_ver(xmpp_session_ctx(s), rs, ver);
}

const char *xmpp_roster_version(const xmpp_session *s) {
    struct roster_state *rs = s ? state_of(s) : NULL;
    return rs ? rs->ver : NULL;
}

size_t xmpp_roster_count(const xmpp_session *s) {
    struct roster_state *rs = s ? state_of(s) : NULL;
    return rs ? rs->n : 0;
}

const xmpp_roster_item *xmpp_roster_item_at(const xmpp_session *s, size_t i) {
    struct roster_state *rs = s ? state_of(s) : NULL;
    return rs && i < rs->n ? rs->items[i] : NULL;
}

const xmpp_roster_item *xmpp_roster_find(const xmpp_session *s, const char *jid) {
    struct roster_state *rs = s ? state_of(s) : NULL;
    char *bare;
    size_t i;
    if (rs == NULL || (bare = xmpp__im_bare(xmpp_session_ctx(s), jid, 1)) == NULL)
        return NULL;
    i = find_index(rs, bare);
    xmpp_free(xmpp_session_ctx(s), bare);
    return i == (size_t)-1 ? NULL : rs->items[i];
}

/* ---- fetch */
struct fetch_req {
    xmpp_roster_fetch_fn cb;
    void *ud;
};

static void fetch_done(xmpp_session *s, xmpp_iq_status status, xmpp_stanza *reply, void *ud) {
    struct fetch_req r = *(struct fetch_req *)ud;
    struct roster_state *rs = state_of(s);
    xmpp_ctx *ctx = xmpp_session_ctx(s);
    int unchanged = 0;
    xmpp_free(ctx, ud);
    if (status == XMPP_IQ_RESULT && rs != NULL) {
        const xmpp_stanza *q = xmpp_stanza_child(reply, "query", XMPP_NS_ROSTER);
        const xmpp_stanza *e;
        size_t i;
        if (q == NULL) {
            unchanged = 1; /* RFC 6121 §2.6.3: the stored roster is current */
        } else {
            for (i = 0; i < rs->n; i++)
                rs->items[i]->seen = 0;
            for (e = xmpp_stanza_child(q, "item", NULL); e;
                 e = xmpp_stanza_next_match(e, "item", NULL)) {
                xmpp_roster_item *it = NULL;
                int remove = 0;
                if (item_parse(ctx, e, &it, &remove) != XMPP_OK || remove) {
                    item_free(ctx, it);
                    continue;
                }
                (void)apply(s, rs, it, 0, 1);
            }
            for (i = rs->n; i-- > 0;)
                if (!rs->items[i]->seen)
                    remove_at(s, rs, i, 1);
            (void)set_ver(ctx, rs, xmpp_stanza_attr(q, "ver"));
        }
    }
    if (r.cb)
        r.cb(s, status, unchanged, r.ud);
}

static int send_req(xmpp_session *s, xmpp_stanza *iq, unsigned timeout_ms, xmpp_iq_fn done,
                    void *req) {
    int rc = xmpp_session_send_iq(s, iq, timeout_ms, done, req);
    if (rc != XMPP_OK)
        xmpp_free(xmpp_session_ctx(s), req);
    xmpp_stanza_unref(iq);
    return rc;
}

int xmpp_roster_fetch(xmpp_session *s, unsigned timeout_ms, xmpp_roster_fetch_fn cb,
                      void *user_data) {
    struct roster_state *rs;
    struct fetch_req *r;
    xmpp_stanza *iq, *q;
    int rc;
    if (s == NULL)
        return XMPP_ERR_INVALID;
    if ((rs = state_of(s)) == NULL)
        return XMPP_ERR_STATE;
    if ((rc = xmpp__im_iq_new(s, "get", NULL, "query", XMPP_NS_ROSTER, &iq, &q)) != XMPP_OK)
        return rc;
    /* RFC 6121 §2.6.2: 'ver' only when the server offers versioning */
    if (rs->ver && xmpp_session_feature_offered(s, "ver", XMPP_NS_ROSTER_VER) &&
        (rc = xmpp_stanza_set_attr(q, "ver", rs->ver)) != XMPP_OK) {
        xmpp_stanza_unref(iq);
        return rc;
    }
    if ((r = xmpp__malloc(xmpp_session_ctx(s), sizeof(*r))) == NULL) {
        xmpp_stanza_unref(iq);
        return XMPP_ERR_NOMEM;
    }
    r->cb = cb;
    r->ud = user_data;
    return send_req(s, iq, timeout_ms, fetch_done, r);
}

/* ---- set / remove */
struct set_req {
    xmpp_iq_fn cb;
    void *ud;
};

static void set_done(xmpp_session *s, xmpp_iq_status status, xmpp_stanza *reply, void *ud) {
    struct set_req r = *(struct set_req *)ud;
    xmpp_free(xmpp_session_ctx(s), ud);
    if (r.cb)
        r.cb(s, status, reply, r.ud);
}

static int send_item(xmpp_session *s, const char *jid, const char *name,
                     const char *const *groups, size_t n_groups, int remove,
                     unsigned timeout_ms, xmpp_iq_fn cb, void *user_data) {
    xmpp_ctx *ctx;
    xmpp_stanza *iq, *q, *item, *g;
    struct set_req *r;
    char *bare;
    size_t i;
    int rc;
    if (s == NULL || jid == NULL || (n_groups && groups == NULL))
        return XMPP_ERR_INVALID;
    if (state_of(s) == NULL)
        return XMPP_ERR_STATE;
    if (n_groups > XMPP_ROSTER_MAX_GROUPS)
        return XMPP_ERR_LIMIT;
    ctx = xmpp_session_ctx(s);
    if ((bare = xmpp__im_bare(ctx, jid, 0)) == NULL)
        return XMPP_ERR_INVALID;
    rc = xmpp__im_iq_new(s, "set", NULL, "query", XMPP_NS_ROSTER, &iq, &q);
    if (rc == XMPP_OK)
        rc = xmpp_stanza_add_child_new(q, "item", NULL, &item);
    if (rc == XMPP_OK)
        rc = xmpp_stanza_set_attr(item, "jid", bare);
    if (rc == XMPP_OK && remove)
        rc = xmpp_stanza_set_attr(item, "subscription", "remove");
    if (rc == XMPP_OK && name && *name)
        rc = xmpp_stanza_set_attr(item, "name", name);
    for (i = 0; rc == XMPP_OK && i < n_groups; i++) {
        if (groups[i] == NULL || *groups[i] == '\0')
            continue;
        rc = xmpp_stanza_add_child_new(item, "group", NULL, &g);
        if (rc == XMPP_OK)
            rc = xmpp_stanza_add_text(g, groups[i], strlen(groups[i]));
    }
    xmpp_free(ctx, bare);
    if (rc == XMPP_OK && (r = xmpp__malloc(ctx, sizeof(*r))) == NULL)
        rc = XMPP_ERR_NOMEM;
    if (rc != XMPP_OK) {
        xmpp_stanza_unref(iq);
        return rc;
    }
    r->cb = cb;
    r->ud = user_data;
    return send_req(s, iq, timeout_ms, set_done, r);
}

int xmpp_roster_set_item(xmpp_session *s, const char *jid, const char *name,
                         const char *const *groups, size_t n_groups, unsigned timeout_ms,
                         xmpp_iq_fn cb, void *user_data) {
    return send_item(s, jid, name, groups, n_groups, 0, timeout_ms, cb, user_data);
}

int xmpp_roster_remove_item(xmpp_session *s, const char *jid, unsigned timeout_ms,
                            xmpp_iq_fn cb, void *user_data) {
    return send_item(s, jid, NULL, NULL, 0, 1, timeout_ms, cb, user_data);
}
