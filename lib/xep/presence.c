/* RFC 6121 presence: builders, subscription requests and approvals,
 * incoming subscription requests, tracking of contacts' resources. Uses
 * only the public plugin interface. */
#include "core/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xmpp/jid.h>
#include <xmpp/session.h>
#include <xmpp/stanza.h>
#include <xmpp/sys/plugin.h>
#include <xmpp/xep/presence.h>

#include "plugin/plugin_int.h"
#include "xep/roster_int.h"

struct xmpp_presence_info {
    char *full, *bare, *show, *status;
    int priority;
};

struct presence_state {
    unsigned long handler;
    xmpp_presence_info **res;
    size_t n, cap;
    int full_warned;
    xmpp_subscription_fn sub_cb;
    void *sub_ud;
    xmpp_presence_change_fn ch_cb;
    void *ch_ud;
};

static struct presence_state *state_of(const xmpp_session *s) {
    return xmpp_session_plugin_state(s, "presence");
}

static const char *const show_values[] = {"away", "chat", "dnd", "xa", NULL};

static const char *show_known(const char *v) {
    size_t i;
    for (i = 0; v && show_values[i]; i++)
        if (strcmp(v, show_values[i]) == 0)
            return show_values[i];
    return NULL;
}

static const char *const sub_names[] = {"subscribe", "subscribed", "unsubscribe",
                                        "unsubscribed"};

/* ---- builders */
static int add_text_child(xmpp_stanza *p, const char *name, const char *text) {
    xmpp_stanza *c = NULL;
    int rc = xmpp_stanza_add_child_new(p, name, NULL, &c);
    if (rc == XMPP_OK)
        rc = xmpp_stanza_add_text(c, text, strlen(text));
    return rc;
}

int xmpp_presence_available_new(xmpp_stanza **out, xmpp_ctx *ctx, const char *to,
                                const char *show, const char *status, int priority) {
    xmpp_stanza *p = NULL;
    char num[8];
    int rc;
    if (out == NULL)
        return XMPP_ERR_INVALID;
    *out = NULL;
    if ((show && show_known(show) == NULL) || priority < -128 || priority > 127)
        return XMPP_ERR_INVALID;
    if (to) {
        xmpp_jid *j = NULL;
        if ((rc = xmpp_jid_parse(&j, ctx, to)) != XMPP_OK)
            return rc;
        xmpp_jid_free(j);
    }
    if ((rc = xmpp_presence_new(&p, ctx, NULL, to, NULL)) != XMPP_OK)
        return rc;
    if (show)
        rc = add_text_child(p, "show", show);
    if (rc == XMPP_OK && status)
        rc = add_text_child(p, "status", status);
    if (rc == XMPP_OK && priority != 0) {
        snprintf(num, sizeof(num), "%d", priority);
        rc = add_text_child(p, "priority", num);
    }
    if (rc != XMPP_OK) {
        xmpp_stanza_unref(p);
        return rc;
    }
    *out = p;
    return XMPP_OK;
}

int xmpp_presence_send_available(xmpp_session *s, const char *to, const char *show,
                                 const char *status, int priority) {
    xmpp_stanza *p = NULL;
    int rc;
    if (s == NULL)
        return XMPP_ERR_INVALID;
    rc = xmpp_presence_available_new(&p, xmpp_session_ctx(s), to, show, status, priority);
    if (rc == XMPP_OK)
        rc = xmpp_session_send(s, p);
    xmpp_stanza_unref(p);
    return rc;
}

int xmpp_presence_send_unavailable(xmpp_session *s, const char *to, const char *status) {
    xmpp_stanza *p = NULL;
    int rc;
    if (s == NULL)
        return XMPP_ERR_INVALID;
    rc = xmpp_presence_new(&p, xmpp_session_ctx(s), "unavailable", to, NULL);
    if (rc == XMPP_OK && status)
        rc = add_text_child(p, "status", status);
    if (rc == XMPP_OK)
        rc = xmpp_session_send(s, p);
    xmpp_stanza_unref(p);
    return rc;
}

int xmpp_presence_send_subscription(xmpp_session *s, const char *jid,
                                    xmpp_subscription_type type) {
    xmpp_ctx *ctx;
    xmpp_stanza *p = NULL;
    char *bare;
    int rc;
    if (s == NULL || jid == NULL || type < XMPP_PRESENCE_SUBSCRIBE ||
        type > XMPP_PRESENCE_UNSUBSCRIBED)
        return XMPP_ERR_INVALID;
    ctx = xmpp_session_ctx(s);
    if ((bare = xmpp__im_bare(ctx, jid, 1)) == NULL)
        return XMPP_ERR_INVALID;
    rc = xmpp_presence_new(&p, ctx, sub_names[type], bare, NULL);
    xmpp_free(ctx, bare);
    if (rc == XMPP_OK)
        rc = xmpp_session_send(s, p);
    xmpp_stanza_unref(p);
    return rc;
}

