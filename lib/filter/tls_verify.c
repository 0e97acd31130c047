/* Server certificate verification: chain status mapping (GnuTLS), the
 * identity check (RFC 6125, RFC 6120 §13.7.2.1), SPKI pins and the
 * application callback.
 *
 * The identity check is our own code: gnutls_x509_crt_check_hostname()
 * knows neither SRV-ID nor XmppAddr, and its CN fallback and wildcard rules
 * are GnuTLS policy, not ours. */
#include "filter/tls_int.h"

#include <string.h>

#define OID_XMPPADDR "1.3.6.1.5.5.7.8.5" /* id-on-xmppAddr, RFC 6120 §13.7.1.4 */
#define OID_SRVNAME  "1.3.6.1.5.5.7.8.7" /* id-on-dnsSRV, RFC 4985 §2 */
#define OID_SAN      "2.5.29.17"
#define MAX_NAME     253 /* RFC 1035 §2.3.4, without the trailing dot */

/* --- RFC 6125 matching ------------------------------------------------ */

static unsigned char lower(unsigned char c) {
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + ('a' - 'A')) : c;
}

/* ASCII case-insensitive equality of two byte strings (RFC 6125 §6.4.1:
 * A-labels compare case-insensitively; no Unicode folding is needed). */
static int ascii_eq(const char *a, size_t an, const char *b, size_t bn) {
    size_t i;
    if (an != bn)
        return 0;
    for (i = 0; i < an; i++)
        if (lower((unsigned char)a[i]) != lower((unsigned char)b[i]))
            return 0;
    return 1;
}

static int ldh_char(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
}

/* A presented host name must be plain LDH labels separated by dots: this
 * rejects embedded NULs, non-ASCII (U-labels), empty labels and any '*'. */
static int hostname_ok(const char *s, size_t n) {
    size_t i, label = 0;
    if (n == 0 || n > MAX_NAME)
        return 0;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '.') {
            if (label == 0)
                return 0;
            label = 0;
        } else if (ldh_char(c)) {
            if (++label > 63)
                return 0;
        } else {
            return 0;
        }
    }
    return label > 0;
}

static size_t strip_dot(const char *s, size_t n) {
    return (n > 0 && s[n - 1] == '.') ? n - 1 : n;
}

/* The reference must be a DNS name: an all-numeric last label means an
 * IPv4 literal, which no DNS-ID, SRV-ID or CN-ID may match (RFC 6125
 * §1.7.2: IP-IDs are out of scope; we do not check iPAddress SANs). */
static int ref_ok(const char *ref) {
    size_t n = strip_dot(ref, strlen(ref)), i = n;
    if (!hostname_ok(ref, n))
        return 0;
    while (i > 0 && ref[i - 1] != '.')
        i--;
    for (; i < n; i++)
        if (ref[i] < '0' || ref[i] > '9')
            return 1;
    return 0;
}

int xmpp__tls_dns_id_match(const char *ref, const char *presented, size_t plen) {
    size_t rlen;
    const char *dot;
    if (ref == NULL || presented == NULL)
        return 0;
    if (!ref_ok(ref))
        return 0;
    rlen = strip_dot(ref, strlen(ref));
    plen = strip_dot(presented, plen);
    if (plen >= 2 && presented[0] == '*' && presented[1] == '.') {
        /* RFC 6125 §6.4.3, RFC 9525 §6.3: the wildcard is the whole
         * left-most label and matches exactly one label. The rest must
         * hold at least two labels, so "*.com" matches nothing, and the
         * apex ("*.example.com" vs "example.com") never matches. */
        const char *rest = presented + 2;
        size_t restlen = plen - 2;
        if (!hostname_ok(rest, restlen) || memchr(rest, '.', restlen) == NULL)
            return 0;
        dot = memchr(ref, '.', rlen);
        if (dot == NULL || dot == ref)
            return 0;
        return ascii_eq(dot + 1, rlen - (size_t)(dot + 1 - ref), rest, restlen);
    }
    /* Partial wildcards ("f*.example.com", "xn--*") and wildcards in any
     * other label fail hostname_ok(). */
    if (!hostname_ok(presented, plen))
        return 0;
    return ascii_eq(ref, rlen, presented, plen);
}

