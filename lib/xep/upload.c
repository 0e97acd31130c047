/* XEP-0363 HTTP File Upload: finding the service, requesting a slot and
 * checking what the service grants; XEP-0066 Out of Band Data on
 * messages. The HTTP PUT itself is in upload_http.c. Uses only the public
 * session and stanza API. */
#include "core/internal.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <xmpp/session.h>
#include <xmpp/stanza.h>
#include <xmpp/sys/plugin.h>
#include <xmpp/xep/disco.h>
#include <xmpp/xep/upload.h>

#include "xep/upload_int.h"

#define MAX_ITEMS 32 /* disco items asked for their info */
#define NS_DATA   "jabber:x:data"

/* A decimal number of at most 19 digits (no sign, no spaces); 0 if not. */
static uint64_t parse_size(const char *t) {
    uint64_t v = 0;
    size_t n = 0;
    if (t == NULL || *t == '\0')
        return 0;
    for (; *t; t++, n++) {
        if (*t < '0' || *t > '9' || n >= 19)
            return 0;
        v = v * 10 + (uint64_t)(*t - '0');
    }
    return v;
}

static uint64_t text_size(const xmpp_stanza *el) {
    char *t = NULL;
    uint64_t v;
    if (el == NULL || xmpp_stanza_text(el, &t, NULL) != XMPP_OK)
        return 0;
    v = parse_size(t);
    xmpp_free(xmpp_stanza_ctx(el), t);
    return v;
}

/* ---- discovery: disco#items of the server, then disco#info of each item */
struct disc {
    xmpp_ctx *ctx;
    xmpp_upload_discover_fn cb;
    void *ud;
    unsigned timeout_ms;
    size_t n, pending;
    char *jid[MAX_ITEMS];
    int has[MAX_ITEMS];
    uint64_t max[MAX_ITEMS];
    int cancelled, timedout;
};

struct disc_item {
    struct disc *d;
    size_t i;
};

static void disc_free(struct disc *d) {
    size_t i;
    for (i = 0; i < d->n; i++)
        xmpp_free(d->ctx, d->jid[i]);
    xmpp_free(d->ctx, d);
}

static void disc_finish(xmpp_session *s, struct disc *d) {
    size_t i;
    for (i = 0; i < d->n; i++)
        if (d->has[i]) {
            d->cb(s, XMPP_IQ_RESULT, d->jid[i], d->max[i], d->ud);
            disc_free(d);
            return;
        }
    d->cb(s,
          d->cancelled  ? XMPP_IQ_CANCELLED
          : d->timedout ? XMPP_IQ_TIMEOUT
                        : XMPP_IQ_RESULT,
          NULL, 0, d->ud);
    disc_free(d);
}

/* The max-file-size of the XEP-0128 form for the upload namespace
 * (XEP-0363 §3). */
static uint64_t form_max_size(const xmpp_stanza *query) {
    const xmpp_stanza *x, *f;
    for (x = xmpp_stanza_child(query, "x", NS_DATA); x;
         x = xmpp_stanza_next_match(x, "x", NS_DATA)) {
        int ours = 0;
        uint64_t max = 0;
        for (f = xmpp_stanza_child(x, "field", NS_DATA); f;
             f = xmpp_stanza_next_match(f, "field", NS_DATA)) {
            const char *var = xmpp_stanza_attr(f, "var");
            const xmpp_stanza *v = xmpp_stanza_child(f, "value", NS_DATA);
            char *t = NULL;
            if (var == NULL || v == NULL)
                continue;
            if (strcmp(var, "FORM_TYPE") == 0 && xmpp_stanza_text(v, &t, NULL) == XMPP_OK) {
                ours = strcmp(t, XMPP_NS_HTTP_UPLOAD) == 0;
                xmpp_free(xmpp_stanza_ctx(v), t);
            } else if (strcmp(var, "max-file-size") == 0) {
                max = text_size(v);
            }
        }
        if (ours)
            return max;
    }
    return 0;
}

static void info_done(xmpp_session *s, xmpp_iq_status status, xmpp_stanza *reply, void *ud) {
    struct disc_item it = *(struct disc_item *)ud;
    struct disc *d = it.d;
    xmpp_free(d->ctx, ud);
    if (status == XMPP_IQ_RESULT) {
        const xmpp_stanza *q = xmpp_stanza_child(reply, "query", XMPP_NS_DISCO_INFO);
        const xmpp_stanza *f;
        for (f = q ? xmpp_stanza_child(q, "feature", XMPP_NS_DISCO_INFO) : NULL; f;
             f = xmpp_stanza_next_match(f, "feature", XMPP_NS_DISCO_INFO)) {
            const char *var = xmpp_stanza_attr(f, "var");
            if (var && strcmp(var, XMPP_NS_HTTP_UPLOAD) == 0)
                d->has[it.i] = 1;
        }
        if (d->has[it.i])
            d->max[it.i] = form_max_size(q);
    } else if (status == XMPP_IQ_CANCELLED) {
        d->cancelled = 1;
    } else if (status == XMPP_IQ_TIMEOUT) {
        d->timedout = 1;
    }
    if (--d->pending == 0)
        disc_finish(s, d);
}

