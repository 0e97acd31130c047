/* The plugin registry: descriptors known by name (built-in and registered),
 * enabled plugins in dependency order with their per-session state,
 * dependency resolution with cycle and unknown-name errors. */
#include "session/session_int.h"
#include "plugin/plugin_int.h"

#include <stdio.h>
#include <string.h>

#define MAX_DEPTH 32 /* dependency chains longer than this are refused */

struct plugin_on {
    const xmpp_plugin_desc *d;
    void *state;
};

struct plugin_timer {
    unsigned long id;
    uint64_t at;
    xmpp_session_timer_fn fn;
    void *ud;
};

struct dyn_feature {
    char *var;
    unsigned long refs; /* add/remove pairs */
};

#define MAX_DYN_FEATURES 256 /* run-time features per session */

struct xmpp__plugins {
    const xmpp_plugin_desc **known;
    size_t n_known;
    struct plugin_on *on;
    size_t n_on, cap_on;
    struct plugin_timer *timers; /* unsorted; few per session */
    size_t n_timers, cap_timers;
    unsigned long next_timer;
    struct dyn_feature *feat; /* features added at run time */
    size_t n_feat;
};

/* one per line, in the order of enabling by default */
static const xmpp_plugin_desc *const builtins[] = {
    &xmpp__plugin_disco,
    &xmpp__plugin_caps,
    &xmpp__plugin_ping,
    &xmpp__plugin_version,
    &xmpp__plugin_pubsub,
    &xmpp__plugin_avatar,
    &xmpp__plugin_bookmarks,
    &xmpp__plugin_sid,
    &xmpp__plugin_carbons,
    &xmpp__plugin_mam,
    &xmpp__plugin_muc,
    &xmpp__plugin_roster,
    &xmpp__plugin_presence,
    &xmpp__plugin_blocking,
    &xmpp__plugin_receipts,
    &xmpp__plugin_chatstates,
    &xmpp__plugin_correction,
    &xmpp__plugin_markers,
    &xmpp__plugin_retraction,
    &xmpp__plugin_reactions,
    &xmpp__plugin_replies,
    &xmpp__plugin_im,
    &xmpp__plugin_time,
    &xmpp__plugin_last,
    &xmpp__plugin_vcard,
};

