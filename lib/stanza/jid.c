/* XMPP addresses (RFC 7622): parsing, preparation of each part, comparison
 * on the prepared form (SECURITY.md ORG-09, ORG-10), and XEP-0106 escaping.
 *
 * Localpart: PRECIS UsernameCaseMapped (RFC 7622 §3.3, RFC 8265 §3.3).
 * Resourcepart: PRECIS OpaqueString (RFC 7622 §3.4, RFC 8265 §4.2).
 * Domainpart: IP literal or IDNA2008 through libidn2, kept as A-labels
 * (RFC 7622 §3.2). */
#include "core/internal.h"

#include <xmpp/jid.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <idn2.h>
#include <unistr.h>

#include "stanza/precis.h"

/* RFC 7622 §3.2, §3.3, §3.4: each part is 1 to 1023 octets once prepared. */
#define JID_PART_MAX 1023
/* Preparation never shrinks a part below a quarter of its input (the worst
 * case is a fullwidth letter, three octets, mapped to one ASCII octet), so
 * longer input is refused before any Unicode work is spent on it. */
#define JID_RAW_MAX (4 * JID_PART_MAX)

struct xmpp_jid {
    const xmpp_ctx *ctx;
    const char *local;    /* NULL when absent */
    const char *domain;   /* A-labels or IP literal */
    const char *domain_u; /* U-labels, for display */
    const char *resource; /* NULL when absent */
    const char *bare;
    const char *full;
    char data[]; /* all strings above, in the same allocation */
};

/* The raw parts of a JID; a NULL pointer means the part is absent. */
typedef struct jid_parts {
    const char *local;
    size_t llen;
    const char *domain;
    size_t dlen;
    const char *res;
    size_t rlen;
} jid_parts;

/* ---- one allocation for the whole JID ---- */

static char *put(char **p, const char *s, size_t n) {
    char *start = *p;
    memcpy(start, s, n);
    start[n] = '\0';
    *p += n + 1;
    return start;
}

static int jid_assemble(xmpp_jid **out, const xmpp_ctx *ctx, const char *local,
                        const char *domain, const char *domain_u,
                        const char *res) {
    size_t ll = local ? strlen(local) : 0, dl = strlen(domain);
    size_t ul = strlen(domain_u), rl = res ? strlen(res) : 0;
    size_t bare_len = (local ? ll + 1 : 0) + dl;
    size_t full_len = bare_len + (res ? rl + 1 : 0);
    size_t total;
    xmpp_jid *j;
    char *p, *bare;

    /* Every length is bounded by our own preparation (a few KiB at most),
     * so the sum cannot overflow. */
    total = sizeof(*j) + (ll + 1) + (dl + 1) + (ul + 1) + (rl + 1) +
            (bare_len + 1) + (res ? full_len + 1 : 0);
    j = xmpp__malloc(ctx, total);
    if (j == NULL)
        return XMPP_ERR_NOMEM;
    j->ctx = ctx;
    p = j->data;
    j->local = local ? put(&p, local, ll) : NULL;
    j->domain = put(&p, domain, dl);
    j->domain_u = put(&p, domain_u, ul);
    j->resource = res ? put(&p, res, rl) : NULL;
    bare = p;
    if (local) {
        memcpy(p, local, ll);
        p[ll] = '@';
        p += ll + 1;
    }
    put(&p, domain, dl);
    j->bare = bare;
    if (res) {
        char *full = p;
        memcpy(p, bare, bare_len);
        p[bare_len] = '/';
        p += bare_len + 1;
        put(&p, res, rl);
        j->full = full;
    } else {
        j->full = bare;
    }
    *out = j;
    return XMPP_OK;
}

/* ---- domainpart (RFC 7622 §3.2) ---- */

static int is_ascii_digit(char c) {
    return c >= '0' && c <= '9';
}

static int is_ldh(char c) {
    return (c >= 'a' && c <= 'z') || is_ascii_digit(c) || c == '-';
}

