/* BOSH (XEP-0124/XEP-0206) client, sans I/O: see bosh.h. */
#include "transport/bosh.h"
#include "xml/parser.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OVERDUE_GRACE_MS 30000u /* beyond `wait` before a request counts as lost */

enum kind { K_CREATE, K_NORMAL, K_RESTART, K_TERMINATE, K_PAUSE };

struct req {
    uint64_t rid;
    enum kind kind;
    char *body; /* the <body/> sent, kept for rewriting */
    size_t body_len;
    uint64_t sent_at;
    int rewrites;
    int reported; /* the CM says it answered and we did not get it */
    int answered; /* the response is in and waits for its turn */
    int status;
    char *resp;
    size_t resp_len;
};

struct item {
    struct item *next;
    int restart; /* a restart marker, no data */
    size_t len;
    char data[];
};

struct xmpp__bosh {
    xmpp_ctx *ctx;
    char *host, *path, *to, *lang, *route;
    unsigned wait, hold;
    enum xmpp__bosh_state state;
    const char *cond;
    char *text, *other_uri, *sid;
    uint64_t next_rid, next_process;
    unsigned requests, polling, inactivity, maxpause;
    struct req reqs[XMPP_BOSH_MAX_INFLIGHT];
    unsigned nreqs;
    struct item *head, **tail;
    size_t queued;
    int terminate_wanted;
    unsigned pause_wanted;
    uint64_t paused_until;
    int paused;
    uint64_t last_response_at;
    int last_response_empty;
    xmpp__bosh_events ev;
    void *ud;
    /* response parsing */
    xmpp_xml_parser *parser;
    xmpp_stanza *rbody;
    xmpp_stanza **rpay;
    size_t nrpay, caprpay;
    int rend, rnomem;
};

/* ---- helpers */

static void fail(xmpp__bosh *b, const char *cond, const char *text) {
    if (b->state == XMPP_BOSH_FAILED || b->state == XMPP_BOSH_CLOSED)
        return;
    b->state = XMPP_BOSH_FAILED;
    b->cond = cond;
    if (text != NULL && b->text == NULL)
        b->text = xmpp__strdup(b->ctx, text);
    xmpp__log(b->ctx, XMPP_LOG_ERROR, "bosh", "BOSH session ended: %s%s%s", cond,
              text ? ": " : "", text ? text : "");
}

static int put_attr(xmpp_buf *o, const char *name, const char *value) {
    const char *p;
    int rc = xmpp__buf_append_char(o, ' ');
    if (rc == XMPP_OK)
        rc = xmpp__buf_append_str(o, name);
    if (rc == XMPP_OK)
        rc = xmpp__buf_append(o, "='", 2);
    for (p = value; rc == XMPP_OK && *p; p++) {
        switch (*p) {
        case '&': rc = xmpp__buf_append_str(o, "&amp;"); break;
        case '<': rc = xmpp__buf_append_str(o, "&lt;"); break;
        case '\'': rc = xmpp__buf_append_str(o, "&apos;"); break;
        case '"': rc = xmpp__buf_append_str(o, "&quot;"); break;
        default: rc = xmpp__buf_append_char(o, *p);
        }
    }
    if (rc == XMPP_OK)
        rc = xmpp__buf_append_char(o, '\'');
    return rc;
}

static int put_num(xmpp_buf *o, const char *name, uint64_t v) {
    char num[24];
    snprintf(num, sizeof(num), "%llu", (unsigned long long)v);
    return put_attr(o, name, num);
}

/* Unsigned decimal attribute, at most `max`; def when absent; -1 when malformed. */
static int get_num(const xmpp_stanza *el, const char *name, uint64_t max, uint64_t def,
                   uint64_t *out) {
    const char *v = xmpp_stanza_attr(el, name);
    uint64_t n = 0;
    if (v == NULL) {
        *out = def;
        return 0;
    }
    if (*v == '\0' || strlen(v) > 19)
        return -1;
    for (; *v; v++) {
        if (*v < '0' || *v > '9')
            return -1;
        n = n * 10 + (uint64_t)(*v - '0');
    }
    if (n > max)
        return -1;
    *out = n;
    return 0;
}

static int text_ok(const char *s) {
    return s != NULL && *s != '\0' && xmpp__xml_text_ok(s, strlen(s));
}

/* ---- life */

