/* SOCKS5 (RFC 1928, RFC 1929) and HTTP CONNECT (RFC 9110 §9.3.6) client
 * handshakes, sans-I/O; see proxy.h. */
#include "transport/proxy.h"
#include "transport/http.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <gnutls/gnutls.h>

#define SOCKS_VER 5
#define SOCKS_AUTH_VER 1     /* RFC 1929 §2 */
#define M_NONE 0x00          /* RFC 1928 §3 */
#define M_USERPASS 0x02
#define M_REFUSED 0xFF
#define ATYP_V4 1            /* RFC 1928 §5 */
#define ATYP_NAME 3
#define ATYP_V6 4
#define REPLY_MAX (4 + 1 + 255 + 2)

typedef enum { P_NEW, P_GREETING, P_AUTH, P_CONNECT, P_HTTP, P_DONE, P_ERROR } pstate;

struct xmpp__proxy {
    const xmpp_ctx *ctx;
    xmpp__proxy_type type;
    pstate st;
    int err;
    char *user, *pass; /* NULL user: no credentials */
    char host[256];    /* target, without brackets */
    unsigned port;
    unsigned char rbuf[REPLY_MAX];
    size_t rlen, need;
    xmpp__http_resp *http;
    char msg[200];
};

static void wipe(void *p, size_t n) {
    volatile unsigned char *v = p;
    while (n--)
        *v++ = 0;
}

static void free_secret(const xmpp_ctx *ctx, char *s) {
    if (s == NULL)
        return;
    wipe(s, strlen(s));
    xmpp__free(ctx, s);
}

const char *xmpp__proxy_type_name(xmpp__proxy_type t) {
    return t == XMPP_PROXY_SOCKS5 ? "SOCKS5" : t == XMPP_PROXY_HTTP ? "HTTP" : "no";
}

const char *xmpp__proxy_strerror(int code) {
    switch (code) {
    case XMPP_PROXY_AGAIN: return "proxy handshake incomplete";
    case XMPP_PROXY_ERR_MALFORMED: return "malformed proxy reply";
    case XMPP_PROXY_ERR_AUTH: return "proxy authentication failed";
    case XMPP_PROXY_ERR_AUTH_NEEDED: return "proxy requires authentication";
    case XMPP_PROXY_ERR_REFUSED: return "proxy refused the connection";
    case XMPP_PROXY_ERR_UNREACHABLE: return "proxy cannot reach the server";
    case XMPP_PROXY_ERR_CLOSED: return "proxy closed the connection";
    case XMPP_PROXY_ERR_URL: return "malformed proxy URL";
    default: return "unknown proxy status";
    }
}

/* ---- URL: "socks5://[user[:pass]@]host:port[/]" (RFC 3986 syntax) */

static int is_unreserved_or_sub(char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           strchr("-._~!$&'()*+,;=", ch) != NULL;
}

static int hexval(char ch) {
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* Percent-decodes s[0..n) into a new string; ':' allowed when colon_ok. */
static int pct_decode(const xmpp_ctx *ctx, const char *s, size_t n, int colon_ok, char **out,
                      const char **why) {
    char *d = xmpp__malloc(ctx, n + 1);
    size_t i, k = 0;
    if (d == NULL)
        return XMPP_ERR_NOMEM;
    for (i = 0; i < n; i++) {
        if (s[i] == '%') {
            int hi, lo;
            if (i + 2 >= n || (hi = hexval(s[i + 1])) < 0 || (lo = hexval(s[i + 2])) < 0) {
                *why = "bad percent-encoding in the credentials";
                goto bad;
            }
            if (hi == 0 && lo == 0) {
                *why = "NUL in the credentials";
                goto bad;
            }
            d[k++] = (char)(hi * 16 + lo);
            i += 2;
        } else if (is_unreserved_or_sub(s[i]) || (colon_ok && s[i] == ':')) {
            d[k++] = s[i];
        } else {
            *why = "a character in the credentials that must be percent-encoded";
            goto bad;
        }
    }
    d[k] = '\0';
    if (k > XMPP_PROXY_CRED_MAX) {
        *why = "credentials longer than 255 bytes";
        goto bad;
    }
    *out = d;
    return XMPP_OK;
bad:
    wipe(d, n + 1);
    xmpp__free(ctx, d);
    return XMPP_PROXY_ERR_URL;
}

/* A DNS name of LDH labels (RFC 1123), at most 253 bytes. */
static int ldh_name(const char *s, size_t n) {
    size_t i, label = 0;
    if (n == 0 || n > 253)
        return 0;
    for (i = 0; i <= n; i++) {
        char ch = i < n ? s[i] : '.';
        if (ch == '.') {
            if (label == 0 || label > 63 || s[i - 1] == '-')
                return 0;
            label = 0;
        } else if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                   (ch >= '0' && ch <= '9') || ch == '-') {
            if (label == 0 && ch == '-')
                return 0;
            label++;
        } else {
            return 0;
        }
    }
    return 1;
}

