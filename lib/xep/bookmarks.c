/* XEP-0402 PEP Native Bookmarks with XEP-0048 (XEP-0049) fallback: the
 * "bookmarks" plugin (needs "pubsub"). The storage rule is in
 * xmpp/xep/bookmarks.h. Uses only the public interface. */
#include "core/internal.h"

#include <string.h>

#include <xmpp/jid.h>
#include <xmpp/session.h>
#include <xmpp/stanza.h>
#include <xmpp/sys/plugin.h>
#include <xmpp/xep/bookmarks.h>
#include <xmpp/xep/disco.h>
#include <xmpp/xep/private.h>
#include <xmpp/xep/pubsub.h>

#include "plugin/plugin_int.h"

#define MAX_WATCHES 64
#define MAX_BOOKMARKS 1000 /* entries read from one answer */

struct watch {
    unsigned long id;
    xmpp_bookmarks_event_fn cb;
    void *ud;
};

struct bm_state {
    xmpp_bookmarks_storage storage;
    unsigned long ev;
    struct watch w[MAX_WATCHES];
    size_t n;
    unsigned long next_id;
};

enum op_kind { OP_LIST, OP_ADD, OP_REMOVE };

struct op {
    enum op_kind kind;
    xmpp_bookmarks_fn list_cb;
    xmpp_iq_fn done_cb;
    void *ud;
    unsigned timeout_ms;
    char *jid, *name, *nick, *password;
    int autojoin;
};

static int same(const char *a, const char *b) {
    return a && b && strcmp(a, b) == 0;
}

static void op_free(xmpp_session *s, struct op *o) {
    xmpp_ctx *ctx = xmpp_session_ctx(s);
    xmpp_free(ctx, o->jid);
    xmpp_free(ctx, o->name);
    xmpp_free(ctx, o->nick);
    xmpp_free(ctx, o->password);
    xmpp_free(ctx, o);
}

/* Ends an operation: its callback fires once. */
static void op_end(xmpp_session *s, struct op *o, xmpp_iq_status st, xmpp_stanza *reply,
                   const xmpp_bookmark *list, size_t n) {
    struct op c = *o;
    xmpp_free(xmpp_session_ctx(s), o);
    if (c.kind == OP_LIST)
        c.list_cb(s, st, st == XMPP_IQ_RESULT ? list : NULL, st == XMPP_IQ_RESULT ? n : 0,
                  st == XMPP_IQ_ERROR ? reply : NULL, c.ud);
    else if (c.done_cb)
        c.done_cb(s, st, reply, c.ud);
    o = &c;
    xmpp_free(xmpp_session_ctx(s), o->jid);
    xmpp_free(xmpp_session_ctx(s), o->name);
    xmpp_free(xmpp_session_ctx(s), o->nick);
    xmpp_free(xmpp_session_ctx(s), o->password);
}

/* ---- reading <conference/> (both namespaces have the same shape) */
struct parsed {
    xmpp_bookmark *b;
    char **texts; /* nick and password copies, 2 per entry */
    size_t n;
};

static void parsed_free(xmpp_ctx *ctx, struct parsed *p) {
    size_t i;
    for (i = 0; i < 2 * p->n; i++)
        xmpp_free(ctx, p->texts[i]);
    xmpp_free(ctx, p->texts);
    xmpp_free(ctx, p->b);
    memset(p, 0, sizeof(*p));
}

static int child_text(xmpp_ctx *ctx, const xmpp_stanza *c, const char *name, char **out) {
    const xmpp_stanza *e = xmpp_stanza_child(c, name, xmpp_stanza_ns(c));
    (void)ctx;
    *out = NULL;
    return e ? xmpp_stanza_text(e, out, NULL) : XMPP_OK;
}

static int truthy(const char *v) {
    return same(v, "true") || same(v, "1"); /* xs:boolean */
}

/* Appends the bookmark of one <conference/>; jid given for PEP (item id). */
static int parse_one(xmpp_ctx *ctx, struct parsed *p, const xmpp_stanza *c, const char *jid) {
    xmpp_bookmark *nb;
    char **nt;
    int rc;
    if (jid == NULL || p->n >= MAX_BOOKMARKS)
        return XMPP_OK; /* skipped */
    if ((nb = xmpp__realloc(ctx, p->b, (p->n + 1) * sizeof(*nb))) == NULL)
        return XMPP_ERR_NOMEM;
    p->b = nb;
    if ((nt = xmpp__realloc(ctx, p->texts, 2 * (p->n + 1) * sizeof(*nt))) == NULL)
        return XMPP_ERR_NOMEM;
    p->texts = nt;
    nt[2 * p->n] = nt[2 * p->n + 1] = NULL;
    nb += p->n;
    memset(nb, 0, sizeof(*nb));
    nb->jid = jid;
    nb->name = xmpp_stanza_attr(c, "name");
    nb->autojoin = truthy(xmpp_stanza_attr(c, "autojoin"));
    p->n++;
    if ((rc = child_text(ctx, c, "nick", &nt[2 * p->n - 2])) != XMPP_OK ||
        (rc = child_text(ctx, c, "password", &nt[2 * p->n - 1])) != XMPP_OK)
        return rc;
    nb->nick = nt[2 * p->n - 2];
    nb->password = nt[2 * p->n - 1];
    return XMPP_OK;
}

