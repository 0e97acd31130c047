/* SCRAM client over GnuTLS primitives (RFC 5802, RFC 7677).
 *
 * Why not libgsasl's SCRAM (checked against /usr/include/gsasl.h and the
 * library of libgsasl 2.2.0):
 *  - no SCRAM-SHA-512: Gsasl_hash has only GSASL_HASH_SHA1 and
 *    GSASL_HASH_SHA256 (GSASL_HASH_MAX_SIZE is 32), and the library
 *    registers SCRAM-SHA-1[-PLUS] and SCRAM-SHA-256[-PLUS] only;
 *  - server-first extension attributes are not exposed: the only SCRAM
 *    properties are GSASL_SCRAM_ITER, _SALT, _SALTED_PASSWORD, _SERVERKEY
 *    and _STOREDKEY, so the XEP-0474 "h" attribute cannot be read and the
 *    client cannot verify it before sending its proof;
 *  - channel binding is offered only as GSASL_CB_TLS_UNIQUE and
 *    GSASL_CB_TLS_EXPORTER: there is no tls-server-end-point property, the
 *    type XEP-0440 makes mandatory for servers;
 *  - policy hooks we need (iteration floor and cap, salt cap) are absent.
 * We still use libgsasl for SASLprep (gsasl_saslprep, backed by libidn's
 * stringprep; see prep_password for a flag bug worked around), and GnuTLS for HMAC, hashes, PBKDF2 (gnutls_pbkdf2, present
 * since 3.6.13), random bytes, secret wiping and constant-time compare.
 * base64 is ours (stream/base64.h says why).
 *
 * Every intermediate key lives in a stack array wiped with gnutls_memset
 * before the function returns, on success and on every error path. */
#include "stream/scram.h"

#include <stdlib.h>
#include <string.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gsasl.h>

#include "core/buf.h"
#include "stream/base64.h"

#define SCRAM_NONCE_RAW 24      /* 192 random bits -> 32 base64 characters */
#define SCRAM_MAX_NONCE 255     /* injected client nonce */
#define SCRAM_MAX_ATTRS 32

enum { ST_NEW = 0, ST_FIRST = 1, ST_FINAL = 2, ST_DONE = 3, ST_FAILED = -1 };

struct xmpp__scram {
    const xmpp_ctx *ctx;
    gnutls_mac_algorithm_t mac;
    gnutls_digest_algorithm_t dig;
    size_t hlen;
    char *user;       /* escaped saslname (RFC 5802 §5.1) */
    char *authzid;    /* escaped, or NULL */
    char *password;   /* SASLprep'd; wiped and freed once the keys exist */
    size_t pwlen;
    char cbflag;
    char *cbname;
    uint8_t *ssdp;
    size_t ssdp_len;
    int ssdp_required;
    int ssdp_ok;
    unsigned min_iter, max_iter;
    char nonce[SCRAM_MAX_NONCE + 1];
    size_t nonce_len;
    char *cbind;      /* c= value: base64(gs2-header [cbind-data]) */
    char *cfmb;       /* client-first-message-bare */
    size_t cfmb_len;
    uint8_t server_sig[XMPP_SCRAM_MAX_HASH];
    char *error;      /* e= text */
    int state;
};

typedef struct scram_attr {
    char name;
    const char *val;
    size_t len;
} scram_attr;

/* ---- small helpers ---------------------------------------------------- */

static void wipe_free(const xmpp_ctx *ctx, void *p, size_t len) {
    if (p == NULL)
        return;
    gnutls_memset(p, 0, len);
    xmpp__free(ctx, p);
}


/* RFC 5802 §5.1: saslname escapes ',' as "=2C" and '=' as "=3D". */
static char *escape_saslname(const xmpp_ctx *ctx, const char *in) {
    xmpp_buf b;
    const char *p;
    xmpp__buf_init(&b, ctx);
    for (p = in; *p != '\0'; p++) {
        if (*p == ',')
            xmpp__buf_append(&b, "=2C", 3);
        else if (*p == '=')
            xmpp__buf_append(&b, "=3D", 3);
        else
            xmpp__buf_append_char(&b, *p);
    }
    return xmpp__buf_steal(&b, NULL);
}