static int send_query(xmpp_session *s, const char *to, const char *ns, unsigned timeout_ms,
                      xmpp_iq_fn cb, void *ud) {
    xmpp_stanza *iq = NULL;
    char id[32];
    int rc;
    if ((rc = xmpp_session_new_id(s, id, sizeof(id))) != XMPP_OK)
        return rc;
    if ((rc = xmpp_iq_new(&iq, xmpp_session_ctx(s), "get", to, id)) == XMPP_OK &&
        (rc = xmpp_stanza_add_child_new(iq, "query", ns, NULL)) == XMPP_OK)
        rc = xmpp_session_send_iq(s, iq, timeout_ms, cb, ud);
    xmpp_stanza_unref(iq);
    return rc;
}

static void items_done(xmpp_session *s, xmpp_iq_status status, xmpp_stanza *reply, void *ud) {
    struct disc *d = ud;
    const xmpp_stanza *q, *it;
    size_t i;
    if (status != XMPP_IQ_RESULT) {
        d->cb(s, status, NULL, 0, d->ud);
        disc_free(d);
        return;
    }
    q = xmpp_stanza_child(reply, "query", XMPP_NS_DISCO_ITEMS);
    for (it = q ? xmpp_stanza_child(q, "item", XMPP_NS_DISCO_ITEMS) : NULL; it && d->n < MAX_ITEMS;
         it = xmpp_stanza_next_match(it, "item", XMPP_NS_DISCO_ITEMS)) {
        const char *jid = xmpp_stanza_attr(it, "jid");
        if (jid == NULL || *jid == '\0' || xmpp_stanza_attr(it, "node") != NULL)
            continue; /* a node is not a service */
        if ((d->jid[d->n] = xmpp__strdup(d->ctx, jid)) == NULL)
            break;
        d->n++;
    }
    d->pending = d->n + 1; /* held until every request is out */
    for (i = 0; i < d->n; i++) {
        struct disc_item *di = xmpp__malloc(d->ctx, sizeof(*di));
        if (di == NULL) {
            d->pending--;
            continue;
        }
        di->d = d;
        di->i = i;
        if (send_query(s, d->jid[i], XMPP_NS_DISCO_INFO, d->timeout_ms, info_done, di) != XMPP_OK) {
            xmpp_free(d->ctx, di);
            d->pending--;
        }
    }
    if (--d->pending == 0)
        disc_finish(s, d);
}

int xmpp_upload_discover(xmpp_session *s, unsigned timeout_ms, xmpp_upload_discover_fn cb,
                         void *user_data) {
    xmpp_ctx *ctx = xmpp_session_ctx(s);
    const char *jid = s ? xmpp_session_jid(s) : NULL;
    char domain[1024];
    const char *at, *end;
    struct disc *d;
    int rc;
    if (s == NULL || cb == NULL || jid == NULL)
        return s && cb ? XMPP_ERR_STATE : XMPP_ERR_INVALID;
    at = strchr(jid, '@');
    at = at ? at + 1 : jid;
    end = strchr(at, '/');
    if (end == NULL)
        end = at + strlen(at);
    if (end == at || (size_t)(end - at) >= sizeof(domain))
        return XMPP_ERR_STATE;
    memcpy(domain, at, (size_t)(end - at));
    domain[end - at] = '\0';
    if ((d = xmpp__malloc(ctx, sizeof(*d))) == NULL)
        return XMPP_ERR_NOMEM;
    memset(d, 0, sizeof(*d));
    d->ctx = ctx;
    d->cb = cb;
    d->ud = user_data;
    d->timeout_ms = timeout_ms;
    rc = send_query(s, domain, XMPP_NS_DISCO_ITEMS, timeout_ms, items_done, d);
    if (rc != XMPP_OK)
        xmpp_free(ctx, d);
    return rc;
}

