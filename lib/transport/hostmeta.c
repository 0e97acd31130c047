/* XEP-0156 host-meta parsing (see hostmeta.h).
 *
 * XRD goes through libxml2 as a small DOM (the document is at most 64 KiB)
 * with the network off and no entity substitution; a DOCTYPE is refused
 * on the raw bytes first, so no entity declaration is ever parsed. The
 * JSON side is a strict recursive-descent parser that validates the whole
 * document and picks root.links[*].rel / .href on the way. */
#include "transport/hostmeta.h"
#include "transport/ws.h"

#include <string.h>
#include <strings.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#define NS_XRD "http://docs.oasis-open.org/ns/xri/xrd-1.0"
#define STR_MAX 2048

void xmpp__hostmeta_clear(const xmpp_ctx *ctx, xmpp__hostmeta *hm) {
    if (hm == NULL)
        return;
    xmpp__free(ctx, hm->websocket);
    xmpp__free(ctx, hm->bosh);
    hm->websocket = hm->bosh = NULL;
}

static int bosh_url_ok(const char *href, int allow_plain) {
    const char *p;
    if (strncasecmp(href, "https://", 8) == 0)
        p = href + 8;
    else if (allow_plain && strncasecmp(href, "http://", 7) == 0)
        p = href + 7;
    else
        return 0;
    if (*p == '\0' || *p == '/')
        return 0;
    for (; *p; p++)
        if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f || *p == '#' || *p == '@')
            return 0;
    return 1;
}

/* Takes the link if it is the first usable one of its rel. */
static int take_link(const xmpp_ctx *ctx, xmpp__hostmeta *out, const char *rel, const char *href,
                     int allow_plain) {
    char **slot = NULL;
    if (rel == NULL || href == NULL)
        return XMPP_OK;
    if (strcmp(rel, XMPP_NS_ALT_WEBSOCKET) == 0 && out->websocket == NULL) {
        xmpp__ws_url u;
        if (xmpp__ws_url_parse(href, &u) == XMPP_OK && (u.secure || allow_plain))
            slot = &out->websocket;
    } else if (strcmp(rel, XMPP_NS_ALT_XBOSH) == 0 && out->bosh == NULL) {
        if (bosh_url_ok(href, allow_plain))
            slot = &out->bosh;
    }
    if (slot == NULL)
        return XMPP_OK;
    if ((*slot = xmpp__strdup(ctx, href)) == NULL)
        return XMPP_ERR_NOMEM;
    return XMPP_OK;
}

static int check_args(const xmpp_ctx *ctx, const char *data, size_t len, xmpp__hostmeta *out) {
    if (out == NULL)
        return XMPP_ERR_INVALID;
    memset(out, 0, sizeof(*out));
    if (ctx == NULL || (data == NULL && len > 0))
        return XMPP_ERR_INVALID;
    if (len > XMPP_HOSTMETA_MAX)
        return XMPP_ERR_LIMIT;
    return XMPP_OK;
}

/* ---- XRD */

static int has_doctype(const char *data, size_t len) {
    size_t i;
    for (i = 0; i + 2 <= len; i++)
        if (data[i] == '<' && data[i + 1] == '!' &&
            !(i + 4 <= len && data[i + 2] == '-' && data[i + 3] == '-'))
            return 1; /* <!DOCTYPE, <!ENTITY, <![CDATA[ outside text: refused */
    return 0;
}