/* RFC 7622 §3.2.1 allows NR-LDH labels and U-labels; after conversion
 * every label is LDH (RFC 5890 §2.3.1, host name syntax of RFC 1123 §2.1):
 * 1 to 63 octets, no hyphen at either end. A top-level label that is all
 * digits is refused (RFC 3696 §2), so "127.1" is never taken for a name. */
static int hostname_ok(const char *s) {
    const char *label = s, *p;
    int all_digits = 1;

    for (p = s;; p++) {
        if (*p == '.' || *p == '\0') {
            size_t n = (size_t)(p - label);
            if (n == 0 || n > 63 || label[0] == '-' || p[-1] == '-')
                return 0;
            if (*p == '\0')
                return !all_digits;
            label = p + 1;
            all_digits = 1;
            continue;
        }
        if (!is_ldh(*p))
            return 0;
        if (!is_ascii_digit(*p))
            all_digits = 0;
    }
}

static int idn2_error(int rc) {
    if (rc == IDN2_MALLOC)
        return XMPP_ERR_NOMEM;
    if (rc == IDN2_BIDI) /* RFC 5893 through RFC 5891 §5.4 */
        return XMPP_ERR_JID_BIDI;
    return XMPP_ERR_JID_DOMAIN;
}

static int dup_domain(const xmpp_ctx *ctx, const char *a, const char *u,
                      char **aform, char **uform) {
    *aform = xmpp__strdup(ctx, a);
    *uform = u != NULL ? xmpp__strdup(ctx, u) : NULL;
    if (*aform == NULL || (u != NULL && *uform == NULL)) {
        xmpp__free(ctx, *aform);
        xmpp__free(ctx, *uform);
        *aform = *uform = NULL;
        return XMPP_ERR_NOMEM;
    }
    return XMPP_OK;
}

/* RFC 7622 §3.2.1: an IPv6 address as an RFC 3986 IP-literal. The text
 * form is made canonical (RFC 5952, as inet_ntop writes it) so that two
 * spellings of one address compare equal. Zone ids and IPvFuture are not
 * accepted. */
static int prepare_ipv6(const xmpp_ctx *ctx, const char *in, size_t len,
                        char **aform) {
    char text[INET6_ADDRSTRLEN], lit[INET6_ADDRSTRLEN + 2];
    struct in6_addr addr;
    char *none = NULL;

    if (len < 4 || in[len - 1] != ']' || len - 2 >= sizeof(text))
        return XMPP_ERR_JID_DOMAIN;
    memcpy(text, in + 1, len - 2);
    text[len - 2] = '\0';
    if (inet_pton(AF_INET6, text, &addr) != 1 ||
        inet_ntop(AF_INET6, &addr, text, sizeof(text)) == NULL)
        return XMPP_ERR_JID_DOMAIN;
    snprintf(lit, sizeof(lit), "[%s]", text);
    return dup_domain(ctx, lit, NULL, aform, &none);
}

/* RFC 7622 §3.2.1: an IPv4 address in dotted-decimal form. Returns 1 when
 * the input is one (with *rc set), 0 when it must be treated as a name. */
static int prepare_ipv4(const xmpp_ctx *ctx, const char *in, size_t len,
                        char **aform, int *rc) {
    char text[INET_ADDRSTRLEN];
    struct in_addr addr;
    char *none = NULL;

    if (len >= sizeof(text))
        return 0;
    memcpy(text, in, len);
    text[len] = '\0';
    if (inet_pton(AF_INET, text, &addr) != 1 ||
        inet_ntop(AF_INET, &addr, text, sizeof(text)) == NULL)
        return 0;
    *rc = dup_domain(ctx, text, NULL, aform, &none);
    return 1;
}