static void on_root(xmpp_stanza *hdr, const char *default_ns, void *ud) {
    xmpp__bosh *b = ud;
    (void)default_ns;
    b->rbody = xmpp_stanza_ref(hdr);
}

static void on_child(xmpp_stanza *st, void *ud) {
    xmpp__bosh *b = ud;
    if (b->nrpay == b->caprpay) {
        size_t cap = b->caprpay ? 2 * b->caprpay : 8;
        xmpp_stanza **n = xmpp__realloc(b->ctx, b->rpay, cap * sizeof(*n));
        if (n == NULL) {
            b->rnomem = 1;
            return;
        }
        b->rpay = n;
        b->caprpay = cap;
    }
    b->rpay[b->nrpay++] = xmpp_stanza_ref(st);
}

static void on_end(void *ud) {
    ((xmpp__bosh *)ud)->rend = 1;
}

static char *dup_or_null(xmpp_ctx *ctx, const char *s, int *bad) {
    char *d;
    if (s == NULL)
        return NULL;
    if ((d = xmpp__strdup(ctx, s)) == NULL)
        *bad = 1;
    return d;
}

int xmpp__bosh_new(xmpp__bosh **out, xmpp_ctx *ctx, const xmpp__bosh_config *cfg,
                   uint64_t initial_rid, const xmpp__bosh_events *ev, void *ud) {
    static const xmpp_xml_callbacks cbs = {on_root, on_child, on_end};
    xmpp__bosh *b;
    int bad = 0;
    if (out)
        *out = NULL;
    if (out == NULL || ctx == NULL || cfg == NULL || ev == NULL || !text_ok(cfg->host) ||
        !text_ok(cfg->path) || cfg->path[0] != '/' || !text_ok(cfg->to) ||
        (cfg->lang && !text_ok(cfg->lang)) || (cfg->route && !text_ok(cfg->route)) ||
        initial_rid == 0 || initial_rid > (1ULL << 52))
        return XMPP_ERR_INVALID;
    if ((b = xmpp__malloc(ctx, sizeof(*b))) == NULL)
        return XMPP_ERR_NOMEM;
    memset(b, 0, sizeof(*b));
    b->ctx = ctx;
    b->host = dup_or_null(ctx, cfg->host, &bad);
    b->path = dup_or_null(ctx, cfg->path, &bad);
    b->to = dup_or_null(ctx, cfg->to, &bad);
    b->lang = dup_or_null(ctx, cfg->lang ? cfg->lang : "en", &bad);
    b->route = dup_or_null(ctx, cfg->route, &bad);
    b->wait = cfg->wait ? cfg->wait : 60;
    b->hold = cfg->hold ? cfg->hold : 1;
    b->next_rid = b->next_process = initial_rid;
    b->requests = 1; /* until the creation response says more */
    b->tail = &b->head;
    b->ev = *ev;
    b->ud = ud;
    b->state = XMPP_BOSH_CREATING;
    if (bad || xmpp_xml_parser_new(&b->parser, ctx, &cbs, b) != XMPP_OK) {
        xmpp__bosh_free(b);
        return XMPP_ERR_NOMEM;
    }
    *out = b;
    return XMPP_OK;
}

static void req_clear(xmpp__bosh *b, struct req *r) {
    xmpp_free(b->ctx, r->body);
    xmpp_free(b->ctx, r->resp);
    memset(r, 0, sizeof(*r));
}

static void reset_response(xmpp__bosh *b) {
    size_t i;
    for (i = 0; i < b->nrpay; i++)
        xmpp_stanza_unref(b->rpay[i]);
    b->nrpay = 0;
    xmpp_stanza_unref(b->rbody);
    b->rbody = NULL;
    b->rend = b->rnomem = 0;
}

void xmpp__bosh_free(xmpp__bosh *b) {
    struct item *it, *n;
    unsigned i;
    if (b == NULL)
        return;
    reset_response(b);
    xmpp_free(b->ctx, b->rpay);
    xmpp_xml_parser_free(b->parser);
    for (i = 0; i < b->nreqs; i++)
        req_clear(b, &b->reqs[i]);
    for (it = b->head; it; it = n) {
        n = it->next;
        xmpp_free(b->ctx, it);
    }
    xmpp_free(b->ctx, b->host);
    xmpp_free(b->ctx, b->path);
    xmpp_free(b->ctx, b->to);
    xmpp_free(b->ctx, b->lang);
    xmpp_free(b->ctx, b->route);
    xmpp_free(b->ctx, b->text);
    xmpp_free(b->ctx, b->other_uri);
    xmpp_free(b->ctx, b->sid);
    xmpp_free(b->ctx, b);
}

