/**
 * @file xmpp/xep/upload.h
 * @brief XEP-0363 HTTP File Upload (service discovery, slot requests, the
 *        HTTP PUT through libcurl) and XEP-0066 Out of Band Data links.
 *
 * The usual sequence: xmpp_upload_discover() finds the account's upload
 * service and its maximum file size; xmpp_upload_request_slot() asks it
 * for a slot (a PUT URL with the headers to send, and the GET URL to
 * share); xmpp_upload_new() + xmpp_upload_start_file() perform the PUT on
 * the client's own loop (the transfer's sockets and timer go through the
 * client's socket and timer hooks, see xmpp/sys/io.h); finally the GET URL
 * is sent to the contact, typically in the body and in an XEP-0066
 * element (xmpp_oob_add()).
 *
 * Security: slot URLs must be https (XEP-0363 §Security Considerations)
 * unless ::XMPP_UPLOAD_ALLOW_HTTP is given (for loopback tests); only the
 * Authorization, Cookie and Expires headers of a slot are kept (XEP-0363
 * §4: others are ignored), with newlines stripped; URLs are at most 4096
 * bytes, header values 1024, and a slot has at most 8 headers. The
 * transfer verifies the server certificate (peer and host name) against
 * the CA file given with xmpp_upload_set_cafile() (pass the same file
 * the session trusts) or the system trust store, follows no redirect and
 * uses no other protocol than https (http only when allowed).
 *
 * The transfer needs libcurl at build time (configure --with-libcurl);
 * without it xmpp_upload_new() returns ::XMPP_ERR_UNSUPPORTED and the
 * rest of this API works.
 */
#ifndef XMPP_XEP_UPLOAD_H
#define XMPP_XEP_UPLOAD_H

#include <stddef.h>
#include <stdint.h>

#include <xmpp/client.h>
#include <xmpp/common.h>
#include <xmpp/session.h>
#include <xmpp/stanza.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The HTTP File Upload namespace (XEP-0363 v0.3 and later). */
#define XMPP_NS_HTTP_UPLOAD "urn:xmpp:http:upload:0"
/** The Out of Band Data namespace for messages (XEP-0066). */
#define XMPP_NS_OOB "jabber:x:oob"

/** Flag of xmpp_upload_request_slot(): accept http:// slot URLs (tests). */
#define XMPP_UPLOAD_ALLOW_HTTP 1u

/**
 * Completion of xmpp_upload_discover(); fires exactly once.
 * @param s the session.
 * @param status ::XMPP_IQ_RESULT when the search ended (then @p service
 *        may still be NULL: no upload service), ::XMPP_IQ_ERROR (the
 *        server refused the items request), ::XMPP_IQ_TIMEOUT or
 *        ::XMPP_IQ_CANCELLED.
 * @param service the upload service's JID (borrowed, valid during the
 *        call), or NULL.
 * @param max_size the service's max-file-size in bytes, 0 when it
 *        announces none.
 * @param user_data passed back to the callback.
 */
typedef void (*xmpp_upload_discover_fn)(xmpp_session *s, xmpp_iq_status status, const char *service,
                                        uint64_t max_size, void *user_data);

/**
 * Finds the upload service: asks the account's server for its disco#items
 * and each item (at most 32) for its disco#info, and takes the first in
 * the server's order that has the feature ::XMPP_NS_HTTP_UPLOAD. The
 * max-file-size comes from the item's XEP-0128 form of FORM_TYPE
 * ::XMPP_NS_HTTP_UPLOAD. Every answer is accepted only from the entity
 * asked (ORG-05).
 * @param s a ready session.
 * @param timeout_ms timeout of each request, 0 for the session default.
 * @param cb the completion callback (required).
 * @param user_data passed back to the callback.
 * @return ::XMPP_OK or as xmpp_session_send_iq(); on error the callback
 *         does not fire.
 */
