/* The shareable TLS trust configuration and the verification result
 * accessors (include/xmpp/tls.h). */
#include "filter/tls_int.h"

#include <string.h>

static int map_load_error(int rc) {
    if (rc == GNUTLS_E_MEMORY_ERROR)
        return XMPP_ERR_NOMEM;
    if (rc == GNUTLS_E_FILE_ERROR)
        return XMPP_ERR_NOT_FOUND;
    return XMPP_ERR_INVALID;
}

int xmpp_tls_config_new(xmpp_tls_config **out, xmpp_ctx *ctx) {
    xmpp_tls_config *cfg;
    if (out == NULL)
        return XMPP_ERR_INVALID;
    *out = NULL;
    if (ctx == NULL)
        return XMPP_ERR_INVALID;
    cfg = xmpp__malloc(ctx, sizeof(*cfg));
    if (cfg == NULL)
        return XMPP_ERR_NOMEM;
    memset(cfg, 0, sizeof(*cfg));
    if (gnutls_certificate_allocate_credentials(&cfg->cred) < 0) {
        xmpp__free(ctx, cfg);
        return XMPP_ERR_NOMEM;
    }
    /* RFC 5280 §4.2.1.9: only v3 CAs with Basic Constraints may issue;
     * refuse even trusted version 1 roots. */
    gnutls_certificate_set_verify_flags(cfg->cred, GNUTLS_VERIFY_DO_NOT_ALLOW_X509_V1_CA_CRT);
    cfg->ctx = ctx;
    cfg->refs = 1;
    cfg->use_system = 1;
    cfg->min_version = XMPP_TLS_VERSION_1_2;
    *out = cfg;
    return XMPP_OK;
}

xmpp_tls_config *xmpp_tls_config_ref(xmpp_tls_config *cfg) {
    if (cfg != NULL)
        cfg->refs++;
    return cfg;
}

void xmpp_tls_config_unref(xmpp_tls_config *cfg) {
    if (cfg == NULL || --cfg->refs > 0)
        return;
    gnutls_certificate_free_credentials(cfg->cred);
    xmpp__free(cfg->ctx, cfg->pins);
    xmpp__free(cfg->ctx, cfg);
}

int xmpp_tls_config_use_system_trust(xmpp_tls_config *cfg, int on) {
    if (cfg == NULL)
        return XMPP_ERR_INVALID;
    if (cfg->frozen)
        return XMPP_ERR_STATE;
    cfg->use_system = on != 0;
    return XMPP_OK;
}

int xmpp_tls_config_add_cafile(xmpp_tls_config *cfg, const char *path) {
    int rc;
    if (cfg == NULL || path == NULL)
        return XMPP_ERR_INVALID;
    if (cfg->frozen)
        return XMPP_ERR_STATE;
    rc = gnutls_certificate_set_x509_trust_file(cfg->cred, path, GNUTLS_X509_FMT_PEM);
    if (rc < 0) {
        xmpp__log(cfg->ctx, XMPP_LOG_WARN, "tls", "CA file %s: %s", path, gnutls_strerror(rc));
        return map_load_error(rc);
    }
    return rc == 0 ? XMPP_ERR_INVALID : XMPP_OK;
}

int xmpp_tls_config_add_ca_pem(xmpp_tls_config *cfg, const char *pem, size_t len) {
    gnutls_datum_t d;
    int rc;
    if (cfg == NULL || pem == NULL || len == 0 || len > 0xffffffffu)
        return XMPP_ERR_INVALID;
    if (cfg->frozen)
        return XMPP_ERR_STATE;
    d.data = (unsigned char *)(uintptr_t)pem;
    d.size = (unsigned)len;
    rc = gnutls_certificate_set_x509_trust_mem(cfg->cred, &d, GNUTLS_X509_FMT_PEM);
    if (rc < 0)
        return rc == GNUTLS_E_MEMORY_ERROR ? XMPP_ERR_NOMEM : XMPP_ERR_INVALID;
    return rc == 0 ? XMPP_ERR_INVALID : XMPP_OK;
}

int xmpp_tls_config_set_client_cert(xmpp_tls_config *cfg, const char *certfile,
                                    const char *keyfile) {
    int rc;
    if (cfg == NULL || certfile == NULL || keyfile == NULL)
        return XMPP_ERR_INVALID;
    if (cfg->frozen)
        return XMPP_ERR_STATE;
    rc = gnutls_certificate_set_x509_key_file(cfg->cred, certfile, keyfile, GNUTLS_X509_FMT_PEM);
    if (rc < 0) {
        xmpp__log(cfg->ctx, XMPP_LOG_WARN, "tls", "client certificate: %s", gnutls_strerror(rc));
        return map_load_error(rc);
    }
    return XMPP_OK;
}

int xmpp_tls_config_add_pin_sha256(xmpp_tls_config *cfg, const unsigned char spki_sha256[32]) {
    unsigned char(*np)[32];
    if (cfg == NULL || spki_sha256 == NULL)
        return XMPP_ERR_INVALID;
    if (!xmpp__mul_ok(cfg->npins + 1, sizeof(*np)))
        return XMPP_ERR_NOMEM;
    np = xmpp__realloc(cfg->ctx, cfg->pins, (cfg->npins + 1) * sizeof(*np));
    if (np == NULL)
        return XMPP_ERR_NOMEM;
    memcpy(np[cfg->npins], spki_sha256, 32);
    cfg->pins = np;
    cfg->npins++;
    return XMPP_OK;
}