enum xmpp__bosh_state xmpp__bosh_state(const xmpp__bosh *b) {
    return b->state;
}

const char *xmpp__bosh_condition(const xmpp__bosh *b, const char **text) {
    if (text)
        *text = b->text;
    return b->state == XMPP_BOSH_FAILED ? b->cond : NULL;
}

const char *xmpp__bosh_other_uri(const xmpp__bosh *b) {
    return b->other_uri;
}

const char *xmpp__bosh_sid(const xmpp__bosh *b) {
    return b->sid;
}

/* ---- outbound */

static int push_item(xmpp__bosh *b, const char *xml, size_t len, int restart) {
    struct item *it;
    if (b->state == XMPP_BOSH_FAILED || b->state == XMPP_BOSH_CLOSED ||
        (b->state == XMPP_BOSH_TERMINATING && b->terminate_wanted == 2))
        return XMPP_ERR_STATE;
    if (b->terminate_wanted)
        return XMPP_ERR_STATE; /* nothing after the terminate */
    if (len > XMPP_BOSH_MAX_QUEUE - b->queued)
        return XMPP_ERR_LIMIT;
    if ((it = xmpp__malloc(b->ctx, sizeof(*it) + len)) == NULL)
        return XMPP_ERR_NOMEM;
    it->next = NULL;
    it->restart = restart;
    it->len = len;
    if (len)
        memcpy(it->data, xml, len);
    *b->tail = it;
    b->tail = &it->next;
    b->queued += len;
    return XMPP_OK;
}

int xmpp__bosh_queue(xmpp__bosh *b, const char *xml, size_t len) {
    if (b == NULL || xml == NULL || len == 0)
        return XMPP_ERR_INVALID;
    return push_item(b, xml, len, 0);
}

int xmpp__bosh_restart(xmpp__bosh *b) {
    if (b == NULL)
        return XMPP_ERR_INVALID;
    return push_item(b, NULL, 0, 1);
}

int xmpp__bosh_terminate(xmpp__bosh *b) {
    if (b == NULL)
        return XMPP_ERR_INVALID;
    if (b->state == XMPP_BOSH_FAILED || b->state == XMPP_BOSH_CLOSED)
        return XMPP_ERR_STATE;
    if (!b->terminate_wanted)
        b->terminate_wanted = 1;
    return XMPP_OK;
}

int xmpp__bosh_pause(xmpp__bosh *b, unsigned seconds) {
    if (b == NULL || seconds == 0)
        return XMPP_ERR_INVALID;
    if (b->state != XMPP_BOSH_OPEN || b->maxpause == 0)
        return XMPP_ERR_STATE;
    b->pause_wanted = seconds < b->maxpause ? seconds : b->maxpause;
    return XMPP_OK;
}

/* ---- requests */

unsigned xmpp__bosh_max_inflight(const xmpp__bosh *b) {
    return b->requests;
}

unsigned xmpp__bosh_inflight(const xmpp__bosh *b) {
    unsigned i, n = 0;
    for (i = 0; i < b->nreqs; i++)
        if (!b->reqs[i].answered)
            n++;
    return n;
}

static uint64_t poll_due(const xmpp__bosh *b) {
    /* a polling session (the CM holds nothing) sends empty requests no
     * more often than `polling` allows */
    if (b->requests > 1 && b->hold > 0)
        return 0;
    if (!b->last_response_empty)
        return 0;
    return b->last_response_at + (uint64_t)b->polling * 1000u;
}

int xmpp__bosh_want_request(const xmpp__bosh *b, uint64_t now) {
    if (b->state == XMPP_BOSH_CREATING)
        return b->nreqs == 0 && b->next_rid == b->next_process;
    if (b->state != XMPP_BOSH_OPEN || b->terminate_wanted == 2)
        return 0;
    if (b->nreqs >= b->requests)
        return 0;
    if (b->head != NULL || b->terminate_wanted || b->pause_wanted)
        return 1;
    if (b->paused)
        return now >= b->paused_until;
    return b->nreqs == 0 && now >= poll_due(b);
}

