/* HTTP/1.1 response parser and request writer (see http.h).
 *
 * The parser is a byte-level state machine. Lines are collected into a
 * fixed buffer inside the object (so a line limit costs no allocation and
 * a hostile peer cannot make one grow); a line is handled when its CRLF
 * has arrived, so the outcome cannot depend on where the input was split.
 * Body bytes are copied in runs. Header fields are kept in one xmpp_buf as
 * NUL-terminated name/value pairs with offsets in a fixed table. */
#include "transport/http.h"

#include <stdio.h>
#include <string.h>

enum state {
    S_STATUS,
    S_HEADERS,
    S_BODY_LEN,
    S_CHUNK_SIZE,
    S_CHUNK_DATA,
    S_CHUNK_CR,
    S_CHUNK_LF,
    S_TRAILERS,
    S_BODY_EOF,
    S_DONE,
    S_ERROR
};

typedef struct field {
    size_t name, value; /* offsets into fields buffer */
} field;

struct xmpp__http_resp {
    const xmpp_ctx *ctx;
    enum state st;
    int err;
    int head;
    int status, minor;
    size_t body_limit;
    /* line collection */
    char line[XMPP_HTTP_LINE_MAX + 1];
    size_t line_len;
    int cr;
    size_t header_bytes; /* header section (and trailers) incl. CRLFs */
    size_t ntrailers;
    /* header fields */
    xmpp_buf fields;     /* reason NUL then name NUL value NUL ... */
    field tab[XMPP_HTTP_HEADERS_MAX];
    size_t nfields;
    int have_cl, chunked;
    unsigned long long cl, remaining;
    xmpp_buf body;
    char msg[128];
};

/* --- character classes (RFC 9110 §5.6.2, §5.5) ----------------------------- */

