/* XEP-0156 host-meta parsing (see hostmeta.h). */
#include "transport/hostmeta.h"
#include "xml/parser.h"

#include <string.h>

#define XRD_NS "http://docs.oasis-open.org/ns/xri/xrd-1.0"
#define JSON_MAX_DEPTH 32

void xmpp__hostmeta_clear(xmpp_ctx *ctx, xmpp__hostmeta *hm) {
    size_t i;
    if (hm == NULL)
        return;
    for (i = 0; i < hm->n_websocket; i++)
        xmpp_free(ctx, hm->websocket[i]);
    for (i = 0; i < hm->n_bosh; i++)
        xmpp_free(ctx, hm->bosh[i]);
    memset(hm, 0, sizeof(*hm));
}

static int has_prefix(const char *s, size_t n, const char *p) {
    size_t l = strlen(p);
    size_t i;
    if (n < l)
        return 0;
    for (i = 0; i < l; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c != p[i])
            return 0;
    }
    return 1;
}

/* Keeps an XMPP link if it is one and acceptable. */
static int add_link(xmpp_ctx *ctx, xmpp__hostmeta *hm, const char *rel, size_t rel_len,
                    const char *href, size_t href_len, int allow_plain) {
    int ws;
    size_t i;
    char **slot;
    size_t *n;
    if (rel == NULL || href == NULL)
        return XMPP_OK;
    if (rel_len == strlen(XMPP_REL_WEBSOCKET) && memcmp(rel, XMPP_REL_WEBSOCKET, rel_len) == 0)
        ws = 1;
    else if (rel_len == strlen(XMPP_REL_BOSH) && memcmp(rel, XMPP_REL_BOSH, rel_len) == 0)
        ws = 0;
    else
        return XMPP_OK; /* not ours */
    slot = ws ? hm->websocket : hm->bosh;
    n = ws ? &hm->n_websocket : &hm->n_bosh;
    /* the scheme (XEP-0156 §3: secure endpoints only), a host after it,
     * printable ASCII without spaces (a URL, not text) */
    if (href_len == 0 || href_len > XMPP_HOSTMETA_MAX_URL || *n == XMPP_HOSTMETA_MAX_LINKS)
        goto skip;
    for (i = 0; i < href_len; i++)
        if ((unsigned char)href[i] <= 0x20 || (unsigned char)href[i] >= 0x7f)
            goto skip;
    if (ws ? !(has_prefix(href, href_len, "wss://") ||
               (allow_plain && has_prefix(href, href_len, "ws://")))
           : !(has_prefix(href, href_len, "https://") ||
               (allow_plain && has_prefix(href, href_len, "http://"))))
        goto skip;
    {
        const char *host = memchr(href, '/', href_len);
        size_t rest = href_len - (size_t)(host - href);
        if (rest < 3 || host[1] != '/' || rest == 2 || host[2] == '/' || host[2] == '\0')
            goto skip;
    }
    if ((slot[*n] = xmpp__malloc(ctx, href_len + 1)) == NULL)
        return XMPP_ERR_NOMEM;
    memcpy(slot[*n], href, href_len);
    slot[*n][href_len] = '\0';
    (*n)++;
    return XMPP_OK;
skip:
    hm->skipped++;
    return XMPP_OK;
}

/* ---- XRD */

struct xrd {
    xmpp_ctx *ctx;
    xmpp__hostmeta *hm;
    int allow_plain, rc, ended, started;
};

static void xrd_root(xmpp_stanza *hdr, const char *default_ns, void *ud) {
    (void)hdr;
    (void)default_ns;
    ((struct xrd *)ud)->started = 1;
}

static void xrd_child(xmpp_stanza *st, void *ud) {
    struct xrd *x = ud;
    const char *rel, *href;
    if (x->rc != XMPP_OK || strcmp(xmpp_stanza_name(st), "Link") != 0 ||
        xmpp_stanza_ns(st) == NULL || strcmp(xmpp_stanza_ns(st), XRD_NS) != 0)
        return;
    rel = xmpp_stanza_attr(st, "rel");
    href = xmpp_stanza_attr(st, "href");
    if (rel && href)
        x->rc = add_link(x->ctx, x->hm, rel, strlen(rel), href, strlen(href), x->allow_plain);
}

static void xrd_end(void *ud) {
    ((struct xrd *)ud)->ended = 1;
}