static int body_open(xmpp__bosh *b, xmpp_buf *o, uint64_t rid) {
    int rc = xmpp__buf_append_str(o, "<body");
    if (rc == XMPP_OK)
        rc = put_num(o, "rid", rid);
    if (rc == XMPP_OK && b->sid)
        rc = put_attr(o, "sid", b->sid);
    return rc;
}

int xmpp__bosh_make_request(xmpp__bosh *b, uint64_t now, xmpp_buf *out, uint64_t *rid) {
    xmpp_buf o;
    struct req *r;
    enum kind kind = K_NORMAL;
    size_t taken = 0;
    int rc;
    if (b == NULL || out == NULL || rid == NULL)
        return XMPP_ERR_INVALID;
    if (!xmpp__bosh_want_request(b, now) || b->nreqs >= XMPP_BOSH_MAX_INFLIGHT)
        return XMPP_ERR_STATE;
    if (b->next_rid > XMPP_BOSH_MAX_RID) {
        fail(b, "rid-exhausted", "request ids used up");
        return XMPP_ERR_STREAM;
    }
    xmpp__buf_init(&o, b->ctx);
    rc = body_open(b, &o, b->next_rid);
    if (b->state == XMPP_BOSH_CREATING) {
        kind = K_CREATE;
        if (rc == XMPP_OK)
            rc = put_attr(&o, "content", "text/xml; charset=utf-8");
        if (rc == XMPP_OK)
            rc = put_num(&o, "hold", b->hold);
        if (rc == XMPP_OK)
            rc = put_attr(&o, "to", b->to);
        if (rc == XMPP_OK && b->route)
            rc = put_attr(&o, "route", b->route);
        if (rc == XMPP_OK)
            rc = put_num(&o, "wait", b->wait);
        if (rc == XMPP_OK)
            rc = put_attr(&o, "xml:lang", b->lang);
        if (rc == XMPP_OK)
            rc = put_attr(&o, "ver", "1.11");
        if (rc == XMPP_OK)
            rc = put_attr(&o, "xmpp:version", "1.0");
        if (rc == XMPP_OK)
            rc = put_attr(&o, "xmlns:xmpp", XMPP_NS_XBOSH);
    } else if (b->head != NULL && b->head->restart) {
        kind = K_RESTART;
        if (rc == XMPP_OK)
            rc = put_attr(&o, "to", b->to);
        if (rc == XMPP_OK)
            rc = put_attr(&o, "xml:lang", b->lang);
        if (rc == XMPP_OK)
            rc = put_attr(&o, "xmpp:restart", "true");
        if (rc == XMPP_OK)
            rc = put_attr(&o, "xmlns:xmpp", XMPP_NS_XBOSH);
    } else if (b->head == NULL && !b->terminate_wanted && b->pause_wanted) {
        kind = K_PAUSE;
        if (rc == XMPP_OK)
            rc = put_num(&o, "pause", b->pause_wanted);
    } else {
        /* payloads up to the size bound or the next restart marker */
        struct item *it;
        size_t bytes = 0;
        for (it = b->head; it && !it->restart; it = it->next) {
            if (taken > 0 && bytes + it->len > XMPP_BOSH_MAX_REQUEST)
                break;
            bytes += it->len;
            taken++;
        }
        if (b->terminate_wanted && it == NULL) {
            kind = K_TERMINATE;
            if (rc == XMPP_OK)
                rc = put_attr(&o, "type", "terminate");
        }
    }
    if (rc == XMPP_OK)
        rc = put_attr(&o, "xmlns", XMPP_NS_HTTPBIND);
    if (kind == K_NORMAL || kind == K_TERMINATE) {
        struct item *it = b->head;
        size_t i;
        if (rc == XMPP_OK)
            rc = taken ? xmpp__buf_append_char(&o, '>') : xmpp__buf_append_str(&o, "/>");
        for (i = 0; rc == XMPP_OK && i < taken; i++, it = it->next)
            rc = xmpp__buf_append(&o, it->data, it->len);
        if (rc == XMPP_OK && taken)
            rc = xmpp__buf_append_str(&o, "</body>");
    } else if (rc == XMPP_OK) {
        rc = xmpp__buf_append_str(&o, "/>");
    }
    if (rc == XMPP_OK) {
        xmpp__http_field f[2];
        f[0].name = "Host";
        f[0].value = b->host;
        f[1].name = "Content-Type";
        f[1].value = "text/xml; charset=utf-8";
        rc = xmpp__http_request(out, "POST", b->path, f, 2, o.data, o.len);
    }
    if (rc != XMPP_OK) {
        xmpp__buf_free(&o);
        return rc;
    }
    /* committed: record the request, drop what it carries from the queue */
    r = &b->reqs[b->nreqs++];
    memset(r, 0, sizeof(*r));
    r->rid = b->next_rid++;
    r->kind = kind;
    r->body_len = o.len;
    r->body = xmpp__buf_steal(&o, NULL);
    r->sent_at = now;
    if (kind == K_RESTART) {
        struct item *it = b->head;
        b->head = it->next;
        xmpp_free(b->ctx, it);
    }
    while (taken--) {
        struct item *it = b->head;
        b->head = it->next;
        b->queued -= it->len;
        xmpp_free(b->ctx, it);
    }
    if (b->head == NULL)
        b->tail = &b->head;
    if (kind == K_TERMINATE) {
        b->terminate_wanted = 2;
        b->state = XMPP_BOSH_TERMINATING;
    }
    if (kind == K_PAUSE) {
        b->paused = 1;
        b->paused_until = now + (uint64_t)b->pause_wanted * 1000u / 2; /* resume early */
        b->pause_wanted = 0;
    } else {
        b->paused = 0;
    }
    *rid = r->rid;
    return XMPP_OK;
}