XMPP_EXTERN int xmpp_upload_discover(xmpp_session *s, unsigned timeout_ms,
                                     xmpp_upload_discover_fn cb, void *user_data);

/** An upload slot: what the service granted for one file. */
typedef struct xmpp_upload_slot xmpp_upload_slot;

/**
 * Completion of xmpp_upload_request_slot(); fires exactly once.
 * @param s the session.
 * @param status how the request ended (::XMPP_IQ_RESULT, ::XMPP_IQ_ERROR,
 *        ::XMPP_IQ_TIMEOUT, ::XMPP_IQ_CANCELLED).
 * @param err for ::XMPP_IQ_RESULT: ::XMPP_OK with a slot, or
 *        ::XMPP_ERR_BAD_REPLY (no slot element, a missing, over-long or
 *        non-https URL) or ::XMPP_ERR_NOMEM; otherwise ::XMPP_OK.
 * @param slot the slot, owned by the application from now on (free it
 *        with xmpp_upload_slot_free(), before the session's context), or
 *        NULL.
 * @param error the error reply for ::XMPP_IQ_ERROR (borrowed), else NULL;
 *        see xmpp_upload_error_max_size().
 * @param user_data passed back to the callback.
 */
typedef void (*xmpp_upload_slot_fn)(xmpp_session *s, xmpp_iq_status status, int err,
                                    xmpp_upload_slot *slot, xmpp_stanza *error, void *user_data);

/**
 * Requests an upload slot (XEP-0363 §4).
 * @param s a ready session.
 * @param service the upload service (from xmpp_upload_discover()).
 * @param filename the file's name (no directory part; 1 to 255 bytes,
 *        without '/' or '\\').
 * @param size the file's size in bytes (at least 1).
 * @param content_type the MIME type, or NULL (application/octet-stream
 *        is then used for the PUT).
 * @param flags 0 or ::XMPP_UPLOAD_ALLOW_HTTP.
 * @param timeout_ms 0 for the session default.
 * @param cb the completion callback (required).
 * @param user_data passed back to the callback.
 * @return ::XMPP_OK; ::XMPP_ERR_INVALID (bad arguments); or as
 *         xmpp_session_send_iq(); on error the callback does not fire.
 */
XMPP_EXTERN int xmpp_upload_request_slot(xmpp_session *s, const char *service, const char *filename,
                                         uint64_t size, const char *content_type, unsigned flags,
                                         unsigned timeout_ms, xmpp_upload_slot_fn cb,
                                         void *user_data);

/**
 * The largest file size a file-too-large error reply allows (XEP-0363 §5).
 * @param error the error reply given to an ::xmpp_upload_slot_fn.
 * @return the size in bytes, or 0 when the reply does not say.
 */
XMPP_EXTERN uint64_t xmpp_upload_error_max_size(const xmpp_stanza *error);

/**
 * Frees a slot. Accepts NULL.
 * @param slot the slot.
 */
XMPP_EXTERN void xmpp_upload_slot_free(xmpp_upload_slot *slot);

/**
 * The URL to PUT the file to.
 * @param slot the slot.
 * @return a borrowed string (valid while the slot lives), or NULL.
 */
XMPP_EXTERN const char *xmpp_upload_slot_put_url(const xmpp_upload_slot *slot);

/**
 * The URL to share (where the file can be downloaded once uploaded).
 * @param slot the slot.
 * @return a borrowed string, or NULL.
 */
XMPP_EXTERN const char *xmpp_upload_slot_get_url(const xmpp_upload_slot *slot);

/**
 * The number of headers kept for the PUT (Authorization, Cookie, Expires).
 * @param slot the slot.
 * @return the count.
 */
XMPP_EXTERN size_t xmpp_upload_slot_header_count(const xmpp_upload_slot *slot);