static int is_conference(const xmpp_stanza *c, const char *ns) {
    return c && !xmpp_stanza_is_text(c) && same(xmpp_stanza_name(c), "conference") &&
           same(xmpp_stanza_ns(c), ns);
}

/* <conference xmlns=ns [jid] name autojoin><nick/><password/></conference> */
static int build_conference(xmpp_session *s, const struct op *o, const char *ns, int with_jid,
                            xmpp_stanza **out) {
    xmpp_stanza *c = NULL, *e;
    int rc;
    if ((rc = xmpp_stanza_new(&c, xmpp_session_ctx(s), "conference", ns)) != XMPP_OK)
        return rc;
    if ((with_jid && (rc = xmpp_stanza_set_attr(c, "jid", o->jid)) != XMPP_OK) ||
        (o->name && (rc = xmpp_stanza_set_attr(c, "name", o->name)) != XMPP_OK) ||
        (rc = xmpp_stanza_set_attr(c, "autojoin", o->autojoin ? "true" : "false")) != XMPP_OK ||
        (o->nick && ((rc = xmpp_stanza_add_child_new(c, "nick", NULL, &e)) != XMPP_OK ||
                     (rc = xmpp_stanza_set_text(e, o->nick, strlen(o->nick))) != XMPP_OK)) ||
        (o->password &&
         ((rc = xmpp_stanza_add_child_new(c, "password", NULL, &e)) != XMPP_OK ||
          (rc = xmpp_stanza_set_text(e, o->password, strlen(o->password))) != XMPP_OK))) {
        xmpp_stanza_unref(c);
        return rc;
    }
    *out = c;
    return XMPP_OK;
}

/* ---- XEP-0402 */
static const char *const pep_extra[] = {"pubsub#max_items", "max",
                                        "pubsub#send_last_published_item", "never", NULL};

static void pep_listed(xmpp_session *s, xmpp_iq_status st, const xmpp_pubsub_items *items,
                       xmpp_stanza *error, void *ud) {
    xmpp_ctx *ctx = xmpp_session_ctx(s);
    struct parsed p;
    size_t i, n = xmpp_pubsub_items_count(items);
    xmpp_stanza_condition cond;
    memset(&p, 0, sizeof(p));
    if (st == XMPP_IQ_ERROR && xmpp_stanza_get_error(error, &cond, NULL) == XMPP_OK &&
        cond == XMPP_EC_ITEM_NOT_FOUND) {
        op_end(s, ud, XMPP_IQ_RESULT, NULL, NULL, 0); /* no node yet: no bookmarks */
        return;
    }
    if (st != XMPP_IQ_RESULT) {
        op_end(s, ud, st, error, NULL, 0);
        return;
    }
    for (i = 0; i < n; i++) {
        xmpp_stanza *c = xmpp_pubsub_items_payload_at(items, i);
        if (is_conference(c, XMPP_NS_BOOKMARKS2) &&
            parse_one(ctx, &p, c, xmpp_pubsub_items_id_at(items, i)) != XMPP_OK) {
            parsed_free(ctx, &p);
            op_end(s, ud, XMPP_IQ_CANCELLED, NULL, NULL, 0);
            return;
        }
    }
    op_end(s, ud, XMPP_IQ_RESULT, NULL, p.b, p.n);
    parsed_free(ctx, &p);
}

static void op_done(xmpp_session *s, xmpp_iq_status st, xmpp_stanza *reply, void *ud) {
    op_end(s, ud, st, reply, NULL, 0);
}