/* RFC 5802 §7: printable = %x21-2B / %x2D-7E. */
static int nonce_ok(const char *n, size_t len) {
    size_t i;
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)n[i];
        if (c < 0x21 || c > 0x7e || c == ',')
            return 0;
    }
    return 1;
}

static void free_prepped(char *p) {
    if (p != NULL) {
        gnutls_memset(p, 0, strlen(p));
        free(p);
    }
}

/* RFC 5802 §2.2 Normalize(): SASLprep with unassigned code points
 * prohibited ("stored strings"). libgsasl 2.2.0 inverts its flag: it
 * passes STRINGPREP_NO_UNASSIGNED to libidn exactly when the caller sets
 * GSASL_ALLOW_UNASSIGNED, so flags 0 lets unassigned code points through
 * (U+0378 is accepted; verified against the installed library). To be
 * right with the buggy and a fixed library alike, we run both flag values
 * and require both to succeed: whichever call forbids unassigned code
 * points rejects them, and the mapping is the same for assigned input.
 * libgsasl allocates with malloc; the result is copied into context
 * memory and both libgsasl copies are wiped. */
static int prep_password(xmpp__scram *s, const char *pw) {
    char *a = NULL, *b = NULL;
    int ra = gsasl_saslprep(pw, 0, &a, NULL);
    int rb = gsasl_saslprep(pw, GSASL_ALLOW_UNASSIGNED, &b, NULL);
    int rc = XMPP_OK;
    size_t n = 0;
    if (ra == GSASL_MALLOC_ERROR || rb == GSASL_MALLOC_ERROR)
        rc = XMPP_ERR_NOMEM;
    else if (ra != GSASL_OK || rb != GSASL_OK || a == NULL || b == NULL ||
             a[0] == '\0' || strcmp(a, b) != 0)
        rc = XMPP_SASL_E_SASLPREP;
    if (rc == XMPP_OK) {
        n = strlen(a);
        s->password = xmpp__malloc(s->ctx, n + 1);
        if (s->password == NULL) {
            rc = XMPP_ERR_NOMEM;
        } else {
            memcpy(s->password, a, n + 1);
            s->pwlen = n;
        }
    }
    free_prepped(a);
    free_prepped(b);
    return rc;
}

static void drop_password(xmpp__scram *s) {
    wipe_free(s->ctx, s->password, s->pwlen);
    s->password = NULL;
    s->pwlen = 0;
}

/* Any failure ends the exchange: no secret outlives it (SASL-07). */
static int fail(xmpp__scram *s, int rc) {
    s->state = ST_FAILED;
    drop_password(s);
    gnutls_memset(s->server_sig, 0, sizeof(s->server_sig));
    return rc;
}

static int set_hash(xmpp__scram *s, xmpp__scram_hash h) {
    switch (h) {
    case XMPP_SCRAM_SHA1:
        s->mac = GNUTLS_MAC_SHA1;
        s->dig = GNUTLS_DIG_SHA1;
        break;
    case XMPP_SCRAM_SHA256:
        s->mac = GNUTLS_MAC_SHA256;
        s->dig = GNUTLS_DIG_SHA256;
        break;
    case XMPP_SCRAM_SHA512:
        s->mac = GNUTLS_MAC_SHA512;
        s->dig = GNUTLS_DIG_SHA512;
        break;
    default:
        return XMPP_ERR_INVALID;
    }
    s->hlen = gnutls_hash_get_len(s->dig);
    return XMPP_OK;
}

/* ---- construction ----------------------------------------------------- */