/**
 * A header of the PUT by position.
 * @param slot the slot.
 * @param i the position, below xmpp_upload_slot_header_count().
 * @param name receives the header name (borrowed; may be NULL).
 * @param value receives the value, newlines removed (borrowed; may be NULL).
 * @return ::XMPP_OK or ::XMPP_ERR_NOT_FOUND.
 */
XMPP_EXTERN int xmpp_upload_slot_header_at(const xmpp_upload_slot *slot, size_t i,
                                           const char **name, const char **value);

/**
 * The size the slot was requested for (the PUT sends exactly this many
 * bytes).
 * @param slot the slot.
 * @return the size in bytes.
 */
XMPP_EXTERN uint64_t xmpp_upload_slot_size(const xmpp_upload_slot *slot);

/** An HTTP PUT of a file to a slot, driven by a client's loop. */
typedef struct xmpp_upload xmpp_upload;

/**
 * Progress of a transfer (at most about ten times a second, and once at
 * the end).
 * @param up the transfer.
 * @param sent bytes sent so far.
 * @param total the file's size.
 * @param user_data passed back to the callback.
 */
typedef void (*xmpp_upload_progress_fn)(xmpp_upload *up, uint64_t sent, uint64_t total,
                                        void *user_data);

/**
 * Completion of a transfer; fires exactly once after a successful
 * xmpp_upload_start_file() or xmpp_upload_start_data(), also when it is
 * cancelled or the client is freed first. The transfer may be freed from
 * inside this callback.
 * @param up the transfer.
 * @param err ::XMPP_OK (the server answered 200 or 201), ::XMPP_ERR_HTTP
 *        (network or TLS failure, or another HTTP status: see
 *        @p http_status and xmpp_upload_error()), ::XMPP_ERR_CANCELLED,
 *        ::XMPP_ERR_NOMEM.
 * @param http_status the HTTP status code, or 0 when none arrived.
 * @param user_data passed back to the callback.
 */
typedef void (*xmpp_upload_done_fn)(xmpp_upload *up, int err, long http_status, void *user_data);

/**
 * Creates a transfer for a slot on a client's loop.
 * @param out receives the transfer; free with xmpp_upload_free().
 * @param c the client whose socket and timer hooks drive the transfer
 *        (must outlive it, or the transfer ends cancelled when the client
 *        is freed). The transfer needs the application to keep driving
 *        the client: xmpp_client_run_once() stops polling once the XMPP
 *        session has ended (::XMPP_ERR_CLOSED), so finish or cancel
 *        transfers before closing the session.
 * @param slot the slot (copied).
 * @return ::XMPP_OK; ::XMPP_ERR_INVALID; ::XMPP_ERR_NOMEM;
 *         ::XMPP_ERR_UNSUPPORTED (built without libcurl).
 */
XMPP_EXTERN int xmpp_upload_new(xmpp_upload **out, xmpp_client *c, const xmpp_upload_slot *slot);

/**
 * Sets the trust anchors for the HTTPS server's certificate; without it
 * the system trust store is used. Call before starting.
 * @param up the transfer.
 * @param path a PEM file (copied), or NULL for the system store.
 * @return ::XMPP_OK, ::XMPP_ERR_INVALID, ::XMPP_ERR_STATE (started),
 *         ::XMPP_ERR_NOMEM.
 */
XMPP_EXTERN int xmpp_upload_set_cafile(xmpp_upload *up, const char *path);

/**
 * Allows a plain-http PUT URL (for loopback tests). Off by default.
 * @param up the transfer.
 * @param allow 1 to allow, 0 to forbid.
 * @return ::XMPP_OK, ::XMPP_ERR_INVALID or ::XMPP_ERR_STATE (started).
 */
XMPP_EXTERN int xmpp_upload_allow_http(xmpp_upload *up, int allow);

/**
 * Sets the callbacks. Call before starting.
 * @param up the transfer.
 * @param progress the progress callback, or NULL.
 * @param done the completion callback, or NULL.
 * @param user_data passed back to both.
 * @return ::XMPP_OK, ::XMPP_ERR_INVALID or ::XMPP_ERR_STATE (started).
 */