int xmpp_tls_config_set_max_version(xmpp_tls_config *cfg, xmpp_tls_version version) {
    if (cfg == NULL || (version != XMPP_TLS_VERSION_1_2 && version != XMPP_TLS_VERSION_1_3))
        return XMPP_ERR_INVALID;
    if (cfg->min_version > (int)version)
        return XMPP_ERR_INVALID;
    cfg->max_version = version;
    return XMPP_OK;
}

int xmpp_tls_config_set_min_version(xmpp_tls_config *cfg, xmpp_tls_version version) {
    if (cfg == NULL)
        return XMPP_ERR_INVALID;
    if (version != XMPP_TLS_VERSION_1_2 && version != XMPP_TLS_VERSION_1_3)
        return XMPP_ERR_INVALID;
    cfg->min_version = version;
    return XMPP_OK;
}

int xmpp_tls_config_set_verify_callback(xmpp_tls_config *cfg, xmpp_tls_verify_fn fn,
                                        void *user_data) {
    if (cfg == NULL)
        return XMPP_ERR_INVALID;
    cfg->verify_fn = fn;
    cfg->verify_ud = fn != NULL ? user_data : NULL;
    return XMPP_OK;
}

void xmpp__tls_config_prepare(xmpp_tls_config *cfg) {
    cfg->frozen = 1;
    if (!cfg->use_system || cfg->system_loaded)
        return;
    /* Parsed once per configuration, not per connection. */
    cfg->system_loaded = 1;
    {
        int rc = gnutls_certificate_set_x509_system_trust(cfg->cred);
        if (rc < 0)
            xmpp__log(cfg->ctx, XMPP_LOG_WARN, "tls", "system trust store not loaded: %s",
                      gnutls_strerror(rc));
        else if (rc == 0)
            xmpp__log(cfg->ctx, XMPP_LOG_WARN, "tls", "system trust store is empty");
        else
            xmpp__log(cfg->ctx, XMPP_LOG_DEBUG, "tls", "%d system trust anchors loaded", rc);
    }
}

/* --- verification result accessors --- */

unsigned xmpp_tls_verify_result_failures(const xmpp_tls_verify_result *res) {
    return res != NULL ? res->failures : XMPP_TLS_VERIFY_OTHER;
}

const char *xmpp_tls_verify_result_reference(const xmpp_tls_verify_result *res) {
    return res != NULL && res->reference != NULL ? res->reference : "";
}

xmpp_tls_id_type xmpp_tls_verify_result_matched_type(const xmpp_tls_verify_result *res) {
    return res != NULL ? res->matched : XMPP_TLS_ID_NONE;
}

const char *xmpp_tls_verify_result_matched_name(const xmpp_tls_verify_result *res) {
    return res != NULL ? res->matched_name : NULL;
}

unsigned xmpp_tls_verify_result_chain_length(const xmpp_tls_verify_result *res) {
    return res != NULL ? res->chain_len : 0;
}

int xmpp_tls_verify_result_leaf_der(const xmpp_tls_verify_result *res, const unsigned char **der,
                                    size_t *len) {
    if (res == NULL || der == NULL || len == NULL)
        return XMPP_ERR_INVALID;
    *der = NULL;
    *len = 0;
    if (res->leaf_der == NULL)
        return XMPP_ERR_NOT_FOUND;
    *der = res->leaf_der;
    *len = res->leaf_der_len;
    return XMPP_OK;
}

int xmpp_tls_verify_result_spki_sha256(const xmpp_tls_verify_result *res, unsigned char out[32]) {
    if (res == NULL || out == NULL)
        return XMPP_ERR_INVALID;
    if (!res->have_spki)
        return XMPP_ERR_NOT_FOUND;
    memcpy(out, res->spki, 32);
    return XMPP_OK;
}

const char *xmpp_tls_verify_failure_name(unsigned failure) {
    switch (failure) {
    case XMPP_TLS_VERIFY_NAME_MISMATCH:
        return "name mismatch";
    case XMPP_TLS_VERIFY_EXPIRED:
        return "certificate expired";
    case XMPP_TLS_VERIFY_NOT_YET_VALID:
        return "certificate not yet valid";
    case XMPP_TLS_VERIFY_SELF_SIGNED:
        return "self-signed certificate";
    case XMPP_TLS_VERIFY_UNKNOWN_CA:
        return "unknown certificate authority";
    case XMPP_TLS_VERIFY_SIGNER_NOT_CA:
        return "issuer is not a CA";
    case XMPP_TLS_VERIFY_INSECURE_ALGORITHM:
        return "insecure signature algorithm";
    case XMPP_TLS_VERIFY_REVOKED:
        return "certificate revoked";
    case XMPP_TLS_VERIFY_NAME_CONSTRAINTS:
        return "name constraints violated";
    case XMPP_TLS_VERIFY_PIN_MISMATCH:
        return "public key pin mismatch";
    case XMPP_TLS_VERIFY_NO_CERTIFICATE:
        return "no certificate";
    case XMPP_TLS_VERIFY_PURPOSE_MISMATCH:
        return "key purpose mismatch";
    case XMPP_TLS_VERIFY_SIGNATURE_FAILURE:
        return "bad signature";
    case XMPP_TLS_VERIFY_OTHER:
        return "other verification failure";
    default:
        return "unknown";
    }
}