static int params_ok(const xmpp__scram_params *p) {
    if (p->authcid == NULL || p->authcid[0] == '\0' || p->password == NULL ||
        !xmpp__xml_text_ok(p->authcid, strlen(p->authcid)))
        return 0;
    if (p->authzid != NULL && !xmpp__xml_text_ok(p->authzid, strlen(p->authzid)))
        return 0;
    if (p->cbflag != 'n' && p->cbflag != 'y' && p->cbflag != 'p')
        return 0;
    if (p->cbflag == 'p' && (p->cbname == NULL || p->cbname[0] == '\0'))
        return 0;
    if (p->min_iter == 0 || p->max_iter < p->min_iter)
        return 0;
    return p->ssdp != NULL || p->ssdp_len == 0;
}

static int copy_params(xmpp__scram *s, const xmpp__scram_params *p) {
    s->user = escape_saslname(s->ctx, p->authcid);
    if (s->user == NULL)
        return XMPP_ERR_NOMEM;
    if (p->authzid != NULL && p->authzid[0] != '\0') {
        s->authzid = escape_saslname(s->ctx, p->authzid);
        if (s->authzid == NULL)
            return XMPP_ERR_NOMEM;
    }
    if (p->cbflag == 'p') {
        s->cbname = xmpp__strdup(s->ctx, p->cbname);
        if (s->cbname == NULL)
            return XMPP_ERR_NOMEM;
    }
    if (p->ssdp != NULL) {
        s->ssdp = xmpp__malloc(s->ctx, p->ssdp_len + 1);
        if (s->ssdp == NULL)
            return XMPP_ERR_NOMEM;
        memcpy(s->ssdp, p->ssdp, p->ssdp_len);
        s->ssdp_len = p->ssdp_len;
    }
    return prep_password(s, p->password);
}

int xmpp__scram_new(xmpp__scram **out, const xmpp_ctx *ctx,
                    const xmpp__scram_params *p) {
    xmpp__scram *s;
    int rc;
    if (out == NULL)
        return XMPP_ERR_INVALID;
    *out = NULL;
    if (ctx == NULL || p == NULL || !params_ok(p))
        return XMPP_ERR_INVALID;
    s = xmpp__malloc(ctx, sizeof(*s));
    if (s == NULL)
        return XMPP_ERR_NOMEM;
    memset(s, 0, sizeof(*s));
    s->ctx = ctx;
    s->cbflag = p->cbflag;
    s->ssdp_required = p->ssdp_required;
    s->min_iter = p->min_iter;
    s->max_iter = p->max_iter;
    rc = set_hash(s, p->hash);
    if (rc == XMPP_OK)
        rc = copy_params(s, p);
    if (rc != XMPP_OK) {
        xmpp__scram_free(s);
        return rc;
    }
    *out = s;
    return XMPP_OK;
}

int xmpp__scram_set_nonce(xmpp__scram *s, const char *nonce) {
    size_t n;
    if (s == NULL || nonce == NULL)
        return XMPP_ERR_INVALID;
    if (s->state != ST_NEW)
        return XMPP_ERR_STATE;
    n = strlen(nonce);
    if (n == 0 || n > SCRAM_MAX_NONCE || !nonce_ok(nonce, n))
        return XMPP_ERR_INVALID;
    memcpy(s->nonce, nonce, n + 1);
    s->nonce_len = n;
    return XMPP_OK;
}

void xmpp__scram_free(xmpp__scram *s) {
    const xmpp_ctx *ctx;
    if (s == NULL)
        return;
    ctx = s->ctx;
    drop_password(s);
    xmpp__free(ctx, s->user);
    xmpp__free(ctx, s->authzid);
    xmpp__free(ctx, s->cbname);
    xmpp__free(ctx, s->ssdp);
    xmpp__free(ctx, s->cbind);
    xmpp__free(ctx, s->cfmb);
    xmpp__free(ctx, s->error);
    gnutls_memset(s, 0, sizeof(*s));
    xmpp__free(ctx, s);
}

/* ---- client-first ----------------------------------------------------- */

static int make_nonce(xmpp__scram *s) {
    uint8_t raw[SCRAM_NONCE_RAW];
    if (s->nonce_len > 0)
        return XMPP_OK; /* injected by a test */
    if (gnutls_rnd(GNUTLS_RND_NONCE, raw, sizeof(raw)) < 0)
        return XMPP_ERR_NOMEM;
    s->nonce_len = xmpp__b64_encode(raw, sizeof(raw), s->nonce);
    return XMPP_OK;
}

