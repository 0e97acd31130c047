/* SCRAM client (RFC 5802, RFC 7677; SHA-512 per draft-melnikov-scram-sha-512)
 * with optional channel binding and XEP-0474 downgrade protection.
 * Used through sasl.h; error codes are the xmpp__sasl_error values. */
#ifndef XMPP_STREAM_SCRAM_H
#define XMPP_STREAM_SCRAM_H

#include "stream/sasl.h"

typedef enum xmpp__scram_hash {
    XMPP_SCRAM_SHA1,
    XMPP_SCRAM_SHA256,
    XMPP_SCRAM_SHA512
} xmpp__scram_hash;

/* Largest digest (SHA-512). */
#define XMPP_SCRAM_MAX_HASH 64
/* Caps on what a server may send (SASL-03: oversized fields). */
#define XMPP_SCRAM_MAX_MSG 4096   /* server-first / server-final bytes */
#define XMPP_SCRAM_MAX_SALT 512   /* decoded salt bytes */
#define XMPP_SCRAM_MAX_ERROR 256  /* e= text kept for the report */

typedef struct xmpp__scram_params {
    xmpp__scram_hash hash;
    const char *authcid;    /* UTF-8, unescaped */
    const char *authzid;    /* NULL or UTF-8, unescaped */
    const char *password;   /* UTF-8; SASLprep'd here (RFC 5802 §2.2 Normalize) */
    char cbflag;            /* 'n', 'y' or 'p' (RFC 5802 §7 gs2-cbind-flag) */
    const char *cbname;     /* channel-binding type when cbflag == 'p' */
    const uint8_t *ssdp;    /* XEP-0474 string S to verify h= against, or NULL */
    size_t ssdp_len;
    int ssdp_required;      /* fail with _SSDP_MISSING when h= is absent */
    unsigned min_iter, max_iter;
} xmpp__scram_params;

typedef struct xmpp__scram xmpp__scram;

/* Copies everything it needs; the password only in SASLprep'd form.
 * XMPP_OK, XMPP_ERR_NOMEM, XMPP_ERR_INVALID, XMPP_SASL_E_SASLPREP. */
int xmpp__scram_new(xmpp__scram **out, const xmpp_ctx *ctx,
                    const xmpp__scram_params *p);

/* Test hook: a fixed client nonce instead of 24 random bytes. */
int xmpp__scram_set_nonce(xmpp__scram *s, const char *nonce);

/* client-first-message (RFC 5802 §7). cbdata is the channel-binding data
 * for cbflag 'p' (copied; NULL otherwise). Buffers returned by this module
 * are NUL-terminated, owned by the caller, freed with xmpp__free. */
int xmpp__scram_client_first(xmpp__scram *s, const uint8_t *cbdata,
                             size_t cblen, char **out, size_t *len);

/* Parses server-first, checks it (SASL-03, XEP-0474), derives the keys and
 * builds client-final-message. */
int xmpp__scram_client_final(xmpp__scram *s, const char *msg, size_t len,
                             char **out, size_t *outlen);

/* Checks server-final-message: v= in constant time, or e=. */
int xmpp__scram_verify_final(xmpp__scram *s, const char *msg, size_t len);

/* 0 before client-first, 1 waiting for server-first, 2 waiting for
 * server-final, 3 verified, -1 failed. */
int xmpp__scram_state(const xmpp__scram *s);
int xmpp__scram_ssdp_verified(const xmpp__scram *s);
const char *xmpp__scram_server_error(const xmpp__scram *s);

void xmpp__scram_free(xmpp__scram *s);

#endif
