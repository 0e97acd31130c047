/* The TLS filter: a GnuTLS client session over memory buffers (sans-I/O).
 *
 * Ciphertext from the network goes in with xmpp_tls_feed(); ciphertext for
 * the network comes out with xmpp_tls_out()/xmpp_tls_out_consume(). The
 * filter never touches a socket. Typical use:
 *
 *   xmpp_tls_new(&t, ctx, cfg, "example.com", direct);
 *   loop: send xmpp_tls_out(); on input xmpp_tls_feed(); xmpp_tls_handshake()
 *         until it returns XMPP_OK (verified) or a failure;
 *   then: xmpp_tls_write() plaintext, xmpp_tls_read() plaintext.
 *
 * No application data is accepted or produced before the handshake has
 * completed and the certificate has been verified (SECURITY.md TLS-01).
 * Every GnuTLS return other than success, GNUTLS_E_AGAIN and
 * GNUTLS_E_INTERRUPTED is an error (TLS-12); errors are sticky. */
#ifndef XMPP_FILTER_TLS_H
#define XMPP_FILTER_TLS_H

#include "core/internal.h"

#include <stddef.h>
#include <stdint.h>

#include <xmpp/tls.h>

/* Status codes local to the filter until they get public names (see the
 * proposal in the report): they do not collide with enum xmpp_error. */
enum xmpp_tls_status {
    XMPP_TLS_AGAIN = -200,             /* needs more input; not a failure */
    XMPP_TLS_ERR_HANDSHAKE = -201,     /* handshake failed (other reasons) */
    XMPP_TLS_ERR_PROTOCOL = -202,      /* no acceptable protocol version or suite */
    XMPP_TLS_ERR_CERT = -203,          /* certificate rejected: see the result */
    XMPP_TLS_ERR_CLOSED = -204,        /* the peer sent close_notify */
    XMPP_TLS_ERR_ALERT = -205,         /* an alert arrived (fatal or warning) */
    XMPP_TLS_ERR_RENEGOTIATION = -206, /* the peer asked to renegotiate (TLS-11) */
    XMPP_TLS_ERR_TRUNCATED = -207,     /* transport EOF without close_notify */
    XMPP_TLS_ERR_TRANSPORT = -208,     /* bad records, decryption failure, ... */
    XMPP_TLS_ERR_CB_UNAVAILABLE = -209 /* channel binding type not available */
};

/* Channel-binding types (RFC 5929, RFC 9266). */
typedef enum xmpp_tls_cb_type {
    XMPP_TLS_CB_EXPORTER = 1,        /* "tls-exporter" (RFC 9266) */
    XMPP_TLS_CB_UNIQUE = 2,          /* "tls-unique" (RFC 5929 §3), TLS <= 1.2 */
    XMPP_TLS_CB_SERVER_END_POINT = 3 /* "tls-server-end-point" (RFC 5929 §4) */
} xmpp_tls_cb_type;

/* Facts about the established connection (xmpp_tls_info). Strings are
 * static or owned by the connection. */
typedef struct xmpp_tls_info_t {
    int version;        /* 12 for TLS 1.2, 13 for TLS 1.3, 0 if unknown */
    int ems;            /* 1 if Extended Master Secret (RFC 7627) is in use;
                           always 1 on TLS 1.3, where it is built in */
    const char *alpn;   /* the ALPN protocol selected, or NULL */
    const char *cipher; /* the cipher suite name, e.g. "TLS_AES_128_GCM_SHA256" */
} xmpp_tls_info_t;

typedef struct xmpp_tls xmpp_tls;

/* Creates a client session.
 * cfg: taken by reference (xmpp_tls_config_ref); loads the system trust on
 *      first use and freezes the trust anchors.
 * domain: the JID domainpart, an A-label (ASCII, no trailing dot). It is
 *      the reference identity and, unless it is an IP literal, the SNI.
 * direct: non-zero for XEP-0368 direct TLS: offers ALPN "xmpp-client" and
 *      also accepts the SRV-ID "_xmpps-client.<domain>".
 * Returns XMPP_OK, XMPP_ERR_INVALID (NULL, empty, non-ASCII, NUL or
 * over-long domain), XMPP_ERR_NOMEM or XMPP_TLS_ERR_HANDSHAKE (GnuTLS could
 * not set the session up). */
int xmpp_tls_new(xmpp_tls **out, xmpp_ctx *ctx, xmpp_tls_config *cfg, const char *domain,
                 int direct);