static struct req *find(xmpp__bosh *b, uint64_t rid) {
    unsigned i;
    for (i = 0; i < b->nreqs; i++)
        if (b->reqs[i].rid == rid)
            return &b->reqs[i];
    return NULL;
}

uint64_t xmpp__bosh_next_deadline(const xmpp__bosh *b) {
    uint64_t d = UINT64_MAX, p;
    unsigned i;
    if (b->state == XMPP_BOSH_FAILED || b->state == XMPP_BOSH_CLOSED)
        return UINT64_MAX;
    for (i = 0; i < b->nreqs; i++)
        if (!b->reqs[i].answered) {
            uint64_t t = b->reqs[i].sent_at + (uint64_t)b->wait * 1000u + OVERDUE_GRACE_MS;
            if (b->reqs[i].reported)
                t = 0;
            if (t < d)
                d = t;
        }
    if (b->state == XMPP_BOSH_OPEN && b->nreqs == 0) {
        p = b->paused ? b->paused_until : poll_due(b);
        if (p < d)
            d = p;
    }
    return d;
}

int xmpp__bosh_overdue(const xmpp__bosh *b, uint64_t now, uint64_t *rid) {
    unsigned i;
    for (i = 0; i < b->nreqs; i++) {
        const struct req *r = &b->reqs[i];
        if (r->answered)
            continue;
        if (r->reported ||
            now >= r->sent_at + (uint64_t)b->wait * 1000u + OVERDUE_GRACE_MS) {
            if (rid)
                *rid = r->rid;
            return 1;
        }
    }
    return 0;
}

int xmpp__bosh_rewrite(xmpp__bosh *b, uint64_t rid, uint64_t now, xmpp_buf *out) {
    struct req *r;
    xmpp__http_field f[2];
    int rc;
    if (b == NULL || out == NULL)
        return XMPP_ERR_INVALID;
    if (b->state == XMPP_BOSH_FAILED || b->state == XMPP_BOSH_CLOSED)
        return XMPP_ERR_STATE;
    if ((r = find(b, rid)) == NULL || r->answered)
        return XMPP_ERR_NOT_FOUND;
    if (r->rewrites >= XMPP_BOSH_MAX_REWRITES) {
        fail(b, "connection-lost", "a request failed on every attempt");
        return XMPP_ERR_LIMIT;
    }
    f[0].name = "Host";
    f[0].value = b->host;
    f[1].name = "Content-Type";
    f[1].value = "text/xml; charset=utf-8";
    if ((rc = xmpp__http_request(out, "POST", b->path, f, 2, r->body, r->body_len)) != XMPP_OK)
        return rc;
    r->rewrites++;
    r->reported = 0;
    r->sent_at = now;
    return XMPP_OK;
}

/* ---- responses */

/* Some connection managers send payloads without xmlns, so they inherit
 * the httpbind namespace: they mean jabber:client (XEP-0206 §2). */