/* RFC 5802 §7: gs2-header = gs2-cbind-flag "," [ authzid ] "," */
static void append_gs2_header(const xmpp__scram *s, xmpp_buf *b) {
    if (s->cbflag == 'p') {
        xmpp__buf_append_str(b, "p=");
        xmpp__buf_append_str(b, s->cbname);
    } else {
        xmpp__buf_append_char(b, s->cbflag);
    }
    xmpp__buf_append_char(b, ',');
    if (s->authzid != NULL) {
        xmpp__buf_append_str(b, "a=");
        xmpp__buf_append_str(b, s->authzid);
    }
    xmpp__buf_append_char(b, ',');
}

/* The c= attribute of client-final: base64(gs2-header [cbind-data])
 * (RFC 5802 §7, cbind-input). */
static int make_cbind(xmpp__scram *s, const uint8_t *cbdata, size_t cblen) {
    xmpp_buf b;
    char *raw;
    size_t rawlen, enclen;
    int rc;
    xmpp__buf_init(&b, s->ctx);
    append_gs2_header(s, &b);
    if (cblen > 0)
        xmpp__buf_append(&b, (const char *)cbdata, cblen);
    raw = xmpp__buf_steal(&b, &rawlen);
    if (raw == NULL)
        return XMPP_ERR_NOMEM;
    rc = xmpp__b64_encode_alloc(s->ctx, (const uint8_t *)raw, rawlen, &s->cbind,
                                &enclen);
    wipe_free(s->ctx, raw, rawlen);
    return rc;
}

static int make_cfmb(xmpp__scram *s) {
    xmpp_buf b;
    xmpp__buf_init(&b, s->ctx);
    xmpp__buf_append_str(&b, "n=");
    xmpp__buf_append_str(&b, s->user);
    xmpp__buf_append_str(&b, ",r=");
    xmpp__buf_append(&b, s->nonce, s->nonce_len);
    s->cfmb = xmpp__buf_steal(&b, &s->cfmb_len);
    return s->cfmb != NULL ? XMPP_OK : XMPP_ERR_NOMEM;
}

int xmpp__scram_client_first(xmpp__scram *s, const uint8_t *cbdata,
                             size_t cblen, char **out, size_t *len) {
    xmpp_buf b;
    int rc;
    if (s == NULL || out == NULL || len == NULL || (cbdata == NULL && cblen > 0))
        return XMPP_ERR_INVALID;
    *out = NULL;
    if (s->state != ST_NEW)
        return XMPP_ERR_STATE;
    if ((s->cbflag == 'p') != (cblen > 0) || cblen > XMPP_SASL_CB_MAX)
        return fail(s, XMPP_SASL_E_CB_DATA);
    rc = make_nonce(s);
    if (rc == XMPP_OK)
        rc = make_cbind(s, cbdata, cblen);
    if (rc == XMPP_OK)
        rc = make_cfmb(s);
    if (rc != XMPP_OK)
        return fail(s, rc);
    xmpp__buf_init(&b, s->ctx);
    append_gs2_header(s, &b);
    xmpp__buf_append(&b, s->cfmb, s->cfmb_len);
    *out = xmpp__buf_steal(&b, len);
    if (*out == NULL)
        return fail(s, XMPP_ERR_NOMEM);
    s->state = ST_FIRST;
    return XMPP_OK;
}

/* ---- parsing ---------------------------------------------------------- */

/* Splits "a=v,b=w" into attributes (RFC 5802 §7 attr-val: ALPHA "=" value,
 * value non-empty). Rejects NUL, invalid UTF-8, empty parts. */
