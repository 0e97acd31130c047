/* Definitions shared by the TLS filter files (tls.c, tls_config.c,
 * tls_verify.c). Not part of any API. */
#ifndef XMPP_FILTER_TLS_INT_H
#define XMPP_FILTER_TLS_INT_H

#include "core/internal.h"

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>
#include <gnutls/x509-ext.h>
#include <gnutls/x509.h>

#include <xmpp/tls.h>

struct xmpp_tls_config {
    xmpp_ctx *ctx;
    unsigned long refs;
    gnutls_certificate_credentials_t cred; /* trust anchors, client cert */
    int use_system;                        /* load the system store on first use */
    int system_loaded;                     /* the system store was tried (loaded once only) */
    int frozen;                            /* credentials in use by a session: read-only */
    int min_version;                       /* xmpp_tls_version */
    int max_version;                       /* xmpp_tls_version; 0: newest */
    unsigned char (*pins)[32];
    size_t npins;
    xmpp_tls_verify_fn verify_fn;
    void *verify_ud;
};

struct xmpp_tls_verify_result {
    const xmpp_ctx *ctx;
    int done;              /* verification has run */
    unsigned failures;     /* xmpp_tls_verify_failure bits */
    const char *reference; /* the domain (owned by the session) */
    xmpp_tls_id_type matched;
    char *matched_name; /* allocated, or NULL */
    unsigned chain_len;
    unsigned char *leaf_der; /* allocated, or NULL */
    size_t leaf_der_len;
    unsigned char spki[32];
    int have_spki;
};

/* Makes the credentials ready for a session: loads the system trust store
 * once and freezes the configuration. */
void xmpp__tls_config_prepare(xmpp_tls_config *cfg);

/* Runs every check on the peer's certificate and then the callback.
 * Returns 1 to accept, 0 to reject, XMPP_ERR_NOMEM. */
int xmpp__tls_verify_peer(xmpp_tls_verify_result *r, gnutls_session_t s, const xmpp_tls_config *cfg,
                          const char *domain, int direct);
void xmpp__tls_verify_result_clear(xmpp_tls_verify_result *r);

/* RFC 6125 §6.4 matching of one DNS-ID (presented, plen bytes, maybe with
 * a wildcard) against an A-label reference. 1 on match, 0 otherwise. */
int xmpp__tls_dns_id_match(const char *ref, const char *presented, size_t plen);

/* Identity check of a leaf certificate against ref (RFC 6120 §13.7.2.1):
 * sets *type and, when name is not NULL, a copy of the matched identifier.
 * Returns 1 matched, 0 not, XMPP_ERR_NOMEM. */
int xmpp__tls_match_identity(const xmpp_ctx *ctx, gnutls_x509_crt_t crt, const char *ref,
                             int direct, xmpp_tls_id_type *type, char **name);

#endif