static int name_ok(const char *n) {
    size_t i;
    if (n == NULL || n[0] == '\0')
        return 0;
    for (i = 0; n[i]; i++) {
        char c = n[i];
        if (i >= 64 || !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                         (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.'))
            return 0;
    }
    return 1;
}

static int desc_ok(const xmpp_plugin_desc *d) {
    size_t i;
    if (d == NULL || d->abi_version != XMPP_PLUGIN_ABI_VERSION || !name_ok(d->name))
        return 0;
    if (d->n_identities && d->identities == NULL)
        return 0;
    for (i = 0; i < d->n_identities; i++)
        if (d->identities[i].category == NULL || d->identities[i].type == NULL)
            return 0;
    return 1;
}

static const xmpp_plugin_desc *find_desc(const xmpp_session *s, const char *name) {
    size_t i;
    for (i = 0; i < sizeof(builtins) / sizeof(builtins[0]); i++)
        if (strcmp(builtins[i]->name, name) == 0)
            return builtins[i];
    if (s->plugins)
        for (i = 0; i < s->plugins->n_known; i++)
            if (strcmp(s->plugins->known[i]->name, name) == 0)
                return s->plugins->known[i];
    return NULL;
}

static struct plugin_on *find_on(const xmpp_session *s, const char *name) {
    size_t i;
    if (s->plugins == NULL || name == NULL)
        return NULL;
    for (i = 0; i < s->plugins->n_on; i++)
        if (strcmp(s->plugins->on[i].d->name, name) == 0)
            return &s->plugins->on[i];
    return NULL;
}

static int ensure(xmpp_session *s) {
    if (s->plugins == NULL) {
        s->plugins = xmpp__malloc(s->ctx, sizeof(*s->plugins));
        if (s->plugins == NULL)
            return XMPP_ERR_NOMEM;
        memset(s->plugins, 0, sizeof(*s->plugins));
    }
    return XMPP_OK;
}

int xmpp_session_register_plugin(xmpp_session *s, const xmpp_plugin_desc *desc) {
    const xmpp_plugin_desc **k;
    if (s == NULL || !desc_ok(desc)) {
        if (s && desc)
            xmpp__log(s->ctx, XMPP_LOG_ERROR, "plugin",
                      "refusing plugin descriptor '%s': ABI version %u (expected %u) or bad fields",
                      desc->name ? desc->name : "(null)", desc->abi_version,
                      (unsigned)XMPP_PLUGIN_ABI_VERSION);
        return XMPP_ERR_INVALID;
    }
    if (find_desc(s, desc->name) != NULL) {
        xmpp__log(s->ctx, XMPP_LOG_ERROR, "plugin", "a plugin named '%s' is already known",
                  desc->name);
        return XMPP_ERR_INVALID;
    }
    if (ensure(s) != XMPP_OK)
        return XMPP_ERR_NOMEM;
    k = xmpp__realloc(s->ctx, s->plugins->known,
                      (s->plugins->n_known + 1) * sizeof(*s->plugins->known));
    if (k == NULL)
        return XMPP_ERR_NOMEM;
    k[s->plugins->n_known++] = desc;
    s->plugins->known = k;
    return XMPP_OK;
}

static void detach_last(xmpp_session *s) {
    struct plugin_on e = s->plugins->on[--s->plugins->n_on];
    if (e.d->detach)
        e.d->detach(s, e.state, e.d->user_data);
}

/* path: the names being enabled, outermost first (for cycle reports). */
static int enable_rec(xmpp_session *s, const char *name, const char **path, size_t depth) {
    const xmpp_plugin_desc *d;
    size_t i;
    int rc;
    if (find_on(s, name))
        return XMPP_OK;
    for (i = 0; i < depth; i++)
        if (strcmp(path[i], name) == 0) {
            char chain[512];
            size_t off = 0, j;
            chain[0] = '\0';
            for (j = i; j < depth && off < sizeof(chain); j++)
                off += (size_t)snprintf(chain + off, sizeof(chain) - off, "%s -> ", path[j]);
            xmpp__log(s->ctx, XMPP_LOG_ERROR, "plugin", "dependency cycle: %s%s", chain, name);
            return XMPP_ERR_INVALID;
        }
    d = find_desc(s, name);
    if (d == NULL) {
        if (depth)
            xmpp__log(s->ctx, XMPP_LOG_ERROR, "plugin",
                      "plugin '%s' depends on unknown plugin '%s'", path[depth - 1], name);
        else
            xmpp__log(s->ctx, XMPP_LOG_ERROR, "plugin", "unknown plugin '%s'", name);
        return XMPP_ERR_NOT_FOUND;
    }
    if (depth >= MAX_DEPTH) {
        xmpp__log(s->ctx, XMPP_LOG_ERROR, "plugin", "dependencies of '%s' nest too deep", name);
        return XMPP_ERR_INVALID;
    }
    path[depth] = d->name;
    for (i = 0; d->depends && d->depends[i]; i++)
        if ((rc = enable_rec(s, d->depends[i], path, depth + 1)) != XMPP_OK)
            return rc;
    if (s->plugins->n_on == s->plugins->cap_on) {
        size_t cap = s->plugins->cap_on ? s->plugins->cap_on * 2 : 8;
        struct plugin_on *on = xmpp__realloc(s->ctx, s->plugins->on, cap * sizeof(*on));
        if (on == NULL)
            return XMPP_ERR_NOMEM;
        s->plugins->on = on;
        s->plugins->cap_on = cap;
    }
    s->plugins->on[s->plugins->n_on].d = d;
    s->plugins->on[s->plugins->n_on].state = NULL;
    s->plugins->n_on++;
    if (d->attach) {
        void *state = NULL;
        rc = d->attach(s, &state, d->user_data);
        if (rc != XMPP_OK) {
            s->plugins->n_on--; /* not attached: no detach */
            xmpp__log(s->ctx, XMPP_LOG_ERROR, "plugin", "plugin '%s' failed to attach: %s",
                      d->name, xmpp_strerror(rc));
            return rc;
        }
        find_on(s, d->name)->state = state;
    }
    xmpp__log(s->ctx, XMPP_LOG_DEBUG, "plugin", "enabled plugin '%s'", d->name);
    return XMPP_OK;
}

int xmpp_session_enable_plugin(xmpp_session *s, const char *name) {
    const char *path[MAX_DEPTH + 1];
    size_t before;
    int rc;
    if (s == NULL || name == NULL)
        return XMPP_ERR_INVALID;
    if ((rc = ensure(s)) != XMPP_OK)
        return rc;
    before = s->plugins->n_on;
    rc = enable_rec(s, name, path, 0);
    if (rc != XMPP_OK)
        while (s->plugins->n_on > before) /* dependencies enabled on the way */
            detach_last(s);
    return rc;
}

int xmpp_session_disable_plugin(xmpp_session *s, const char *name) {
    struct plugin_on *e, victim;
    size_t i, j, idx;
    if (s == NULL || name == NULL)
        return XMPP_ERR_INVALID;
    if ((e = find_on(s, name)) == NULL)
        return XMPP_ERR_NOT_FOUND;
    for (i = 0; i < s->plugins->n_on; i++) {
        const xmpp_plugin_desc *d = s->plugins->on[i].d;
        for (j = 0; d->depends && d->depends[j]; j++)
            if (strcmp(d->depends[j], name) == 0) {
                xmpp__log(s->ctx, XMPP_LOG_ERROR, "plugin",
                          "cannot disable '%s': plugin '%s' depends on it", name, d->name);
                return XMPP_ERR_STATE;
            }
    }
    idx = (size_t)(e - s->plugins->on);
    victim = *e;
    memmove(e, e + 1, (s->plugins->n_on - idx - 1) * sizeof(*e));
    s->plugins->n_on--;
    if (victim.d->detach)
        victim.d->detach(s, victim.state, victim.d->user_data);
    return XMPP_OK;
}

int xmpp_session_plugin_enabled(const xmpp_session *s, const char *name) {
    return s != NULL && find_on(s, name) != NULL;
}

void *xmpp_session_plugin_state(const xmpp_session *s, const char *name) {
    struct plugin_on *e = s ? find_on(s, name) : NULL;
    return e ? e->state : NULL;
}

size_t xmpp_session_plugin_count(const xmpp_session *s) {
    return s && s->plugins ? s->plugins->n_on : 0;
}

const xmpp_plugin_desc *xmpp_session_plugin_at(const xmpp_session *s, size_t i) {
    if (s == NULL || s->plugins == NULL || i >= s->plugins->n_on)
        return NULL;
    return s->plugins->on[i].d;
}

xmpp_ctx *xmpp_session_ctx(const xmpp_session *s) {
    return s ? s->ctx : NULL;
}

/* ---- features added at run time (e.g. XEP-0163 NODE+notify) */
static struct dyn_feature *find_feat(const xmpp_session *s, const char *var) {
    size_t i;
    if (s->plugins == NULL)
        return NULL;
    for (i = 0; i < s->plugins->n_feat; i++)
        if (strcmp(s->plugins->feat[i].var, var) == 0)
            return &s->plugins->feat[i];
    return NULL;
}

int xmpp_session_add_feature(xmpp_session *s, const char *feature) {
    struct dyn_feature *f;
    size_t len;
    if (s == NULL || feature == NULL || (len = strlen(feature)) == 0 || len > 1023 ||
        !xmpp__xml_text_ok(feature, len))
        return XMPP_ERR_INVALID;
    if ((f = find_feat(s, feature)) != NULL) {
        f->refs++;
        return XMPP_OK;
    }
    if (ensure(s) != XMPP_OK)
        return XMPP_ERR_NOMEM;
    if (s->plugins->n_feat >= MAX_DYN_FEATURES)
        return XMPP_ERR_LIMIT;
    f = xmpp__realloc(s->ctx, s->plugins->feat, (s->plugins->n_feat + 1) * sizeof(*f));
    if (f == NULL)
        return XMPP_ERR_NOMEM;
    s->plugins->feat = f;
    f += s->plugins->n_feat;
    if ((f->var = xmpp__strdup(s->ctx, feature)) == NULL)
        return XMPP_ERR_NOMEM;
    f->refs = 1;
    s->plugins->n_feat++;
    return XMPP_OK;
}

int xmpp_session_remove_feature(xmpp_session *s, const char *feature) {
    struct dyn_feature *f;
    size_t i;
    if (s == NULL || feature == NULL)
        return XMPP_ERR_INVALID;
    if ((f = find_feat(s, feature)) == NULL)
        return XMPP_ERR_NOT_FOUND;
    if (--f->refs > 0)
        return XMPP_OK;
    xmpp__free(s->ctx, f->var);
    i = (size_t)(f - s->plugins->feat);
    memmove(f, f + 1, (s->plugins->n_feat - i - 1) * sizeof(*f));
    s->plugins->n_feat--;
    return XMPP_OK;
}

size_t xmpp_session_feature_count(const xmpp_session *s) {
    return s && s->plugins ? s->plugins->n_feat : 0;
}

const char *xmpp_session_feature_at(const xmpp_session *s, size_t i) {
    if (s == NULL || s->plugins == NULL || i >= s->plugins->n_feat)
        return NULL;
    return s->plugins->feat[i].var;
}

/* ---- options */
static int opts_ensure(xmpp_session_options *o) {
    if (o->plugins == NULL) {
        o->plugins = xmpp__malloc(o->ctx, sizeof(*o->plugins));
        if (o->plugins == NULL)
            return XMPP_ERR_NOMEM;
        memset(o->plugins, 0, sizeof(*o->plugins));
    }
    return XMPP_OK;
}

int xmpp_session_options_enable_plugin(xmpp_session_options *o, const char *name) {
    char **n, *copy;
    size_t i;
    if (o == NULL || !name_ok(name))
        return XMPP_ERR_INVALID;
    if (opts_ensure(o) != XMPP_OK)
        return XMPP_ERR_NOMEM;
    for (i = 0; i < o->plugins->n_names; i++)
        if (strcmp(o->plugins->names[i], name) == 0)
            return XMPP_OK;
    if ((copy = xmpp__strdup(o->ctx, name)) == NULL)
        return XMPP_ERR_NOMEM;
    n = xmpp__realloc(o->ctx, o->plugins->names, (o->plugins->n_names + 1) * sizeof(*n));
    if (n == NULL) {
        xmpp__free(o->ctx, copy);
        return XMPP_ERR_NOMEM;
    }
    n[o->plugins->n_names++] = copy;
    o->plugins->names = n;
    return XMPP_OK;
}

int xmpp_session_options_disable_plugin(xmpp_session_options *o, const char *name) {
    size_t i;
    if (o == NULL || name == NULL || o->plugins == NULL)
        return XMPP_ERR_NOT_FOUND;
    for (i = 0; i < o->plugins->n_names; i++)
        if (strcmp(o->plugins->names[i], name) == 0) {
            xmpp__free(o->ctx, o->plugins->names[i]);
            memmove(o->plugins->names + i, o->plugins->names + i + 1,
                    (o->plugins->n_names - i - 1) * sizeof(char *));
            o->plugins->n_names--;
            return XMPP_OK;
        }
    return XMPP_ERR_NOT_FOUND;
}

int xmpp_session_options_register_plugin(xmpp_session_options *o, const xmpp_plugin_desc *desc) {
    const xmpp_plugin_desc **d;
    size_t i;
    if (o == NULL || !desc_ok(desc))
        return XMPP_ERR_INVALID;
    for (i = 0; i < sizeof(builtins) / sizeof(builtins[0]); i++)
        if (strcmp(builtins[i]->name, desc->name) == 0)
            return XMPP_ERR_INVALID;
    if (opts_ensure(o) != XMPP_OK)
        return XMPP_ERR_NOMEM;
    for (i = 0; i < o->plugins->n_descs; i++)
        if (strcmp(o->plugins->descs[i]->name, desc->name) == 0)
            return XMPP_ERR_INVALID;
    d = xmpp__realloc(o->ctx, o->plugins->descs, (o->plugins->n_descs + 1) * sizeof(*d));
    if (d == NULL)
        return XMPP_ERR_NOMEM;
    d[o->plugins->n_descs++] = desc;
    o->plugins->descs = d;
    return XMPP_OK;
}

void xmpp__plugin_opts_free(xmpp_ctx *ctx, struct xmpp__plugin_opts *po) {
    size_t i;
    if (po == NULL)
        return;
    for (i = 0; i < po->n_names; i++)
        xmpp__free(ctx, po->names[i]);
    xmpp__free(ctx, po->names);
    xmpp__free(ctx, po->descs);
    xmpp__free(ctx, po);
}

int xmpp__plugin_opts_copy(xmpp_ctx *ctx, struct xmpp__plugin_opts **dst,
                           const struct xmpp__plugin_opts *src) {
    struct xmpp__plugin_opts *po;
    size_t i;
    *dst = NULL;
    if (src == NULL)
        return XMPP_OK;
    po = xmpp__malloc(ctx, sizeof(*po));
    if (po == NULL)
        return XMPP_ERR_NOMEM;
    memset(po, 0, sizeof(*po));
    if (src->n_names) {
        po->names = xmpp__malloc(ctx, src->n_names * sizeof(char *));
        if (po->names == NULL)
            goto fail;
        for (i = 0; i < src->n_names; i++) {
            if ((po->names[i] = xmpp__strdup(ctx, src->names[i])) == NULL)
                goto fail;
            po->n_names++;
        }
    }
    if (src->n_descs) {
        po->descs = xmpp__malloc(ctx, src->n_descs * sizeof(*po->descs));
        if (po->descs == NULL)
            goto fail;
        memcpy(po->descs, src->descs, src->n_descs * sizeof(*po->descs));
        po->n_descs = src->n_descs;
    }
    *dst = po;
    return XMPP_OK;
fail:
    xmpp__plugin_opts_free(ctx, po);
    return XMPP_ERR_NOMEM;
}

/* ---- session life */
int xmpp__plugins_session_init(xmpp_session *s) {
    const struct xmpp__plugin_opts *po = s->o.plugins;
    size_t i;
    int rc;
    if (po == NULL)
        return XMPP_OK;
    for (i = 0; i < po->n_descs; i++)
        if ((rc = xmpp_session_register_plugin(s, po->descs[i])) != XMPP_OK)
            return rc;
    for (i = 0; i < po->n_names; i++)
        if ((rc = xmpp_session_enable_plugin(s, po->names[i])) != XMPP_OK)
            return rc;
    return XMPP_OK;
}

void xmpp__plugins_session_free(xmpp_session *s) {
    if (s->plugins == NULL)
        return;
    while (s->plugins->n_on > 0)
        detach_last(s);
    xmpp__free(s->ctx, s->plugins->on);
    xmpp__free(s->ctx, s->plugins->known);
    xmpp__free(s->ctx, s->plugins->timers);
    while (s->plugins->n_feat > 0)
        xmpp__free(s->ctx, s->plugins->feat[--s->plugins->n_feat].var);
    xmpp__free(s->ctx, s->plugins->feat);
    xmpp__free(s->ctx, s->plugins);
    s->plugins = NULL;
}

/* ---- timers for plugins ------------------------------------------------- */

#define MAX_TIMERS 4096

int xmpp_session_add_timer(xmpp_session *s, unsigned delay_ms, xmpp_session_timer_fn fn,
                           void *user_data, unsigned long *handle) {
    struct xmpp__plugins *p;
    struct plugin_timer *t;
    int rc;
    if (handle)
        *handle = 0;
    if (s == NULL || fn == NULL)
        return XMPP_ERR_INVALID;
    if ((rc = ensure(s)) != XMPP_OK)
        return rc;
    p = s->plugins;
    if (p->n_timers >= MAX_TIMERS)
        return XMPP_ERR_LIMIT;
    if (p->n_timers == p->cap_timers) {
        size_t nc = p->cap_timers ? p->cap_timers * 2 : 8;
        t = xmpp__realloc(s->ctx, p->timers, nc * sizeof(*t));
        if (t == NULL)
            return XMPP_ERR_NOMEM;
        p->timers = t;
        p->cap_timers = nc;
    }
    t = &p->timers[p->n_timers++];
    t->id = ++p->next_timer;
    t->at = s->now + delay_ms;
    t->fn = fn;
    t->ud = user_data;
    if (handle)
        *handle = t->id;
    return XMPP_OK;
}

int xmpp_session_remove_timer(xmpp_session *s, unsigned long handle) {
    size_t i;
    if (s == NULL || s->plugins == NULL || handle == 0)
        return XMPP_ERR_NOT_FOUND;
    for (i = 0; i < s->plugins->n_timers; i++)
        if (s->plugins->timers[i].id == handle) {
            s->plugins->timers[i] = s->plugins->timers[--s->plugins->n_timers];
            return XMPP_OK;
        }
    return XMPP_ERR_NOT_FOUND;
}

uint64_t xmpp_session_now(const xmpp_session *s) {
    return s ? s->now : 0;
}

uint64_t xmpp__plugin_timers_next(const xmpp_session *s) {
    uint64_t d = UINT64_MAX;
    size_t i;
    if (s->plugins)
        for (i = 0; i < s->plugins->n_timers; i++)
            if (s->plugins->timers[i].at < d)
                d = s->plugins->timers[i].at;
    return d;
}

void xmpp__plugin_timers_run(xmpp_session *s, uint64_t now) {
    /* one due timer at a time: a callback may add or remove timers */
    for (;;) {
        struct plugin_timer t;
        size_t i;
        if (s->plugins == NULL || s->step != STEP_READY)
            return;
        for (i = 0; i < s->plugins->n_timers; i++)
            if (s->plugins->timers[i].at <= now)
                break;
        if (i == s->plugins->n_timers)
            return;
        t = s->plugins->timers[i];
        s->plugins->timers[i] = s->plugins->timers[--s->plugins->n_timers];
        t.fn(s, t.ud);
    }
}