static int pep_run(xmpp_session *s, struct op *o) {
    xmpp_stanza *c = NULL;
    int rc;
    switch (o->kind) {
    case OP_LIST:
        return xmpp_pubsub_get_items(s, NULL, XMPP_NS_BOOKMARKS2, 0, NULL, o->timeout_ms,
                                     pep_listed, o);
    case OP_ADD:
        if ((rc = build_conference(s, o, XMPP_NS_BOOKMARKS2, 0, &c)) != XMPP_OK)
            return rc;
        rc = xmpp_pubsub_publish_private(s, XMPP_NS_BOOKMARKS2, o->jid, c, pep_extra,
                                         o->timeout_ms, op_done, o);
        xmpp_stanza_unref(c);
        return rc;
    default:
        return xmpp_pubsub_retract(s, NULL, XMPP_NS_BOOKMARKS2, o->jid, 1, o->timeout_ms,
                                   op_done, o);
    }
}

/* ---- XEP-0048 in XEP-0049 */
static void legacy_got(xmpp_session *s, xmpp_iq_status st, xmpp_stanza *storage,
                       xmpp_stanza *error, void *ud) {
    struct op *o = ud;
    xmpp_ctx *ctx = xmpp_session_ctx(s);
    xmpp_stanza *copy = NULL, *c, *next, *nc = NULL;
    struct parsed p;
    int rc = XMPP_OK;
    if (st != XMPP_IQ_RESULT) {
        op_end(s, o, st, error, NULL, 0);
        return;
    }
    if (o->kind == OP_LIST) {
        memset(&p, 0, sizeof(p));
        for (c = storage ? xmpp_stanza_first_child(storage) : NULL; c && rc == XMPP_OK;
             c = xmpp_stanza_next(c))
            if (is_conference(c, XMPP_NS_BOOKMARKS_LEGACY))
                rc = parse_one(ctx, &p, c, xmpp_stanza_attr(c, "jid"));
        if (rc == XMPP_OK)
            op_end(s, o, XMPP_IQ_RESULT, NULL, p.b, p.n);
        else
            op_end(s, o, XMPP_IQ_CANCELLED, NULL, NULL, 0);
        parsed_free(ctx, &p);
        return;
    }
    /* add or remove: rewrite the whole element, other entries kept */
    if (storage)
        rc = xmpp_stanza_copy(&copy, storage);
    else
        rc = xmpp_stanza_new(&copy, ctx, "storage", XMPP_NS_BOOKMARKS_LEGACY);
    for (c = rc == XMPP_OK ? xmpp_stanza_first_child(copy) : NULL; c; c = next) {
        next = xmpp_stanza_next(c);
        if (is_conference(c, XMPP_NS_BOOKMARKS_LEGACY) && same(xmpp_stanza_attr(c, "jid"), o->jid))
            xmpp_stanza_remove_child(copy, c);
    }
    if (rc == XMPP_OK && o->kind == OP_ADD &&
        (rc = build_conference(s, o, XMPP_NS_BOOKMARKS_LEGACY, 1, &nc)) == XMPP_OK) {
        rc = xmpp_stanza_add_child(copy, nc);
        xmpp_stanza_unref(nc);
    }
    if (rc == XMPP_OK)
        rc = xmpp_private_set(s, copy, o->timeout_ms, op_done, o);
    xmpp_stanza_unref(copy);
    if (rc != XMPP_OK)
        op_end(s, o, XMPP_IQ_CANCELLED, NULL, NULL, 0);
}

static int legacy_run(xmpp_session *s, struct op *o) {
    return xmpp_private_get(s, "storage", XMPP_NS_BOOKMARKS_LEGACY, o->timeout_ms, legacy_got,
                            o);
}

static int run(xmpp_session *s, struct bm_state *bs, struct op *o) {
    return bs->storage == XMPP_BOOKMARKS_PEP ? pep_run(s, o) : legacy_run(s, o);
}

/* ---- choosing the storage (XEP-0402 §3) */
static void disco_done(xmpp_session *s, xmpp_iq_status st, const xmpp_disco_info *info,
                       xmpp_stanza *error, void *ud) {
    struct op *o = ud;
    struct bm_state *bs = xmpp_session_plugin_state(s, "bookmarks");
    if (st != XMPP_IQ_RESULT || bs == NULL) {
        op_end(s, o, bs ? st : XMPP_IQ_CANCELLED, error, NULL, 0);
        return;
    }
    if (bs->storage == XMPP_BOOKMARKS_UNKNOWN)
        bs->storage = xmpp_disco_info_has_feature(info, XMPP_NS_BOOKMARKS2_COMPAT)
                          ? XMPP_BOOKMARKS_PEP
                          : XMPP_BOOKMARKS_LEGACY;
    if (run(s, bs, o) != XMPP_OK)
        op_end(s, o, XMPP_IQ_CANCELLED, NULL, NULL, 0);
}