/* A fully qualified domain name: the RFC 5895 §2 mappings that RFC 7622
 * §3.2.2 asks for (width, lower case where IDNA2008 needs it, NFC), then
 * IDNA2008 (RFC 5891) by
 * libidn2 without UTS #46 processing, whose mappings go well beyond
 * RFC 5895 and whose STD3 mode silently deletes characters. */
static int prepare_idn(const xmpp_ctx *ctx, const char *in, size_t len,
                       char **aform, char **uform) {
    const int flags = IDN2_NFC_INPUT | IDN2_NO_TR46;
    char *mapped = NULL, *u = NULL, *p;
    uint8_t *a = NULL, *a2 = NULL;
    int rc, irc;

    rc = xmpp__precis_map(ctx, in, len,
                          XMPP__PRECIS_MAP_WIDTH | XMPP__PRECIS_MAP_LOWER_IDNA |
                              XMPP__PRECIS_MAP_NFC,
                          &mapped, NULL);
    if (rc != XMPP_OK)
        return rc;
    irc = idn2_lookup_u8((const uint8_t *)mapped, &a, flags);
    if (irc != IDN2_OK) {
        rc = idn2_error(irc);
        goto done;
    }
    for (p = (char *)a; *p; p++) /* "XN--" prefixes keep their case */
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    if (!hostname_ok((const char *)a) || strlen((const char *)a) > JID_PART_MAX) {
        rc = XMPP_ERR_JID_DOMAIN;
        goto done;
    }
    irc = idn2_to_unicode_8z8z((const char *)a, &u, 0);
    if (irc != IDN2_OK) {
        rc = idn2_error(irc);
        goto done;
    }
    /* Only a canonical A-label survives the way back (RFC 5891 §5.4
     * requires A-labels to be valid U-labels in disguise): this refuses
     * "xn--" garbage that decodes to something else. */
    irc = idn2_lookup_u8((const uint8_t *)u, &a2, flags);
    if (irc != IDN2_OK || strcmp((const char *)a, (const char *)a2) != 0) {
        rc = irc == IDN2_MALLOC ? XMPP_ERR_NOMEM : XMPP_ERR_JID_DOMAIN;
        goto done;
    }
    rc = dup_domain(ctx, (const char *)a, u, aform, uform);
done:
    free(a); /* libidn2 allocates with malloc */
    free(a2);
    free(u);
    xmpp__free(ctx, mapped);
    return rc;
}

/* On success *aform is set; *uform is set, or NULL when it equals *aform. */
static int prepare_domain(const xmpp_ctx *ctx, const char *in, size_t len,
                          char **aform, char **uform) {
    int rc;

    *aform = *uform = NULL;
    /* RFC 7622 §3.2: a trailing dot is stripped before anything else. */
    if (len > 0 && in[len - 1] == '.')
        len--;
    if (len == 0)
        return XMPP_ERR_JID_EMPTY_DOMAIN;
    /* A separator in the domainpart ("a@b@c"): RFC 7622 §3.1 splits at
     * the first '@', so a second one is misplaced. */
    if (memchr(in, '@', len) != NULL || memchr(in, '/', len) != NULL)
        return XMPP_ERR_JID_MALFORMED;
    if (in[0] == '[')
        return prepare_ipv6(ctx, in, len, aform);
    if (prepare_ipv4(ctx, in, len, aform, &rc))
        return rc;
    return prepare_idn(ctx, in, len, aform, uform);
}

/* ---- localpart and resourcepart ---- */

static int precis_error(int rc, int part_err) {
    if (rc == XMPP_OK || rc == XMPP_ERR_NOMEM)
        return rc;
    if (rc == XMPP__PRECIS_EBIDI)
        return XMPP_ERR_JID_BIDI;
    return part_err;
}

