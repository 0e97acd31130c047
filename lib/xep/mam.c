/* XEP-0313 Message Archive Management with XEP-0059 paging: queries of the
 * own archive or a room's, and strict acceptance of results (XEP-0313 §5:
 * only for an open query, with its queryid, from the queried archive;
 * CVE-2019-16237). Uses only the public plugin interface. The filter form
 * is built with the stanza API (XEP-0004 submit form). */
#include "core/internal.h"

#include <stdio.h>
#include <string.h>

#include <xmpp/jid.h>
#include <xmpp/session.h>
#include <xmpp/stanza.h>
#include <xmpp/sys/plugin.h>
#include <xmpp/xep/delay.h>
#include <xmpp/xep/forward.h>
#include <xmpp/xep/mam.h>

#include "plugin/plugin_int.h"
#include "xep/xep_util.h"

#define ID_MAX 256 /* archive ids we accept or send */

struct xmpp_mam_query {
    xmpp_ctx *ctx;
    char *archive, *with, *after_id, *before_id, *page_id;
    int64_t start, end;
    unsigned max;
    xmpp_mam_dir dir;
};

struct mam_state;

struct mam_open {
    struct mam_open *next;
    struct mam_state *st; /* NULL once the plugin was detached */
    char qid[32];
    char *archive; /* NULL: our own */
    xmpp_mam_result_fn on_result;
    xmpp_mam_done_fn on_done;
    void *ud;
    size_t delivered;
};

struct mam_state {
    unsigned long handler;
    struct mam_open *open;
    size_t n_open;
};

struct xmpp_mam_result {
    const char *id;
    xmpp_stanza *message;
    const xmpp_stanza *forwarded;
};

struct xmpp_mam_fin {
    const xmpp_stanza *fin;
    size_t delivered;
};

/* ---- queries */
static int set_str(xmpp_mam_query *q, char **field, const char *v) {
    char *c = NULL;
    if (v && (c = xmpp__strdup(q->ctx, v)) == NULL)
        return XMPP_ERR_NOMEM;
    xmpp_free(q->ctx, *field);
    *field = c;
    return XMPP_OK;
}

static int id_ok(const char *id) {
    return id == NULL || (id[0] != '\0' && strlen(id) <= ID_MAX);
}

int xmpp_mam_query_new(xmpp_mam_query **out, xmpp_ctx *ctx) {
    xmpp_mam_query *q;
    if (out == NULL || ctx == NULL)
        return XMPP_ERR_INVALID;
    if ((q = xmpp__malloc(ctx, sizeof(*q))) == NULL)
        return XMPP_ERR_NOMEM;
    memset(q, 0, sizeof(*q));
    q->ctx = ctx;
    q->start = q->end = -1;
    q->dir = XMPP_MAM_FORWARD;
    *out = q;
    return XMPP_OK;
}

void xmpp_mam_query_free(xmpp_mam_query *q) {
    if (q == NULL)
        return;
    xmpp_free(q->ctx, q->archive);
    xmpp_free(q->ctx, q->with);
    xmpp_free(q->ctx, q->after_id);
    xmpp_free(q->ctx, q->before_id);
    xmpp_free(q->ctx, q->page_id);
    xmpp_free(q->ctx, q);
}

int xmpp_mam_query_set_archive(xmpp_mam_query *q, const char *jid) {
    xmpp_jid *j = NULL;
    int rc;
    if (q == NULL)
        return XMPP_ERR_INVALID;
    if (jid) {
        rc = xmpp_jid_parse(&j, q->ctx, jid);
        if (rc == XMPP_ERR_NOMEM)
            return rc;
        if (rc != XMPP_OK || xmpp_jid_is_full(j)) {
            xmpp_jid_free(j);
            return XMPP_ERR_INVALID;
        }
        rc = set_str(q, &q->archive, xmpp_jid_bare(j));
        xmpp_jid_free(j);
        return rc;
    }
    return set_str(q, &q->archive, NULL);
}

int xmpp_mam_query_set_with(xmpp_mam_query *q, const char *jid) {
    xmpp_jid *j = NULL;
    int rc;
    if (q == NULL)
        return XMPP_ERR_INVALID;
    if (jid) {
        rc = xmpp_jid_parse(&j, q->ctx, jid);
        if (rc != XMPP_OK)
            return rc == XMPP_ERR_NOMEM ? rc : XMPP_ERR_INVALID;
        rc = set_str(q, &q->with, xmpp_jid_full(j));
        xmpp_jid_free(j);
        return rc;
    }
    return set_str(q, &q->with, NULL);
}