int xmpp__hostmeta_parse_xrd(xmpp_ctx *ctx, const char *data, size_t len, int allow_plain,
                             xmpp__hostmeta *out) {
    static const xmpp_xml_callbacks cbs = {xrd_root, xrd_child, xrd_end};
    xmpp_xml_parser *p = NULL;
    struct xrd x;
    xmpp_xml_limits lim;
    int rc;
    if (out)
        memset(out, 0, sizeof(*out));
    if (ctx == NULL || out == NULL || (data == NULL && len > 0))
        return XMPP_ERR_INVALID;
    if (len > XMPP_HOSTMETA_MAX_BYTES)
        return XMPP_ERR_INVALID;
    memset(&x, 0, sizeof(x));
    x.ctx = ctx;
    x.hm = out;
    x.allow_plain = allow_plain;
    x.rc = XMPP_OK;
    if ((rc = xmpp_xml_parser_new(&p, ctx, &cbs, &x)) != XMPP_OK)
        return rc;
    xmpp_xml_parser_set_root(p, "XRD", XRD_NS);
    memset(&lim, 0, sizeof(lim));
    lim.max_stanza_bytes = XMPP_HOSTMETA_MAX_BYTES;
    lim.max_depth = 8;
    xmpp_xml_parser_set_limits(p, &lim);
    rc = xmpp_xml_parser_feed(p, data ? data : "", len);
    if (rc == XMPP_ERR_NOMEM || x.rc == XMPP_ERR_NOMEM)
        rc = XMPP_ERR_NOMEM;
    else if ((rc != XMPP_OK && rc != XMPP_ERR_CLOSED) || !x.started || !x.ended)
        rc = XMPP_ERR_INVALID;
    else
        rc = XMPP_OK;
    xmpp_xml_parser_free(p);
    return rc;
}

/* ---- JSON (RFC 8259), just enough to walk the whole document strictly
 * and pick {"links": [{"rel": ..., "href": ...}, ...]} at the top level. */

struct js {
    const char *s;
    size_t n, i;
    xmpp_ctx *ctx;
    xmpp_buf str; /* the last decoded string */
};

static void ws_skip(struct js *j) {
    while (j->i < j->n &&
           (j->s[j->i] == ' ' || j->s[j->i] == '\t' || j->s[j->i] == '\n' || j->s[j->i] == '\r'))
        j->i++;
}

static int hex4(struct js *j, unsigned *out) {
    unsigned v = 0;
    int k;
    if (j->n - j->i < 4)
        return -1;
    for (k = 0; k < 4; k++) {
        char c = j->s[j->i++];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
        else
            return -1;
    }
    *out = v;
    return 0;
}

static int put_utf8(xmpp_buf *b, unsigned cp) {
    char u[4];
    size_t n;
    if (cp < 0x80) {
        u[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xc0 | (cp >> 6));
        u[1] = (char)(0x80 | (cp & 0x3f));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xe0 | (cp >> 12));
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        u[2] = (char)(0x80 | (cp & 0x3f));
        n = 3;
    } else {
        u[0] = (char)(0xf0 | (cp >> 18));
        u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
        u[3] = (char)(0x80 | (cp & 0x3f));
        n = 4;
    }
    return xmpp__buf_append(b, u, n);
}

/* A string at j->i (the opening quote); decoded into j->str. */
static int js_string(struct js *j) {
    size_t start;
    j->str.len = 0;
    if (j->i >= j->n || j->s[j->i] != '"')
        return XMPP_ERR_INVALID;
    j->i++;
    start = j->i;
    while (j->i < j->n) {
        unsigned char c = (unsigned char)j->s[j->i];
        if (c == '"') {
            j->i++;
            /* NUL-terminate for the caller */
            if (xmpp__buf_append_char(&j->str, '\0') != XMPP_OK)
                return XMPP_ERR_NOMEM;
            j->str.len--;
            return XMPP_OK; /* the input was checked as a whole; escapes make valid UTF-8 */
        }
        if (c < 0x20)
            return XMPP_ERR_INVALID;
        if (c == '\\') {
            unsigned cp, lo;
            char e;
            j->i++;
            if (j->i >= j->n)
                return XMPP_ERR_INVALID;
            e = j->s[j->i++];
            switch (e) {
            case '"': cp = '"'; break;
            case '\\': cp = '\\'; break;
            case '/': cp = '/'; break;
            case 'b': cp = '\b'; break;
            case 'f': cp = '\f'; break;
            case 'n': cp = '\n'; break;
            case 'r': cp = '\r'; break;
            case 't': cp = '\t'; break;
            case 'u':
                if (hex4(j, &cp) != 0)
                    return XMPP_ERR_INVALID;
                if (cp >= 0xdc00 && cp <= 0xdfff)
                    return XMPP_ERR_INVALID; /* a lone low surrogate */
                if (cp >= 0xd800 && cp <= 0xdbff) {
                    if (j->n - j->i < 6 || j->s[j->i] != '\\' || j->s[j->i + 1] != 'u')
                        return XMPP_ERR_INVALID;
                    j->i += 2;
                    if (hex4(j, &lo) != 0 || lo < 0xdc00 || lo > 0xdfff)
                        return XMPP_ERR_INVALID;
                    cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                }
                if (cp == 0)
                    return XMPP_ERR_INVALID; /* no NUL inside our strings */
                break;
            default:
                return XMPP_ERR_INVALID;
            }
            if (put_utf8(&j->str, cp) != XMPP_OK)
                return XMPP_ERR_NOMEM;
            continue;
        }
        if (xmpp__buf_append_char(&j->str, (char)c) != XMPP_OK)
            return XMPP_ERR_NOMEM;
        j->i++;
    }
    (void)start;
    return XMPP_ERR_INVALID;
}