static int split_attrs(const char *msg, size_t len, scram_attr *a, size_t *n) {
    size_t pos = 0, count = 0;
    if (len > XMPP_SCRAM_MAX_MSG)
        return XMPP_SASL_E_TOO_LONG;
    if (len == 0 || memchr(msg, '\0', len) != NULL || !xmpp__xml_text_ok(msg, len))
        return XMPP_SASL_E_MALFORMED;
    for (;;) {
        const char *comma = memchr(msg + pos, ',', len - pos);
        size_t end = comma != NULL ? (size_t)(comma - msg) : len;
        char c = msg[pos];
        if (count == SCRAM_MAX_ATTRS)
            return XMPP_SASL_E_MALFORMED;
        if (end - pos < 3 || msg[pos + 1] != '=' ||
            !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))
            return XMPP_SASL_E_MALFORMED;
        a[count].name = c;
        a[count].val = msg + pos + 2;
        a[count].len = end - pos - 2;
        count++;
        if (comma == NULL)
            break;
        pos = end + 1;
        if (pos == len)
            return XMPP_SASL_E_MALFORMED; /* trailing ',' */
    }
    *n = count;
    return XMPP_OK;
}

static int seen_before(const scram_attr *a, size_t k, char name) {
    size_t i;
    for (i = 0; i < k; i++)
        if (a[i].name == name)
            return 1;
    return 0;
}

/* Required attributes in the fixed order (RFC 5802 §5: "the order of
 * attributes ... is fixed"). An attribute met again where another is
 * required is a duplicate; otherwise the required one is missing. */
static int expect_attr(const scram_attr *a, size_t n, size_t k, char name) {
    if (k >= n)
        return XMPP_SASL_E_MISSING_ATTR;
    if (a[k].name == name)
        return XMPP_OK;
    return seen_before(a, k, a[k].name) ? XMPP_SASL_E_DUPLICATE_ATTR
                                        : XMPP_SASL_E_MISSING_ATTR;
}

/* Extensions after the required attributes: any order, each at most once;
 * 'm' is never acceptable (§5.1); unknown ones are ignored (§7). */
static int check_extensions(const scram_attr *a, size_t n, size_t first) {
    size_t k;
    for (k = first; k < n; k++) {
        if (a[k].name == 'm')
            return XMPP_SASL_E_EXTENSION;
        if (seen_before(a, k, a[k].name))
            return XMPP_SASL_E_DUPLICATE_ATTR;
    }
    return XMPP_OK;
}

static const scram_attr *find_attr(const scram_attr *a, size_t n, size_t first,
                                   char name) {
    size_t k;
    for (k = first; k < n; k++)
        if (a[k].name == name)
            return &a[k];
    return NULL;
}

static void keep_error(xmpp__scram *s, const scram_attr *e) {
    size_t n = e->len < XMPP_SCRAM_MAX_ERROR ? e->len : XMPP_SCRAM_MAX_ERROR;
    size_t i;
    xmpp__free(s->ctx, s->error);
    s->error = xmpp__malloc(s->ctx, n + 1);
    if (s->error == NULL)
        return; /* the error code still says what happened */
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)e->val[i];
        s->error[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
    }
    s->error[n] = '\0';
}

/* posit-number = %x31-39 *DIGIT (RFC 5802 §7), within [min, max]. */
static int parse_iter(const xmpp__scram *s, const scram_attr *a, unsigned *out) {
    unsigned long v = 0;
    size_t i;
    if (a->val[0] < '1' || a->val[0] > '9')
        return XMPP_SASL_E_ITERATIONS;
    for (i = 0; i < a->len; i++) {
        char c = a->val[i];
        if (c < '0' || c > '9')
            return XMPP_SASL_E_ITERATIONS;
        v = v * 10 + (unsigned long)(c - '0');
        if (v > s->max_iter)
            return XMPP_SASL_E_ITERATIONS; /* also stops any overflow */
    }
    if (v < s->min_iter)
        return XMPP_SASL_E_ITERATIONS;
    *out = (unsigned)v;
    return XMPP_OK;
}