int xmpp_presence_preapproval_offered(const xmpp_session *s) {
    return xmpp_session_feature_offered(s, "sub", XMPP_NS_PRESENCE_PREAPPROVAL);
}

/* ---- tracking */
static void info_free(xmpp_ctx *ctx, xmpp_presence_info *in) {
    if (in == NULL)
        return;
    xmpp_free(ctx, in->full);
    xmpp_free(ctx, in->bare);
    xmpp_free(ctx, in->show);
    xmpp_free(ctx, in->status);
    xmpp_free(ctx, in);
}

static size_t find_full(const struct presence_state *ps, const char *full) {
    size_t i;
    for (i = 0; i < ps->n; i++)
        if (strcmp(ps->res[i]->full, full) == 0)
            return i;
    return (size_t)-1;
}

static void drop_at(xmpp_session *s, struct presence_state *ps, size_t i) {
    xmpp_presence_info *in = ps->res[i];
    memmove(ps->res + i, ps->res + i + 1, (ps->n - i - 1) * sizeof(*ps->res));
    ps->n--;
    if (ps->ch_cb)
        ps->ch_cb(s, in->full, 0, NULL, ps->ch_ud);
    info_free(xmpp_session_ctx(s), in);
}

static char *child_text(xmpp_ctx *ctx, const xmpp_stanza *st, const char *name) {
    const xmpp_stanza *c = xmpp_stanza_child(st, name, XMPP_NS_CLIENT);
    char *t = NULL;
    (void)ctx;
    if (c == NULL || xmpp_stanza_text(c, &t, NULL) != XMPP_OK)
        return NULL;
    return t;
}

static void available(xmpp_session *s, struct presence_state *ps, const xmpp_jid *from,
                      const xmpp_stanza *st) {
    xmpp_ctx *ctx = xmpp_session_ctx(s);
    xmpp_presence_info *in = xmpp__malloc(ctx, sizeof(*in));
    char *t;
    size_t i;
    if (in == NULL)
        return;
    memset(in, 0, sizeof(*in));
    in->full = xmpp__strdup(ctx, xmpp_jid_full(from));
    in->bare = xmpp__strdup(ctx, xmpp_jid_bare(from));
    if (in->full == NULL || in->bare == NULL) {
        info_free(ctx, in);
        return;
    }
    t = child_text(ctx, st, "show");
    if (show_known(t))
        in->show = xmpp__strdup(ctx, t);
    xmpp_free(ctx, t);
    in->status = child_text(ctx, st, "status");
    t = child_text(ctx, st, "priority");
    if (t) {
        char *end;
        long v = strtol(t, &end, 10);
        if (end != t && *end == '\0' && v >= -128 && v <= 127)
            in->priority = (int)v;
        xmpp_free(ctx, t);
    }
    i = find_full(ps, in->full);
    if (i != (size_t)-1) {
        info_free(ctx, ps->res[i]);
        ps->res[i] = in;
    } else {
        if (ps->n >= XMPP_PRESENCE_MAX_RESOURCES) {
            if (!ps->full_warned)
                xmpp__log(ctx, XMPP_LOG_WARN, "presence",
                          "more than %d resources: presence no longer tracked",
                          XMPP_PRESENCE_MAX_RESOURCES);
            ps->full_warned = 1;
            info_free(ctx, in);
            return;
        }
        if (ps->n == ps->cap) {
            size_t nc = ps->cap ? ps->cap * 2 : 16;
            xmpp_presence_info **nr = xmpp__realloc(ctx, ps->res, nc * sizeof(*nr));
            if (nr == NULL) {
                info_free(ctx, in);
                return;
            }
            ps->res = nr;
            ps->cap = nc;
        }
        ps->res[ps->n++] = in;
    }
    if (ps->ch_cb)
        ps->ch_cb(s, in->full, 1, in, ps->ch_ud);
}

static int on_presence(xmpp_session *s, xmpp_stanza *st, void *ud) {
    struct presence_state *ps = ud;
    const char *type = xmpp_stanza_type(st);
    const char *from = xmpp_stanza_from(st);
    xmpp_jid *j = NULL;
    size_t i;
    if (from == NULL || xmpp_jid_parse(&j, xmpp_session_ctx(s), from) != XMPP_OK)
        return 0; /* nothing to track: left to the application */
    if (type == NULL) {
        available(s, ps, j, st);
    } else if (strcmp(type, "unavailable") == 0) {
        if ((i = find_full(ps, xmpp_jid_full(j))) != (size_t)-1)
            drop_at(s, ps, i);
    } else if (strcmp(type, "error") == 0) {
        /* the contact cannot be reached: none of its resources is */
        for (i = ps->n; i-- > 0;)
            if (strcmp(ps->res[i]->bare, xmpp_jid_bare(j)) == 0)
                drop_at(s, ps, i);
    } else {
        for (i = 0; i < 4; i++)
            if (strcmp(type, sub_names[i]) == 0 && ps->sub_cb)
                ps->sub_cb(s, xmpp_jid_bare(j), (xmpp_subscription_type)i, st, ps->sub_ud);
    }
    xmpp_jid_free(j);
    return 0;
}