#define TIME_MAX 253402300799LL /* 9999-12-31T23:59:59Z */

int xmpp_mam_query_set_time(xmpp_mam_query *q, int64_t start, int64_t end) {
    if (q == NULL || start < -1 || end < -1 || start > TIME_MAX || end > TIME_MAX ||
        (start >= 0 && end >= 0 && end < start))
        return XMPP_ERR_INVALID;
    q->start = start;
    q->end = end;
    return XMPP_OK;
}

int xmpp_mam_query_set_ids(xmpp_mam_query *q, const char *after_id, const char *before_id) {
    int rc;
    if (q == NULL || !id_ok(after_id) || !id_ok(before_id))
        return XMPP_ERR_INVALID;
    if ((rc = set_str(q, &q->after_id, after_id)) != XMPP_OK)
        return rc;
    return set_str(q, &q->before_id, before_id);
}

int xmpp_mam_query_set_page(xmpp_mam_query *q, unsigned max, xmpp_mam_dir dir, const char *id) {
    int rc;
    if (q == NULL || max > XMPP_MAM_MAX_PAGE || (dir != XMPP_MAM_FORWARD && dir != XMPP_MAM_BACKWARD) ||
        !id_ok(id))
        return XMPP_ERR_INVALID;
    if ((rc = set_str(q, &q->page_id, id)) != XMPP_OK)
        return rc;
    q->max = max;
    q->dir = dir;
    return XMPP_OK;
}

/* ---- building the IQ */
static int add_text_child(xmpp_stanza *parent, const char *name, const char *ns,
                          const char *text) {
    xmpp_stanza *c = NULL;
    int rc = xmpp_stanza_add_child_new(parent, name, ns, &c);
    if (rc == XMPP_OK && text && text[0])
        rc = xmpp_stanza_add_text(c, text, strlen(text));
    return rc;
}

/* A XEP-0004 submit-form field with one value. */
static int add_field(xmpp_stanza *x, const char *var, const char *type, const char *value) {
    xmpp_stanza *f = NULL;
    int rc;
    if ((rc = xmpp_stanza_add_child_new(x, "field", NULL, &f)) != XMPP_OK ||
        (rc = xmpp_stanza_set_attr(f, "var", var)) != XMPP_OK ||
        (type && (rc = xmpp_stanza_set_attr(f, "type", type)) != XMPP_OK))
        return rc;
    return add_text_child(f, "value", NULL, value);
}

static int add_time_field(xmpp_stanza *x, const char *var, int64_t t) {
    char buf[32];
    if (t < 0)
        return XMPP_OK;
    if (xmpp_datetime_format(t, buf, sizeof(buf)) != XMPP_OK)
        return XMPP_ERR_INVALID;
    return add_field(x, var, NULL, buf);
}

static int build_query(xmpp_session *s, const xmpp_mam_query *q, const char *qid,
                       xmpp_stanza **out) {
    xmpp_stanza *iq = NULL, *qe = NULL, *x = NULL, *set = NULL;
    char id[32];
    int rc;
    if ((rc = xmpp_session_new_id(s, id, sizeof(id))) != XMPP_OK)
        return rc;
    if ((rc = xmpp_iq_new(&iq, xmpp_session_ctx(s), "set", q->archive, id)) != XMPP_OK)
        return rc;
    if ((rc = xmpp_stanza_add_child_new(iq, "query", XMPP_NS_MAM, &qe)) != XMPP_OK ||
        (rc = xmpp_stanza_set_attr(qe, "queryid", qid)) != XMPP_OK ||
        (rc = xmpp_stanza_add_child_new(qe, "x", "jabber:x:data", &x)) != XMPP_OK ||
        (rc = xmpp_stanza_set_attr(x, "type", "submit")) != XMPP_OK ||
        (rc = add_field(x, "FORM_TYPE", "hidden", XMPP_NS_MAM)) != XMPP_OK ||
        (q->with && (rc = add_field(x, "with", NULL, q->with)) != XMPP_OK) ||
        (rc = add_time_field(x, "start", q->start)) != XMPP_OK ||
        (rc = add_time_field(x, "end", q->end)) != XMPP_OK ||
        (q->after_id && (rc = add_field(x, "after-id", NULL, q->after_id)) != XMPP_OK) ||
        (q->before_id && (rc = add_field(x, "before-id", NULL, q->before_id)) != XMPP_OK))
        goto fail;
    if (q->max > 0 || q->page_id || q->dir == XMPP_MAM_BACKWARD) {
        char max[16];
        if ((rc = xmpp_stanza_add_child_new(qe, "set", XMPP_NS_RSM, &set)) != XMPP_OK)
            goto fail;
        if (q->max > 0) {
            snprintf(max, sizeof(max), "%u", q->max);
            if ((rc = add_text_child(set, "max", NULL, max)) != XMPP_OK)
                goto fail;
        }
        /* XEP-0059 §2.5: an empty <before/> asks for the last page */
        if (q->dir == XMPP_MAM_BACKWARD)
            rc = add_text_child(set, "before", NULL, q->page_id);
        else if (q->page_id)
            rc = add_text_child(set, "after", NULL, q->page_id);
        if (rc != XMPP_OK)
            goto fail;
    }
    *out = iq;
    return XMPP_OK;
fail:
    xmpp_stanza_unref(iq);
    return rc;
}