static int check_nonce(const xmpp__scram *s, const scram_attr *r) {
    if (r->len <= s->nonce_len || memcmp(r->val, s->nonce, s->nonce_len) != 0 ||
        !nonce_ok(r->val, r->len))
        return XMPP_SASL_E_BAD_NONCE;
    return XMPP_OK;
}

static int decode_salt(const xmpp__scram *s, const scram_attr *a, uint8_t *salt,
                       size_t *saltlen) {
    (void)s;
    if (a->len > (XMPP_SCRAM_MAX_SALT + 2) / 3 * 4 ||
        xmpp__b64_decode(a->val, a->len, salt, saltlen) != XMPP_OK ||
        *saltlen == 0 || *saltlen > XMPP_SCRAM_MAX_SALT)
        return XMPP_SASL_E_BAD_SALT;
    return XMPP_OK;
}

/* XEP-0474 §Client Verifies: h = base64(H(S)) with the SCRAM hash. */
static int check_ssdp(xmpp__scram *s, const scram_attr *h) {
    uint8_t want[XMPP_SCRAM_MAX_HASH], got[XMPP_SCRAM_MAX_HASH + 3];
    size_t gotlen = 0;
    int rc = XMPP_OK;
    if (h == NULL)
        return s->ssdp_required ? XMPP_SASL_E_SSDP_MISSING : XMPP_OK;
    if (s->ssdp == NULL)
        return XMPP_OK; /* nothing to compare with: ignored as unknown */
    if (h->len != xmpp__b64_encoded_len(s->hlen))
        return XMPP_SASL_E_SSDP_MISMATCH;
    if (xmpp__b64_decode(h->val, h->len, got, &gotlen) != XMPP_OK)
        return XMPP_SASL_E_BASE64;
    if (gnutls_hash_fast(s->dig, s->ssdp, s->ssdp_len, want) < 0)
        return XMPP_ERR_NOMEM;
    if (gotlen != s->hlen || gnutls_memcmp(want, got, s->hlen) != 0)
        rc = XMPP_SASL_E_SSDP_MISMATCH;
    else
        s->ssdp_ok = 1;
    return rc;
}

typedef struct server_first {
    const scram_attr *nonce;
    uint8_t salt[XMPP_SCRAM_MAX_SALT + 2];
    size_t saltlen;
    unsigned iter;
} server_first;

static int parse_server_first(xmpp__scram *s, const char *msg, size_t len,
                              scram_attr *a, server_first *sf) {
    size_t n = 0;
    int rc = split_attrs(msg, len, a, &n);
    if (rc != XMPP_OK)
        return rc;
    if (a[0].name == 'm')
        return XMPP_SASL_E_EXTENSION; /* reserved-mext, RFC 5802 §5.1 */
    if (a[0].name == 'e') {
        keep_error(s, &a[0]);
        return XMPP_SASL_E_SERVER_ERROR;
    }
    if ((rc = expect_attr(a, n, 0, 'r')) != XMPP_OK ||
        (rc = expect_attr(a, n, 1, 's')) != XMPP_OK ||
        (rc = expect_attr(a, n, 2, 'i')) != XMPP_OK ||
        (rc = check_extensions(a, n, 3)) != XMPP_OK)
        return rc;
    sf->nonce = &a[0];
    if ((rc = check_nonce(s, &a[0])) != XMPP_OK ||
        (rc = decode_salt(s, &a[1], sf->salt, &sf->saltlen)) != XMPP_OK ||
        (rc = parse_iter(s, &a[2], &sf->iter)) != XMPP_OK)
        return rc;
    return check_ssdp(s, find_attr(a, n, 3, 'h'));
}

/* ---- key derivation and client-final ---------------------------------- */

typedef struct scram_keys {
    uint8_t salted[XMPP_SCRAM_MAX_HASH];
    uint8_t client_key[XMPP_SCRAM_MAX_HASH];
    uint8_t stored_key[XMPP_SCRAM_MAX_HASH];
    uint8_t client_sig[XMPP_SCRAM_MAX_HASH];
    uint8_t server_key[XMPP_SCRAM_MAX_HASH];
    uint8_t proof[XMPP_SCRAM_MAX_HASH];
} scram_keys;