/* "_xmpp-client.example.com" (RFC 6120 §13.7.1.2.1, RFC 4985): the
 * service label compared case-insensitively, the name exactly (no
 * wildcards in SRV-IDs). Direct TLS also accepts "_xmpps-client"
 * (XEP-0368 keeps the STARTTLS rules; this is the service it used). */
static int srv_id_match(const char *ref, const char *v, size_t n, int direct) {
    static const char svc[] = "_xmpp-client.";
    static const char svcs[] = "_xmpps-client.";
    size_t rlen = strip_dot(ref, strlen(ref));
    size_t skip = 0;
    if (n > sizeof(svc) - 1 && ascii_eq(v, sizeof(svc) - 1, svc, sizeof(svc) - 1))
        skip = sizeof(svc) - 1;
    else if (direct && n > sizeof(svcs) - 1 &&
             ascii_eq(v, sizeof(svcs) - 1, svcs, sizeof(svcs) - 1))
        skip = sizeof(svcs) - 1;
    if (skip == 0)
        return 0;
    v += skip;
    n = strip_dot(v, n - skip);
    return hostname_ok(v, n) && ascii_eq(ref, rlen, v, n);
}

/* XmppAddr holding a bare domain JID equal to the reference. Compared as
 * ASCII: a U-label XmppAddr does not match (no IDNA conversion here). */
static int xmppaddr_match(const char *ref, const char *v, size_t n) {
    size_t rlen = strip_dot(ref, strlen(ref));
    return hostname_ok(v, n) && ascii_eq(ref, rlen, v, n);
}

/* The value of an otherName is DER: a single primitive string of the
 * expected tag with a definite, minimal length that spans all the data. */
static int der_string(const unsigned char *p, size_t n, unsigned char tag, const char **v,
                      size_t *vlen) {
    size_t len, off = 2;
    if (n < 2 || p[0] != tag)
        return 0;
    len = p[1];
    if (len & 0x80) {
        size_t nb = len & 0x7f, i;
        if (nb == 0 || nb > 2 || n < 2 + nb)
            return 0;
        for (len = 0, i = 0; i < nb; i++)
            len = (len << 8) | p[2 + i];
        if (len < 0x80)
            return 0;
        off += nb;
    }
    if (off + len != n)
        return 0;
    *v = (const char *)p + off;
    *vlen = len;
    return 1;
}

typedef struct id_match {
    xmpp_tls_id_type type;
    const char *name;
    size_t len;
    int has_dns_srv_uri; /* RFC 6125 §6.4.4: then CN is not consulted */
} id_match;

static void consider(id_match *m, xmpp_tls_id_type type, const char *v, size_t n) {
    /* Prefer DNS-ID, then SRV-ID, then XmppAddr (the enum order). */
    if (m->type == XMPP_TLS_ID_NONE || type < m->type) {
        m->type = type;
        m->name = v;
        m->len = n;
    }
}

static void check_othername(id_match *m, const char *ref, int direct, const gnutls_datum_t *oid,
                            const gnutls_datum_t *san) {
    const char *v;
    size_t n;
    if (oid == NULL || oid->data == NULL)
        return;
    if (oid->size == sizeof(OID_SRVNAME) - 1 && memcmp(oid->data, OID_SRVNAME, oid->size) == 0) {
        m->has_dns_srv_uri = 1;
        /* SRVName ::= IA5String (RFC 4985 §2) */
        if (der_string(san->data, san->size, 0x16, &v, &n) && srv_id_match(ref, v, n, direct))
            consider(m, XMPP_TLS_ID_SRV, v, n);
    } else if (oid->size == sizeof(OID_XMPPADDR) - 1 &&
               memcmp(oid->data, OID_XMPPADDR, oid->size) == 0) {
        /* XmppAddr ::= UTF8String (RFC 6120 §13.7.1.4) */
        if (der_string(san->data, san->size, 0x0c, &v, &n) && xmppaddr_match(ref, v, n))
            consider(m, XMPP_TLS_ID_XMPPADDR, v, n);
    }
}