static int start(xmpp_session *s, struct op *o) {
    struct bm_state *bs = xmpp_session_plugin_state(s, "bookmarks");
    xmpp_ctx *ctx = xmpp_session_ctx(s);
    xmpp_jid *me = NULL, *bare = NULL;
    int rc;
    if (bs->storage != XMPP_BOOKMARKS_UNKNOWN)
        rc = run(s, bs, o);
    else if (xmpp_session_jid(s) == NULL)
        rc = XMPP_ERR_STATE;
    else {
        if ((rc = xmpp_jid_parse(&me, ctx, xmpp_session_jid(s))) == XMPP_OK &&
            (rc = xmpp_jid_to_bare(&bare, me)) == XMPP_OK)
            rc = xmpp_disco_info_request(s, xmpp_jid_bare(bare), NULL, o->timeout_ms,
                                         disco_done, o);
        xmpp_jid_free(me);
        xmpp_jid_free(bare);
    }
    if (rc != XMPP_OK)
        op_free(s, o);
    return rc;
}

static struct op *op_new(xmpp_session *s, enum op_kind kind, unsigned timeout_ms, void *ud) {
    struct op *o;
    if (!xmpp_session_plugin_enabled(s, "bookmarks"))
        return NULL;
    if ((o = xmpp__malloc(xmpp_session_ctx(s), sizeof(*o))) == NULL)
        return NULL;
    memset(o, 0, sizeof(*o));
    o->kind = kind;
    o->timeout_ms = timeout_ms;
    o->ud = ud;
    return o;
}

int xmpp_bookmarks_list(xmpp_session *s, unsigned timeout_ms, xmpp_bookmarks_fn cb,
                        void *user_data) {
    struct op *o;
    if (s == NULL || cb == NULL)
        return XMPP_ERR_INVALID;
    if (!xmpp_session_plugin_enabled(s, "bookmarks"))
        return XMPP_ERR_STATE;
    if ((o = op_new(s, OP_LIST, timeout_ms, user_data)) == NULL)
        return XMPP_ERR_NOMEM;
    o->list_cb = cb;
    return start(s, o);
}

static int str_ok(const char *v) {
    return v == NULL || xmpp__xml_text_ok(v, strlen(v));
}

static int dup_opt(xmpp_ctx *ctx, const char *v, char **out) {
    if (v == NULL)
        return 1;
    return (*out = xmpp__strdup(ctx, v)) != NULL;
}

int xmpp_bookmarks_add(xmpp_session *s, const xmpp_bookmark *b, unsigned timeout_ms,
                       xmpp_iq_fn cb, void *user_data) {
    xmpp_ctx *ctx = xmpp_session_ctx(s);
    xmpp_jid *j = NULL;
    struct op *o;
    if (s == NULL || b == NULL || b->jid == NULL || !str_ok(b->name) || !str_ok(b->nick) ||
        !str_ok(b->password))
        return XMPP_ERR_INVALID;
    if (xmpp_jid_parse(&j, ctx, b->jid) != XMPP_OK || xmpp_jid_is_full(j)) {
        xmpp_jid_free(j);
        return XMPP_ERR_INVALID;
    }
    xmpp_jid_free(j);
    if (!xmpp_session_plugin_enabled(s, "bookmarks"))
        return XMPP_ERR_STATE;
    if ((o = op_new(s, OP_ADD, timeout_ms, user_data)) == NULL)
        return XMPP_ERR_NOMEM;
    o->done_cb = cb;
    o->autojoin = b->autojoin != 0;
    if (!dup_opt(ctx, b->jid, &o->jid) || !dup_opt(ctx, b->name, &o->name) ||
        !dup_opt(ctx, b->nick, &o->nick) || !dup_opt(ctx, b->password, &o->password)) {
        op_free(s, o);
        return XMPP_ERR_NOMEM;
    }
    return start(s, o);
}

int xmpp_bookmarks_remove(xmpp_session *s, const char *jid, unsigned timeout_ms, xmpp_iq_fn cb,
                          void *user_data) {
    struct op *o;
    if (s == NULL || jid == NULL || jid[0] == '\0' || !str_ok(jid))
        return XMPP_ERR_INVALID;
    if (!xmpp_session_plugin_enabled(s, "bookmarks"))
        return XMPP_ERR_STATE;
    if ((o = op_new(s, OP_REMOVE, timeout_ms, user_data)) == NULL)
        return XMPP_ERR_NOMEM;
    o->done_cb = cb;
    if ((o->jid = xmpp__strdup(xmpp_session_ctx(s), jid)) == NULL) {
        op_free(s, o);
        return XMPP_ERR_NOMEM;
    }
    return start(s, o);
}