static int presence_attach(xmpp_session *s, void **state, void *ud) {
    xmpp_ctx *ctx = xmpp_session_ctx(s);
    struct presence_state *ps = xmpp__malloc(ctx, sizeof(*ps));
    int rc;
    (void)ud;
    if (ps == NULL)
        return XMPP_ERR_NOMEM;
    memset(ps, 0, sizeof(*ps));
    rc = xmpp_session_add_handler(s, "presence", NULL, NULL, on_presence, ps, &ps->handler);
    if (rc != XMPP_OK) {
        xmpp_free(ctx, ps);
        return rc;
    }
    *state = ps;
    return XMPP_OK;
}

static void presence_detach(xmpp_session *s, void *state, void *ud) {
    struct presence_state *ps = state;
    size_t i;
    (void)ud;
    xmpp_session_remove_handler(s, ps->handler);
    for (i = 0; i < ps->n; i++)
        info_free(xmpp_session_ctx(s), ps->res[i]);
    xmpp_free(xmpp_session_ctx(s), ps->res);
    xmpp_free(xmpp_session_ctx(s), ps);
}

const xmpp_plugin_desc xmpp__plugin_presence = {
    XMPP_PLUGIN_ABI_VERSION, "presence", NULL, NULL, NULL, 0, presence_attach, presence_detach,
    NULL};

int xmpp_presence_set_subscription_callback(xmpp_session *s, xmpp_subscription_fn cb,
                                            void *user_data) {
    struct presence_state *ps;
    if (s == NULL)
        return XMPP_ERR_INVALID;
    if ((ps = state_of(s)) == NULL)
        return XMPP_ERR_STATE;
    ps->sub_cb = cb;
    ps->sub_ud = user_data;
    return XMPP_OK;
}

int xmpp_presence_set_change_callback(xmpp_session *s, xmpp_presence_change_fn cb,
                                      void *user_data) {
    struct presence_state *ps;
    if (s == NULL)
        return XMPP_ERR_INVALID;
    if ((ps = state_of(s)) == NULL)
        return XMPP_ERR_STATE;
    ps->ch_cb = cb;
    ps->ch_ud = user_data;
    return XMPP_OK;
}

const char *xmpp_presence_info_jid(const xmpp_presence_info *info) {
    return info ? info->full : NULL;
}
const char *xmpp_presence_info_show(const xmpp_presence_info *info) {
    return info ? info->show : NULL;
}
const char *xmpp_presence_info_status(const xmpp_presence_info *info) {
    return info ? info->status : NULL;
}
int xmpp_presence_info_priority(const xmpp_presence_info *info) {
    return info ? info->priority : 0;
}

/* Walks the resources of a contact: the i-th one, or the best when i is -1. */
static const xmpp_presence_info *walk(const xmpp_session *s, const char *jid, size_t i,
                                      size_t *count) {
    struct presence_state *ps = s ? state_of(s) : NULL;
    const xmpp_presence_info *best = NULL, *nth = NULL;
    char *bare;
    size_t k, seen = 0;
    if (count)
        *count = 0;
    if (ps == NULL || (bare = xmpp__im_bare(xmpp_session_ctx(s), jid, 1)) == NULL)
        return NULL;
    for (k = 0; k < ps->n; k++) {
        if (strcmp(ps->res[k]->bare, bare) != 0)
            continue;
        if (seen == i)
            nth = ps->res[k];
        if (best == NULL || ps->res[k]->priority > best->priority)
            best = ps->res[k];
        seen++;
    }
    xmpp_free(xmpp_session_ctx(s), bare);
    if (count)
        *count = seen;
    return i == (size_t)-1 ? best : nth;
}

size_t xmpp_presence_resource_count(const xmpp_session *s, const char *jid) {
    size_t n;
    (void)walk(s, jid, (size_t)-2, &n);
    return n;
}

const xmpp_presence_info *xmpp_presence_resource_at(const xmpp_session *s, const char *jid,
                                                    size_t i) {
    if (i >= (size_t)-2)
        return NULL;
    return walk(s, jid, i, NULL);
}

const xmpp_presence_info *xmpp_presence_best(const xmpp_session *s, const char *jid) {
    return walk(s, jid, (size_t)-1, NULL);
}
