/* Stanza dispatch: handlers keyed by (element, payload namespace, type) in
 * a hash table, IQ replies matched on (id, expected sender), and the
 * service-unavailable answer to IQ requests nobody handles. */
#include "session/session_int.h"

#include <string.h>

#define MAX_PENDING_IQS 10000 /* RES-04 */

/* FNV-1a over the key parts; NULL parts hash as empty with a marker. */
static unsigned hash_key(const char *name, const char *ns, const char *type) {
    const char *parts[3];
    unsigned h = 2166136261u;
    int i;
    parts[0] = name;
    parts[1] = ns;
    parts[2] = type;
    for (i = 0; i < 3; i++) {
        const unsigned char *p = (const unsigned char *)parts[i];
        if (p == NULL) {
            h = (h ^ 0xffu) * 16777619u;
            continue;
        }
        for (; *p; p++)
            h = (h ^ *p) * 16777619u;
        h = (h ^ 0u) * 16777619u;
    }
    return h;
}

static int str_eq(const char *a, const char *b) {
    return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

static void handler_free(xmpp_session *s, xmpp_handler *h) {
    xmpp__free(s->ctx, h->name);
    xmpp__free(s->ctx, h->ns);
    xmpp__free(s->ctx, h->type);
    xmpp__free(s->ctx, h);
}

int xmpp_session_add_handler(xmpp_session *s, const char *name, const char *ns,
                             const char *type, xmpp_handler_fn fn, void *ud,
                             unsigned long *handle) {
    xmpp_handler *h, **tail;
    if (handle)
        *handle = 0;
    if (s == NULL || name == NULL || fn == NULL)
        return XMPP_ERR_INVALID;
    h = xmpp__malloc(s->ctx, sizeof(*h));
    if (h == NULL)
        return XMPP_ERR_NOMEM;
    memset(h, 0, sizeof(*h));
    h->name = xmpp__strdup(s->ctx, name);
    h->ns = ns ? xmpp__strdup(s->ctx, ns) : NULL;
    h->type = type ? xmpp__strdup(s->ctx, type) : NULL;
    if (h->name == NULL || (ns && h->ns == NULL) || (type && h->type == NULL)) {
        handler_free(s, h);
        return XMPP_ERR_NOMEM;
    }
    h->fn = fn;
    h->ud = ud;
    h->id = s->next_handler_id++;
    h->hash = hash_key(name, ns, type);
    /* bucket chains keep registration order: append */
    for (tail = &s->buckets[h->hash % XMPP_HANDLER_BUCKETS]; *tail; tail = &(*tail)->next)
        ;
    *tail = h;
    for (tail = &s->handlers; *tail; tail = &(*tail)->all_next)
        ;
    *tail = h;
    if (handle)
        *handle = h->id;
    return XMPP_OK;
}

/* Unlinks and frees handlers marked removed (never during dispatch). */
static void sweep(xmpp_session *s) {
    xmpp_handler **pp;
    size_t b;
    if (!s->handlers_dirty || s->dispatching)
        return;
    for (b = 0; b < XMPP_HANDLER_BUCKETS; b++)
        for (pp = &s->buckets[b]; *pp;) {
            if ((*pp)->removed)
                *pp = (*pp)->next;
            else
                pp = &(*pp)->next;
        }
    for (pp = &s->handlers; *pp;) {
        xmpp_handler *h = *pp;
        if (h->removed) {
            *pp = h->all_next;
            handler_free(s, h);
        } else {
            pp = &h->all_next;
        }
    }
    s->handlers_dirty = 0;
}

int xmpp_session_remove_handler(xmpp_session *s, unsigned long handle) {
    xmpp_handler *h;
    if (s == NULL)
        return XMPP_ERR_INVALID;
    for (h = s->handlers; h; h = h->all_next)
        if (h->id == handle && !h->removed) {
            h->removed = 1;
            s->handlers_dirty = 1;
            sweep(s);
            return XMPP_OK;
        }
    return XMPP_ERR_NOT_FOUND;
}

void xmpp__handlers_free(xmpp_session *s) {
    xmpp_handler *h, *n;
    for (h = s->handlers; h; h = n) {
        n = h->all_next;
        handler_free(s, h);
    }
    s->handlers = NULL;
    memset(s->buckets, 0, sizeof(s->buckets));
}

/* Runs the handlers of one exact key; returns 1 once one handled it. */
static int run_key(xmpp_session *s, xmpp_stanza *st, const char *name, const char *ns,
                   const char *type) {
    unsigned h = hash_key(name, ns, type);
    xmpp_handler *hd;
    for (hd = s->buckets[h % XMPP_HANDLER_BUCKETS]; hd; hd = hd->next) {
        if (hd->removed || hd->hash != h || !str_eq(hd->name, name) || !str_eq(hd->ns, ns) ||
            !str_eq(hd->type, type))
            continue;
        if (hd->fn(s, st, hd->ud))
            return 1;
        if (s->step != STEP_READY)
            return 1; /* closed from inside the handler */
    }
    return 0;
}

static const char *payload_ns(const xmpp_stanza *st) {
    const xmpp_stanza *c;
    for (c = xmpp_stanza_first_child(st); c; c = xmpp_stanza_next(c))
        if (!xmpp_stanza_is_text(c))
            return xmpp_stanza_ns(c);
    return NULL;
}

/* ---- IQ tracking */
static void iq_free(xmpp_session *s, xmpp_iq_pending *p) {
    xmpp__free(s->ctx, p->id);
    xmpp_jid_free(p->to);
    xmpp__free(s->ctx, p);
}

int xmpp__iq_track(xmpp_session *s, xmpp_stanza *iq, unsigned timeout_ms, xmpp_iq_fn cb,
                   void *ud, int internal) {
    xmpp_iq_pending *p, **pp;
    const char *to = xmpp_stanza_to(iq), *id = xmpp_stanza_id(iq);
    int rc;
    if (s->n_iqs >= MAX_PENDING_IQS)
        return XMPP_ERR_LIMIT;
    p = xmpp__malloc(s->ctx, sizeof(*p));
    if (p == NULL)
        return XMPP_ERR_NOMEM;
    memset(p, 0, sizeof(*p));
    p->id = xmpp__strdup(s->ctx, id);
    if (p->id == NULL) {
        iq_free(s, p);
        return XMPP_ERR_NOMEM;
    }
    if (to && (rc = xmpp_jid_parse(&p->to, s->ctx, to)) != XMPP_OK) {
        iq_free(s, p);
        return rc == XMPP_ERR_NOMEM ? rc : XMPP_ERR_INVALID;
    }
    p->deadline = s->now + (timeout_ms ? timeout_ms : s->o.iq_ms);
    p->cb = cb;
    p->ud = ud;
    p->internal = internal;
    if ((rc = xmpp__session_send_stanza(s, iq)) != XMPP_OK) {
        iq_free(s, p);
        return rc;
    }
    /* sorted by deadline; equal timeouts append at the end cheaply when
     * deadlines grow, which is the common case */
    for (pp = &s->iqs; *pp && (*pp)->deadline <= p->deadline; pp = &(*pp)->next)
        ;
    p->next = *pp;
    *pp = p;
    s->n_iqs++;
    return XMPP_OK;
}

int xmpp_session_send_iq(xmpp_session *s, xmpp_stanza *iq, unsigned timeout_ms, xmpp_iq_fn cb,
                         void *ud) {
    const char *type;
    char id[32];
    int rc;
    if (s == NULL || iq == NULL || xmpp_stanza_is_text(iq) ||
        strcmp(xmpp_stanza_name(iq), "iq") != 0)
        return XMPP_ERR_INVALID;
    type = xmpp_stanza_type(iq);
    if (type == NULL || (strcmp(type, "get") != 0 && strcmp(type, "set") != 0))
        return XMPP_ERR_INVALID;
    if (s->step != STEP_READY)
        return XMPP_ERR_STATE;
    if (s->out.len - s->out_off > s->o.send_limit)
        return XMPP_ERR_LIMIT;
    if (xmpp_stanza_id(iq) == NULL) {
        xmpp_session_new_id(s, id, sizeof(id));
        if ((rc = xmpp_stanza_set_attr(iq, "id", id)) != XMPP_OK)
            return rc;
    }
    return xmpp__iq_track(s, iq, timeout_ms, cb, ud, 0);
}

/* ORG-05: the reply must come from where the request went. */
static int sender_ok(xmpp_session *s, const xmpp_iq_pending *p, const char *from) {
    if (p->to != NULL) {
        if (from == NULL) /* ORG-01: no from = our own account */
            return xmpp_jid_bare_equal(p->to, s->jid) && !xmpp_jid_is_full(p->to);
        return xmpp_jid_equal_str(p->to, from);
    }
    if (from == NULL)
        return 1;
    {
        xmpp_jid *f = NULL;
        int ok = 0;
        if (xmpp_jid_parse(&f, s->ctx, from) != XMPP_OK)
            return 0;
        /* own bare JID, own full JID, or own server */
        ok = (xmpp_jid_bare_equal(f, s->jid) &&
              (!xmpp_jid_is_full(f) || (s->bound_jid && strcmp(xmpp_jid_full(f), s->bound_jid) == 0))) ||
             (xmpp_jid_local(f) == NULL && !xmpp_jid_is_full(f) &&
              strcmp(xmpp_jid_domain(f), xmpp_jid_domain(s->jid)) == 0);
        xmpp_jid_free(f);
        return ok;
    }
}

static int iq_reply(xmpp_session *s, xmpp_stanza *st, int is_error) {
    xmpp_iq_pending **pp, *p;
    const char *id = xmpp_stanza_id(st);
    if (id == NULL)
        return 0;
    for (pp = &s->iqs; *pp; pp = &(*pp)->next)
        if (strcmp((*pp)->id, id) == 0 && sender_ok(s, *pp, xmpp_stanza_from(st)))
            break;
    if (*pp == NULL) {
        xmpp__log(s->ctx, XMPP_LOG_WARN, "session",
                  "dropping IQ %s with id '%s' from '%s': no matching request", is_error ? "error" : "result",
                  id, xmpp_stanza_from(st) ? xmpp_stanza_from(st) : "");
        return 1;
    }
    p = *pp;
    *pp = p->next;
    s->n_iqs--;
    if (p->cb)
        p->cb(s, is_error ? XMPP_IQ_ERROR : XMPP_IQ_RESULT, st, p->ud);
    iq_free(s, p);
    return 1;
}

void xmpp__iq_timeouts(xmpp_session *s, uint64_t now) {
    while (s->iqs && s->iqs->deadline <= now && s->step != STEP_CLOSED) {
        xmpp_iq_pending *p = s->iqs;
        s->iqs = p->next;
        s->n_iqs--;
        if (p->cb)
            p->cb(s, XMPP_IQ_TIMEOUT, NULL, p->ud);
        iq_free(s, p);
    }
}

void xmpp__iq_cancel_all(xmpp_session *s) {
    while (s->iqs) {
        xmpp_iq_pending *p = s->iqs;
        s->iqs = p->next;
        s->n_iqs--;
        if (p->cb)
            p->cb(s, XMPP_IQ_CANCELLED, NULL, p->ud);
        iq_free(s, p);
    }
}

/* ---- the entry point for stanzas once the session is ready */
void xmpp__dispatch(xmpp_session *s, xmpp_stanza *st) {
    const char *name = xmpp_stanza_name(st), *type = xmpp_stanza_type(st);
    const char *ns = payload_ns(st);
    int handled = 0, is_iq;
    if (!xmpp_stanza_ns(st) || strcmp(xmpp_stanza_ns(st), XMPP_NS_CLIENT) != 0) {
        /* stream-level elements (e.g. XEP-0198) reach handlers too */
        ns = xmpp_stanza_ns(st);
    }
    xmpp__log(s->ctx, XMPP_LOG_DEBUG, "session", "RECV <%s type='%s'>", name, type ? type : "");
    is_iq = strcmp(name, "iq") == 0 && xmpp_stanza_ns(st) &&
            strcmp(xmpp_stanza_ns(st), XMPP_NS_CLIENT) == 0;
    if (is_iq && type && (strcmp(type, "result") == 0 || strcmp(type, "error") == 0)) {
        iq_reply(s, st, type[0] == 'e'); /* ORG-08: unmatched replies dropped */
        return;
    }
    s->dispatching++;
    handled = run_key(s, st, name, ns, type) || (s->step == STEP_READY && type && run_key(s, st, name, ns, NULL)) ||
              (s->step == STEP_READY && ns && run_key(s, st, name, NULL, type)) ||
              (s->step == STEP_READY && ns && type && run_key(s, st, name, NULL, NULL));
    s->dispatching--;
    sweep(s);
    if (!handled && is_iq && s->step == STEP_READY && type &&
        (strcmp(type, "get") == 0 || strcmp(type, "set") == 0)) {
        /* RFC 6120 §8.4: an IQ request nobody handles gets an error */
        xmpp_stanza *err = NULL;
        if (xmpp_stanza_error_new(&err, st, XMPP_EC_SERVICE_UNAVAILABLE, NULL) != XMPP_OK ||
            xmpp__session_send_stanza(s, err) != XMPP_OK)
            xmpp__session_end(s, XMPP_CAUSE_NOMEM);
        xmpp_stanza_unref(err);
    }
}