static int requalify(xmpp_stanza *el) {
    xmpp_stanza *c;
    int rc;
    if (xmpp_stanza_is_text(el))
        return XMPP_OK;
    if (xmpp_stanza_ns(el) && strcmp(xmpp_stanza_ns(el), XMPP_NS_HTTPBIND) == 0 &&
        (rc = xmpp_stanza_set_ns(el, "jabber:client")) != XMPP_OK)
        return rc;
    for (c = xmpp_stanza_first_child(el); c; c = xmpp_stanza_next(c))
        if ((rc = requalify(c)) != XMPP_OK)
            return rc;
    return XMPP_OK;
}

static const char *http_condition(int status) {
    switch (status) {
    case 400: return "bad-request";
    case 403: return "policy-violation";
    case 404: return "item-not-found";
    default: return "http-error";
    }
}

/* The creation response: what the CM grants. */
static int take_creation(xmpp__bosh *b, const xmpp_stanza *body) {
    const char *sid = xmpp_stanza_attr(body, "sid");
    uint64_t requests, hold, wait, polling, inactivity, maxpause;
    if (!text_ok(sid) || strlen(sid) > 256) {
        fail(b, "bad-response", "the session creation response has no valid sid");
        return XMPP_ERR_STREAM;
    }
    if (get_num(body, "hold", 1000, b->hold, &hold) || hold > b->hold ||
        get_num(body, "requests", 1000, hold + 1, &requests) || requests == 0 ||
        get_num(body, "wait", 3600, b->wait, &wait) || wait > b->wait ||
        get_num(body, "polling", 3600, 0, &polling) ||
        get_num(body, "inactivity", 86400, 0, &inactivity) ||
        get_num(body, "maxpause", 86400, 0, &maxpause)) {
        fail(b, "bad-response", "a malformed or out-of-range session attribute");
        return XMPP_ERR_STREAM;
    }
    if ((b->sid = xmpp__strdup(b->ctx, sid)) == NULL)
        return XMPP_ERR_NOMEM;
    b->hold = (unsigned)hold;
    b->wait = (unsigned)wait;
    b->requests = requests > XMPP_BOSH_MAX_INFLIGHT ? XMPP_BOSH_MAX_INFLIGHT : (unsigned)requests;
    b->polling = (unsigned)polling;
    b->inactivity = (unsigned)inactivity;
    b->maxpause = (unsigned)maxpause;
    b->state = XMPP_BOSH_OPEN;
    return XMPP_OK;
}