static int prefix_ci(const char *s, const char *p) {
    size_t i;
    for (i = 0; p[i]; i++) {
        char a = s[i];
        if (a >= 'A' && a <= 'Z')
            a = (char)(a - 'A' + 'a');
        if (a != p[i])
            return 0;
    }
    return 1;
}

void xmpp__proxy_url_clear(const xmpp_ctx *ctx, xmpp__proxy_url *u) {
    if (u == NULL)
        return;
    xmpp__free(ctx, u->host);
    free_secret(ctx, u->user);
    free_secret(ctx, u->pass);
    memset(u, 0, sizeof(*u));
}

int xmpp__proxy_url_parse(const xmpp_ctx *ctx, const char *url, xmpp__proxy_url *out,
                          char *errbuf, size_t errsz) {
    const char *p, *end, *at, *hs, *he, *q, *why = NULL;
    size_t n, i;
    unsigned long port = 0;
    int rc = XMPP_PROXY_ERR_URL;
    if (errsz > 0 && errbuf)
        errbuf[0] = '\0';
    if (out == NULL)
        return XMPP_ERR_INVALID;
    memset(out, 0, sizeof(*out));
    if (ctx == NULL || url == NULL) {
        why = "no URL";
        goto bad;
    }
    n = strlen(url);
    if (n == 0 || n > XMPP_PROXY_URL_MAX) {
        why = n ? "URL too long" : "empty URL";
        goto bad;
    }
    for (i = 0; i < n; i++)
        if ((unsigned char)url[i] <= 0x20 || (unsigned char)url[i] >= 0x7f) {
            why = "a space, control or non-ASCII character in the URL";
            goto bad;
        }
    if (prefix_ci(url, "socks5://")) {
        out->type = XMPP_PROXY_SOCKS5;
        p = url + 9;
    } else if (prefix_ci(url, "socks5h://")) {
        out->type = XMPP_PROXY_SOCKS5; /* curl's spelling: the proxy resolves */
        p = url + 10;
    } else if (prefix_ci(url, "http://")) {
        out->type = XMPP_PROXY_HTTP;
        p = url + 7;
    } else {
        why = "the scheme must be socks5:// or http://";
        goto bad;
    }
    end = url + n;
    if (end > p && end[-1] == '/')
        end--; /* one optional "/" path */
    for (q = p; q < end; q++)
        if (*q == '/' || *q == '?' || *q == '#') {
            why = "a path, query or fragment after the host and port";
            goto bad;
        }
    at = NULL;
    for (q = p; q < end; q++)
        if (*q == '@') {
            if (at) {
                why = "more than one '@'";
                goto bad;
            }
            at = q;
        }
    if (at) {
        const char *colon = memchr(p, ':', (size_t)(at - p));
        const char *ue = colon ? colon : at;
        if (ue == p) {
            why = "an empty user name";
            goto bad;
        }
        if ((rc = pct_decode(ctx, p, (size_t)(ue - p), 0, &out->user, &why)) != XMPP_OK)
            goto bad;
        if (colon)
            rc = pct_decode(ctx, colon + 1, (size_t)(at - colon - 1), 1, &out->pass, &why);
        else
            rc = pct_decode(ctx, "", 0, 0, &out->pass, &why);
        if (rc != XMPP_OK)
            goto bad;
        rc = XMPP_PROXY_ERR_URL;
        if (out->type == XMPP_PROXY_HTTP && strchr(out->user, ':')) {
            why = "a user name with ':' cannot be sent with HTTP Basic";
            goto bad;
        }
        p = at + 1;
    }
    if (p < end && *p == '[') {
        struct in6_addr a6;
        char tmp[64];
        he = memchr(p, ']', (size_t)(end - p));
        if (he == NULL || (size_t)(he - p - 1) >= sizeof(tmp) || he == p + 1) {
            why = "a malformed IPv6 literal";
            goto bad;
        }
        memcpy(tmp, p + 1, (size_t)(he - p - 1));
        tmp[he - p - 1] = '\0';
        if (inet_pton(AF_INET6, tmp, &a6) != 1) {
            why = "a malformed IPv6 literal";
            goto bad;
        }
        hs = p + 1;
        q = he + 1;
    } else {
        hs = p;
        for (he = p; he < end && *he != ':'; he++)
            ;
        if (!ldh_name(hs, (size_t)(he - hs))) {
            why = he == hs ? "no proxy host" : "a malformed proxy host name";
            goto bad;
        }
        q = he;
    }
    if (q >= end || *q != ':' || q + 1 == end || end - (q + 1) > 5) {
        why = "the proxy port is missing or malformed";
        goto bad;
    }
    for (q++; q < end; q++) {
        if (*q < '0' || *q > '9') {
            why = "the proxy port is missing or malformed";
            goto bad;
        }
        port = port * 10 + (unsigned long)(*q - '0');
    }
    if (port == 0 || port > 65535) {
        why = "the proxy port is out of range";
        goto bad;
    }
    out->port = (unsigned)port;
    if ((out->host = xmpp__strndup(ctx, hs, (size_t)(he - hs))) == NULL) {
        rc = XMPP_ERR_NOMEM;
        goto bad;
    }
    return XMPP_OK;
bad:
    if (rc == XMPP_ERR_NOMEM)
        why = "out of memory";
    if (errbuf && errsz > 0)
        snprintf(errbuf, errsz, "%s", why ? why : "malformed proxy URL");
    xmpp__proxy_url_clear(ctx, out);
    return rc;
}

