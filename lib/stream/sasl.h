/* Client-side SASL mechanism layer (RFC 6120 §6, XEP-0388), sans-I/O.
 *
 * The negotiator hands in what the server advertised and the bytes of each
 * challenge (already base64-decoded); this layer picks a mechanism, produces
 * the raw response bytes (the caller base64-encodes them, RFC 6120 §6.4.2:
 * an empty response is sent as "="), and checks the outcome data carried by
 * <success/>. It never touches the network, the clock or the XML.
 *
 * Mechanisms: SCRAM-SHA-{512,256,1}[-PLUS] (scram.c), PLAIN (RFC 4616),
 * EXTERNAL (RFC 4422 App. A, XEP-0178), ANONYMOUS (RFC 4505).
 *
 * Security rules enforced here (SECURITY.md b.3):
 *  SASL-01 only advertised mechanisms, in our preference order; PLAIN only
 *          under TLS unless the app explicitly allows it;
 *  SASL-02 an account pinned to SCRAM/EXTERNAL never falls back to PLAIN
 *          (XEP-0474 §Business Rules);
 *  SASL-03 SCRAM field validation and the server signature (scram.c);
 *  SASL-04 GS2 flag and abort rules of XEP-0440, as modified by XEP-0474
 *          rule 6;
 *  SASL-05 channel-binding types usable only on the right TLS versions;
 *  SASL-06 XEP-0474 SSDP hash check;
 *  SASL-07 every secret is wiped on every path.
 *
 * Error codes: functions return XMPP_OK (0) or a negative code: the public
 * XMPP_ERR_NOMEM, XMPP_ERR_INVALID (bad argument), XMPP_ERR_STATE (call out
 * of sequence), or one of the xmpp__sasl_error codes below, which say why
 * authentication must be failed. After any error other than XMPP_ERR_INVALID
 * or XMPP_ERR_STATE the object is dead (its secrets already wiped): every
 * later call returns XMPP_ERR_STATE. Nothing here retries or falls back to
 * another mechanism (SASL-08); <failure/> is the negotiator's business.
 * No function calls back into the app except the channel-binding provider,
 * from xmpp__sasl_initial. */
#ifndef XMPP_STREAM_SASL_H
#define XMPP_STREAM_SASL_H

#include "core/internal.h"

/* Precise reasons for failing authentication. Internal; the lead maps them
 * to public XMPP_ERR_* codes. The values stay clear of the public range. */
typedef enum xmpp__sasl_error {
    XMPP_SASL_E_NO_MECH = -100,        /* no advertised mechanism is acceptable */
    XMPP_SASL_E_INSECURE = -101,       /* only PLAIN offered and TLS is not active */
    XMPP_SASL_E_DOWNGRADE = -102,      /* pinned account, only PLAIN offered (XEP-0474 §Business Rules) */
    XMPP_SASL_E_CB_STRIPPED = -103,    /* CB types advertised but no -PLUS mechanism (XEP-0440) */
    XMPP_SASL_E_CB_NO_TYPES = -104,    /* -PLUS advertised but no CB types under SASL2, or no default type (SASL1) */
    XMPP_SASL_E_CB_NO_MUTUAL = -105,   /* no advertised CB type usable, tls-server-end-point absent, no SCRAM to check SSDP */
    XMPP_SASL_E_CB_DATA = -106,        /* the TLS layer could not supply channel-binding data */
    XMPP_SASL_E_BAD_NONCE = -107,      /* server nonce not prefixed by ours, not longer, or bad characters */
    XMPP_SASL_E_BAD_SALT = -108,       /* salt empty, oversized or not base64 */
    XMPP_SASL_E_ITERATIONS = -109,     /* i= not a number, or outside [floor, cap] */
    XMPP_SASL_E_BASE64 = -110,         /* malformed base64 in v= or h= */
    XMPP_SASL_E_DUPLICATE_ATTR = -111, /* an attribute appears twice */
    XMPP_SASL_E_MISSING_ATTR = -112,   /* a required attribute is missing or out of order */
    XMPP_SASL_E_MALFORMED = -113,      /* message syntax (RFC 5802 §7) violated */
    XMPP_SASL_E_EXTENSION = -114,      /* mandatory extension m= (RFC 5802 §5.1) */
    XMPP_SASL_E_TOO_LONG = -115,       /* server message larger than the cap */
    XMPP_SASL_E_SIGNATURE = -116,      /* v= does not match: the server does not know the key */
    XMPP_SASL_E_NO_SIGNATURE = -117,   /* <success/> without v= while SCRAM is pending */
    XMPP_SASL_E_EARLY_SUCCESS = -118,  /* <success/> before client-final was sent */
    XMPP_SASL_E_SERVER_ERROR = -119,   /* server-final e=...; text via xmpp__sasl_server_error() */
    XMPP_SASL_E_SSDP_MISMATCH = -120,  /* XEP-0474 h= mismatch: probable MITM */
    XMPP_SASL_E_SSDP_MISSING = -121,   /* h= required (CB list not usable) but absent: probable CB downgrade */
    XMPP_SASL_E_SASLPREP = -122,       /* password fails SASLprep (RFC 4013, stored string) */
    XMPP_SASL_E_UNEXPECTED = -123      /* challenge or outcome data the mechanism does not define */
} xmpp__sasl_error;

