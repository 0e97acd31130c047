/* Hashed Token SASL mechanisms (see ht.h). HMAC and the constant-time
 * comparison come from GnuTLS. */
#include "stream/ht.h"

#include <string.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "stream/sasl.h"

static const struct ht_info {
    const char *name;
    gnutls_mac_algorithm_t mac;
    size_t len;
} ht_tab[] = {
    {"HT-SHA-256-NONE", GNUTLS_MAC_SHA256, 32},
};
#define HT_COUNT (sizeof(ht_tab) / sizeof(ht_tab[0]))

const char *const xmpp__ht_mechanisms[] = {"HT-SHA-256-NONE", NULL};

static const struct ht_info *find(const char *name) {
    size_t i;
    for (i = 0; name != NULL && i < HT_COUNT; i++)
        if (strcmp(ht_tab[i].name, name) == 0)
            return &ht_tab[i];
    return NULL;
}

const char *xmpp__ht_mechanism(const char *name) {
    const struct ht_info *h = find(name);
    return h ? h->name : NULL;
}

/* HMAC(token, label || cb) into out. */
static int ht_hmac(const struct ht_info *h, const char *token, const char *label,
                   const uint8_t *cb, size_t cblen, uint8_t *out) {
    uint8_t msg[16 + XMPP_SASL_CB_MAX];
    size_t ll = strlen(label);
    int rc;
    if (cblen > XMPP_SASL_CB_MAX)
        return XMPP_ERR_INVALID;
    memcpy(msg, label, ll);
    if (cblen > 0)
        memcpy(msg + ll, cb, cblen);
    rc = gnutls_hmac_fast(h->mac, token, strlen(token), msg, ll + cblen, out);
    gnutls_memset(msg, 0, sizeof(msg));
    return rc == 0 ? XMPP_OK : XMPP_ERR_NOMEM;
}

int xmpp__ht_initial(const xmpp_ctx *ctx, const char *mech, const char *authcid,
                     const char *token, const uint8_t *cb, size_t cblen, uint8_t **out,
                     size_t *outlen, uint8_t *proof, size_t *prooflen) {
    const struct ht_info *h = find(mech);
    size_t al;
    uint8_t *p;
    int rc;
    if (out)
        *out = NULL;
    if (h == NULL || authcid == NULL || token == NULL || out == NULL || outlen == NULL ||
        proof == NULL || prooflen == NULL || authcid[0] == '\0' || token[0] == '\0')
        return XMPP_ERR_INVALID;
    al = strlen(authcid);
    p = xmpp__malloc(ctx, al + 1 + h->len);
    if (p == NULL)
        return XMPP_ERR_NOMEM;
    memcpy(p, authcid, al);
    p[al] = 0;
    if ((rc = ht_hmac(h, token, "Initiator", cb, cblen, p + al + 1)) != XMPP_OK ||
        (rc = ht_hmac(h, token, "Responder", cb, cblen, proof)) != XMPP_OK) {
        xmpp__sasl_buf_free(ctx, p, al + 1 + h->len);
        gnutls_memset(proof, 0, XMPP_HT_PROOF_MAX);
        return rc;
    }
    *out = p;
    *outlen = al + 1 + h->len;
    *prooflen = h->len;
    return XMPP_OK;
}

int xmpp__ht_verify(const uint8_t *proof, size_t prooflen, const uint8_t *data, size_t len) {
    if (prooflen == 0 || len != prooflen || gnutls_memcmp(proof, data, len) != 0)
        return XMPP_SASL_E_SIGNATURE;
    return XMPP_OK;
}