/* Walks the subjectAltName entries. Returns 0, or -1 when the extension is
 * present but cannot be parsed (treated as no match). */
static int scan_sans(gnutls_x509_crt_t crt, const char *ref, int direct, id_match *m,
                     gnutls_subject_alt_names_t *keep) {
    gnutls_datum_t ext = {NULL, 0};
    unsigned i, crit = 0;
    int rc;
    *keep = NULL;
    rc = gnutls_x509_crt_get_extension_by_oid2(crt, OID_SAN, 0, &ext, &crit);
    if (rc == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
        return 0;
    if (rc < 0)
        return -1;
    rc = gnutls_subject_alt_names_init(keep);
    if (rc >= 0)
        rc = gnutls_x509_ext_import_subject_alt_names(&ext, *keep, 0);
    gnutls_free(ext.data);
    if (rc < 0)
        return -1;
    for (i = 0;; i++) {
        unsigned type;
        gnutls_datum_t san, oid;
        rc = gnutls_subject_alt_names_get(*keep, i, &type, &san, &oid);
        if (rc < 0)
            break;
        if (type == GNUTLS_SAN_DNSNAME) {
            m->has_dns_srv_uri = 1;
            if (xmpp__tls_dns_id_match(ref, (const char *)san.data, san.size))
                consider(m, XMPP_TLS_ID_DNS, (const char *)san.data, san.size);
        } else if (type == GNUTLS_SAN_URI) {
            m->has_dns_srv_uri = 1; /* URI-IDs: none apply to XMPP */
        } else if (type == GNUTLS_SAN_OTHERNAME) {
            check_othername(m, ref, direct, &oid, &san);
        }
    }
    return rc == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE ? 0 : -1;
}

/* CN-ID fallback (RFC 6125 §6.4.4), only when the certificate has no
 * DNS-ID, SRV-ID or URI-ID, and only for a single, wildcard-free CN.
 * RFC 9525 drops CN-IDs; we keep the RFC 6125 rule for old deployments. */
static int check_cn(gnutls_x509_crt_t crt, const char *ref, char *buf, size_t cap, size_t *outlen) {
    size_t n = cap, n2 = cap;
    size_t rlen = strip_dot(ref, strlen(ref));
    if (gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 1, 0, buf, &n2) !=
        GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
        return 0; /* zero or several CNs, or an error */
    if (gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, 0, buf, &n) < 0 ||
        n >= cap)
        return 0;
    if (!hostname_ok(buf, n) || !ascii_eq(ref, rlen, buf, n))
        return 0;
    *outlen = n;
    return 1;
}

int xmpp__tls_match_identity(const xmpp_ctx *ctx, gnutls_x509_crt_t crt, const char *ref,
                             int direct, xmpp_tls_id_type *type, char **name) {
    id_match m;
    gnutls_subject_alt_names_t sans = NULL;
    char cn[MAX_NAME + 2];
    int rc = 0;
    memset(&m, 0, sizeof(m));
    *type = XMPP_TLS_ID_NONE;
    if (name != NULL)
        *name = NULL;
    if (!ref_ok(ref))
        return 0;
    if (scan_sans(crt, ref, direct, &m, &sans) < 0) {
        m.type = XMPP_TLS_ID_NONE;
        m.has_dns_srv_uri = 1;
    }
    if (m.type == XMPP_TLS_ID_NONE && !m.has_dns_srv_uri &&
        check_cn(crt, ref, cn, sizeof(cn), &m.len)) {
        m.type = XMPP_TLS_ID_CN;
        m.name = cn;
    }
    if (m.type != XMPP_TLS_ID_NONE) {
        rc = 1;
        *type = m.type;
        if (name != NULL) {
            *name = xmpp__strndup(ctx, m.name, m.len);
            if (*name == NULL)
                rc = XMPP_ERR_NOMEM;
        }
    }
    if (sans != NULL)
        gnutls_subject_alt_names_deinit(sans);
    return rc;
}

/* --- chain status ----------------------------------------------------- */