static int prepare_local(const xmpp_ctx *ctx, const char *in, size_t len,
                         char **out) {
    size_t n = 0;
    int rc = xmpp__precis_username_casemapped(ctx, in, len, out, &n);
    rc = precis_error(rc, XMPP_ERR_JID_LOCAL);
    if (rc != XMPP_OK)
        return rc;
    if (n > JID_PART_MAX)
        rc = XMPP_ERR_JID_TOO_LONG;
    /* RFC 7622 §3.3.1: eight ASCII characters that the IdentifierClass
     * allows stay out of localparts. Checked after mapping so that
     * FULLWIDTH COMMERCIAL AT cannot turn into '@'. */
    else if (strpbrk(*out, "\"&'/:<>@") != NULL)
        rc = XMPP_ERR_JID_LOCAL;
    if (rc != XMPP_OK) {
        xmpp__free(ctx, *out);
        *out = NULL;
    }
    return rc;
}

/* RFC 8265 §4.2.3 gives OpaqueString no directionality rule. We apply the
 * Bidi Rule to resourceparts that hold right-to-left characters anyway:
 * resources are shown to users (MUC nicknames), and SECURITY.md ORG-09
 * asks for bidi violations to be refused in every part. */
#define RESOURCE_BIDI 1

static int prepare_resource(const xmpp_ctx *ctx, const char *in, size_t len,
                            char **out) {
    size_t n = 0;
    int rc = xmpp__precis_opaque_string(ctx, in, len, RESOURCE_BIDI, out, &n);
    rc = precis_error(rc, XMPP_ERR_JID_RESOURCE);
    if (rc == XMPP_OK && n > JID_PART_MAX) {
        xmpp__free(ctx, *out);
        *out = NULL;
        rc = XMPP_ERR_JID_TOO_LONG;
    }
    return rc;
}

/* ---- parse and build ---- */

static int check_shape(const jid_parts *p) {
    if (p->local != NULL && p->llen == 0)
        return XMPP_ERR_JID_EMPTY_LOCAL;
    if (p->dlen == 0)
        return XMPP_ERR_JID_EMPTY_DOMAIN;
    if (p->res != NULL && p->rlen == 0)
        return XMPP_ERR_JID_EMPTY_RESOURCE;
    if (p->llen > JID_RAW_MAX || p->dlen > JID_RAW_MAX || p->rlen > JID_RAW_MAX)
        return XMPP_ERR_JID_TOO_LONG;
    if (p->local != NULL && (memchr(p->local, '@', p->llen) != NULL ||
                             memchr(p->local, '/', p->llen) != NULL))
        return XMPP_ERR_JID_MALFORMED; /* only reachable from xmpp_jid_new */
    return XMPP_OK;
}

static int jid_build(xmpp_jid **out, const xmpp_ctx *ctx, const jid_parts *p) {
    char *local = NULL, *adom = NULL, *udom = NULL, *res = NULL;
    int rc = check_shape(p);

    if (rc == XMPP_OK)
        rc = prepare_domain(ctx, p->domain, p->dlen, &adom, &udom);
    if (rc == XMPP_OK && p->local != NULL)
        rc = prepare_local(ctx, p->local, p->llen, &local);
    if (rc == XMPP_OK && p->res != NULL)
        rc = prepare_resource(ctx, p->res, p->rlen, &res);
    if (rc == XMPP_OK)
        rc = jid_assemble(out, ctx, local, adom, udom ? udom : adom, res);
    xmpp__free(ctx, local);
    xmpp__free(ctx, adom);
    xmpp__free(ctx, udom);
    xmpp__free(ctx, res);
    return rc;
}

static int utf8_ok(const char *s) {
    return s == NULL || u8_check((const uint8_t *)s, strlen(s)) == NULL;
}