/* ---- slots */
int xmpp__upload_url_ok(const char *url, int allow_http) {
    size_t n, skip;
    const char *p;
    if (url == NULL)
        return 0;
    n = strlen(url);
    if (n == 0 || n > UPLOAD_MAX_URL)
        return 0;
    /* XEP-0363 §11: the slot must use HTTPS */
    if (strncasecmp(url, "https://", 8) == 0)
        skip = 8;
    else if (allow_http && strncasecmp(url, "http://", 7) == 0)
        skip = 7;
    else
        return 0;
    if (url[skip] == '\0' || url[skip] == '/' || url[skip] == '?' || url[skip] == '#')
        return 0; /* no host */
    for (p = url; *p; p++)
        if ((unsigned char)*p <= 0x20 || (unsigned char)*p == 0x7f)
            return 0;
    return 1;
}

void xmpp_upload_slot_free(xmpp_upload_slot *slot) {
    size_t i;
    if (slot == NULL)
        return;
    xmpp_free(slot->ctx, slot->put_url);
    xmpp_free(slot->ctx, slot->get_url);
    xmpp_free(slot->ctx, slot->content_type);
    for (i = 0; i < slot->n_headers; i++) {
        xmpp_free(slot->ctx, slot->hname[i]);
        xmpp_free(slot->ctx, slot->hvalue[i]);
    }
    xmpp_free(slot->ctx, slot);
}

static xmpp_upload_slot *slot_new(xmpp_ctx *ctx) {
    xmpp_upload_slot *slot = xmpp__malloc(ctx, sizeof(*slot));
    if (slot) {
        memset(slot, 0, sizeof(*slot));
        slot->ctx = ctx;
    }
    return slot;
}

static int dup_opt(xmpp_ctx *ctx, char **dst, const char *src) {
    *dst = NULL;
    if (src == NULL)
        return 1;
    return (*dst = xmpp__strdup(ctx, src)) != NULL;
}

xmpp_upload_slot *xmpp__upload_slot_copy(const xmpp_upload_slot *src) {
    xmpp_upload_slot *slot = slot_new(src->ctx);
    size_t i;
    if (slot == NULL)
        return NULL;
    slot->size = src->size;
    if (!dup_opt(src->ctx, &slot->put_url, src->put_url) ||
        !dup_opt(src->ctx, &slot->get_url, src->get_url) ||
        !dup_opt(src->ctx, &slot->content_type, src->content_type)) {
        xmpp_upload_slot_free(slot);
        return NULL;
    }
    for (i = 0; i < src->n_headers; i++) {
        slot->n_headers++;
        if (!dup_opt(src->ctx, &slot->hname[i], src->hname[i]) ||
            !dup_opt(src->ctx, &slot->hvalue[i], src->hvalue[i])) {
            xmpp_upload_slot_free(slot);
            return NULL;
        }
    }
    return slot;
}

/* XEP-0363 §4: only these headers may be passed on; others are ignored. */
static const char *const allowed_headers[] = {"Authorization", "Cookie", "Expires"};

static int add_header(xmpp_upload_slot *slot, const xmpp_stanza *h) {
    const char *name = xmpp_stanza_attr(h, "name");
    const char *canon = NULL;
    char *v = NULL, *w, *r;
    size_t i;
    if (name == NULL)
        return XMPP_OK;
    for (i = 0; i < sizeof(allowed_headers) / sizeof(allowed_headers[0]); i++)
        if (strcasecmp(name, allowed_headers[i]) == 0)
            canon = allowed_headers[i];
    if (canon == NULL || slot->n_headers == UPLOAD_MAX_HEADERS)
        return XMPP_OK; /* ignored */
    if (xmpp_stanza_text(h, &v, NULL) != XMPP_OK)
        return XMPP_ERR_NOMEM;
    /* newlines must be stripped (XEP-0363 §4): no header injection */
    for (r = w = v; *r; r++)
        if (*r != '\r' && *r != '\n')
            *w++ = *r;
    *w = '\0';
    if (strlen(v) > UPLOAD_MAX_HEADER) {
        xmpp_free(slot->ctx, v);
        return XMPP_ERR_BAD_REPLY;
    }
    slot->hvalue[slot->n_headers] = v;
    if ((slot->hname[slot->n_headers] = xmpp__strdup(slot->ctx, canon)) == NULL) {
        slot->hvalue[slot->n_headers] = NULL;
        xmpp_free(slot->ctx, v);
        return XMPP_ERR_NOMEM;
    }
    slot->n_headers++;
    return XMPP_OK;
}

struct slot_req {
    xmpp_upload_slot_fn cb;
    void *ud;
    unsigned flags;
    uint64_t size;
    char *content_type;
};