/* RFC 5802 §3:
 *   SaltedPassword  := Hi(Normalize(password), salt, i)
 *   ClientKey       := HMAC(SaltedPassword, "Client Key")
 *   StoredKey       := H(ClientKey)
 *   ClientSignature := HMAC(StoredKey, AuthMessage)
 *   ClientProof     := ClientKey XOR ClientSignature
 *   ServerKey       := HMAC(SaltedPassword, "Server Key")
 *   ServerSignature := HMAC(ServerKey, AuthMessage)
 * Hi() is PBKDF2 with HMAC-H and dkLen = output length of H. */
static int derive(xmpp__scram *s, const server_first *sf, const char *authmsg,
                  size_t amlen, scram_keys *k) {
    gnutls_datum_t key, salt;
    size_t i;
    key.data = (unsigned char *)s->password;
    key.size = (unsigned)s->pwlen;
    salt.data = (unsigned char *)sf->salt;
    salt.size = (unsigned)sf->saltlen;
    if (gnutls_pbkdf2(s->mac, &key, &salt, sf->iter, k->salted, s->hlen) < 0 ||
        gnutls_hmac_fast(s->mac, k->salted, s->hlen, "Client Key", 10,
                         k->client_key) < 0 ||
        gnutls_hash_fast(s->dig, k->client_key, s->hlen, k->stored_key) < 0 ||
        gnutls_hmac_fast(s->mac, k->stored_key, s->hlen, authmsg, amlen,
                         k->client_sig) < 0 ||
        gnutls_hmac_fast(s->mac, k->salted, s->hlen, "Server Key", 10,
                         k->server_key) < 0 ||
        gnutls_hmac_fast(s->mac, k->server_key, s->hlen, authmsg, amlen,
                         s->server_sig) < 0)
        return XMPP_ERR_NOMEM; /* GnuTLS fails here only for lack of memory */
    for (i = 0; i < s->hlen; i++)
        k->proof[i] = k->client_key[i] ^ k->client_sig[i];
    return XMPP_OK;
}

/* client-final-message-without-proof = channel-binding "," nonce */
static char *final_without_proof(xmpp__scram *s, const scram_attr *nonce,
                                 size_t *len) {
    xmpp_buf b;
    xmpp__buf_init(&b, s->ctx);
    xmpp__buf_append_str(&b, "c=");
    xmpp__buf_append_str(&b, s->cbind);
    xmpp__buf_append_str(&b, ",r=");
    xmpp__buf_append(&b, nonce->val, nonce->len);
    return xmpp__buf_steal(&b, len);
}

/* AuthMessage := client-first-message-bare + "," + server-first-message +
 *                "," + client-final-message-without-proof */
static char *auth_message(xmpp__scram *s, const char *sfm, size_t sflen,
                          const char *cfwp, size_t cfwplen, size_t *len) {
    xmpp_buf b;
    xmpp__buf_init(&b, s->ctx);
    xmpp__buf_append(&b, s->cfmb, s->cfmb_len);
    xmpp__buf_append_char(&b, ',');
    xmpp__buf_append(&b, sfm, sflen);
    xmpp__buf_append_char(&b, ',');
    xmpp__buf_append(&b, cfwp, cfwplen);
    return xmpp__buf_steal(&b, len);
}