/* ---- handshake */

int xmpp__proxy_new(xmpp__proxy **out, const xmpp_ctx *ctx, const xmpp__proxy_url *url,
                    const char *target_host, unsigned target_port) {
    xmpp__proxy *p;
    size_t hl;
    if (out == NULL)
        return XMPP_ERR_INVALID;
    *out = NULL;
    if (ctx == NULL || url == NULL || target_host == NULL || target_port == 0 ||
        target_port > 65535 ||
        (url->type != XMPP_PROXY_SOCKS5 && url->type != XMPP_PROXY_HTTP))
        return XMPP_ERR_INVALID;
    hl = strlen(target_host);
    if (hl > 2 && target_host[0] == '[' && target_host[hl - 1] == ']') {
        target_host++;
        hl -= 2;
    }
    if (hl == 0 || hl > 255)
        return XMPP_ERR_INVALID;
    for (size_t i = 0; i < hl; i++)
        if ((unsigned char)target_host[i] <= 0x20 || (unsigned char)target_host[i] >= 0x7f)
            return XMPP_ERR_INVALID;
    p = xmpp__malloc(ctx, sizeof(*p));
    if (p == NULL)
        return XMPP_ERR_NOMEM;
    memset(p, 0, sizeof(*p));
    p->ctx = ctx;
    p->type = url->type;
    memcpy(p->host, target_host, hl);
    p->host[hl] = '\0';
    p->port = target_port;
    if (url->user != NULL) {
        p->user = xmpp__strdup(ctx, url->user);
        p->pass = xmpp__strdup(ctx, url->pass ? url->pass : "");
        if (p->user == NULL || p->pass == NULL) {
            xmpp__proxy_free(p);
            return XMPP_ERR_NOMEM;
        }
    }
    if (p->type == XMPP_PROXY_HTTP && xmpp__http_resp_new(&p->http, ctx, 0) != XMPP_OK) {
        xmpp__proxy_free(p);
        return XMPP_ERR_NOMEM;
    }
    *out = p;
    return XMPP_OK;
}

void xmpp__proxy_free(xmpp__proxy *p) {
    if (p == NULL)
        return;
    free_secret(p->ctx, p->user);
    free_secret(p->ctx, p->pass);
    const xmpp_ctx *ctx = p->ctx;
    xmpp__http_resp_free(p->http);
    wipe(p, sizeof(*p));
    xmpp__free(ctx, p);
}