int xmpp_jid_parse(xmpp_jid **out, xmpp_ctx *ctx, const char *str) {
    const char *slash, *at;
    size_t len, blen;
    jid_parts p;

    if (out == NULL)
        return XMPP_ERR_INVALID;
    *out = NULL;
    if (ctx == NULL || str == NULL)
        return XMPP_ERR_INVALID;
    len = strlen(str);
    if (!utf8_ok(str))
        return XMPP_ERR_UTF8;
    /* RFC 7622 §3.1: the resourcepart starts after the first '/'; the
     * localpart ends at the first '@' before it. */
    slash = memchr(str, '/', len);
    blen = slash ? (size_t)(slash - str) : len;
    at = memchr(str, '@', blen);
    memset(&p, 0, sizeof(p));
    if (at != NULL) {
        p.local = str;
        p.llen = (size_t)(at - str);
        p.domain = at + 1;
        p.dlen = blen - p.llen - 1;
    } else {
        p.domain = str;
        p.dlen = blen;
    }
    if (slash != NULL) {
        p.res = slash + 1;
        p.rlen = len - blen - 1;
    }
    return jid_build(out, ctx, &p);
}

int xmpp_jid_new(xmpp_jid **out, xmpp_ctx *ctx, const char *local,
                 const char *domain, const char *resource) {
    jid_parts p;

    if (out == NULL)
        return XMPP_ERR_INVALID;
    *out = NULL;
    if (ctx == NULL || domain == NULL)
        return XMPP_ERR_INVALID;
    if (!utf8_ok(local) || !utf8_ok(domain) || !utf8_ok(resource))
        return XMPP_ERR_UTF8;
    p.local = local;
    p.llen = local ? strlen(local) : 0;
    p.domain = domain;
    p.dlen = strlen(domain);
    p.res = resource;
    p.rlen = resource ? strlen(resource) : 0;
    return jid_build(out, ctx, &p);
}

void xmpp_jid_free(xmpp_jid *jid) {
    if (jid != NULL)
        xmpp__free(jid->ctx, jid);
}

int xmpp_jid_copy(xmpp_jid **out, const xmpp_jid *jid) {
    if (out == NULL)
        return XMPP_ERR_INVALID;
    *out = NULL;
    if (jid == NULL)
        return XMPP_ERR_INVALID;
    return jid_assemble(out, jid->ctx, jid->local, jid->domain, jid->domain_u,
                        jid->resource);
}

int xmpp_jid_to_bare(xmpp_jid **out, const xmpp_jid *jid) {
    if (out == NULL)
        return XMPP_ERR_INVALID;
    *out = NULL;
    if (jid == NULL)
        return XMPP_ERR_INVALID;
    return jid_assemble(out, jid->ctx, jid->local, jid->domain, jid->domain_u,
                        NULL);
}

/* ---- accessors and comparison ---- */

const char *xmpp_jid_local(const xmpp_jid *jid) {
    return jid ? jid->local : NULL;
}

const char *xmpp_jid_domain(const xmpp_jid *jid) {
    return jid ? jid->domain : NULL;
}

const char *xmpp_jid_domain_unicode(const xmpp_jid *jid) {
    return jid ? jid->domain_u : NULL;
}

const char *xmpp_jid_resource(const xmpp_jid *jid) {
    return jid ? jid->resource : NULL;
}

const char *xmpp_jid_bare(const xmpp_jid *jid) {
    return jid ? jid->bare : NULL;
}

const char *xmpp_jid_full(const xmpp_jid *jid) {
    return jid ? jid->full : NULL;
}

int xmpp_jid_is_full(const xmpp_jid *jid) {
    return jid != NULL && jid->resource != NULL;
}

/* The localpart holds no '@' or '/' and the domainpart neither, so the
 * full string identifies the parts unambiguously: comparing it compares
 * each prepared part (RFC 7622 §3, SECURITY.md ORG-09). */
int xmpp_jid_equal(const xmpp_jid *a, const xmpp_jid *b) {
    return a != NULL && b != NULL && strcmp(a->full, b->full) == 0;
}

int xmpp_jid_bare_equal(const xmpp_jid *a, const xmpp_jid *b) {
    return a != NULL && b != NULL && strcmp(a->bare, b->bare) == 0;
}