static int build_final(xmpp__scram *s, const char *msg, size_t len,
                       const server_first *sf, char **out, size_t *outlen) {
    scram_keys k;
    char *cfwp, *am = NULL, proof64[XMPP_SCRAM_MAX_HASH / 3 * 4 + 8];
    size_t cfwplen = 0, amlen = 0;
    int rc = XMPP_ERR_NOMEM;
    xmpp_buf b;

    memset(&k, 0, sizeof(k));
    cfwp = final_without_proof(s, sf->nonce, &cfwplen);
    if (cfwp != NULL)
        am = auth_message(s, msg, len, cfwp, cfwplen, &amlen);
    if (am != NULL)
        rc = derive(s, sf, am, amlen, &k);
    if (rc == XMPP_OK) {
        xmpp__b64_encode(k.proof, s->hlen, proof64);
        xmpp__buf_init(&b, s->ctx);
        xmpp__buf_append(&b, cfwp, cfwplen);
        xmpp__buf_append_str(&b, ",p=");
        xmpp__buf_append_str(&b, proof64);
        *out = xmpp__buf_steal(&b, outlen);
        if (*out == NULL)
            rc = XMPP_ERR_NOMEM;
    }
    gnutls_memset(&k, 0, sizeof(k));
    gnutls_memset(proof64, 0, sizeof(proof64));
    xmpp__free(s->ctx, am);
    xmpp__free(s->ctx, cfwp);
    return rc;
}

int xmpp__scram_client_final(xmpp__scram *s, const char *msg, size_t len,
                             char **out, size_t *outlen) {
    scram_attr a[SCRAM_MAX_ATTRS];
    server_first sf;
    int rc;
    if (s == NULL || out == NULL || outlen == NULL || (msg == NULL && len > 0))
        return XMPP_ERR_INVALID;
    *out = NULL;
    if (s->state != ST_FIRST)
        return XMPP_ERR_STATE;
    memset(&sf, 0, sizeof(sf));
    rc = parse_server_first(s, msg, len, a, &sf);
    if (rc == XMPP_OK)
        rc = build_final(s, msg, len, &sf, out, outlen);
    drop_password(s); /* never needed again, whatever happened */
    if (rc != XMPP_OK)
        return fail(s, rc);
    s->state = ST_FINAL;
    return XMPP_OK;
}

/* ---- server-final ----------------------------------------------------- */

/* server-final-message = (server-error / verifier) ["," extensions] */
int xmpp__scram_verify_final(xmpp__scram *s, const char *msg, size_t len) {
    scram_attr a[SCRAM_MAX_ATTRS];
    uint8_t v[XMPP_SCRAM_MAX_HASH + 3];
    size_t n = 0, vlen = 0;
    int rc;
    if (s == NULL || (msg == NULL && len > 0))
        return XMPP_ERR_INVALID;
    if (s->state != ST_FINAL && s->state != ST_DONE)
        return XMPP_ERR_STATE;
    if (len == 0)
        return fail(s, XMPP_SASL_E_NO_SIGNATURE); /* SASL-03 */
    rc = split_attrs(msg, len, a, &n);
    if (rc != XMPP_OK)
        return fail(s, rc);
    if (a[0].name == 'm')
        return fail(s, XMPP_SASL_E_EXTENSION);
    if (a[0].name == 'e') {
        keep_error(s, &a[0]);
        return fail(s, XMPP_SASL_E_SERVER_ERROR);
    }
    if (a[0].name != 'v')
        return fail(s, XMPP_SASL_E_NO_SIGNATURE);
    rc = check_extensions(a, n, 1);
    if (rc == XMPP_OK && find_attr(a, n, 1, 'e') != NULL)
        rc = XMPP_SASL_E_MALFORMED; /* verifier and error at once */
    if (rc != XMPP_OK)
        return fail(s, rc);
    if (a[0].len > sizeof(v) / 3 * 4 ||
        xmpp__b64_decode(a[0].val, a[0].len, v, &vlen) != XMPP_OK)
        return fail(s, XMPP_SASL_E_BASE64);
    /* SASL-07: constant-time comparison of the server signature */
    if (vlen != s->hlen || gnutls_memcmp(v, s->server_sig, s->hlen) != 0)
        return fail(s, XMPP_SASL_E_SIGNATURE);
    s->state = ST_DONE;
    return XMPP_OK;
}

int xmpp__scram_state(const xmpp__scram *s) {
    return s != NULL ? s->state : ST_FAILED;
}

int xmpp__scram_ssdp_verified(const xmpp__scram *s) {
    return s != NULL && s->ssdp_ok;
}

const char *xmpp__scram_server_error(const xmpp__scram *s) {
    return s != NULL ? s->error : NULL;
}