static int fail(xmpp__proxy *p, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(xmpp__proxy *p, int code, const char *fmt, ...) {
    char detail[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof(detail), fmt, ap);
    va_end(ap);
    p->st = P_ERROR;
    p->err = code;
    snprintf(p->msg, sizeof(p->msg), "%s: %s", xmpp__proxy_strerror(code), detail);
    xmpp__log(p->ctx, XMPP_LOG_ERROR, "proxy", "%s proxy: %s", xmpp__proxy_type_name(p->type),
              p->msg);
    return code;
}

static int http_start(xmpp__proxy *p, xmpp_buf *out) {
    char authority[270];
    xmpp__http_field f[2];
    size_t nf = 0;
    int rc;
    gnutls_datum_t in = {NULL, 0}, b64 = {NULL, 0};
    char *cred = NULL, *hdr = NULL;
    if (strchr(p->host, ':'))
        snprintf(authority, sizeof(authority), "[%s]:%u", p->host, p->port);
    else
        snprintf(authority, sizeof(authority), "%s:%u", p->host, p->port);
    f[nf].name = "Host"; /* RFC 9110 §9.3.6, §7.2 */
    f[nf++].value = authority;
    if (p->user) {
        /* RFC 7617 §2: base64(user-id ":" password) */
        size_t ul = strlen(p->user), pl = strlen(p->pass);
        cred = xmpp__malloc(p->ctx, ul + pl + 2);
        if (cred == NULL)
            return XMPP_ERR_NOMEM;
        memcpy(cred, p->user, ul);
        cred[ul] = ':';
        memcpy(cred + ul + 1, p->pass, pl + 1);
        in.data = (unsigned char *)cred;
        in.size = (unsigned)(ul + pl + 1);
        rc = gnutls_base64_encode2(&in, &b64);
        wipe(cred, ul + pl + 1);
        xmpp__free(p->ctx, cred);
        if (rc < 0)
            return XMPP_ERR_NOMEM;
        hdr = xmpp__malloc(p->ctx, b64.size + 7);
        if (hdr == NULL) {
            wipe(b64.data, b64.size);
            gnutls_free(b64.data);
            return XMPP_ERR_NOMEM;
        }
        memcpy(hdr, "Basic ", 6);
        memcpy(hdr + 6, b64.data, b64.size);
        hdr[6 + b64.size] = '\0';
        wipe(b64.data, b64.size);
        gnutls_free(b64.data);
        f[nf].name = "Proxy-Authorization";
        f[nf++].value = hdr;
    }
    /* room first, so that no reallocation leaves a copy of the credentials */
    rc = xmpp__buf_reserve(out, 2 * sizeof(authority) + 64 + (hdr ? strlen(hdr) : 0));
    if (rc == XMPP_OK)
        rc = xmpp__http_request(out, "CONNECT", authority, f, nf, NULL, 0);
    if (hdr) {
        wipe(hdr, strlen(hdr));
        xmpp__free(p->ctx, hdr);
    }
    if (rc != XMPP_OK)
        return rc;
    xmpp__http_resp_set_head(p->http, 1); /* RFC 9110 §9.3.6: 2xx has no body */
    p->st = P_HTTP;
    return XMPP_OK;
}

int xmpp__proxy_start(xmpp__proxy *p, xmpp_buf *out) {
    unsigned char g[4];
    if (p == NULL || out == NULL)
        return XMPP_ERR_INVALID;
    if (p->st != P_NEW)
        return XMPP_ERR_STATE;
    if (p->type == XMPP_PROXY_HTTP)
        return http_start(p, out);
    /* RFC 1928 §3: version, methods */
    g[0] = SOCKS_VER;
    g[1] = p->user ? 2 : 1;
    g[2] = M_NONE;
    g[3] = M_USERPASS;
    if (xmpp__buf_append(out, (const char *)g, p->user ? 4 : 3) != XMPP_OK)
        return XMPP_ERR_NOMEM;
    p->st = P_GREETING;
    p->need = 2;
    p->rlen = 0;
    return XMPP_OK;
}

static int socks_connect_request(xmpp__proxy *p, xmpp_buf *out) {
    unsigned char r[4 + 1 + 255 + 2];
    size_t n = 0, hl = strlen(p->host);
    unsigned char a[16];
    r[n++] = SOCKS_VER;
    r[n++] = 1; /* CONNECT */
    r[n++] = 0; /* RSV */
    if (inet_pton(AF_INET, p->host, a) == 1) {
        r[n++] = ATYP_V4;
        memcpy(r + n, a, 4);
        n += 4;
    } else if (inet_pton(AF_INET6, p->host, a) == 1) {
        r[n++] = ATYP_V6;
        memcpy(r + n, a, 16);
        n += 16;
    } else {
        /* the proxy resolves the name: no DNS query leaves this host */
        r[n++] = ATYP_NAME;
        r[n++] = (unsigned char)hl;
        memcpy(r + n, p->host, hl);
        n += hl;
    }
    r[n++] = (unsigned char)(p->port >> 8);
    r[n++] = (unsigned char)(p->port & 0xff);
    if (xmpp__buf_append(out, (const char *)r, n) != XMPP_OK)
        return XMPP_ERR_NOMEM;
    p->st = P_CONNECT;
    p->need = 4;
    p->rlen = 0;
    return XMPP_OK;
}

static int socks_auth_request(xmpp__proxy *p, xmpp_buf *out) {
    /* RFC 1929 §2: VER ULEN UNAME PLEN PASSWD */
    size_t ul = strlen(p->user), pl = strlen(p->pass), n = 0;
    unsigned char r[3 + 2 * XMPP_PROXY_CRED_MAX];
    int rc;
    if (ul == 0 || ul > XMPP_PROXY_CRED_MAX || pl > XMPP_PROXY_CRED_MAX)
        return fail(p, XMPP_PROXY_ERR_AUTH, "credentials too long");
    r[n++] = SOCKS_AUTH_VER;
    r[n++] = (unsigned char)ul;
    memcpy(r + n, p->user, ul);
    n += ul;
    r[n++] = (unsigned char)pl;
    memcpy(r + n, p->pass, pl);
    n += pl;
    rc = xmpp__buf_append(out, (const char *)r, n);
    wipe(r, sizeof(r));
    if (rc != XMPP_OK)
        return XMPP_ERR_NOMEM;
    p->st = P_AUTH;
    p->need = 2;
    p->rlen = 0;
    return XMPP_OK;
}

static const char *socks_reply_name(unsigned rep) {
    /* RFC 1928 §6 */
    switch (rep) {
    case 1: return "general SOCKS server failure";
    case 2: return "connection not allowed by ruleset";
    case 3: return "network unreachable";
    case 4: return "host unreachable";
    case 5: return "connection refused";
    case 6: return "TTL expired";
    case 7: return "command not supported";
    case 8: return "address type not supported";
    default: return "unassigned reply code";
    }
}

/* A complete piece of a SOCKS5 reply is in rbuf[0..need). */
static int socks_step(xmpp__proxy *p, xmpp_buf *out) {
    const unsigned char *b = p->rbuf;
    switch (p->st) {
    case P_GREETING:
        if (b[0] != SOCKS_VER)
            return fail(p, XMPP_PROXY_ERR_MALFORMED, "method selection with version %d", b[0]);
        if (b[1] == M_REFUSED)
            return fail(p, XMPP_PROXY_ERR_AUTH_NEEDED,
                        "no acceptable method (%s)",
                        p->user ? "username/password offered" : "the proxy wants credentials");
        if (b[1] == M_NONE)
            return socks_connect_request(p, out);
        if (b[1] == M_USERPASS && p->user)
            return socks_auth_request(p, out);
        return fail(p, XMPP_PROXY_ERR_MALFORMED, "the proxy chose method %d, which was not offered", b[1]);
    case P_AUTH:
        if (b[0] != SOCKS_AUTH_VER)
            return fail(p, XMPP_PROXY_ERR_MALFORMED,
                        "username/password reply with version %d", b[0]);
        if (b[1] != 0)
            return fail(p, XMPP_PROXY_ERR_AUTH, "the proxy rejected the user name or password (status %d)", b[1]);
        return socks_connect_request(p, out);
    case P_CONNECT:
        if (p->rlen == 4) {
            if (b[0] != SOCKS_VER)
                return fail(p, XMPP_PROXY_ERR_MALFORMED, "CONNECT reply with version %d", b[0]);
            if (b[1] != 0) {
                int code = (b[1] >= 3 && b[1] <= 6) ? XMPP_PROXY_ERR_UNREACHABLE
                                                    : XMPP_PROXY_ERR_REFUSED;
                return fail(p, code, "%.80s:%u: %s (SOCKS5 reply %d)", p->host, p->port,
                            socks_reply_name(b[1]), b[1]);
            }
            if (b[2] != 0)
                return fail(p, XMPP_PROXY_ERR_MALFORMED, "reserved byte %d in the CONNECT reply", b[2]);
            switch (b[3]) {
            case ATYP_V4: p->need = 4 + 4 + 2; return XMPP_OK;
            case ATYP_V6: p->need = 4 + 16 + 2; return XMPP_OK;
            case ATYP_NAME: p->need = 5; return XMPP_OK;
            default:
                return fail(p, XMPP_PROXY_ERR_MALFORMED, "unknown address type %d in the CONNECT reply", b[3]);
            }
        }
        if (p->rlen == 5 && b[3] == ATYP_NAME) {
            if (b[4] == 0)
                return fail(p, XMPP_PROXY_ERR_MALFORMED, "empty bound name in the CONNECT reply");
            p->need = 5 + (size_t)b[4] + 2;
            return XMPP_OK;
        }
        p->st = P_DONE; /* BND.ADDR and BND.PORT read; not used */
        xmpp__log(p->ctx, XMPP_LOG_INFO, "proxy", "SOCKS5 tunnel to %s:%u open", p->host, p->port);
        return XMPP_OK;
    default:
        return XMPP_ERR_STATE;
    }
}

static int http_feed(xmpp__proxy *p, const unsigned char *d, size_t len, size_t *consumed) {
    size_t used = 0;
    *consumed = 0;
    for (;;) {
        int rc = xmpp__http_resp_feed(p->http, d + *consumed, len - *consumed, &used);
        int status;
        char reason[96];
        *consumed += used;
        if (rc == XMPP_HTTP_AGAIN)
            return XMPP_PROXY_AGAIN;
        if (rc == XMPP_ERR_NOMEM)
            return rc;
        if (rc != XMPP_OK)
            return fail(p, XMPP_PROXY_ERR_MALFORMED, "HTTP reply: %s", xmpp__http_resp_error(p->http));
        status = xmpp__http_resp_status(p->http);
        snprintf(reason, sizeof(reason), "%s", xmpp__http_resp_reason(p->http)
                                                   ? xmpp__http_resp_reason(p->http)
                                                   : "");
        if (status >= 100 && status < 200 && status != 101) {
            /* an interim response: the final one follows */
            xmpp__http_resp_reset(p->http);
            xmpp__http_resp_set_head(p->http, 1);
            continue;
        }
        if (status >= 200 && status < 300) {
            p->st = P_DONE;
            xmpp__log(p->ctx, XMPP_LOG_INFO, "proxy", "HTTP tunnel to %s:%u open (%d)", p->host,
                      p->port, status);
            return XMPP_OK;
        }
        /* 407 (RFC 9110 §15.5.8); tinyproxy answers wrong credentials
         * with 401 */
        if (status == 407 || (status == 401 && p->user))
            return fail(p, p->user ? XMPP_PROXY_ERR_AUTH : XMPP_PROXY_ERR_AUTH_NEEDED,
                        "HTTP %d %s", status, reason);
        {
            int code = (status == 502 || status == 504) ? XMPP_PROXY_ERR_UNREACHABLE
                                                        : XMPP_PROXY_ERR_REFUSED;
            return fail(p, code, "%.80s:%u: HTTP %d %s", p->host, p->port, status, reason);
        }
    }
}

int xmpp__proxy_feed(xmpp__proxy *p, const void *data, size_t len, size_t *consumed,
                     xmpp_buf *out) {
    const unsigned char *d = data;
    size_t i = 0;
    int rc = XMPP_PROXY_AGAIN;
    if (consumed)
        *consumed = 0;
    if (p == NULL || out == NULL || (data == NULL && len > 0))
        return XMPP_ERR_INVALID;
    if (p->st == P_ERROR)
        return p->err;
    if (p->st == P_DONE)
        return XMPP_OK;
    if (p->st == P_NEW)
        return XMPP_ERR_STATE;
    if (p->st == P_HTTP) {
        rc = http_feed(p, d, len, &i);
        if (consumed)
            *consumed = i;
        return rc;
    }
    while (i < len && p->st != P_DONE && p->st != P_ERROR) {
        p->rbuf[p->rlen++] = d[i++];
        if (p->rlen == p->need) {
            rc = socks_step(p, out);
            if (rc == XMPP_ERR_NOMEM) {
                if (consumed)
                    *consumed = i;
                return fail(p, XMPP_ERR_NOMEM, "out of memory");
            }
        }
    }
    if (consumed)
        *consumed = i;
    if (p->st == P_ERROR)
        return p->err;
    return p->st == P_DONE ? XMPP_OK : XMPP_PROXY_AGAIN;
}

int xmpp__proxy_eof(xmpp__proxy *p) {
    if (p == NULL)
        return XMPP_ERR_INVALID;
    if (p->st == P_DONE)
        return XMPP_OK;
    if (p->st == P_ERROR)
        return p->err;
    return fail(p, XMPP_PROXY_ERR_CLOSED, "during the %s handshake",
                xmpp__proxy_type_name(p->type));
}

const char *xmpp__proxy_error(const xmpp__proxy *p) {
    return p ? p->msg : "";
}