/* Maps GnuTLS status bits; any bit we do not know is a failure too
 * (SECURITY.md TLS-12). */
static unsigned map_status(unsigned st) {
    static const struct {
        unsigned g, x;
    } map[] = {
        {GNUTLS_CERT_REVOKED, XMPP_TLS_VERIFY_REVOKED},
        {GNUTLS_CERT_REVOCATION_DATA_SUPERSEDED, XMPP_TLS_VERIFY_REVOKED},
        {GNUTLS_CERT_REVOCATION_DATA_ISSUED_IN_FUTURE, XMPP_TLS_VERIFY_REVOKED},
        {GNUTLS_CERT_MISSING_OCSP_STATUS, XMPP_TLS_VERIFY_REVOKED},
        {GNUTLS_CERT_INVALID_OCSP_STATUS, XMPP_TLS_VERIFY_REVOKED},
        {GNUTLS_CERT_SIGNER_NOT_FOUND, XMPP_TLS_VERIFY_UNKNOWN_CA},
        {GNUTLS_CERT_SIGNER_NOT_CA, XMPP_TLS_VERIFY_SIGNER_NOT_CA},
        {GNUTLS_CERT_INSECURE_ALGORITHM, XMPP_TLS_VERIFY_INSECURE_ALGORITHM},
        {GNUTLS_CERT_NOT_ACTIVATED, XMPP_TLS_VERIFY_NOT_YET_VALID},
        {GNUTLS_CERT_EXPIRED, XMPP_TLS_VERIFY_EXPIRED},
        {GNUTLS_CERT_SIGNATURE_FAILURE, XMPP_TLS_VERIFY_SIGNATURE_FAILURE},
        {GNUTLS_CERT_UNEXPECTED_OWNER, XMPP_TLS_VERIFY_NAME_MISMATCH},
        {GNUTLS_CERT_SIGNER_CONSTRAINTS_FAILURE, XMPP_TLS_VERIFY_NAME_CONSTRAINTS},
        {GNUTLS_CERT_PURPOSE_MISMATCH, XMPP_TLS_VERIFY_PURPOSE_MISMATCH},
        {GNUTLS_CERT_MISMATCH, XMPP_TLS_VERIFY_OTHER},
        {GNUTLS_CERT_UNKNOWN_CRIT_EXTENSIONS, XMPP_TLS_VERIFY_OTHER},
    };
    unsigned f = 0, known = GNUTLS_CERT_INVALID;
    size_t i;
    for (i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
        known |= map[i].g;
        if (st & map[i].g)
            f |= map[i].x;
    }
    if ((st & ~known) != 0 || (st != 0 && f == 0))
        f |= XMPP_TLS_VERIFY_OTHER;
    return f;
}

static unsigned verify_chain(gnutls_session_t s, gnutls_x509_crt_t leaf, unsigned chain_len) {
    gnutls_typed_vdata_st purpose;
    unsigned status = 0;
    unsigned f;
    /* RFC 5280 §4.2.1.12: the EKU, when present, must allow serverAuth. */
    memset(&purpose, 0, sizeof(purpose));
    purpose.type = GNUTLS_DT_KEY_PURPOSE_OID;
    purpose.data = (unsigned char *)GNUTLS_KP_TLS_WWW_SERVER;
    if (gnutls_certificate_verify_peers(s, &purpose, 1, &status) < 0)
        return XMPP_TLS_VERIFY_OTHER;
    f = map_status(status);
    /* A lone self-issued certificate that is not a trust anchor is the
     * "self-signed" case, not an unknown CA. */
    if ((f & XMPP_TLS_VERIFY_UNKNOWN_CA) && chain_len == 1 &&
        gnutls_x509_crt_check_issuer(leaf, leaf)) {
        f &= ~(unsigned)XMPP_TLS_VERIFY_UNKNOWN_CA;
        f |= XMPP_TLS_VERIFY_SELF_SIGNED;
    }
    return f;
}