int xmpp__hostmeta_parse_xrd(const xmpp_ctx *ctx, const char *data, size_t len, int allow_plain,
                             xmpp__hostmeta *out) {
    xmlParserCtxtPtr pc;
    xmlDocPtr doc;
    xmlNodePtr root, n;
    int rc = check_args(ctx, data, len, out);
    if (rc != XMPP_OK)
        return rc;
    if (len == 0 || has_doctype(data, len))
        return XMPP_ERR_INVALID;
    if ((pc = xmlNewParserCtxt()) == NULL)
        return XMPP_ERR_NOMEM;
    doc = xmlCtxtReadMemory(pc, data, (int)len, NULL, NULL,
                            XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
                                XML_PARSE_NOCDATA);
    xmlFreeParserCtxt(pc);
    if (doc == NULL)
        return XMPP_ERR_INVALID;
    root = xmlDocGetRootElement(doc);
    if (doc->intSubset != NULL || root == NULL || root->ns == NULL ||
        strcmp((const char *)root->name, "XRD") != 0 ||
        strcmp((const char *)root->ns->href, NS_XRD) != 0) {
        xmlFreeDoc(doc);
        return XMPP_ERR_INVALID;
    }
    for (n = root->children; n != NULL && rc == XMPP_OK; n = n->next) {
        xmlChar *rel, *href;
        if (n->type != XML_ELEMENT_NODE || n->ns == NULL ||
            strcmp((const char *)n->name, "Link") != 0 ||
            strcmp((const char *)n->ns->href, NS_XRD) != 0)
            continue;
        rel = xmlGetNoNsProp(n, (const xmlChar *)"rel");
        href = xmlGetNoNsProp(n, (const xmlChar *)"href");
        rc = take_link(ctx, out, (const char *)rel, (const char *)href, allow_plain);
        xmlFree(rel);
        xmlFree(href);
    }
    xmlFreeDoc(doc);
    if (rc != XMPP_OK)
        xmpp__hostmeta_clear(ctx, out);
    return rc;
}

/* ---- JSON (RFC 8259) */

typedef struct jp {
    const xmpp_ctx *ctx;
    const unsigned char *p, *end;
    int allow_plain;
    xmpp__hostmeta *out;
    int err;
} jp;

enum { CTX_OTHER, CTX_ROOT, CTX_LINKS, CTX_LINK };

static void ws(jp *j) {
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
        j->p++;
}

static int bad(jp *j, int code) {
    if (j->err == XMPP_OK)
        j->err = code;
    return code;
}

static int hex4(jp *j, unsigned *v) {
    int i;
    *v = 0;
    if (j->end - j->p < 4)
        return bad(j, XMPP_ERR_INVALID);
    for (i = 0; i < 4; i++) {
        unsigned c = j->p[i];
        *v <<= 4;
        if (c >= '0' && c <= '9')
            *v |= c - '0';
        else if (c >= 'a' && c <= 'f')
            *v |= c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            *v |= c - 'A' + 10;
        else
            return bad(j, XMPP_ERR_INVALID);
    }
    j->p += 4;
    return XMPP_OK;
}