/* Name of any code this layer returns ("SASL_DOWNGRADE", ...; public codes
 * are named too). Never NULL. */
const char *xmpp__sasl_strerror(int err);

/* Channel-binding information from the TLS layer (xmpp__sasl_params.cb_info). */
#define XMPP_SASL_CB_EXPORTER 0x01u  /* tls-exporter data obtainable (RFC 9266) */
#define XMPP_SASL_CB_UNIQUE 0x02u    /* tls-unique data obtainable (RFC 5929 §3) */
#define XMPP_SASL_CB_ENDPOINT 0x04u  /* tls-server-end-point obtainable (RFC 5929 §4) */
#define XMPP_SASL_CB_TLS13 0x100u    /* negotiated TLS version is 1.3 (or later) */
#define XMPP_SASL_CB_EMS 0x200u      /* TLS <= 1.2 with Extended Master Secret (RFC 7627) */

/* Largest channel-binding data accepted (tls-server-end-point with SHA-512). */
#define XMPP_SASL_CB_MAX 64

/* Channel-binding provider. type is "tls-exporter", "tls-unique" or
 * "tls-server-end-point". *len holds the capacity of out (XMPP_SASL_CB_MAX)
 * on entry and the data length on return. Returns 0 or a negative value. */
typedef int (*xmpp__sasl_cb_fn)(void *ud, const char *type, uint8_t *out,
                                size_t *len);

/* Flags (xmpp__sasl_params.flags). */
#define XMPP_SASL_TLS_ACTIVE 0x01u     /* the stream is TLS-protected */
#define XMPP_SASL_PLAIN_ALLOWED 0x02u  /* app explicitly allows PLAIN without TLS */
#define XMPP_SASL_PINNED 0x04u         /* account authenticated with SCRAM/EXTERNAL before: never PLAIN */
#define XMPP_SASL_WANT_EXTERNAL 0x08u  /* app asks for EXTERNAL (client certificate) */
#define XMPP_SASL_WANT_ANONYMOUS 0x10u /* app asks for ANONYMOUS */

/* Iteration-count bounds applied when the params leave them at 0. */
#define XMPP_SASL_SCRAM_MIN_ITER 4096u
#define XMPP_SASL_SCRAM_MAX_ITER 1000000u

typedef struct xmpp__sasl_params {
    const char *authcid;  /* username (JID localpart), UTF-8; NULL for EXTERNAL/ANONYMOUS only */
    const char *authzid;  /* optional authorization identity, or NULL */
    const char *password; /* UTF-8, or NULL (EXTERNAL/ANONYMOUS only) */
    unsigned flags;       /* XMPP_SASL_TLS_ACTIVE | ... */
    /* Optional allow-list, also the preference order when given: only these
     * mechanisms are considered, in this order; every security rule above
     * still applies. NULL: our order (SCRAM-SHA-512-PLUS ... PLAIN,
     * EXTERNAL, ANONYMOUS). */
    const char *const *mechs;
    size_t nmechs;
    unsigned cb_info;           /* XMPP_SASL_CB_* from the TLS layer; 0: none */
    xmpp__sasl_cb_fn get_cb;    /* NULL: channel binding unsupported */
    void *cb_ud;
    unsigned scram_min_iter;    /* 0: XMPP_SASL_SCRAM_MIN_ITER */
    unsigned scram_max_iter;    /* 0: XMPP_SASL_SCRAM_MAX_ITER */
} xmpp__sasl_params;

typedef struct xmpp__sasl xmpp__sasl;

/* Creates a SASL client. Strings in params are copied (secrets into memory
 * wiped by xmpp__sasl_free); the provider pointer and cb_ud must stay valid
 * for the object's life. Returns XMPP_OK, XMPP_ERR_NOMEM or XMPP_ERR_INVALID
 * (NULL out/ctx/params, a non-UTF-8 or empty credential, min > max). */
int xmpp__sasl_new(xmpp__sasl **out, const xmpp_ctx *ctx,
                   const xmpp__sasl_params *params);