static int tchar(unsigned char c) {
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
        return 1;
    return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

int xmpp__http_is_token(const char *s, size_t n) {
    size_t i;
    if (n == 0)
        return 0;
    for (i = 0; i < n; i++)
        if (!tchar((unsigned char)s[i]))
            return 0;
    return 1;
}

/* field-vchar / SP / HTAB: VCHAR, obs-text, SP, HT. */
static int value_char(unsigned char c) {
    return c == '\t' || (c >= 0x20 && c != 0x7F);
}

static int lower(int c) {
    return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

int xmpp__http_casecmp(const char *a, const char *b) {
    while (*a != '\0' && lower((unsigned char)*a) == lower((unsigned char)*b)) {
        a++;
        b++;
    }
    return lower((unsigned char)*a) - lower((unsigned char)*b);
}

static int casematch_n(const char *a, size_t n, const char *b) {
    size_t i;
    for (i = 0; i < n; i++)
        if (b[i] == '\0' || lower((unsigned char)a[i]) != lower((unsigned char)b[i]))
            return 0;
    return b[n] == '\0';
}

int xmpp__http_list_has(const char *v, const char *token) {
    while (v != NULL && *v != '\0') {
        const char *e;
        size_t n;
        while (*v == ' ' || *v == '\t' || *v == ',')
            v++;
        e = v;
        while (*e != '\0' && *e != ',')
            e++;
        n = (size_t)(e - v);
        while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
            n--;
        if (n > 0 && casematch_n(v, n, token))
            return 1;
        v = e;
    }
    return 0;
}

const char *xmpp__http_strerror(int code) {
    switch (code) {
    case XMPP_OK: return "ok";
    case XMPP_HTTP_AGAIN: return "incomplete response";
    case XMPP_HTTP_ERR_STATUS: return "malformed status line";
    case XMPP_HTTP_ERR_HEADER: return "malformed header field";
    case XMPP_HTTP_ERR_FOLDING: return "obsolete header line folding";
    case XMPP_HTTP_ERR_LINE_END: return "bare CR or LF";
    case XMPP_HTTP_ERR_LINE_LONG: return "line too long";
    case XMPP_HTTP_ERR_HEADER_COUNT: return "too many header fields";
    case XMPP_HTTP_ERR_HEADER_SIZE: return "header section too large";
    case XMPP_HTTP_ERR_LENGTH: return "bad Content-Length";
    case XMPP_HTTP_ERR_ENCODING: return "unsupported Transfer-Encoding";
    case XMPP_HTTP_ERR_CHUNK: return "malformed chunked body";
    case XMPP_HTTP_ERR_BODY_LIMIT: return "body too large";
    case XMPP_HTTP_ERR_TRUNCATED: return "truncated response";
    case XMPP_ERR_NOMEM: return "out of memory";
    case XMPP_ERR_INVALID: return "invalid argument";
    default: return "unknown error";
    }
}

/* --- lifetime ---------------------------------------------------------------- */

int xmpp__http_resp_new(xmpp__http_resp **out, const xmpp_ctx *ctx, size_t body_limit) {
    xmpp__http_resp *r;
    if (out == NULL)
        return XMPP_ERR_INVALID;
    *out = NULL;
    if (ctx == NULL)
        return XMPP_ERR_INVALID;
    r = xmpp__malloc(ctx, sizeof(*r));
    if (r == NULL)
        return XMPP_ERR_NOMEM;
    memset(r, 0, sizeof(*r));
    r->ctx = ctx;
    r->body_limit = body_limit ? body_limit : XMPP_HTTP_DEFAULT_BODY_LIMIT;
    xmpp__buf_init(&r->fields, ctx);
    xmpp__buf_init(&r->body, ctx);
    *out = r;
    return XMPP_OK;
}

void xmpp__http_resp_free(xmpp__http_resp *r) {
    if (r == NULL)
        return;
    xmpp__buf_free(&r->fields);
    xmpp__buf_free(&r->body);
    xmpp__free(r->ctx, r);
}

void xmpp__http_resp_reset(xmpp__http_resp *r) {
    if (r == NULL)
        return;
    r->st = S_STATUS;
    r->err = 0;
    r->head = 0;
    r->status = r->minor = 0;
    r->line_len = 0;
    r->cr = 0;
    r->header_bytes = r->ntrailers = 0;
    r->nfields = 0;
    r->have_cl = r->chunked = 0;
    r->cl = r->remaining = 0;
    r->msg[0] = '\0';
    xmpp__buf_reset(&r->fields);
    xmpp__buf_reset(&r->body);
}

void xmpp__http_resp_set_head(xmpp__http_resp *r, int head) {
    if (r != NULL)
        r->head = head != 0;
}

static int fail(xmpp__http_resp *r, int code, const char *detail) {
    r->st = S_ERROR;
    r->err = code;
    snprintf(r->msg, sizeof(r->msg), "%s%s%s", xmpp__http_strerror(code),
             detail ? ": " : "", detail ? detail : "");
    return code;
}

/* --- line handlers ---------------------------------------------------------- */

static int parse_status(xmpp__http_resp *r, const char *l, size_t n) {
    size_t i;
    if (n < 12 || memcmp(l, "HTTP/1.", 7) != 0 || (l[7] != '0' && l[7] != '1') || l[8] != ' ')
        return fail(r, XMPP_HTTP_ERR_STATUS, "expected HTTP/1.x");
    if (l[9] < '1' || l[9] > '5' || l[10] < '0' || l[10] > '9' || l[11] < '0' || l[11] > '9')
        return fail(r, XMPP_HTTP_ERR_STATUS, "bad status code");
    if (n > 12 && l[12] != ' ')
        return fail(r, XMPP_HTTP_ERR_STATUS, "no space after the status code");
    for (i = 13; i < n; i++)
        if (!value_char((unsigned char)l[i]))
            return fail(r, XMPP_HTTP_ERR_STATUS, "control character in the reason");
    r->minor = l[7] - '0';
    r->status = (l[9] - '0') * 100 + (l[10] - '0') * 10 + (l[11] - '0');
    if (xmpp__buf_append(&r->fields, n > 13 ? l + 13 : "", n > 13 ? n - 13 : 0) != XMPP_OK ||
        xmpp__buf_append_char(&r->fields, '\0') != XMPP_OK)
        return fail(r, XMPP_ERR_NOMEM, NULL);
    r->st = S_HEADERS;
    return XMPP_OK;
}

/* Splits a field line; on success name = l[0..*nl), value = l[*vo..*vo+*vl). */
static int split_field(xmpp__http_resp *r, const char *l, size_t n, size_t *nl, size_t *vo,
                       size_t *vl) {
    const char *colon;
    size_t i, s, e;
    if (l[0] == ' ' || l[0] == '\t')
        return fail(r, XMPP_HTTP_ERR_FOLDING, NULL);
    colon = memchr(l, ':', n);
    if (colon == NULL)
        return fail(r, XMPP_HTTP_ERR_HEADER, "no colon");
    *nl = (size_t)(colon - l);
    if (!xmpp__http_is_token(l, *nl))
        return fail(r, XMPP_HTTP_ERR_HEADER, "bad field name");
    s = *nl + 1;
    while (s < n && (l[s] == ' ' || l[s] == '\t'))
        s++;
    e = n;
    while (e > s && (l[e - 1] == ' ' || l[e - 1] == '\t'))
        e--;
    for (i = s; i < e; i++)
        if (!value_char((unsigned char)l[i]))
            return fail(r, XMPP_HTTP_ERR_HEADER, "control character in a value");
    *vo = s;
    *vl = e - s;
    return XMPP_OK;
}

static int count_line(xmpp__http_resp *r, size_t n) {
    r->header_bytes += n + 2;
    if (r->header_bytes > XMPP_HTTP_HEADER_BYTES)
        return fail(r, XMPP_HTTP_ERR_HEADER_SIZE, NULL);
    return XMPP_OK;
}

static int end_of_headers(xmpp__http_resp *r) {
    if (r->head || (r->status >= 100 && r->status < 200) || r->status == 204 ||
        r->status == 304) {
        r->st = S_DONE;
        return XMPP_OK;
    }
    if (r->chunked) {
        if (r->have_cl)
            return fail(r, XMPP_HTTP_ERR_ENCODING, "both Transfer-Encoding and Content-Length");
        r->st = S_CHUNK_SIZE;
        return XMPP_OK;
    }
    if (r->have_cl) {
        if (r->cl > r->body_limit)
            return fail(r, XMPP_HTTP_ERR_BODY_LIMIT, "announced length");
        r->remaining = r->cl;
        r->st = r->cl == 0 ? S_DONE : S_BODY_LEN;
        return XMPP_OK;
    }
    r->st = S_BODY_EOF;
    return XMPP_OK;
}

static int header_line(xmpp__http_resp *r, const char *l, size_t n) {
    size_t nl, vo, vl;
    int rc;
    if (n == 0) {
        if ((rc = count_line(r, 0)) != XMPP_OK)
            return rc;
        return end_of_headers(r);
    }
    if ((rc = split_field(r, l, n, &nl, &vo, &vl)) != XMPP_OK)
        return rc;
    if ((rc = count_line(r, n)) != XMPP_OK)
        return rc;
    if (r->nfields == XMPP_HTTP_HEADERS_MAX)
        return fail(r, XMPP_HTTP_ERR_HEADER_COUNT, NULL);
    if (casematch_n(l, nl, "content-length")) {
        unsigned long long v = 0;
        size_t i;
        if (vl == 0 || vl > 19)
            return fail(r, XMPP_HTTP_ERR_LENGTH, "empty or too long");
        for (i = 0; i < vl; i++) {
            char c = l[vo + i];
            if (c < '0' || c > '9')
                return fail(r, XMPP_HTTP_ERR_LENGTH, "not a number");
            v = v * 10 + (unsigned)(c - '0');
        }
        if (r->have_cl && v != r->cl)
            return fail(r, XMPP_HTTP_ERR_LENGTH, "conflicting values");
        r->have_cl = 1;
        r->cl = v;
    } else if (casematch_n(l, nl, "transfer-encoding")) {
        if (r->chunked || !casematch_n(l + vo, vl, "chunked"))
            return fail(r, XMPP_HTTP_ERR_ENCODING, NULL);
        r->chunked = 1;
    }
    r->tab[r->nfields].name = r->fields.len;
    xmpp__buf_append(&r->fields, l, nl);
    xmpp__buf_append_char(&r->fields, '\0');
    r->tab[r->nfields].value = r->fields.len;
    xmpp__buf_append(&r->fields, l + vo, vl);
    xmpp__buf_append_char(&r->fields, '\0');
    if (r->fields.oom)
        return fail(r, XMPP_ERR_NOMEM, NULL);
    r->nfields++;
    return XMPP_OK;
}

static int hexval(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static int chunk_size_line(xmpp__http_resp *r, const char *l, size_t n) {
    unsigned long long v = 0;
    size_t i = 0;
    int h;
    while (i < n && (h = hexval(l[i])) >= 0) {
        if (i == 15)
            return fail(r, XMPP_HTTP_ERR_CHUNK, "chunk size too long");
        v = v * 16 + (unsigned)h;
        i++;
    }
    if (i == 0)
        return fail(r, XMPP_HTTP_ERR_CHUNK, "no chunk size");
    while (i < n && (l[i] == ' ' || l[i] == '\t'))
        i++;
    if (i < n) { /* chunk-ext: skipped, but no control characters */
        if (l[i] != ';')
            return fail(r, XMPP_HTTP_ERR_CHUNK, "junk after the chunk size");
        for (; i < n; i++)
            if (!value_char((unsigned char)l[i]))
                return fail(r, XMPP_HTTP_ERR_CHUNK, "control character in chunk-ext");
    }
    if (v == 0) {
        r->st = S_TRAILERS;
        return XMPP_OK;
    }
    if (v > r->body_limit - r->body.len)
        return fail(r, XMPP_HTTP_ERR_BODY_LIMIT, "chunk size");
    r->remaining = v;
    r->st = S_CHUNK_DATA;
    return XMPP_OK;
}

static int trailer_line(xmpp__http_resp *r, const char *l, size_t n) {
    size_t nl, vo, vl;
    int rc;
    if (n == 0) {
        r->st = S_DONE;
        return XMPP_OK;
    }
    if ((rc = split_field(r, l, n, &nl, &vo, &vl)) != XMPP_OK)
        return rc;
    if ((rc = count_line(r, n)) != XMPP_OK)
        return rc;
    if (r->nfields + ++r->ntrailers > XMPP_HTTP_HEADERS_MAX)
        return fail(r, XMPP_HTTP_ERR_HEADER_COUNT, "trailers");
    return XMPP_OK; /* validated and dropped */
}

static int line_done(xmpp__http_resp *r) {
    const char *l = r->line;
    size_t n = r->line_len;
    r->line_len = 0;
    r->cr = 0;
    switch (r->st) {
    case S_STATUS: return parse_status(r, l, n);
    case S_HEADERS: return header_line(r, l, n);
    case S_CHUNK_SIZE: return chunk_size_line(r, l, n);
    case S_TRAILERS: return trailer_line(r, l, n);
    default: return fail(r, XMPP_ERR_STATE, "internal");
    }
}

/* --- feeding ------------------------------------------------------------------ */

int xmpp__http_resp_feed(xmpp__http_resp *r, const void *data, size_t len, size_t *consumed) {
    const char *p = data;
    size_t i = 0;
    int rc = XMPP_OK;
    if (consumed != NULL)
        *consumed = 0;
    if (r == NULL || (data == NULL && len > 0))
        return XMPP_ERR_INVALID;
    while (i < len && r->st != S_DONE && r->st != S_ERROR) {
        switch (r->st) {
        case S_STATUS:
        case S_HEADERS:
        case S_CHUNK_SIZE:
        case S_TRAILERS: {
            char c = p[i++];
            if (r->cr) {
                if (c != '\n')
                    rc = fail(r, XMPP_HTTP_ERR_LINE_END, "CR without LF");
                else
                    rc = line_done(r);
            } else if (c == '\r') {
                r->cr = 1;
            } else if (c == '\n') {
                rc = fail(r, XMPP_HTTP_ERR_LINE_END, "LF without CR");
            } else if (r->line_len == XMPP_HTTP_LINE_MAX) {
                rc = fail(r, XMPP_HTTP_ERR_LINE_LONG, NULL);
            } else if (r->st != S_CHUNK_SIZE && r->line_len + 2 + r->header_bytes >
                                                    XMPP_HTTP_HEADER_BYTES &&
                       r->st != S_STATUS) {
                rc = fail(r, XMPP_HTTP_ERR_HEADER_SIZE, NULL);
            } else {
                r->line[r->line_len++] = c;
            }
            break;
        }
        case S_BODY_LEN:
        case S_CHUNK_DATA: {
            size_t n = len - i;
            if (n > r->remaining)
                n = (size_t)r->remaining;
            if (xmpp__buf_append(&r->body, p + i, n) != XMPP_OK) {
                rc = fail(r, XMPP_ERR_NOMEM, NULL);
                break;
            }
            i += n;
            r->remaining -= n;
            if (r->remaining == 0)
                r->st = r->st == S_BODY_LEN ? S_DONE : S_CHUNK_CR;
            break;
        }
        case S_CHUNK_CR:
        case S_CHUNK_LF:
            if (p[i++] != (r->st == S_CHUNK_CR ? '\r' : '\n'))
                rc = fail(r, XMPP_HTTP_ERR_CHUNK, "no CRLF after chunk data");
            else
                r->st = r->st == S_CHUNK_CR ? S_CHUNK_LF : S_CHUNK_SIZE;
            break;
        case S_BODY_EOF: {
            size_t n = len - i;
            if (n > r->body_limit - r->body.len) {
                rc = fail(r, XMPP_HTTP_ERR_BODY_LIMIT, NULL);
                break;
            }
            if (xmpp__buf_append(&r->body, p + i, n) != XMPP_OK) {
                rc = fail(r, XMPP_ERR_NOMEM, NULL);
                break;
            }
            i += n;
            break;
        }
        default:
            break;
        }
        (void)rc;
    }
    if (consumed != NULL)
        *consumed = i;
    if (r->st == S_ERROR)
        return r->err;
    return r->st == S_DONE ? XMPP_OK : XMPP_HTTP_AGAIN;
}

int xmpp__http_resp_eof(xmpp__http_resp *r) {
    if (r == NULL)
        return XMPP_ERR_INVALID;
    if (r->st == S_ERROR)
        return r->err;
    if (r->st == S_BODY_EOF)
        r->st = S_DONE;
    if (r->st == S_DONE)
        return XMPP_OK;
    return fail(r, XMPP_HTTP_ERR_TRUNCATED, NULL);
}

/* --- accessors ------------------------------------------------------------------ */

int xmpp__http_resp_done(const xmpp__http_resp *r) {
    return r != NULL && r->st == S_DONE;
}

int xmpp__http_resp_status(const xmpp__http_resp *r) {
    return r != NULL ? r->status : 0;
}

int xmpp__http_resp_version(const xmpp__http_resp *r) {
    return r != NULL ? r->minor : 0;
}

const char *xmpp__http_resp_reason(const xmpp__http_resp *r) {
    return r != NULL && r->fields.len > 0 ? r->fields.data : "";
}

size_t xmpp__http_resp_header_count(const xmpp__http_resp *r) {
    return r != NULL ? r->nfields : 0;
}

int xmpp__http_resp_header(const xmpp__http_resp *r, size_t i, const char **name,
                           const char **value) {
    if (r == NULL || i >= r->nfields)
        return XMPP_ERR_NOT_FOUND;
    if (name != NULL)
        *name = r->fields.data + r->tab[i].name;
    if (value != NULL)
        *value = r->fields.data + r->tab[i].value;
    return XMPP_OK;
}

const char *xmpp__http_resp_find(const xmpp__http_resp *r, const char *name, size_t *count) {
    const char *first = NULL;
    size_t i, c = 0;
    if (r != NULL && name != NULL) {
        for (i = 0; i < r->nfields; i++) {
            if (xmpp__http_casecmp(r->fields.data + r->tab[i].name, name) == 0) {
                if (c++ == 0)
                    first = r->fields.data + r->tab[i].value;
            }
        }
    }
    if (count != NULL)
        *count = c;
    return first;
}

const char *xmpp__http_resp_body(const xmpp__http_resp *r, size_t *len) {
    if (len != NULL)
        *len = r != NULL ? r->body.len : 0;
    return r != NULL && r->body.data != NULL ? r->body.data : "";
}

const char *xmpp__http_resp_error(const xmpp__http_resp *r) {
    return r != NULL ? r->msg : "";
}

/* --- request writer ------------------------------------------------------------ */

static int path_ok(const char *s) {
    if (*s == '\0')
        return 0;
    for (; *s != '\0'; s++)
        if ((unsigned char)*s <= 0x20 || *s == 0x7F)
            return 0;
    return 1;
}

static int field_value_ok(const char *s) {
    for (; *s != '\0'; s++)
        if (!value_char((unsigned char)*s))
            return 0; /* CR, LF and the other controls (NUL ends the string) */
    return 1;
}

int xmpp__http_request(xmpp_buf *out, const char *method, const char *path,
                       const xmpp__http_field *fields, size_t nfields, const void *body,
                       size_t body_len) {
    size_t i, old;
    int want_cl;
    if (out == NULL || method == NULL || path == NULL || (fields == NULL && nfields > 0) ||
        (body == NULL && body_len > 0))
        return XMPP_ERR_INVALID;
    if (!xmpp__http_is_token(method, strlen(method)) || !path_ok(path))
        return XMPP_ERR_INVALID;
    for (i = 0; i < nfields; i++) {
        const char *n = fields[i].name, *v = fields[i].value;
        if (n == NULL || v == NULL || !xmpp__http_is_token(n, strlen(n)) || !field_value_ok(v) ||
            xmpp__http_casecmp(n, "content-length") == 0 ||
            xmpp__http_casecmp(n, "transfer-encoding") == 0)
            return XMPP_ERR_INVALID;
    }
    want_cl = body_len > 0 || strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0;
    old = out->len;
    xmpp__buf_append_str(out, method);
    xmpp__buf_append_char(out, ' ');
    xmpp__buf_append_str(out, path);
    xmpp__buf_append_str(out, " HTTP/1.1\r\n");
    for (i = 0; i < nfields; i++) {
        xmpp__buf_append_str(out, fields[i].name);
        xmpp__buf_append_str(out, ": ");
        xmpp__buf_append_str(out, fields[i].value);
        xmpp__buf_append_str(out, "\r\n");
    }
    if (want_cl) {
        char num[48];
        snprintf(num, sizeof(num), "Content-Length: %zu\r\n", body_len);
        xmpp__buf_append_str(out, num);
    }
    xmpp__buf_append_str(out, "\r\n");
    if (body_len > 0)
        xmpp__buf_append(out, body, body_len);
    if (out->oom) {
        out->len = old;
        out->oom = 0;
        if (out->data != NULL)
            out->data[old] = '\0';
        return XMPP_ERR_NOMEM;
    }
    return XMPP_OK;
}