static int process(xmpp__bosh *b, struct req *r, uint64_t now) {
    const char *type, *cond, *sid;
    uint64_t report;
    int rc, terminate;
    size_t i;
    if (r->status != 200) {
        char text[64];
        snprintf(text, sizeof(text), "HTTP status %d", r->status);
        fail(b, http_condition(r->status), text);
        return XMPP_ERR_STREAM;
    }
    reset_response(b);
    if (xmpp_xml_parser_reset(b->parser) != XMPP_OK)
        return XMPP_ERR_NOMEM;
    xmpp_xml_parser_set_root(b->parser, "body", XMPP_NS_HTTPBIND);
    /* the parser reads the prolog only once it has seen enough bytes;
     * a body is complete, so feed it whole */
    rc = xmpp_xml_parser_feed(b->parser, r->resp ? r->resp : "", r->resp_len);
    if (b->rnomem || rc == XMPP_ERR_NOMEM)
        return XMPP_ERR_NOMEM;
    if ((rc != XMPP_OK && rc != XMPP_ERR_CLOSED) || b->rbody == NULL || !b->rend) {
        const char *why = NULL;
        xmpp_xml_parser_error(b->parser, &why);
        fail(b, "bad-response", why ? why : "the response is not a complete <body/>");
        return XMPP_ERR_STREAM;
    }
    {
        /* nothing but white space may follow </body> */
        uint64_t end = xmpp_xml_parser_end_offset(b->parser);
        size_t k;
        for (k = (size_t)end; end <= r->resp_len && k < r->resp_len; k++)
            if (!strchr(" \t\r\n", r->resp[k]) || r->resp[k] == '\0')
                break;
        if (end == 0 || end > r->resp_len || k < r->resp_len) {
            fail(b, "bad-response", "content after the <body/> element");
            return XMPP_ERR_STREAM;
        }
    }
    sid = xmpp_stanza_attr(b->rbody, "sid");
    if (r->kind != K_CREATE && sid != NULL && strcmp(sid, b->sid) != 0) {
        fail(b, "bad-response", "a response for another session");
        return XMPP_ERR_STREAM;
    }
    type = xmpp_stanza_attr(b->rbody, "type");
    terminate = type != NULL && strcmp(type, "terminate") == 0;
    if (type != NULL && !terminate) {
        /* 'error' is the recoverable binding error of old versions */
        fail(b, "bad-response", "an unknown or obsolete response type");
        return XMPP_ERR_STREAM;
    }
    if (r->kind == K_CREATE && !terminate && (rc = take_creation(b, b->rbody)) != XMPP_OK)
        return rc;
    if (get_num(b->rbody, "report", XMPP_BOSH_MAX_RID, 0, &report) == 0 && report) {
        struct req *lost = find(b, report);
        if (lost && !lost->answered)
            lost->reported = 1;
    }
    if (!terminate && (r->kind == K_CREATE || r->kind == K_RESTART) && b->ev.stream_open)
        b->ev.stream_open(b->ud, b->rbody);
    /* payloads first: a remote-stream-error terminate carries the
     * <stream:error/> the session must see */
    for (i = 0; i < b->nrpay; i++) {
        if ((rc = requalify(b->rpay[i])) != XMPP_OK)
            return rc;
        if (b->ev.payload)
            b->ev.payload(b->ud, b->rpay[i]);
        if (b->state == XMPP_BOSH_FAILED || b->state == XMPP_BOSH_CLOSED)
            break;
    }
    b->last_response_at = now;
    b->last_response_empty = b->nrpay == 0;
    if (terminate) {
        cond = xmpp_stanza_attr(b->rbody, "condition");
        if (cond == NULL && b->terminate_wanted == 2) {
            b->state = XMPP_BOSH_CLOSED;
            return XMPP_ERR_CLOSED;
        }
        if (cond != NULL && strcmp(cond, "see-other-uri") == 0) {
            xmpp_stanza *u = xmpp_stanza_child(b->rbody, "uri", NULL);
            char *t = NULL;
            if (u && xmpp_stanza_text(u, &t, NULL) == XMPP_OK)
                b->other_uri = t;
        }
        {
            /* the condition names are a fixed set: keep a static copy */
            static const char *const known[] = {
                "bad-request", "host-gone", "host-unknown", "improper-addressing",
                "internal-server-error", "item-not-found", "other-request", "policy-violation",
                "remote-connection-failed", "remote-stream-error", "see-other-uri",
                "system-shutdown", "undefined-condition", NULL};
            const char *c = "undefined-condition";
            size_t k;
            for (k = 0; cond && known[k]; k++)
                if (strcmp(known[k], cond) == 0)
                    c = known[k];
            fail(b, c, cond && strcmp(c, cond) != 0 ? cond : "the connection manager ended the session");
        }
        return XMPP_ERR_STREAM;
    }
    return XMPP_OK;
}

int xmpp__bosh_response(xmpp__bosh *b, uint64_t rid, uint64_t now, const xmpp__http_resp *resp) {
    struct req *r;
    const char *body;
    size_t len;
    int rc = XMPP_OK;
    if (b == NULL || resp == NULL || !xmpp__http_resp_done(resp))
        return XMPP_ERR_INVALID;
    if (b->state == XMPP_BOSH_FAILED)
        return XMPP_ERR_STREAM;
    if (b->state == XMPP_BOSH_CLOSED)
        return XMPP_ERR_CLOSED;
    if ((r = find(b, rid)) == NULL || r->answered)
        return XMPP_ERR_NOT_FOUND;
    body = xmpp__http_resp_body(resp, &len);
    if ((r->resp = xmpp__malloc(b->ctx, len + 1)) == NULL)
        return XMPP_ERR_NOMEM;
    memcpy(r->resp, body, len);
    r->resp[len] = '\0';
    r->resp_len = len;
    r->status = xmpp__http_resp_status(resp);
    r->answered = 1;
    /* in rid order: a response that overtook an earlier one waits */
    while (rc == XMPP_OK && (r = find(b, b->next_process)) != NULL && r->answered) {
        struct req done = *r;
        *r = b->reqs[--b->nreqs];
        b->next_process++;
        rc = process(b, &done, now);
        req_clear(b, &done);
    }
    reset_response(b);
    return rc;
}
