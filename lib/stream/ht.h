/* The Hashed Token SASL mechanisms (draft-schmaus-kitten-sasl-ht), which
 * XEP-0484 FAST uses to log in with a server-issued token in one round
 * trip. Sans-I/O like sasl.h: bytes in, bytes out, no XML.
 *
 *   initial response  = authcid || 0x00 || HMAC(token, "Initiator" || cb-data)
 *   server's proof    = HMAC(token, "Responder" || cb-data)
 *
 * (the additional data of SASL2 <success/>). Only HT-SHA-256-NONE is
 * implemented: no channel binding, so cb-data is empty; it is what
 * Prosody's mod_sasl2_fast offers without channel binding. The token is a
 * secret: every buffer holding it or a value derived from it is wiped. */
#ifndef XMPP_STREAM_HT_H
#define XMPP_STREAM_HT_H

#include "core/internal.h"

/* Largest token accepted (from the server or the application). */
#define XMPP_HT_TOKEN_MAX 4096
/* Largest proof (the digest of the strongest hash). */
#define XMPP_HT_PROOF_MAX 64

/* The static name of the supported HT mechanism called `name`, or NULL. */
const char *xmpp__ht_mechanism(const char *name);

/* The mechanisms we support, in our preference order; NULL-terminated. */
extern const char *const xmpp__ht_mechanisms[];

/* Builds the initial response for `mech` (a name from xmpp__ht_mechanism)
 * into *out (caller-owned, *outlen bytes, release with
 * xmpp__sasl_buf_free: it is a credential) and the server proof to expect
 * into proof (XMPP_HT_PROOF_MAX bytes of room; *prooflen its length).
 * cb/cblen: channel-binding data (none for -NONE: NULL, 0). Returns
 * XMPP_OK, XMPP_ERR_INVALID (unknown mechanism, empty authcid or token)
 * or XMPP_ERR_NOMEM. */
int xmpp__ht_initial(const xmpp_ctx *ctx, const char *mech, const char *authcid,
                     const char *token, const uint8_t *cb, size_t cblen, uint8_t **out,
                     size_t *outlen, uint8_t *proof, size_t *prooflen);

/* Compares the server's additional data with the expected proof in
 * constant time: XMPP_OK, or XMPP_SASL_E_SIGNATURE (sasl.h). */
int xmpp__ht_verify(const uint8_t *proof, size_t prooflen, const uint8_t *data, size_t len);

#endif
