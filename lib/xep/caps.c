/* XEP-0115 Entity Capabilities: the verification string of the enabled
 * plugins (§5.1, SHA-1) and the <c/> presence decoration. Uses only the
 * public plugin interface (plus the library's base64 and GnuTLS SHA-1). */
#include "core/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include <xmpp/jid.h>
#include <xmpp/session.h>
#include <xmpp/stanza.h>
#include <xmpp/sys/plugin.h>
#include <xmpp/xep/caps.h>
#include <xmpp/xep/disco.h>

#include "core/buf.h"
#include "plugin/plugin_int.h"
#include "stream/base64.h"
#include "xep/disco_int.h"

#define XMPP_NS_DATA "jabber:x:data"

/* Bounds of the receiving side (SECURITY.md: bounded everything): verified
 * answers kept, peers remembered, disco#info queries in flight (so that a
 * flood of presences with made-up ver values costs at most this many
 * queries at a time), and the longest ver accepted (SHA-1 in base64 is 28). */
#define CAPS_MAX_CACHE 512
#define CAPS_MAX_PEERS 4096
#define CAPS_MAX_PENDING 8
#define CAPS_MAX_VER 64

struct caps_entry {
    char *ver;
    xmpp_stanza *query; /* the verified disco#info <query/> */
};

struct caps_peer {
    char *jid; /* full JID */
    char *ver;
};

struct caps_state {
    char *node;
    unsigned long handler;
    struct caps_entry cache[CAPS_MAX_CACHE];
    size_t ncache, cache_next; /* a ring once full: the oldest goes */
    struct caps_peer *peers;
    size_t npeers;
    char *pending[CAPS_MAX_PENDING]; /* vers being asked for */
    xmpp_caps_fn cb;
    void *cb_ud;
};

static const char *nz(const char *s) {
    return s ? s : "";
}