/* ---- results */
static int from_archive(xmpp_session *s, const struct mam_open *o, const char *from) {
    xmpp_ctx *ctx = xmpp_session_ctx(s);
    if (o->archive == NULL) /* our own: no from, or exactly our bare JID */
        return from == NULL || xep__bare_is(ctx, from, xmpp_session_jid(s));
    return xep__bare_is(ctx, from, o->archive);
}

/* Returns 1 (consumed) for every message that carries a MAM result. */
static int on_message(xmpp_session *s, xmpp_stanza *st, void *ud) {
    struct mam_state *ms = ud;
    xmpp_ctx *ctx = xmpp_session_ctx(s);
    xmpp_stanza *res = xmpp_stanza_child(st, "result", XMPP_NS_MAM);
    const char *qid, *id;
    struct mam_open *o;
    xmpp_mam_result r;
    if (res == NULL)
        return 0;
    qid = xmpp_stanza_attr(res, "queryid");
    id = xmpp_stanza_attr(res, "id");
    for (o = ms->open; o && (qid == NULL || strcmp(o->qid, qid) != 0); o = o->next)
        ;
    if (o == NULL || xmpp_stanza_next_match(res, "result", XMPP_NS_MAM) != NULL ||
        !from_archive(s, o, xmpp_stanza_from(st))) {
        xmpp__log(ctx, XMPP_LOG_WARN, "mam", "dropped an archive result from %s: %s",
                  xmpp_stanza_from(st) ? xmpp_stanza_from(st) : "(none)",
                  o ? "not the queried archive" : "no such open query");
        return 1;
    }
    memset(&r, 0, sizeof(r));
    if (!id || !id_ok(id) || xmpp_forward_unwrap(res, &r.message, NULL) != XMPP_OK) {
        xmpp__log(ctx, XMPP_LOG_WARN, "mam", "dropped a malformed archive result");
        return 1;
    }
    r.id = id;
    r.forwarded = xmpp_stanza_child(res, "forwarded", XMPP_NS_FORWARD);
    o->delivered++;
    if (o->on_result)
        o->on_result(s, &r, o->ud); /* nothing of o is used after this */
    return 1;
}

static void query_done(xmpp_session *s, xmpp_iq_status status, xmpp_stanza *reply, void *ud) {
    struct mam_open *o = ud, **pp;
    xmpp_ctx *ctx = xmpp_session_ctx(s);
    xmpp_mam_done_fn done = o->on_done;
    void *uds = o->ud;
    xmpp_mam_fin fin;
    if (o->st) {
        for (pp = &o->st->open; *pp && *pp != o; pp = &(*pp)->next)
            ;
        if (*pp) {
            *pp = o->next;
            o->st->n_open--;
        }
    }
    fin.fin = reply ? xmpp_stanza_child(reply, "fin", XMPP_NS_MAM) : NULL;
    fin.delivered = o->delivered;
    xmpp_free(ctx, o->archive);
    xmpp_free(ctx, o);
    if (status == XMPP_IQ_RESULT)
        done(s, status, &fin, NULL, uds);
    else
        done(s, status, NULL, status == XMPP_IQ_ERROR ? reply : NULL, uds);
}