static int parse_slot(xmpp_ctx *ctx, const xmpp_stanza *reply, const struct slot_req *r,
                      xmpp_upload_slot **out) {
    const xmpp_stanza *sl = xmpp_stanza_child(reply, "slot", XMPP_NS_HTTP_UPLOAD);
    const xmpp_stanza *put = sl ? xmpp_stanza_child(sl, "put", XMPP_NS_HTTP_UPLOAD) : NULL;
    const xmpp_stanza *get = sl ? xmpp_stanza_child(sl, "get", XMPP_NS_HTTP_UPLOAD) : NULL;
    const xmpp_stanza *h;
    const char *pu = put ? xmpp_stanza_attr(put, "url") : NULL;
    const char *gu = get ? xmpp_stanza_attr(get, "url") : NULL;
    int allow = (r->flags & XMPP_UPLOAD_ALLOW_HTTP) != 0, rc;
    xmpp_upload_slot *slot;
    *out = NULL;
    if (!xmpp__upload_url_ok(pu, allow) || !xmpp__upload_url_ok(gu, allow)) {
        xmpp__log(ctx, XMPP_LOG_WARN, "upload", "slot refused: %s",
                  sl == NULL                 ? "no slot element"
                  : pu == NULL || gu == NULL ? "a URL is missing"
                                             : "a URL is not https, too long or malformed");
        return XMPP_ERR_BAD_REPLY;
    }
    if ((slot = slot_new(ctx)) == NULL)
        return XMPP_ERR_NOMEM;
    slot->size = r->size;
    if (!dup_opt(ctx, &slot->put_url, pu) || !dup_opt(ctx, &slot->get_url, gu) ||
        !dup_opt(ctx, &slot->content_type, r->content_type)) {
        xmpp_upload_slot_free(slot);
        return XMPP_ERR_NOMEM;
    }
    for (h = xmpp_stanza_child(put, "header", XMPP_NS_HTTP_UPLOAD); h;
         h = xmpp_stanza_next_match(h, "header", XMPP_NS_HTTP_UPLOAD)) {
        if ((rc = add_header(slot, h)) != XMPP_OK) {
            if (rc == XMPP_ERR_BAD_REPLY)
                xmpp__log(ctx, XMPP_LOG_WARN, "upload", "slot refused: a header is too long");
            xmpp_upload_slot_free(slot);
            return rc;
        }
    }
    *out = slot;
    return XMPP_OK;
}

static void slot_done(xmpp_session *s, xmpp_iq_status status, xmpp_stanza *reply, void *ud) {
    struct slot_req *r = ud;
    xmpp_ctx *ctx = xmpp_session_ctx(s);
    xmpp_upload_slot *slot = NULL;
    int err = XMPP_OK;
    if (status == XMPP_IQ_RESULT)
        err = parse_slot(ctx, reply, r, &slot);
    r->cb(s, status, err, slot, status == XMPP_IQ_ERROR ? reply : NULL, r->ud);
    xmpp_free(ctx, r->content_type);
    xmpp_free(ctx, r);
}

int xmpp_upload_request_slot(xmpp_session *s, const char *service, const char *filename,
                             uint64_t size, const char *content_type, unsigned flags,
                             unsigned timeout_ms, xmpp_upload_slot_fn cb, void *user_data) {
    xmpp_ctx *ctx = xmpp_session_ctx(s);
    xmpp_stanza *iq = NULL, *req = NULL;
    struct slot_req *r;
    char id[32], num[24];
    int rc;
    if (s == NULL || service == NULL || filename == NULL || cb == NULL || size == 0 ||
        *filename == '\0' || strlen(filename) > 255 || strpbrk(filename, "/\\") != NULL ||
        (flags & ~XMPP_UPLOAD_ALLOW_HTTP) != 0 ||
        (content_type != NULL && (*content_type == '\0' || strlen(content_type) > 255)))
        return XMPP_ERR_INVALID;
    if ((rc = xmpp_session_new_id(s, id, sizeof(id))) != XMPP_OK)
        return rc;
    snprintf(num, sizeof(num), "%llu", (unsigned long long)size);
    if ((rc = xmpp_iq_new(&iq, ctx, "get", service, id)) != XMPP_OK ||
        (rc = xmpp_stanza_add_child_new(iq, "request", XMPP_NS_HTTP_UPLOAD, &req)) != XMPP_OK ||
        (rc = xmpp_stanza_set_attr(req, "filename", filename)) != XMPP_OK ||
        (rc = xmpp_stanza_set_attr(req, "size", num)) != XMPP_OK ||
        (content_type &&
         (rc = xmpp_stanza_set_attr(req, "content-type", content_type)) != XMPP_OK)) {
        xmpp_stanza_unref(iq);
        return rc;
    }
    if ((r = xmpp__malloc(ctx, sizeof(*r))) == NULL) {
        xmpp_stanza_unref(iq);
        return XMPP_ERR_NOMEM;
    }
    r->cb = cb;
    r->ud = user_data;
    r->flags = flags;
    r->size = size;
    r->content_type = NULL;
    if (!dup_opt(ctx, &r->content_type, content_type)) {
        xmpp_free(ctx, r);
        xmpp_stanza_unref(iq);
        return XMPP_ERR_NOMEM;
    }
    rc = xmpp_session_send_iq(s, iq, timeout_ms, slot_done, r);
    if (rc != XMPP_OK) {
        xmpp_free(ctx, r->content_type);
        xmpp_free(ctx, r);
    }
    xmpp_stanza_unref(iq);
    return rc;
}