xmpp_bookmarks_storage xmpp_bookmarks_get_storage(const xmpp_session *s) {
    struct bm_state *bs = xmpp_session_plugin_state(s, "bookmarks");
    return bs ? bs->storage : XMPP_BOOKMARKS_UNKNOWN;
}

/* ---- notifications (own bare JID only: ORG-06) */
static void on_event(xmpp_session *s, const xmpp_pubsub_items *ev, void *ud) {
    struct bm_state *bs = ud;
    xmpp_ctx *ctx = xmpp_session_ctx(s);
    size_t i, j, n = xmpp_pubsub_items_count(ev);
    for (i = 0; i < n; i++) {
        const char *jid = xmpp_pubsub_items_id_at(ev, i);
        struct parsed p;
        if (jid == NULL)
            continue;
        memset(&p, 0, sizeof(p));
        if (xmpp_pubsub_items_kind(ev) == XMPP_PUBSUB_EVENT_ITEMS) {
            xmpp_stanza *c = xmpp_pubsub_items_payload_at(ev, i);
            if (!is_conference(c, XMPP_NS_BOOKMARKS2) || parse_one(ctx, &p, c, jid) != XMPP_OK ||
                p.n != 1) {
                parsed_free(ctx, &p);
                continue;
            }
        } else if (xmpp_pubsub_items_kind(ev) != XMPP_PUBSUB_EVENT_RETRACT) {
            continue;
        }
        for (j = 0; j < bs->n; j++)
            bs->w[j].cb(s, jid, p.n ? &p.b[0] : NULL, bs->w[j].ud);
        parsed_free(ctx, &p);
    }
}

int xmpp_bookmarks_watch(xmpp_session *s, xmpp_bookmarks_event_fn cb, void *user_data,
                         unsigned long *handle) {
    struct bm_state *bs = xmpp_session_plugin_state(s, "bookmarks");
    int rc;
    if (handle)
        *handle = 0;
    if (cb == NULL)
        return XMPP_ERR_INVALID;
    if (bs == NULL)
        return XMPP_ERR_STATE;
    if (bs->n >= MAX_WATCHES)
        return XMPP_ERR_LIMIT;
    if ((rc = xmpp_pep_notify_add(s, XMPP_NS_BOOKMARKS2)) != XMPP_OK)
        return rc;
    bs->w[bs->n].id = ++bs->next_id;
    bs->w[bs->n].cb = cb;
    bs->w[bs->n].ud = user_data;
    if (handle)
        *handle = bs->w[bs->n].id;
    bs->n++;
    return XMPP_OK;
}

int xmpp_bookmarks_unwatch(xmpp_session *s, unsigned long handle) {
    struct bm_state *bs = xmpp_session_plugin_state(s, "bookmarks");
    size_t i;
    if (bs == NULL)
        return XMPP_ERR_STATE;
    for (i = 0; i < bs->n; i++) {
        if (bs->w[i].id == handle) {
            memmove(&bs->w[i], &bs->w[i + 1], (bs->n - i - 1) * sizeof(bs->w[0]));
            bs->n--;
            (void)xmpp_pep_notify_remove(s, XMPP_NS_BOOKMARKS2);
            return XMPP_OK;
        }
    }
    return XMPP_ERR_NOT_FOUND;
}

static int bm_attach(xmpp_session *s, void **state, void *ud) {
    xmpp_ctx *ctx = xmpp_session_ctx(s);
    struct bm_state *bs = xmpp__malloc(ctx, sizeof(*bs));
    int rc;
    (void)ud;
    if (bs == NULL)
        return XMPP_ERR_NOMEM;
    memset(bs, 0, sizeof(*bs));
    rc = xmpp_pubsub_add_event_handler(s, NULL, XMPP_NS_BOOKMARKS2, XMPP_PUBSUB_OWN_ONLY,
                                       on_event, bs, &bs->ev);
    if (rc != XMPP_OK) {
        xmpp_free(ctx, bs);
        return rc;
    }
    *state = bs;
    return XMPP_OK;
}

static void bm_detach(xmpp_session *s, void *state, void *ud) {
    struct bm_state *bs = state;
    (void)ud;
    (void)xmpp_pubsub_remove_event_handler(s, bs->ev);
    while (bs->n-- > 0)
        (void)xmpp_pep_notify_remove(s, XMPP_NS_BOOKMARKS2);
    xmpp_free(xmpp_session_ctx(s), bs);
}

static const char *const bm_depends[] = {"pubsub", NULL};

const xmpp_plugin_desc xmpp__plugin_bookmarks = {
    XMPP_PLUGIN_ABI_VERSION, "bookmarks", bm_depends, NULL, NULL, 0,
    bm_attach,               bm_detach, NULL};