int xmpp_jid_equal_str(const xmpp_jid *a, const char *b) {
    xmpp_jid *jb = NULL;
    int eq;
    if (a == NULL || b == NULL)
        return 0;
    if (xmpp_jid_parse(&jb, (xmpp_ctx *)a->ctx, b) != XMPP_OK)
        return 0;
    eq = xmpp_jid_equal(a, jb);
    xmpp_jid_free(jb);
    return eq;
}

/* ---- XEP-0106 escaping ---- */

/* XEP-0106 §3.2, §3.3: the ten sequences, lower-case hex only ("CASE IS
 * SIGNIFICANT", §3.1). */
static const struct {
    char hex[3];
    char c;
} xep0106_seq[] = {{"20", ' '}, {"22", '"'}, {"26", '&'},  {"27", '\''},
                   {"2f", '/'}, {"3a", ':'}, {"3c", '<'},  {"3e", '>'},
                   {"40", '@'}, {"5c", '\\'}};

/* @p p points just after a backslash. Returns the character the sequence
 * there stands for, or 0 when it is none of the ten. Never reads past the
 * terminating NUL: p[1] is read only when p[0] matched a digit. */
static char escape_decode(const char *p) {
    size_t i;
    for (i = 0; i < sizeof(xep0106_seq) / sizeof(xep0106_seq[0]); i++)
        if (p[0] == xep0106_seq[i].hex[0] && p[1] == xep0106_seq[i].hex[1])
            return xep0106_seq[i].c;
    return 0;
}

int xmpp_jid_escape(xmpp_ctx *ctx, const char *local, char **out) {
    static const char hex[] = "0123456789abcdef";
    size_t len, i, o = 0;
    char *buf;

    if (out == NULL)
        return XMPP_ERR_INVALID;
    *out = NULL;
    if (ctx == NULL || local == NULL)
        return XMPP_ERR_INVALID;
    len = strlen(local);
    /* XEP-0106 §3.2 and §4.1 rule 6: \20 is never first or last. */
    if (len == 0 || local[0] == ' ' || local[len - 1] == ' ')
        return XMPP_ERR_JID_ESCAPE;
    if (len > (SIZE_MAX - 1) / 3)
        return XMPP_ERR_NOMEM;
    buf = xmpp__malloc(ctx, len * 3 + 1);
    if (buf == NULL)
        return XMPP_ERR_NOMEM;
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)local[i];
        /* XEP-0106 §4.1 rule 7 and §4.3: a backslash is escaped only when
         * it starts one of the ten sequences; any other one is kept. */
        int esc = c == '\\' ? escape_decode(local + i + 1) != 0
                            : (c != '\0' && strchr(" \"&'/:<>@", c) != NULL);
        if (esc) {
            buf[o++] = '\\';
            buf[o++] = hex[c >> 4];
            buf[o++] = hex[c & 0xF];
        } else {
            buf[o++] = (char)c;
        }
    }
    buf[o] = '\0';
    *out = buf;
    return XMPP_OK;
}

int xmpp_jid_unescape(xmpp_ctx *ctx, const char *local, char **out) {
    size_t len, i, o = 0;
    char *buf;

    if (out == NULL)
        return XMPP_ERR_INVALID;
    *out = NULL;
    if (ctx == NULL || local == NULL)
        return XMPP_ERR_INVALID;
    len = strlen(local);
    buf = xmpp__malloc(ctx, len + 1);
    if (buf == NULL)
        return XMPP_ERR_NOMEM;
    for (i = 0; i < len; i++) {
        char c = local[i] == '\\' ? escape_decode(local + i + 1) : 0;
        /* XEP-0106 §4.1 rule 3: only the defined sequences are decoded. */
        if (c != 0) {
            buf[o++] = c;
            i += 2;
        } else {
            buf[o++] = local[i];
        }
    }
    buf[o] = '\0';
    *out = buf;
    return XMPP_OK;
}