uint64_t xmpp_upload_error_max_size(const xmpp_stanza *error) {
    const xmpp_stanza *e = error ? xmpp_stanza_child(error, "error", NULL) : NULL;
    const xmpp_stanza *big = e ? xmpp_stanza_child(e, "file-too-large", XMPP_NS_HTTP_UPLOAD) : NULL;
    return big ? text_size(xmpp_stanza_child(big, "max-file-size", XMPP_NS_HTTP_UPLOAD)) : 0;
}

const char *xmpp_upload_slot_put_url(const xmpp_upload_slot *slot) {
    return slot ? slot->put_url : NULL;
}

const char *xmpp_upload_slot_get_url(const xmpp_upload_slot *slot) {
    return slot ? slot->get_url : NULL;
}

size_t xmpp_upload_slot_header_count(const xmpp_upload_slot *slot) {
    return slot ? slot->n_headers : 0;
}

int xmpp_upload_slot_header_at(const xmpp_upload_slot *slot, size_t i, const char **name,
                               const char **value) {
    if (slot == NULL || i >= slot->n_headers)
        return XMPP_ERR_NOT_FOUND;
    if (name)
        *name = slot->hname[i];
    if (value)
        *value = slot->hvalue[i];
    return XMPP_OK;
}

uint64_t xmpp_upload_slot_size(const xmpp_upload_slot *slot) {
    return slot ? slot->size : 0;
}

/* ---- XEP-0066 Out of Band Data on messages */
int xmpp_oob_add(xmpp_stanza *message, const char *url, const char *desc) {
    xmpp_stanza *x = NULL, *u = NULL, *d = NULL;
    int rc;
    if (message == NULL || url == NULL || *url == '\0')
        return XMPP_ERR_INVALID;
    if ((rc = xmpp_stanza_add_child_new(message, "x", XMPP_NS_OOB, &x)) != XMPP_OK)
        return rc;
    if ((rc = xmpp_stanza_add_child_new(x, "url", NULL, &u)) != XMPP_OK ||
        (rc = xmpp_stanza_set_text(u, url, strlen(url))) != XMPP_OK ||
        (desc && ((rc = xmpp_stanza_add_child_new(x, "desc", NULL, &d)) != XMPP_OK ||
                  (rc = xmpp_stanza_set_text(d, desc, strlen(desc))) != XMPP_OK))) {
        (void)xmpp_stanza_remove_child(message, x);
        return rc;
    }
    return XMPP_OK;
}

int xmpp_oob_get(const xmpp_stanza *message, char **url, char **desc) {
    const xmpp_stanza *x, *u, *d;
    xmpp_ctx *ctx = xmpp_stanza_ctx(message);
    size_t n = 0;
    int rc;
    if (message == NULL || url == NULL)
        return XMPP_ERR_INVALID;
    *url = NULL;
    if (desc)
        *desc = NULL;
    x = xmpp_stanza_child(message, "x", XMPP_NS_OOB);
    u = x ? xmpp_stanza_child(x, "url", XMPP_NS_OOB) : NULL;
    if (u == NULL)
        return XMPP_ERR_NOT_FOUND;
    if ((rc = xmpp_stanza_text(u, url, &n)) != XMPP_OK)
        return rc;
    if (n == 0 || n > UPLOAD_MAX_URL) {
        xmpp_free(ctx, *url);
        *url = NULL;
        return n == 0 ? XMPP_ERR_NOT_FOUND : XMPP_ERR_LIMIT;
    }
    d = xmpp_stanza_child(x, "desc", XMPP_NS_OOB);
    if (desc && d && (rc = xmpp_stanza_text(d, desc, NULL)) != XMPP_OK) {
        xmpp_free(ctx, *url);
        *url = NULL;
        return rc;
    }
    return XMPP_OK;
}