XMPP_EXTERN int xmpp_upload_set_callbacks(xmpp_upload *up, xmpp_upload_progress_fn progress,
                                          xmpp_upload_done_fn done, void *user_data);

/**
 * Starts the PUT of a file. The file must have exactly the slot's size.
 * @param up the transfer.
 * @param path the file (opened now, read during the transfer).
 * @param content_type the Content-Type header (the one given to the slot
 *        request), or NULL for application/octet-stream.
 * @return ::XMPP_OK; ::XMPP_ERR_INVALID (a size other than the slot's, a
 *         non-https URL not allowed); ::XMPP_ERR_NOT_FOUND (cannot open
 *         the file); ::XMPP_ERR_STATE (already started); ::XMPP_ERR_NOMEM.
 *         On error the completion callback does not fire.
 */
XMPP_EXTERN int xmpp_upload_start_file(xmpp_upload *up, const char *path, const char *content_type);

/**
 * Starts the PUT of bytes in memory, as xmpp_upload_start_file().
 * @param up the transfer.
 * @param data the bytes (borrowed: must stay valid until completion).
 * @param len their number, the slot's size.
 * @param content_type the Content-Type header, or NULL.
 * @return as xmpp_upload_start_file() (without ::XMPP_ERR_NOT_FOUND).
 */
XMPP_EXTERN int xmpp_upload_start_data(xmpp_upload *up, const void *data, size_t len,
                                       const char *content_type);

/**
 * Cancels a running transfer: the completion callback fires now with
 * ::XMPP_ERR_CANCELLED. Does nothing when not running.
 * @param up the transfer.
 * @return ::XMPP_OK or ::XMPP_ERR_INVALID. Callable from callbacks.
 */
XMPP_EXTERN int xmpp_upload_cancel(xmpp_upload *up);

/**
 * A description of the last failure (curl's message), or NULL.
 * @param up the transfer.
 * @return a borrowed string or NULL.
 */
XMPP_EXTERN const char *xmpp_upload_error(const xmpp_upload *up);

/**
 * Frees a transfer, cancelling it first when running (its completion
 * callback then fires with ::XMPP_ERR_CANCELLED). Accepts NULL. Callable
 * from the transfer's own callbacks.
 * @param up the transfer.
 */
XMPP_EXTERN void xmpp_upload_free(xmpp_upload *up);

/**
 * Adds an XEP-0066 &lt;x xmlns='jabber:x:oob'&gt; element with a URL
 * (and an optional description) to a message.
 * @param message the message stanza.
 * @param url the URL (e.g. a slot's GET URL).
 * @param desc a description, or NULL.
 * @return ::XMPP_OK, ::XMPP_ERR_INVALID or ::XMPP_ERR_NOMEM.
 */
XMPP_EXTERN int xmpp_oob_add(xmpp_stanza *message, const char *url, const char *desc);

/**
 * Reads the first XEP-0066 URL of a message. Nothing says the URL is
 * safe to fetch: it is the sender's word, like the body.
 * @param message the message stanza.
 * @param url receives the URL (free with xmpp_free() and the stanza's
 *        context).
 * @param desc receives the description or NULL (free with xmpp_free());
 *        may be NULL.
 * @return ::XMPP_OK; ::XMPP_ERR_NOT_FOUND (no oob element, or one without
 *         a non-empty url); ::XMPP_ERR_LIMIT (a URL over 4096 bytes);
 *         ::XMPP_ERR_INVALID; ::XMPP_ERR_NOMEM.
 */
XMPP_EXTERN int xmpp_oob_get(const xmpp_stanza *message, char **url, char **desc);

#ifdef __cplusplus
}
#endif

#endif /* XMPP_XEP_UPLOAD_H */