/* SHA-256 over the DER SubjectPublicKeyInfo (RFC 7469 §2.4). */
static int spki_sha256(gnutls_x509_crt_t crt, unsigned char out[32]) {
    gnutls_pubkey_t pk = NULL;
    gnutls_datum_t der = {NULL, 0};
    int rc = gnutls_pubkey_init(&pk);
    if (rc >= 0)
        rc = gnutls_pubkey_import_x509(pk, crt, 0);
    if (rc >= 0)
        rc = gnutls_pubkey_export2(pk, GNUTLS_X509_FMT_DER, &der);
    if (rc >= 0)
        rc = gnutls_hash_fast(GNUTLS_DIG_SHA256, der.data, der.size, out);
    gnutls_free(der.data);
    if (pk != NULL)
        gnutls_pubkey_deinit(pk);
    return rc;
}

static int pin_ok(const xmpp_tls_config *cfg, const xmpp_tls_verify_result *r) {
    size_t i;
    if (cfg->npins == 0)
        return 1;
    if (!r->have_spki)
        return 0;
    for (i = 0; i < cfg->npins; i++)
        if (memcmp(cfg->pins[i], r->spki, 32) == 0)
            return 1;
    return 0;
}

void xmpp__tls_verify_result_clear(xmpp_tls_verify_result *r) {
    const xmpp_ctx *ctx = r->ctx;
    xmpp__free(ctx, r->matched_name);
    xmpp__free(ctx, r->leaf_der);
    memset(r, 0, sizeof(*r));
    r->ctx = ctx;
}

/* Fills r from the leaf certificate. Returns XMPP_OK or XMPP_ERR_NOMEM. */
static int check_leaf(xmpp_tls_verify_result *r, gnutls_session_t s, const gnutls_datum_t *certs,
                      unsigned n, const char *domain, int direct) {
    gnutls_x509_crt_t leaf = NULL;
    int rc;
    if (gnutls_x509_crt_init(&leaf) < 0 ||
        gnutls_x509_crt_import(leaf, &certs[0], GNUTLS_X509_FMT_DER) < 0) {
        if (leaf != NULL)
            gnutls_x509_crt_deinit(leaf);
        r->failures |= XMPP_TLS_VERIFY_OTHER | XMPP_TLS_VERIFY_NAME_MISMATCH;
        return XMPP_OK;
    }
    r->failures |= verify_chain(s, leaf, n);
    r->leaf_der = xmpp__malloc(r->ctx, certs[0].size ? certs[0].size : 1);
    if (r->leaf_der == NULL) {
        gnutls_x509_crt_deinit(leaf);
        return XMPP_ERR_NOMEM;
    }
    memcpy(r->leaf_der, certs[0].data, certs[0].size);
    r->leaf_der_len = certs[0].size;
    r->have_spki = spki_sha256(leaf, r->spki) >= 0;
    rc = xmpp__tls_match_identity(r->ctx, leaf, domain, direct, &r->matched, &r->matched_name);
    gnutls_x509_crt_deinit(leaf);
    if (rc < 0)
        return rc;
    if (rc == 0)
        r->failures |= XMPP_TLS_VERIFY_NAME_MISMATCH;
    return XMPP_OK;
}

int xmpp__tls_verify_peer(xmpp_tls_verify_result *r, gnutls_session_t s, const xmpp_tls_config *cfg,
                          const char *domain, int direct) {
    const gnutls_datum_t *certs;
    unsigned n = 0;
    int rc;
    xmpp__tls_verify_result_clear(r);
    r->done = 1;
    r->reference = domain;
    certs = gnutls_certificate_get_peers(s, &n);
    if (certs == NULL || n == 0 || gnutls_certificate_type_get(s) != GNUTLS_CRT_X509) {
        r->failures = XMPP_TLS_VERIFY_NO_CERTIFICATE;
    } else {
        r->chain_len = n;
        rc = check_leaf(r, s, certs, n, domain, direct);
        if (rc < 0)
            return rc;
    }
    if (!pin_ok(cfg, r))
        r->failures |= XMPP_TLS_VERIFY_PIN_MISMATCH;
    if (cfg->verify_fn != NULL)
        return cfg->verify_fn(r, cfg->verify_ud) == 1;
    return r->failures == 0; /* fail closed */
}