void xmpp_tls_free(xmpp_tls *t); /* accepts NULL */

/* Ciphertext from the network. XMPP_OK, XMPP_ERR_INVALID, XMPP_ERR_STATE
 * (after xmpp_tls_feed_eof) or XMPP_ERR_NOMEM. */
int xmpp_tls_feed(xmpp_tls *t, const uint8_t *in, size_t len);
/* The transport reached end of file: pending input is still processed,
 * then reads see EOF (XMPP_TLS_ERR_TRUNCATED without close_notify). */
int xmpp_tls_feed_eof(xmpp_tls *t);

/* Advances the handshake. XMPP_OK once it has completed and the
 * certificate was accepted (again XMPP_OK on later calls); XMPP_TLS_AGAIN
 * when more input is needed (send xmpp_tls_out() first); otherwise a sticky
 * failure: XMPP_TLS_ERR_CERT (xmpp_tls_verify_result() says why),
 * XMPP_TLS_ERR_PROTOCOL, XMPP_TLS_ERR_ALERT, XMPP_TLS_ERR_TRUNCATED,
 * XMPP_TLS_ERR_TRANSPORT, XMPP_TLS_ERR_HANDSHAKE or XMPP_ERR_NOMEM. An alert
 * for the peer may be queued in the output after a failure. */
int xmpp_tls_handshake(xmpp_tls *t);

/* Plaintext out: decrypts as many records as fit in cap (at most INT_MAX).
 * Returns the number of bytes (> 0), 0 when no complete record is buffered,
 * or an error: XMPP_ERR_STATE (handshake not done), XMPP_TLS_ERR_CLOSED
 * (close_notify), XMPP_TLS_ERR_ALERT, XMPP_TLS_ERR_RENEGOTIATION,
 * XMPP_TLS_ERR_TRUNCATED, XMPP_TLS_ERR_TRANSPORT, XMPP_ERR_NOMEM. Bytes
 * decrypted before an error are returned first; the error comes with the
 * next call. Call again until it returns 0 or an error. */
int xmpp_tls_read(xmpp_tls *t, uint8_t *buf, size_t cap);

/* Plaintext in: encrypts all n bytes into the output queue. XMPP_OK,
 * XMPP_ERR_STATE (not established, or closed), XMPP_ERR_NOMEM, or a sticky
 * earlier failure. */
int xmpp_tls_write(xmpp_tls *t, const uint8_t *p, size_t n);

/* The ciphertext waiting to be sent (valid until the next call on t), and
 * how much of it was sent. Work in every state. */
int xmpp_tls_out(xmpp_tls *t, const uint8_t **p, size_t *n);
int xmpp_tls_out_consume(xmpp_tls *t, size_t n);

/* Queues close_notify (RFC 8446 §6.1). No further writes. */
int xmpp_tls_bye(xmpp_tls *t);

/* The verification result, or NULL before verification has run. */
const xmpp_tls_verify_result *xmpp_tls_get_verify_result(const xmpp_tls *t);

/* Channel-binding data for SASL (SECURITY.md SASL-05).
 * *len: in, the capacity of out; out, the length written (or needed).
 * Returns XMPP_OK; XMPP_ERR_STATE (not established); XMPP_ERR_LIMIT (out
 * too small, *len set to the size needed); XMPP_TLS_ERR_CB_UNAVAILABLE
 * (tls-unique on TLS 1.3, tls-exporter on TLS 1.2 without EMS,
 * tls-server-end-point for a signature without a single hash);
 * XMPP_ERR_INVALID. */
int xmpp_tls_channel_binding(xmpp_tls *t, xmpp_tls_cb_type type, uint8_t *out, size_t *len);
/* "tls-exporter" -> XMPP_TLS_CB_EXPORTER, ...; 0 for an unknown name. */
int xmpp_tls_cb_type_from_name(const char *name);

/* Facts about the connection. XMPP_OK, XMPP_ERR_INVALID or XMPP_ERR_STATE. */
int xmpp_tls_info(const xmpp_tls *t, xmpp_tls_info_t *out);

/* A description of the last GnuTLS failure (for logs), or "". */
const char *xmpp_tls_error_detail(const xmpp_tls *t);
/* English text for the XMPP_TLS_* codes; falls back to xmpp_strerror(). */
const char *xmpp_tls_strerror(int err);

#endif