int xmpp_mam_fetch(xmpp_session *s, const xmpp_mam_query *q, unsigned timeout_ms,
                   xmpp_mam_result_fn on_result, xmpp_mam_done_fn on_done, void *user_data) {
    xmpp_ctx *ctx = xmpp_session_ctx(s);
    struct mam_state *ms;
    struct mam_open *o;
    xmpp_stanza *iq = NULL;
    int rc;
    if (s == NULL || q == NULL || on_done == NULL)
        return XMPP_ERR_INVALID;
    if ((rc = xmpp_session_enable_plugin(s, "mam")) != XMPP_OK)
        return rc;
    ms = xmpp_session_plugin_state(s, "mam");
    if (ms->n_open >= XMPP_MAM_MAX_OPEN)
        return XMPP_ERR_LIMIT;
    if ((o = xmpp__malloc(ctx, sizeof(*o))) == NULL)
        return XMPP_ERR_NOMEM;
    memset(o, 0, sizeof(*o));
    if ((q->archive && (o->archive = xmpp__strdup(ctx, q->archive)) == NULL)) {
        xmpp_free(ctx, o);
        return XMPP_ERR_NOMEM;
    }
    if ((rc = xmpp_session_new_id(s, o->qid, sizeof(o->qid))) != XMPP_OK ||
        (rc = build_query(s, q, o->qid, &iq)) != XMPP_OK)
        goto fail;
    o->st = ms;
    o->on_result = on_result;
    o->on_done = on_done;
    o->ud = user_data;
    o->next = ms->open;
    ms->open = o;
    ms->n_open++;
    rc = xmpp_session_send_iq(s, iq, timeout_ms, query_done, o);
    xmpp_stanza_unref(iq);
    if (rc == XMPP_OK)
        return XMPP_OK;
    ms->open = o->next;
    ms->n_open--;
fail:
    xmpp_free(ctx, o->archive);
    xmpp_free(ctx, o);
    return rc;
}

/* ---- accessors */
const char *xmpp_mam_result_id(const xmpp_mam_result *r) {
    return r ? r->id : NULL;
}

xmpp_stanza *xmpp_mam_result_message(const xmpp_mam_result *r) {
    return r ? r->message : NULL;
}

int xmpp_mam_result_stamp(const xmpp_mam_result *r, int64_t *secs) {
    if (r == NULL || r->forwarded == NULL)
        return XMPP_ERR_INVALID;
    return xmpp_delay_get(r->forwarded, secs, NULL);
}

int xmpp_mam_fin_complete(const xmpp_mam_fin *fin) {
    const char *c = fin && fin->fin ? xmpp_stanza_attr(fin->fin, "complete") : NULL;
    return c && (strcmp(c, "true") == 0 || strcmp(c, "1") == 0);
}

static const char *rsm_text(const xmpp_mam_fin *fin, const char *name) {
    const xmpp_stanza *set, *e, *t;
    if (fin == NULL || fin->fin == NULL ||
        (set = xmpp_stanza_child(fin->fin, "set", XMPP_NS_RSM)) == NULL ||
        (e = xmpp_stanza_child(set, name, XMPP_NS_RSM)) == NULL)
        return NULL;
    t = xmpp_stanza_first_child(e);
    if (t == NULL || !xmpp_stanza_is_text(t) || xmpp_stanza_next(t) != NULL)
        return NULL;
    return id_ok(xmpp_stanza_text_ptr(t)) ? xmpp_stanza_text_ptr(t) : NULL;
}

const char *xmpp_mam_fin_first(const xmpp_mam_fin *fin) {
    return rsm_text(fin, "first");
}

const char *xmpp_mam_fin_last(const xmpp_mam_fin *fin) {
    return rsm_text(fin, "last");
}

size_t xmpp_mam_fin_delivered(const xmpp_mam_fin *fin) {
    return fin ? fin->delivered : 0;
}

/* ---- the plugin */
static int mam_attach(xmpp_session *s, void **state, void *ud) {
    xmpp_ctx *ctx = xmpp_session_ctx(s);
    struct mam_state *ms = xmpp__malloc(ctx, sizeof(*ms));
    int rc;
    (void)ud;
    if (ms == NULL)
        return XMPP_ERR_NOMEM;
    memset(ms, 0, sizeof(*ms));
    rc = xmpp_session_add_handler(s, "message", NULL, NULL, on_message, ms, &ms->handler);
    if (rc != XMPP_OK) {
        xmpp_free(ctx, ms);
        return rc;
    }
    *state = ms;
    return XMPP_OK;
}

/* Open queries outlive the plugin: their IQ completion still fires (and
 * frees them); results for them are no longer accepted. */
static void mam_detach(xmpp_session *s, void *state, void *ud) {
    struct mam_state *ms = state;
    struct mam_open *o;
    (void)ud;
    for (o = ms->open; o; o = o->next)
        o->st = NULL;
    xmpp_session_remove_handler(s, ms->handler);
    xmpp_free(xmpp_session_ctx(s), ms);
}


const xmpp_plugin_desc xmpp__plugin_mam = {
    XMPP_PLUGIN_ABI_VERSION, "mam", NULL, NULL, NULL, 0, mam_attach, mam_detach, NULL};