static int cmp_identity(const void *a, const void *b) {
    const xmpp_plugin_identity *x = *(const xmpp_plugin_identity *const *)a;
    const xmpp_plugin_identity *y = *(const xmpp_plugin_identity *const *)b;
    int c;
    if ((c = strcmp(x->category, y->category)) != 0 || (c = strcmp(x->type, y->type)) != 0 ||
        (c = strcmp(nz(x->lang), nz(y->lang))) != 0)
        return c;
    return strcmp(nz(x->name), nz(y->name));
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int xmpp_caps_compute_ver(xmpp_ctx *ctx, const xmpp_plugin_identity *const *identities,
                          size_t n_identities, const char *const *features, size_t n_features,
                          char **out) {
    const xmpp_plugin_identity **ids = NULL;
    const char **fs = NULL;
    char *buf = NULL, *p;
    size_t i, len = 0;
    unsigned char digest[20];
    int rc = XMPP_ERR_NOMEM;
    if (out)
        *out = NULL;
    if (ctx == NULL || out == NULL || (n_identities && identities == NULL) ||
        (n_features && features == NULL))
        return XMPP_ERR_INVALID;
    for (i = 0; i < n_identities; i++)
        if (identities[i] == NULL || identities[i]->category == NULL ||
            identities[i]->type == NULL)
            return XMPP_ERR_INVALID;
    for (i = 0; i < n_features; i++)
        if (features[i] == NULL)
            return XMPP_ERR_INVALID;
    ids = xmpp__malloc(ctx, (n_identities + 1) * sizeof(*ids));
    fs = xmpp__malloc(ctx, (n_features + 1) * sizeof(*fs));
    if (ids == NULL || fs == NULL)
        goto done;
    memcpy(ids, identities, n_identities * sizeof(*ids));
    memcpy(fs, features, n_features * sizeof(*fs));
    qsort(ids, n_identities, sizeof(*ids), cmp_identity);
    qsort(fs, n_features, sizeof(*fs), cmp_str);
    /* S = category/type/lang/name< ... feature< ... */
    for (i = 0; i < n_identities; i++)
        len += strlen(ids[i]->category) + strlen(ids[i]->type) + strlen(nz(ids[i]->lang)) +
               strlen(nz(ids[i]->name)) + 4;
    for (i = 0; i < n_features; i++)
        len += strlen(fs[i]) + 1;
    if ((buf = xmpp__malloc(ctx, len + 1)) == NULL)
        goto done;
    p = buf;
    for (i = 0; i < n_identities; i++) {
        if (i > 0 && cmp_identity(&ids[i - 1], &ids[i]) == 0)
            continue; /* the same identity from two plugins counts once */
        p += sprintf(p, "%s/%s/%s/%s<", ids[i]->category, ids[i]->type, nz(ids[i]->lang),
                     nz(ids[i]->name));
    }
    for (i = 0; i < n_features; i++) {
        if (i > 0 && strcmp(fs[i - 1], fs[i]) == 0)
            continue;
        p += sprintf(p, "%s<", fs[i]);
    }
    if (gnutls_hash_fast(GNUTLS_DIG_SHA1, buf, (size_t)(p - buf), digest) != 0) {
        rc = XMPP_ERR_NOMEM;
        goto done;
    }
    {
        size_t olen;
        rc = xmpp__b64_encode_alloc(ctx, digest, sizeof(digest), out, &olen);
    }
done:
    xmpp_free(ctx, buf);
    xmpp_free(ctx, ids);
    xmpp_free(ctx, fs);
    return rc;
}

int xmpp_caps_ver(xmpp_session *s, char **out) {
    xmpp_ctx *ctx = xmpp_session_ctx(s);
    const xmpp_plugin_identity **ids = NULL;
    const char **fs = NULL;
    size_t n = xmpp_session_plugin_count(s), i, j, ni = 0, nf = 0;
    int rc = XMPP_ERR_NOMEM;
    if (out)
        *out = NULL;
    if (s == NULL || out == NULL)
        return XMPP_ERR_INVALID;
    if (!xmpp_session_plugin_enabled(s, "caps"))
        return XMPP_ERR_STATE;
    for (i = 0; i < n; i++) {
        const xmpp_plugin_desc *d = xmpp_session_plugin_at(s, i);
        ni += d->n_identities;
        for (j = 0; d->features && d->features[j]; j++)
            nf++;
    }
    nf += xmpp_session_feature_count(s);
    ids = xmpp__malloc(ctx, (ni + 1) * sizeof(*ids));
    fs = xmpp__malloc(ctx, (nf + 1) * sizeof(*fs));
    if (ids != NULL && fs != NULL) {
        ni = nf = 0;
        for (i = 0; i < n; i++) {
            const xmpp_plugin_desc *d = xmpp_session_plugin_at(s, i);
            for (j = 0; j < d->n_identities; j++)
                ids[ni++] = &d->identities[j];
            for (j = 0; d->features && d->features[j]; j++)
                fs[nf++] = d->features[j];
        }
        for (i = 0; i < xmpp_session_feature_count(s); i++)
            fs[nf++] = xmpp_session_feature_at(s, i);
        rc = xmpp_caps_compute_ver(ctx, ids, ni, fs, nf, out);
    }
    xmpp_free(ctx, ids);
    xmpp_free(ctx, fs);
    return rc;
}

int xmpp_caps_set_node(xmpp_session *s, const char *node) {
    struct caps_state *cs = xmpp_session_plugin_state(s, "caps");
    char *n;
    if (node == NULL || node[0] == '\0' || !xmpp__xml_text_ok(node, strlen(node)))
        return XMPP_ERR_INVALID;
    if (cs == NULL)
        return XMPP_ERR_STATE;
    if ((n = xmpp__strdup(xmpp_session_ctx(s), node)) == NULL)
        return XMPP_ERR_NOMEM;
    xmpp_free(xmpp_session_ctx(s), cs->node);
    cs->node = n;
    return XMPP_OK;
}

const char *xmpp_caps_node(const xmpp_session *s) {
    struct caps_state *cs = xmpp_session_plugin_state(s, "caps");
    return cs ? cs->node : NULL;
}

int xmpp_caps_decorate(xmpp_session *s, xmpp_stanza *presence) {
    xmpp_stanza *old, *c = NULL;
    char *ver = NULL;
    int rc;
    if (s == NULL || presence == NULL || xmpp_stanza_is_text(presence) ||
        strcmp(xmpp_stanza_name(presence), "presence") != 0)
        return XMPP_ERR_INVALID;
    if (!xmpp_session_plugin_enabled(s, "caps"))
        return XMPP_ERR_STATE;
    if ((rc = xmpp_caps_ver(s, &ver)) != XMPP_OK)
        return rc;
    while ((old = xmpp_stanza_child(presence, "c", XMPP_NS_CAPS)) != NULL)
        xmpp_stanza_remove_child(presence, old);
    if ((rc = xmpp_stanza_add_child_new(presence, "c", XMPP_NS_CAPS, &c)) == XMPP_OK &&
        (rc = xmpp_stanza_set_attr(c, "hash", "sha-1")) == XMPP_OK &&
        (rc = xmpp_stanza_set_attr(c, "node", xmpp_caps_node(s))) == XMPP_OK)
        rc = xmpp_stanza_set_attr(c, "ver", ver);
    xmpp_free(xmpp_session_ctx(s), ver);
    return rc;
}

static int on_presence(xmpp_session *s, xmpp_stanza *st, void *ud);

static int caps_attach(xmpp_session *s, void **state, void *ud) {
    xmpp_ctx *ctx = xmpp_session_ctx(s);
    struct caps_state *cs = xmpp__malloc(ctx, sizeof(*cs));
    int rc;
    (void)ud;
    if (cs == NULL)
        return XMPP_ERR_NOMEM;
    memset(cs, 0, sizeof(*cs));
    if ((cs->node = xmpp__strdup(ctx, XMPP_CAPS_DEFAULT_NODE)) == NULL) {
        xmpp_free(ctx, cs);
        return XMPP_ERR_NOMEM;
    }
    /* an observer: it never claims a presence, so every other handler
     * still sees it */
    if ((rc = xmpp_session_add_handler(s, "presence", NULL, NULL, on_presence, NULL,
                                       &cs->handler)) != XMPP_OK) {
        xmpp_free(ctx, cs->node);
        xmpp_free(ctx, cs);
        return rc;
    }
    *state = cs;
    return XMPP_OK;
}

static void caps_detach(xmpp_session *s, void *state, void *ud) {
    struct caps_state *cs = state;
    xmpp_ctx *ctx = xmpp_session_ctx(s);
    size_t i;
    (void)ud;
    xmpp_session_remove_handler(s, cs->handler);
    for (i = 0; i < cs->ncache; i++) {
        xmpp_free(ctx, cs->cache[i].ver);
        xmpp_stanza_unref(cs->cache[i].query);
    }
    for (i = 0; i < cs->npeers; i++) {
        xmpp_free(ctx, cs->peers[i].jid);
        xmpp_free(ctx, cs->peers[i].ver);
    }
    xmpp_free(ctx, cs->peers);
    for (i = 0; i < CAPS_MAX_PENDING; i++)
        xmpp_free(ctx, cs->pending[i]);
    xmpp_free(ctx, cs->node);
    xmpp_free(ctx, cs);
}

static const char *const caps_depends[] = {"disco", NULL};
static const char *const caps_features[] = {XMPP_NS_CAPS, NULL};

const xmpp_plugin_desc xmpp__plugin_caps = {
    XMPP_PLUGIN_ABI_VERSION, "caps", caps_depends, caps_features, NULL, 0,
    caps_attach,             caps_detach, NULL};

/* ---- the receiving side: verification (§5.4) and the cache */

static int cmp_cstr(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int append_lt(xmpp_buf *b, const char *str) {
    int rc = xmpp__buf_append_str(b, str);
    return rc == XMPP_OK ? xmpp__buf_append_char(b, '<') : rc;
}

/* Collects child texts/attributes into a sorted array; 1 if a duplicate. */
struct strv {
    const char **v;
    size_t n, cap;
    const xmpp_ctx *ctx;
};

static int strv_push(struct strv *sv, const char *x) {
    if (sv->n == sv->cap) {
        size_t cap = sv->cap ? 2 * sv->cap : 16;
        const char **nv = xmpp__realloc(sv->ctx, (void *)sv->v, cap * sizeof(*nv));
        if (nv == NULL)
            return XMPP_ERR_NOMEM;
        sv->v = nv;
        sv->cap = cap;
    }
    sv->v[sv->n++] = x;
    return XMPP_OK;
}

static int strv_sort_unique(struct strv *sv) {
    size_t i;
    if (sv->n > 1)
        qsort((void *)sv->v, sv->n, sizeof(*sv->v), cmp_cstr);
    for (i = 1; i < sv->n; i++)
        if (strcmp(sv->v[i - 1], sv->v[i]) == 0)
            return 0;
    return 1;
}

/* Appends one form's part of S: FORM_TYPE<, then for each field (sorted by
 * var, FORM_TYPE left out) var< and its values sorted, each value<. */
static int append_form(xmpp_buf *b, const xmpp_ctx *ctx, const xmpp_stanza *x,
                       const char *form_type) {
    struct strv fields = {NULL, 0, 0, ctx};
    const xmpp_stanza *f, *v;
    size_t i;
    int rc = XMPP_OK;
    for (f = xmpp_stanza_child(x, "field", XMPP_NS_DATA); f && rc == XMPP_OK;
         f = xmpp_stanza_next_match(f, "field", XMPP_NS_DATA)) {
        const char *var = xmpp_stanza_attr(f, "var");
        if (var == NULL) {
            rc = XMPP_ERR_INVALID; /* a result form field needs a var */
            break;
        }
        if (strcmp(var, "FORM_TYPE") != 0)
            rc = strv_push(&fields, var);
    }
    if (rc == XMPP_OK && !strv_sort_unique(&fields))
        rc = XMPP_ERR_INVALID;
    if (rc == XMPP_OK)
        rc = append_lt(b, form_type);
    for (i = 0; rc == XMPP_OK && i < fields.n; i++) {
        struct strv vals = {NULL, 0, 0, ctx};
        size_t j;
        for (f = xmpp_stanza_child(x, "field", XMPP_NS_DATA); f;
             f = xmpp_stanza_next_match(f, "field", XMPP_NS_DATA))
            if (strcmp(xmpp_stanza_attr(f, "var"), fields.v[i]) == 0)
                break;
        rc = append_lt(b, fields.v[i]);
        for (v = xmpp_stanza_child(f, "value", XMPP_NS_DATA); v && rc == XMPP_OK;
             v = xmpp_stanza_next_match(v, "value", XMPP_NS_DATA)) {
            const char *t = xmpp__elem_text(v);
            rc = t ? strv_push(&vals, t) : XMPP_ERR_INVALID;
        }
        if (rc == XMPP_OK && vals.n > 1)
            qsort((void *)vals.v, vals.n, sizeof(*vals.v), cmp_cstr);
        for (j = 0; rc == XMPP_OK && j < vals.n; j++)
            rc = append_lt(b, vals.v[j]);
        xmpp_free((xmpp_ctx *)ctx, (void *)vals.v);
    }
    xmpp_free((xmpp_ctx *)ctx, (void *)fields.v);
    return rc;
}

/* Identities as "category/type/lang/name" strings for sorting. */
static int identity_string(const xmpp_ctx *ctx, const xmpp_stanza *id, char **out) {
    const char *c = xmpp_stanza_attr(id, "category"), *t = xmpp_stanza_attr(id, "type");
    const char *l = xmpp_stanza_attr(id, "xml:lang"), *n = xmpp_stanza_attr(id, "name");
    size_t len;
    if (c == NULL || t == NULL)
        return XMPP_ERR_INVALID;
    len = strlen(c) + strlen(t) + strlen(nz(l)) + strlen(nz(n)) + 4;
    if ((*out = xmpp__malloc(ctx, len)) == NULL)
        return XMPP_ERR_NOMEM;
    snprintf(*out, len, "%s/%s/%s/%s", c, t, nz(l), nz(n));
    return XMPP_OK;
}

int xmpp_caps_verify_query(xmpp_ctx *ctx, const xmpp_stanza *query, char **out) {
    struct strv ids = {NULL, 0, 0, ctx}, feats = {NULL, 0, 0, ctx}, forms = {NULL, 0, 0, ctx};
    const xmpp_stanza *c;
    xmpp_buf b;
    size_t i;
    int rc = XMPP_OK;
    unsigned char digest[20];
    if (out)
        *out = NULL;
    if (ctx == NULL || query == NULL || out == NULL)
        return XMPP_ERR_INVALID;
    xmpp__buf_init(&b, ctx);
    for (c = xmpp_stanza_child(query, "identity", XMPP_NS_DISCO_INFO); c && rc == XMPP_OK;
         c = xmpp_stanza_next_match(c, "identity", XMPP_NS_DISCO_INFO)) {
        char *str = NULL;
        if ((rc = identity_string(ctx, c, &str)) == XMPP_OK &&
            (rc = strv_push(&ids, str)) != XMPP_OK)
            xmpp_free(ctx, str);
    }
    for (c = xmpp_stanza_child(query, "feature", XMPP_NS_DISCO_INFO); c && rc == XMPP_OK;
         c = xmpp_stanza_next_match(c, "feature", XMPP_NS_DISCO_INFO)) {
        const char *var = xmpp_stanza_attr(c, "var");
        rc = var ? strv_push(&feats, var) : XMPP_ERR_INVALID;
    }
    for (c = xmpp_stanza_child(query, "x", XMPP_NS_DATA); c && rc == XMPP_OK;
         c = xmpp_stanza_next_match(c, "x", XMPP_NS_DATA)) {
        const char *ft = xmpp__disco_form_type(c);
        /* §5.4 3.6: a form whose FORM_TYPE is not a single hidden value
         * makes the answer invalid; a form without one is left out */
        const xmpp_stanza *f;
        int has = 0;
        for (f = xmpp_stanza_child(c, "field", XMPP_NS_DATA); f;
             f = xmpp_stanza_next_match(f, "field", XMPP_NS_DATA))
            if (xmpp_stanza_attr(f, "var") && strcmp(xmpp_stanza_attr(f, "var"), "FORM_TYPE") == 0)
                has = 1;
        if (has && ft == NULL)
            rc = XMPP_ERR_INVALID;
        else if (ft != NULL)
            rc = strv_push(&forms, ft);
    }
    /* §5.4 3.3-3.5: duplicate identities, features or FORM_TYPEs */
    if (rc == XMPP_OK && (!strv_sort_unique(&ids) || !strv_sort_unique(&feats) ||
                          !strv_sort_unique(&forms)))
        rc = XMPP_ERR_INVALID;
    for (i = 0; rc == XMPP_OK && i < ids.n; i++)
        rc = append_lt(&b, ids.v[i]);
    for (i = 0; rc == XMPP_OK && i < feats.n; i++)
        rc = append_lt(&b, feats.v[i]);
    for (i = 0; rc == XMPP_OK && i < forms.n; i++) {
        for (c = xmpp_stanza_child(query, "x", XMPP_NS_DATA); c;
             c = xmpp_stanza_next_match(c, "x", XMPP_NS_DATA)) {
            const char *ft = xmpp__disco_form_type(c);
            if (ft && strcmp(ft, forms.v[i]) == 0)
                break;
        }
        rc = append_form(&b, ctx, c, forms.v[i]);
    }
    if (rc == XMPP_OK &&
        gnutls_hash_fast(GNUTLS_DIG_SHA1, b.data ? b.data : "", b.len, digest) != 0)
        rc = XMPP_ERR_NOMEM;
    if (rc == XMPP_OK) {
        size_t olen;
        rc = xmpp__b64_encode_alloc(ctx, digest, sizeof(digest), out, &olen);
    }
    for (i = 0; i < ids.n; i++)
        xmpp_free(ctx, (void *)ids.v[i]);
    xmpp_free(ctx, (void *)ids.v);
    xmpp_free(ctx, (void *)feats.v);
    xmpp_free(ctx, (void *)forms.v);
    xmpp__buf_free(&b);
    return rc;
}

static const struct caps_entry *cache_find(const struct caps_state *cs, const char *ver) {
    size_t i;
    for (i = 0; i < cs->ncache; i++)
        if (strcmp(cs->cache[i].ver, ver) == 0)
            return &cs->cache[i];
    return NULL;
}

static struct caps_peer *peer_find(struct caps_state *cs, const char *jid) {
    size_t i;
    for (i = 0; i < cs->npeers; i++)
        if (strcmp(cs->peers[i].jid, jid) == 0)
            return &cs->peers[i];
    return NULL;
}

static void peer_forget(xmpp_ctx *ctx, struct caps_state *cs, const char *jid) {
    struct caps_peer *p = peer_find(cs, jid);
    if (p == NULL)
        return;
    xmpp_free(ctx, p->jid);
    xmpp_free(ctx, p->ver);
    *p = cs->peers[--cs->npeers];
}

static int peer_set(xmpp_ctx *ctx, struct caps_state *cs, const char *jid, const char *ver) {
    struct caps_peer *p = peer_find(cs, jid);
    char *v = xmpp__strdup(ctx, ver);
    if (v == NULL)
        return XMPP_ERR_NOMEM;
    if (p != NULL) {
        xmpp_free(ctx, p->ver);
        p->ver = v;
        return XMPP_OK;
    }
    if (cs->npeers == CAPS_MAX_PEERS) {
        xmpp_free(ctx, v);
        return XMPP_ERR_LIMIT;
    }
    if (cs->npeers % 64 == 0) {
        struct caps_peer *np =
            xmpp__realloc(ctx, cs->peers, (cs->npeers + 64) * sizeof(*np));
        if (np == NULL) {
            xmpp_free(ctx, v);
            return XMPP_ERR_NOMEM;
        }
        cs->peers = np;
    }
    p = &cs->peers[cs->npeers];
    if ((p->jid = xmpp__strdup(ctx, jid)) == NULL) {
        xmpp_free(ctx, v);
        return XMPP_ERR_NOMEM;
    }
    p->ver = v;
    cs->npeers++;
    return XMPP_OK;
}

static void notify(xmpp_session *s, struct caps_state *cs, const char *jid,
                   const struct caps_entry *e) {
    xmpp_disco_info info;
    if (cs->cb == NULL)
        return;
    info.query = e->query;
    info.from = jid;
    cs->cb(s, jid, &info, cs->cb_ud);
}

struct caps_req {
    char *ver;
};

static void pending_drop(xmpp_ctx *ctx, struct caps_state *cs, const char *ver) {
    size_t i;
    for (i = 0; i < CAPS_MAX_PENDING; i++)
        if (cs->pending[i] && strcmp(cs->pending[i], ver) == 0) {
            xmpp_free(ctx, cs->pending[i]);
            cs->pending[i] = NULL;
        }
}

static void on_caps_info(xmpp_session *s, xmpp_iq_status status, const xmpp_disco_info *info,
                         xmpp_stanza *error, void *ud) {
    xmpp_ctx *ctx = xmpp_session_ctx(s);
    struct caps_req *r = ud;
    /* looked up by name: the plugin may have been disabled (and enabled
     * again) while the query was out */
    struct caps_state *cs = xmpp_session_plugin_state(s, "caps");
    char *ver = NULL;
    (void)error;
    if (cs == NULL)
        goto done;
    pending_drop(ctx, cs, r->ver);
    if (status != XMPP_IQ_RESULT || info->query == NULL || cache_find(cs, r->ver))
        goto done;
    if (xmpp_caps_verify_query(ctx, info->query, &ver) != XMPP_OK || strcmp(ver, r->ver) != 0) {
        xmpp__log(ctx, XMPP_LOG_WARN, "caps",
                  "disco#info of %s does not match its caps ver '%s': not cached",
                  info->from ? info->from : "", r->ver);
        goto done;
    }
    {
        struct caps_entry *e;
        xmpp_stanza *copy = NULL;
        char *v = xmpp__strdup(ctx, r->ver);
        size_t i;
        if (v == NULL || xmpp_stanza_copy(&copy, info->query) != XMPP_OK) {
            xmpp_free(ctx, v);
            goto done;
        }
        if (cs->ncache < CAPS_MAX_CACHE) {
            e = &cs->cache[cs->ncache++];
        } else {
            e = &cs->cache[cs->cache_next];
            cs->cache_next = (cs->cache_next + 1) % CAPS_MAX_CACHE;
            xmpp_free(ctx, e->ver);
            xmpp_stanza_unref(e->query);
        }
        e->ver = v;
        e->query = copy;
        /* everyone who announced this ver is now known; the callback may
         * change the peer table, so walk a snapshot of names */
        for (i = 0; i < cs->npeers; i++) {
            if (strcmp(cs->peers[i].ver, v) == 0) {
                char *jid = xmpp__strdup(ctx, cs->peers[i].jid);
                if (jid == NULL)
                    break;
                notify(s, cs, jid, e);
                xmpp_free(ctx, jid);
                if ((cs = xmpp_session_plugin_state(s, "caps")) == NULL ||
                    (e = (struct caps_entry *)cache_find(cs, v)) == NULL)
                    break;
            }
        }
    }
done:
    xmpp_free(ctx, ver);
    xmpp_free(ctx, r->ver);
    xmpp_free(ctx, r);
}

static void ask(xmpp_session *s, struct caps_state *cs, const char *jid, const char *node,
                const char *ver) {
    xmpp_ctx *ctx = xmpp_session_ctx(s);
    struct caps_req *r;
    char *nv;
    size_t i, slot = CAPS_MAX_PENDING, len;
    for (i = 0; i < CAPS_MAX_PENDING; i++) {
        if (cs->pending[i] && strcmp(cs->pending[i], ver) == 0)
            return; /* already asked: the answer serves every peer */
        if (cs->pending[i] == NULL && slot == CAPS_MAX_PENDING)
            slot = i;
    }
    if (slot == CAPS_MAX_PENDING) {
        xmpp__log(ctx, XMPP_LOG_INFO, "caps", "%d caps queries in flight: not asking %s now",
                  CAPS_MAX_PENDING, jid);
        return;
    }
    len = strlen(node) + strlen(ver) + 2;
    if ((nv = xmpp__malloc(ctx, len)) == NULL)
        return;
    snprintf(nv, len, "%s#%s", node, ver);
    r = xmpp__malloc(ctx, sizeof(*r));
    if (r == NULL || (r->ver = xmpp__strdup(ctx, ver)) == NULL ||
        (cs->pending[slot] = xmpp__strdup(ctx, ver)) == NULL) {
        if (r)
            xmpp_free(ctx, r->ver);
        xmpp_free(ctx, r);
        xmpp_free(ctx, nv);
        return;
    }
    if (xmpp_disco_info_request(s, jid, nv, 0, on_caps_info, r) != XMPP_OK) {
        pending_drop(ctx, cs, ver);
        xmpp_free(ctx, r->ver);
        xmpp_free(ctx, r);
    }
    xmpp_free(ctx, nv);
}

static int on_presence(xmpp_session *s, xmpp_stanza *st, void *ud) {
    struct caps_state *cs = xmpp_session_plugin_state(s, "caps");
    xmpp_ctx *ctx = xmpp_session_ctx(s);
    const char *from = xmpp_stanza_from(st), *type = xmpp_stanza_type(st);
    const char *hash, *node, *ver;
    const struct caps_entry *e;
    xmpp_stanza *c;
    xmpp_jid *j = NULL;
    int full;
    (void)ud;
    if (cs == NULL || from == NULL || xmpp_jid_parse(&j, ctx, from) != XMPP_OK)
        return 0;
    full = xmpp_jid_is_full(j);
    xmpp_jid_free(j);
    if (!full)
        return 0; /* caps describe one client: a full JID */
    if (type != NULL) {
        if (strcmp(type, "unavailable") == 0)
            peer_forget(ctx, cs, from);
        return 0;
    }
    c = xmpp_stanza_child(st, "c", XMPP_NS_CAPS);
    hash = c ? xmpp_stanza_attr(c, "hash") : NULL;
    node = c ? xmpp_stanza_attr(c, "node") : NULL;
    ver = c ? xmpp_stanza_attr(c, "ver") : NULL;
    /* only SHA-1 (§5) is computed; legacy caps without hash are ignored */
    if (hash == NULL || strcmp(hash, "sha-1") != 0 || node == NULL || ver == NULL ||
        ver[0] == '\0' || strlen(ver) > CAPS_MAX_VER || strlen(node) > 1024) {
        peer_forget(ctx, cs, from);
        return 0;
    }
    if (peer_set(ctx, cs, from, ver) != XMPP_OK)
        return 0;
    if ((e = cache_find(cs, ver)) != NULL)
        notify(s, cs, from, e);
    else
        ask(s, cs, from, node, ver);
    return 0;
}

int xmpp_caps_set_callback(xmpp_session *s, xmpp_caps_fn cb, void *user_data) {
    struct caps_state *cs = xmpp_session_plugin_state(s, "caps");
    if (s == NULL)
        return XMPP_ERR_INVALID;
    if (cs == NULL)
        return XMPP_ERR_STATE;
    cs->cb = cb;
    cs->cb_ud = user_data;
    return XMPP_OK;
}

int xmpp_caps_has_feature(const xmpp_session *s, const char *jid, const char *feature) {
    struct caps_state *cs = xmpp_session_plugin_state(s, "caps");
    const struct caps_peer *p;
    const struct caps_entry *e;
    xmpp_disco_info info;
    if (s == NULL || jid == NULL || feature == NULL)
        return XMPP_ERR_INVALID;
    if (cs == NULL)
        return XMPP_ERR_STATE;
    if ((p = peer_find(cs, jid)) == NULL || (e = cache_find(cs, p->ver)) == NULL)
        return XMPP_ERR_NOT_FOUND;
    info.query = e->query;
    info.from = jid;
    return xmpp_disco_info_has_feature(&info, feature);
}

size_t xmpp_caps_cache_size(const xmpp_session *s) {
    struct caps_state *cs = xmpp_session_plugin_state(s, "caps");
    return cs ? cs->ncache : 0;
}