/* Chooses the mechanism from the server's <mechanisms/> (mechs[0..n)) and
 * the XEP-0440 <sasl-channel-binding/> types (cbtypes[0..ncb), ncb = 0 when
 * the feature was absent). sasl2 != 0 for XEP-0388. Also records the lists
 * for the XEP-0474 hash (so pass the list of the SASL profile in use only,
 * XEP-0474 §Server Sends). *mech_out receives a static string. Called once.
 * For SCRAM it also SASLpreps the password. Returns XMPP_OK,
 * XMPP_ERR_NOMEM, XMPP_ERR_INVALID (NULL s or mech_out), XMPP_ERR_STATE,
 * XMPP_SASL_E_TOO_LONG (over 128 mechanisms, 32 types or 255 bytes in a
 * name), _MALFORMED (empty name, control character), _NO_MECH, _INSECURE,
 * _DOWNGRADE, _CB_STRIPPED, _CB_NO_TYPES, _CB_NO_MUTUAL, _SASLPREP. */
int xmpp__sasl_select(xmpp__sasl *s, const char *const *mechs, size_t n,
                      const char *const *cbtypes, size_t ncb, int sasl2,
                      const char **mech_out);

/* What xmpp__sasl_select() would choose from these lists, without
 * choosing: *rank receives the chosen mechanism's place in our preference
 * order (0 the most preferred). Lets the caller pick between the SASL
 * profiles a server offers (RFC 6120 and XEP-0388 lists may differ).
 * Returns XMPP_OK or select's error codes (nothing is recorded, the object
 * stays usable). */
int xmpp__sasl_preview(const xmpp__sasl *s, const char *const *mechs, size_t n,
                       const char *const *cbtypes, size_t ncb, int sasl2, int *rank);

/* The initial response. On XMPP_OK, *out is NULL when the mechanism has no
 * initial response (send no data), else a buffer of *len bytes (*len may be
 * 0: send "="), owned by the caller and released with xmpp__sasl_buf_free
 * (it may hold a password). Returns XMPP_OK, XMPP_ERR_NOMEM,
 * XMPP_ERR_STATE, XMPP_SASL_E_CB_DATA. */
int xmpp__sasl_initial(xmpp__sasl *s, uint8_t **out, size_t *len);

/* Answers a <challenge/> (decoded bytes). Output as for xmpp__sasl_initial.
 * For SCRAM the first challenge is server-first; a second challenge may
 * carry server-final (v=), which is verified and answered with an empty
 * response. Returns XMPP_OK, XMPP_ERR_NOMEM, XMPP_ERR_STATE or the
 * SCRAM/SSDP codes (_BAD_NONCE ... _SSDP_MISSING, _SERVER_ERROR,
 * _UNEXPECTED). */
int xmpp__sasl_step(xmpp__sasl *s, const uint8_t *challenge, size_t len,
                    uint8_t **out, size_t *outlen);

/* Called on <success/> with its additional data (len 0 when absent). For
 * SCRAM, verifies v= (unless a challenge carried it already); success
 * without it while SCRAM is pending fails (SASL-03). Returns XMPP_OK only
 * when the server is authenticated too; else XMPP_ERR_STATE,
 * XMPP_SASL_E_EARLY_SUCCESS, _NO_SIGNATURE, _SIGNATURE, _SERVER_ERROR,
 * _MALFORMED, _BASE64, _DUPLICATE_ATTR, _EXTENSION, _TOO_LONG,
 * _UNEXPECTED, XMPP_ERR_NOMEM. */
int xmpp__sasl_finish(xmpp__sasl *s, const uint8_t *data, size_t len);

/* After a successful finish: 1 when the mechanism used is one that pins the
 * account against PLAIN (SCRAM or EXTERNAL, XEP-0474 rule 1), else 0. */
int xmpp__sasl_pins_account(const xmpp__sasl *s);
/* The channel-binding type in use ("tls-exporter", ...), or NULL. */
const char *xmpp__sasl_cb_type(const xmpp__sasl *s);
/* 1 when the server's XEP-0474 h= attribute was present and verified. */
int xmpp__sasl_ssdp_verified(const xmpp__sasl *s);
/* The text of a SCRAM e= server error (RFC 5802 §7), or NULL. Valid until
 * xmpp__sasl_free. Printable ASCII only (other bytes replaced by '?'). */
const char *xmpp__sasl_server_error(const xmpp__sasl *s);

/* Wipes and frees a buffer returned by initial/step. Accepts NULL. */
void xmpp__sasl_buf_free(const xmpp_ctx *ctx, uint8_t *buf, size_t len);

/* Wipes every secret and frees. Accepts NULL. */
void xmpp__sasl_free(xmpp__sasl *s);

/* Test and fuzz hook (SECURITY.md §2 item 2: deterministic randomness):
 * fixes the SCRAM client nonce (1..255 printable ASCII characters except
 * ','). Call after select and before initial; XMPP_ERR_STATE otherwise or
 * when the mechanism is not SCRAM, XMPP_ERR_INVALID for a bad nonce. The
 * symbol is hidden like every internal one; never call it in production. */
int xmpp__sasl_test_set_nonce(xmpp__sasl *s, const char *nonce);

#endif