static int js_value(struct js *j, int depth);

static int js_number(struct js *j) {
    size_t d;
    if (j->i < j->n && j->s[j->i] == '-')
        j->i++;
    if (j->i >= j->n)
        return XMPP_ERR_INVALID;
    if (j->s[j->i] == '0') {
        j->i++;
    } else if (j->s[j->i] >= '1' && j->s[j->i] <= '9') {
        while (j->i < j->n && j->s[j->i] >= '0' && j->s[j->i] <= '9')
            j->i++;
    } else {
        return XMPP_ERR_INVALID;
    }
    if (j->i < j->n && j->s[j->i] == '.') {
        j->i++;
        for (d = 0; j->i < j->n && j->s[j->i] >= '0' && j->s[j->i] <= '9'; d++)
            j->i++;
        if (d == 0)
            return XMPP_ERR_INVALID;
    }
    if (j->i < j->n && (j->s[j->i] == 'e' || j->s[j->i] == 'E')) {
        j->i++;
        if (j->i < j->n && (j->s[j->i] == '+' || j->s[j->i] == '-'))
            j->i++;
        for (d = 0; j->i < j->n && j->s[j->i] >= '0' && j->s[j->i] <= '9'; d++)
            j->i++;
        if (d == 0)
            return XMPP_ERR_INVALID;
    }
    return XMPP_OK;
}

static int js_word(struct js *j, const char *w) {
    size_t l = strlen(w);
    if (j->n - j->i < l || memcmp(j->s + j->i, w, l) != 0)
        return XMPP_ERR_INVALID;
    j->i += l;
    return XMPP_OK;
}

/* Walks a container; for each member (objects) or element (arrays) calls
 * js_value, or the hook for the links array. */
static int js_value(struct js *j, int depth) {
    int rc;
    ws_skip(j);
    if (j->i >= j->n)
        return XMPP_ERR_INVALID;
    switch (j->s[j->i]) {
    case '"':
        return js_string(j);
    case 't':
        return js_word(j, "true");
    case 'f':
        return js_word(j, "false");
    case 'n':
        return js_word(j, "null");
    case '{':
    case '[': {
        int obj = j->s[j->i] == '{';
        char close = obj ? '}' : ']';
        if (depth >= JSON_MAX_DEPTH)
            return XMPP_ERR_INVALID;
        j->i++;
        ws_skip(j);
        if (j->i < j->n && j->s[j->i] == close) {
            j->i++;
            return XMPP_OK;
        }
        for (;;) {
            if (obj) {
                ws_skip(j);
                if ((rc = js_string(j)) != XMPP_OK)
                    return rc;
                ws_skip(j);
                if (j->i >= j->n || j->s[j->i] != ':')
                    return XMPP_ERR_INVALID;
                j->i++;
            }
            if ((rc = js_value(j, depth + 1)) != XMPP_OK)
                return rc;
            ws_skip(j);
            if (j->i >= j->n)
                return XMPP_ERR_INVALID;
            if (j->s[j->i] == ',') {
                j->i++;
                continue;
            }
            if (j->s[j->i] == close) {
                j->i++;
                return XMPP_OK;
            }
            return XMPP_ERR_INVALID;
        }
    }
    default:
        return js_number(j);
    }
}