static size_t put_utf8(char *b, unsigned cp) {
    if (cp < 0x80) {
        b[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        b[0] = (char)(0xc0 | (cp >> 6));
        b[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        b[0] = (char)(0xe0 | (cp >> 12));
        b[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        b[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    b[0] = (char)(0xf0 | (cp >> 18));
    b[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    b[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    b[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* The length of the UTF-8 sequence at p (1..4), 0 if invalid. */
static size_t utf8_len(const unsigned char *p, const unsigned char *end) {
    unsigned c = p[0], cp, i, n;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        n = 2, cp = c & 0x1f;
    else if (c >= 0xe0 && c <= 0xef)
        n = 3, cp = c & 0x0f;
    else if (c >= 0xf0 && c <= 0xf4)
        n = 4, cp = c & 0x07;
    else
        return 0;
    if ((size_t)(end - p) < n)
        return 0;
    for (i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3f);
    }
    if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
        (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
        return 0;
    return n;
}

/* A string at j->p (the opening quote), at most STR_MAX bytes decoded;
 * into buf (cap bytes, NUL-terminated) when buf is not NULL: a longer
 * string there gives "" (keys we look for are short). */
static int string(jp *j, char *buf, size_t cap) {
    size_t n = 0;
    int fits = 1;
    if (j->p >= j->end || *j->p != '"')
        return bad(j, XMPP_ERR_INVALID);
    j->p++;
    for (;;) {
        char tmp[4];
        size_t k;
        if (j->p >= j->end || *j->p < 0x20)
            return bad(j, XMPP_ERR_INVALID);
        if (*j->p == '"') {
            j->p++;
            break;
        }
        if (*j->p == '\\') {
            unsigned cp;
            if (++j->p >= j->end)
                return bad(j, XMPP_ERR_INVALID);
            switch (*j->p++) {
            case '"': tmp[0] = '"'; k = 1; break;
            case '\\': tmp[0] = '\\'; k = 1; break;
            case '/': tmp[0] = '/'; k = 1; break;
            case 'b': tmp[0] = '\b'; k = 1; break;
            case 'f': tmp[0] = '\f'; k = 1; break;
            case 'n': tmp[0] = '\n'; k = 1; break;
            case 'r': tmp[0] = '\r'; k = 1; break;
            case 't': tmp[0] = '\t'; k = 1; break;
            case 'u':
                if (hex4(j, &cp) != XMPP_OK)
                    return j->err;
                if (cp >= 0xdc00 && cp <= 0xdfff)
                    return bad(j, XMPP_ERR_INVALID); /* a lone low surrogate */
                if (cp >= 0xd800 && cp <= 0xdbff) {
                    unsigned lo;
                    if (j->end - j->p < 2 || j->p[0] != '\\' || j->p[1] != 'u')
                        return bad(j, XMPP_ERR_INVALID);
                    j->p += 2;
                    if (hex4(j, &lo) != XMPP_OK)
                        return j->err;
                    if (lo < 0xdc00 || lo > 0xdfff)
                        return bad(j, XMPP_ERR_INVALID);
                    cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                }
                k = put_utf8(tmp, cp);
                break;
            default:
                return bad(j, XMPP_ERR_INVALID);
            }
        } else {
            if ((k = utf8_len(j->p, j->end)) == 0)
                return bad(j, XMPP_ERR_INVALID);
            memcpy(tmp, j->p, k);
            j->p += k;
        }
        if (n + k > STR_MAX)
            return bad(j, XMPP_ERR_LIMIT);
        if (buf != NULL && n + k < cap)
            memcpy(buf + n, tmp, k);
        else
            fits = 0;
        n += k;
    }
    if (buf != NULL)
        buf[fits ? n : 0] = '\0';
    return XMPP_OK;
}

static int literal(jp *j, const char *word) {
    size_t n = strlen(word);
    if ((size_t)(j->end - j->p) < n || memcmp(j->p, word, n) != 0)
        return bad(j, XMPP_ERR_INVALID);
    j->p += n;
    return XMPP_OK;
}

static int number(jp *j) {
    const unsigned char *s = j->p;
    if (j->p < j->end && *j->p == '-')
        j->p++;
    if (j->p < j->end && *j->p == '0') {
        j->p++;
    } else if (j->p < j->end && *j->p >= '1' && *j->p <= '9') {
        while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
            j->p++;
    } else {
        return bad(j, XMPP_ERR_INVALID);
    }
    if (j->p < j->end && *j->p == '.') {
        j->p++;
        if (j->p >= j->end || *j->p < '0' || *j->p > '9')
            return bad(j, XMPP_ERR_INVALID);
        while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
            j->p++;
    }
    if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
        j->p++;
        if (j->p < j->end && (*j->p == '+' || *j->p == '-'))
            j->p++;
        if (j->p >= j->end || *j->p < '0' || *j->p > '9')
            return bad(j, XMPP_ERR_INVALID);
        while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
            j->p++;
    }
    (void)s;
    return XMPP_OK;
}

static int value(jp *j, int depth, int ctx);

/* An object; in CTX_LINK, rel and href (strings) are collected. */
static int object(jp *j, int depth, int ctx) {
    char key[8];
    char *rel = NULL, *href = NULL;
    int rc = XMPP_OK;
    j->p++; /* { */
    ws(j);
    if (j->p < j->end && *j->p == '}') {
        j->p++;
        return XMPP_OK;
    }
    for (;;) {
        int child = CTX_OTHER;
        ws(j);
        if (string(j, key, sizeof(key)) != XMPP_OK)
            break;
        ws(j);
        if (j->p >= j->end || *j->p != ':') {
            bad(j, XMPP_ERR_INVALID);
            break;
        }
        j->p++;
        ws(j);
        if (ctx == CTX_ROOT && strcmp(key, "links") == 0)
            child = CTX_LINKS;
        if (ctx == CTX_LINK && (strcmp(key, "rel") == 0 || strcmp(key, "href") == 0) &&
            j->p < j->end && *j->p == '"') {
            char **dst = key[0] == 'r' ? &rel : &href;
            char *buf = xmpp__malloc(j->ctx, STR_MAX + 1);
            if (buf == NULL) {
                bad(j, XMPP_ERR_NOMEM);
                break;
            }
            if (string(j, buf, STR_MAX + 1) != XMPP_OK) {
                xmpp__free(j->ctx, buf);
                break;
            }
            if (*dst == NULL)
                *dst = buf; /* the first of duplicate keys */
            else
                xmpp__free(j->ctx, buf);
        } else if (value(j, depth + 1, child) != XMPP_OK) {
            break;
        }
        ws(j);
        if (j->p < j->end && *j->p == ',') {
            j->p++;
            continue;
        }
        if (j->p < j->end && *j->p == '}') {
            j->p++;
            if (ctx == CTX_LINK)
                rc = take_link(j->ctx, j->out, rel, href, j->allow_plain);
            if (rc != XMPP_OK)
                bad(j, rc);
            break;
        }
        bad(j, XMPP_ERR_INVALID);
        break;
    }
    xmpp__free(j->ctx, rel);
    xmpp__free(j->ctx, href);
    return j->err;
}

static int array(jp *j, int depth, int ctx) {
    j->p++; /* [ */
    ws(j);
    if (j->p < j->end && *j->p == ']') {
        j->p++;
        return XMPP_OK;
    }
    for (;;) {
        ws(j);
        if (value(j, depth + 1, ctx == CTX_LINKS ? CTX_LINK : CTX_OTHER) != XMPP_OK)
            return j->err;
        ws(j);
        if (j->p < j->end && *j->p == ',') {
            j->p++;
            continue;
        }
        if (j->p < j->end && *j->p == ']') {
            j->p++;
            return XMPP_OK;
        }
        return bad(j, XMPP_ERR_INVALID);
    }
}

static int value(jp *j, int depth, int ctx) {
    if (depth > XMPP_HOSTMETA_DEPTH)
        return bad(j, XMPP_ERR_LIMIT);
    ws(j);
    if (j->p >= j->end)
        return bad(j, XMPP_ERR_INVALID);
    switch (*j->p) {
    case '{': return object(j, depth, ctx == CTX_LINKS ? CTX_OTHER : ctx);
    case '[': return array(j, depth, ctx);
    case '"': return string(j, NULL, 0);
    case 't': return literal(j, "true");
    case 'f': return literal(j, "false");
    case 'n': return literal(j, "null");
    default: return number(j);
    }
}

int xmpp__hostmeta_parse_json(const xmpp_ctx *ctx, const char *data, size_t len,
                              int allow_plain, xmpp__hostmeta *out) {
    jp j;
    int rc = check_args(ctx, data, len, out);
    if (rc != XMPP_OK)
        return rc;
    memset(&j, 0, sizeof(j));
    j.ctx = ctx;
    j.p = (const unsigned char *)data;
    j.end = j.p + len;
    j.allow_plain = allow_plain;
    j.out = out;
    /* a UTF-8 byte order mark is not JSON (RFC 8259 §8.1): refused */
    ws(&j);
    if (j.p >= j.end || *j.p != '{')
        rc = XMPP_ERR_INVALID;
    else if (object(&j, 1, CTX_ROOT) != XMPP_OK)
        rc = j.err;
    else {
        ws(&j);
        if (j.p != j.end)
            rc = XMPP_ERR_INVALID;
    }
    if (rc != XMPP_OK)
        xmpp__hostmeta_clear(ctx, out);
    return rc;
}