/* One element of "links": an object whose "rel" and "href" are strings. */
static int js_link(struct js *j, xmpp__hostmeta *hm, int allow_plain) {
    char *rel = NULL, *href = NULL;
    int rc = XMPP_OK;
    size_t save;
    ws_skip(j);
    if (j->i >= j->n || j->s[j->i] != '{')
        return js_value(j, 2); /* not an object: walked, ignored */
    j->i++;
    ws_skip(j);
    if (j->i < j->n && j->s[j->i] == '}') {
        j->i++;
        return XMPP_OK;
    }
    for (;;) {
        int which = 0;
        ws_skip(j);
        if ((rc = js_string(j)) != XMPP_OK)
            break;
        if (strcmp(j->str.data, "rel") == 0)
            which = 1;
        else if (strcmp(j->str.data, "href") == 0)
            which = 2;
        ws_skip(j);
        if (j->i >= j->n || j->s[j->i] != ':') {
            rc = XMPP_ERR_INVALID;
            break;
        }
        j->i++;
        ws_skip(j);
        save = j->i;
        if ((rc = js_value(j, 3)) != XMPP_OK)
            break;
        if (which && j->s[save] == '"') {
            char **dst = which == 1 ? &rel : &href;
            xmpp_free(j->ctx, *dst); /* the last one counts */
            if ((*dst = xmpp__strdup(j->ctx, j->str.data)) == NULL) {
                rc = XMPP_ERR_NOMEM;
                break;
            }
        }
        ws_skip(j);
        if (j->i < j->n && j->s[j->i] == ',') {
            j->i++;
            continue;
        }
        if (j->i < j->n && j->s[j->i] == '}') {
            j->i++;
            break;
        }
        rc = XMPP_ERR_INVALID;
        break;
    }
    if (rc == XMPP_OK && rel && href)
        rc = add_link(j->ctx, hm, rel, strlen(rel), href, strlen(href), allow_plain);
    xmpp_free(j->ctx, rel);
    xmpp_free(j->ctx, href);
    return rc;
}

int xmpp__hostmeta_parse_json(xmpp_ctx *ctx, const char *data, size_t len, int allow_plain,
                              xmpp__hostmeta *out) {
    struct js j;
    int rc = XMPP_OK;
    if (out)
        memset(out, 0, sizeof(*out));
    if (ctx == NULL || out == NULL || (data == NULL && len > 0) || len > XMPP_HOSTMETA_MAX_BYTES)
        return XMPP_ERR_INVALID;
    /* UTF-8, and no control characters (JSON allows them only escaped) */
    if (len > 0 && !xmpp__xml_text_ok(data, len))
        return XMPP_ERR_INVALID;
    memset(&j, 0, sizeof(j));
    j.s = data ? data : "";
    j.n = len;
    j.ctx = ctx;
    xmpp__buf_init(&j.str, ctx);
    ws_skip(&j);
    if (j.i >= j.n || j.s[j.i] != '{') {
        rc = XMPP_ERR_INVALID;
        goto done;
    }
    j.i++;
    ws_skip(&j);
    if (j.i < j.n && j.s[j.i] == '}') {
        j.i++;
        goto tail;
    }
    for (;;) {
        int links;
        ws_skip(&j);
        if ((rc = js_string(&j)) != XMPP_OK)
            goto done;
        links = strcmp(j.str.data, "links") == 0;
        ws_skip(&j);
        if (j.i >= j.n || j.s[j.i] != ':') {
            rc = XMPP_ERR_INVALID;
            goto done;
        }
        j.i++;
        ws_skip(&j);
        if (links && j.i < j.n && j.s[j.i] == '[') {
            j.i++;
            ws_skip(&j);
            if (j.i < j.n && j.s[j.i] == ']') {
                j.i++;
            } else {
                for (;;) {
                    if ((rc = js_link(&j, out, allow_plain)) != XMPP_OK)
                        goto done;
                    ws_skip(&j);
                    if (j.i < j.n && j.s[j.i] == ',') {
                        j.i++;
                        continue;
                    }
                    if (j.i < j.n && j.s[j.i] == ']') {
                        j.i++;
                        break;
                    }
                    rc = XMPP_ERR_INVALID;
                    goto done;
                }
            }
        } else if ((rc = js_value(&j, 1)) != XMPP_OK) {
            goto done;
        }
        ws_skip(&j);
        if (j.i < j.n && j.s[j.i] == ',') {
            j.i++;
            continue;
        }
        if (j.i < j.n && j.s[j.i] == '}') {
            j.i++;
            break;
        }
        rc = XMPP_ERR_INVALID;
        goto done;
    }
tail:
    ws_skip(&j);
    if (j.i != j.n)
        rc = XMPP_ERR_INVALID;
done:
    xmpp__buf_free(&j.str);
    return rc;
}
