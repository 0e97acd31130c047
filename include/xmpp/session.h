/**
 * @file xmpp/session.h
 * @brief The sans-I/O XMPP client session (RFC 6120 negotiation, dispatch,
 *        IQ tracking, keepalive).
 *
 * A session does no I/O, and its timers run on no clock of its own: all
 * timing comes from the time passed in. (It reads the UTC wall clock for
 * dates only: the XEP-0203 stamp of a stanza re-sent after a failed
 * resumption, and the expiry of a FAST token.) The application (or the
 * optional driver, xmpp/client.h) moves bytes and time:
 *
 *  - xmpp_session_start() once the transport is connected;
 *  - xmpp_session_recv() with every chunk read from the transport;
 *  - xmpp_session_drain() / xmpp_session_consume() for the bytes to write;
 *  - xmpp_session_next_deadline() / xmpp_session_handle_timeout() for time;
 *  - xmpp_session_transport_closed() when the transport ends.
 *
 * Time is a monotonic count of milliseconds chosen by the caller.
 * Functions that take no time (xmpp_session_send_iq(), xmpp_session_close())
 * start their timeouts from the time given by the last call that took one
 * (start, recv, handle_timeout). Inside callbacks that time is current;
 * from elsewhere (a UI event, an application timer) after the session was
 * idle, call xmpp_session_handle_timeout() with the current time first.
 *
 * Callbacks fire only from inside xmpp_session_start(), _recv(),
 * _handle_timeout(), _transport_closed(), _close() and _free(). From inside a
 * callback the application may send stanzas, register and remove handlers,
 * and close the session; xmpp_session_recv(), xmpp_session_free() and
 * xmpp_session_handle_timeout() return ::XMPP_ERR_RECURSIVE there.
 */
#ifndef XMPP_SESSION_H
#define XMPP_SESSION_H

#include <stdint.h>

#include <xmpp/common.h>
#include <xmpp/stanza.h>
#include <xmpp/tls.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The sans-I/O session. */
typedef struct xmpp_session xmpp_session;
/** Session options: copied into the session at creation. */
typedef struct xmpp_session_options xmpp_session_options;

/** How the transport is secured. */
typedef enum xmpp_tls_mode {
    XMPP_TLS_STARTTLS = 0, /**< STARTTLS, required (the default). */
    XMPP_TLS_DIRECT = 1,   /**< Direct TLS from the first byte (XEP-0368). */
    XMPP_TLS_NONE = 2      /**< No TLS: only with xmpp_session_options_allow_plaintext(). */
} xmpp_tls_mode;

/** Where a session is in its life. */
typedef enum xmpp_session_state {
    XMPP_STATE_IDLE = 0,      /**< Created, not started. */
    XMPP_STATE_NEGOTIATING,   /**< Stream, TLS, SASL and binding in progress. */
    XMPP_STATE_READY,         /**< Bound: stanzas flow. */
    XMPP_STATE_CLOSING,       /**< Our \</stream:stream> is sent; waiting for the peer's. */
    XMPP_STATE_CLOSED         /**< Ended; see the disconnect information. */
} xmpp_session_state;

/** Why a session ended. */
typedef enum xmpp_disconnect_cause {
    XMPP_CAUSE_NONE = 0,        /**< Not ended. */
    XMPP_CAUSE_LOCAL_CLOSE,     /**< xmpp_session_close() was called and completed. */
    XMPP_CAUSE_DNS,             /**< Name resolution failed (driver). */
    XMPP_CAUSE_TCP,             /**< Connecting or the transport failed (driver or transport_closed). */
    XMPP_CAUSE_TLS,             /**< The TLS handshake or record layer failed. */
    XMPP_CAUSE_TLS_VERIFY,      /**< The server certificate was rejected; see tls_verify. */
    XMPP_CAUSE_TLS_REQUIRED,    /**< TLS is required but the server does not offer it. */
    XMPP_CAUSE_SASL,            /**< Authentication failed; see sasl_condition. */
    XMPP_CAUSE_STREAM_ERROR,    /**< The server sent a stream error; see condition. */
    XMPP_CAUSE_PROTOCOL,        /**< The server broke the protocol; we sent a stream error. */
    XMPP_CAUSE_TIMEOUT,         /**< Negotiation or keepalive timed out. */
    XMPP_CAUSE_NOMEM,           /**< Out of memory. */
    XMPP_CAUSE_REMOTE_CLOSE,    /**< The server ended the stream or closed the transport. */
    XMPP_CAUSE_PROXY            /**< The proxy refused, failed authentication or broke its
                                     protocol (driver, see xmpp_client_set_proxy()). */
} xmpp_disconnect_cause;

/**
 * Creates options with secure defaults: STARTTLS required, certificates
 * verified against the JID domain, no plaintext, SCRAM preferred.
 * @param out receives the options; free with xmpp_session_options_free().
 * @param ctx the context whose allocator is used.
 * @return ::XMPP_OK, ::XMPP_ERR_INVALID or ::XMPP_ERR_NOMEM.
 */
XMPP_EXTERN int xmpp_session_options_new(xmpp_session_options **out, xmpp_ctx *ctx);

/** Frees options (wiping the password). Accepts NULL. */
XMPP_EXTERN void xmpp_session_options_free(xmpp_session_options *opts);

/**
 * Sets the account JID ("user@domain" or "user@domain/resource"; the
 * resource is requested at binding, else the server assigns one). A JID
 * without a localpart ("domain") logs in anonymously (SASL ANONYMOUS,
 * RFC 4505): the server then assigns the whole JID.
 * @param opts the options.
 * @param jid the account JID (prepared and checked now).
 * @return ::XMPP_OK, a JID error code (see xmpp_jid_parse()) or ::XMPP_ERR_NOMEM.
 */
XMPP_EXTERN int xmpp_session_options_set_jid(xmpp_session_options *opts, const char *jid);

/**
 * Sets the password (copied; wiped when the options or the session are
 * freed, and inside the session as soon as authentication ends).
 * @param opts the options.
 * @param password the password (UTF-8).
 * @return ::XMPP_OK, ::XMPP_ERR_INVALID or ::XMPP_ERR_NOMEM.
 */
XMPP_EXTERN int xmpp_session_options_set_password(xmpp_session_options *opts,
                                                  const char *password);

/**
 * Selects STARTTLS (default), direct TLS or no TLS.
 * @param opts the options.
 * @param mode the mode.
 * @return ::XMPP_OK or ::XMPP_ERR_INVALID.
 */
XMPP_EXTERN int xmpp_session_options_set_tls_mode(xmpp_session_options *opts,
                                                  xmpp_tls_mode mode);

/**
 * Uses a shared TLS configuration (trust store, pins, verification
 * callback); the options take a reference. Without one, a default
 * configuration with the system trust store is used.
 * @param opts the options.
 * @param cfg the configuration (a reference is taken).
 * @return ::XMPP_OK or ::XMPP_ERR_INVALID.
 */
XMPP_EXTERN int xmpp_session_options_set_tls_config(xmpp_session_options *opts,
                                                    xmpp_tls_config *cfg);

/**
 * Allows a session without TLS (::XMPP_TLS_NONE, or a server that offers no
 * STARTTLS), and PLAIN authentication over it. For local testing only:
 * credentials then cross the network unencrypted.
 * @param opts the options.
 * @param allow non-zero to allow plaintext.
 * @return ::XMPP_OK or ::XMPP_ERR_INVALID.
 */
XMPP_EXTERN int xmpp_session_options_allow_plaintext(xmpp_session_options *opts, int allow);

/**
 * Authenticates with SASL EXTERNAL (XEP-0178): the TLS client certificate
 * set with xmpp_tls_config_set_client_cert() identifies the account; no
 * password is needed. Used when the server offers EXTERNAL and no password
 * mechanism applies (set no password, or list only "EXTERNAL" with
 * xmpp_session_options_set_mechanisms()).
 * @param opts the options.
 * @param on non-zero to allow EXTERNAL.
 * @return ::XMPP_OK or ::XMPP_ERR_INVALID.
 */
XMPP_EXTERN int xmpp_session_options_set_sasl_external(xmpp_session_options *opts, int on);

/**
 * Marks the account as pinned to SCRAM (XEP-0474 §Business Rules,
 * SECURITY SASL-02): PLAIN is then refused even over TLS, which defeats a
 * MITM that strips every SCRAM mechanism. Set it for accounts that
 * xmpp_session_sasl_pins() reported on an earlier login.
 * @param opts the options.
 * @param pinned non-zero when the account is pinned.
 * @return ::XMPP_OK or ::XMPP_ERR_INVALID.
 */
XMPP_EXTERN int xmpp_session_options_set_sasl_pinned(xmpp_session_options *opts, int pinned);

/**
 * Restricts SASL to these mechanisms, tried in this order of preference
 * (e.g. {"SCRAM-SHA-256-PLUS", "SCRAM-SHA-256"}). Every security rule still
 * applies (PLAIN only over TLS or when plaintext is allowed, pinning).
 * Without a list, the library's own order is used: SCRAM-SHA-512-PLUS,
 * SCRAM-SHA-256-PLUS, SCRAM-SHA-1-PLUS, SCRAM-SHA-512, SCRAM-SHA-256,
 * SCRAM-SHA-1, PLAIN.
 * @param opts the options.
 * @param n the number of names.
 * @param names mechanism names (copied); NULL with @p n = 0 resets.
 * @return ::XMPP_OK, ::XMPP_ERR_INVALID or ::XMPP_ERR_NOMEM.
 */
XMPP_EXTERN int xmpp_session_options_set_mechanisms(xmpp_session_options *opts,
                                                    const char *const *names, size_t n);

/**
 * Overrides the SNI/certificate reference name (default: the JID domain).
 * Only for servers reached by another name through a trusted channel.
 * @param opts the options.
 * @param name the host name the certificate must match.
 * @return ::XMPP_OK, ::XMPP_ERR_INVALID or ::XMPP_ERR_NOMEM.
 */
XMPP_EXTERN int xmpp_session_options_set_tls_name(xmpp_session_options *opts,
                                                  const char *name);

/**
 * Sets timeouts in milliseconds (0 keeps the default): the whole negotiation
 * (default 30000) and IQ requests sent without their own (default 60000).
 * @param opts the options.
 * @param negotiation_ms the negotiation timeout, 0 to keep it.
 * @param iq_ms the default IQ timeout, 0 to keep it.
 * @return ::XMPP_OK or ::XMPP_ERR_INVALID.
 */
XMPP_EXTERN int xmpp_session_options_set_timeouts(xmpp_session_options *opts,
                                                  unsigned negotiation_ms,
                                                  unsigned iq_ms);

/**
 * Keepalive: after @p idle_ms without traffic from the server, send an
 * XEP-0199 ping; if nothing arrives within @p timeout_ms after it, the
 * session ends with ::XMPP_CAUSE_TIMEOUT. 0 disables (the default: 0, 0).
 * @param opts the options.
 * @param idle_ms idle time before a ping, 0 to disable.
 * @param timeout_ms how long to wait for the answer.
 * @return ::XMPP_OK or ::XMPP_ERR_INVALID.
 */
XMPP_EXTERN int xmpp_session_options_set_keepalive(xmpp_session_options *opts,
                                                   unsigned idle_ms, unsigned timeout_ms);

/**
 * Sets the limits of the inbound XML stream (0 keeps a default): bytes per
 * stanza (1 MiB) and element nesting (64).
 * @param opts the options.
 * @param max_stanza_bytes the largest inbound stanza, 0 for the default.
 * @param max_depth the deepest element nesting, 0 for the default.
 * @return ::XMPP_OK or ::XMPP_ERR_INVALID.
 */
XMPP_EXTERN int xmpp_session_options_set_limits(xmpp_session_options *opts,
                                                size_t max_stanza_bytes, size_t max_depth);

/**
 * Bounds the outbound buffer (default 4 MiB): xmpp_session_send() returns
 * ::XMPP_ERR_LIMIT instead of queueing more (back-pressure).
 * @param opts the options.
 * @param bytes the largest amount of queued outbound bytes.
 * @return ::XMPP_OK or ::XMPP_ERR_INVALID.
 */
XMPP_EXTERN int xmpp_session_options_set_send_limit(xmpp_session_options *opts, size_t bytes);

/**
 * Called when the session is bound and ready: once per connection (a
 * resumed stream counts, see xmpp_session_resumed()).
 * @param s the session.
 * @param user_data passed back to the callback.
 * @param jid the full JID the server bound (borrowed, valid during the call).
 */
typedef void (*xmpp_ready_fn)(xmpp_session *s, const char *jid, void *user_data);

/**
 * Called once when the session ends, whatever the reason (once per
 * connection when the session is started again, see xmpp_session_start()).
 * The session may be freed only after this callback returned.
 */
typedef void (*xmpp_closed_fn)(xmpp_session *s, xmpp_disconnect_cause cause,
                               void *user_data);

/**
 * Sets the lifecycle callbacks.
 * @param opts the options.
 * @param on_ready called once the session is bound, or NULL.
 * @param on_closed called once when the session ends, or NULL.
 * @param user_data passed back to the callback.
 * @return ::XMPP_OK or ::XMPP_ERR_INVALID.
 */
XMPP_EXTERN int xmpp_session_options_set_callbacks(xmpp_session_options *opts,
                                                   xmpp_ready_fn on_ready,
                                                   xmpp_closed_fn on_closed,
                                                   void *user_data);

/**
 * Creates a session.
 * @param out receives the session; free with xmpp_session_free().
 * @param ctx the context whose allocator is used.
 * @param opts options, copied (the caller keeps and frees them). The JID
 *        must be set.
 * @return ::XMPP_OK, ::XMPP_ERR_INVALID (no JID, or no password for a
 *         password mechanism) or ::XMPP_ERR_NOMEM.
 */
XMPP_EXTERN int xmpp_session_new(xmpp_session **out, xmpp_ctx *ctx,
                                 const xmpp_session_options *opts);

/**
 * Frees a session. If it is not closed yet, no further callback fires
 * except that pending IQ callbacks complete with ::XMPP_IQ_CANCELLED.
 * Accepts NULL. Not callable from a callback of this session.
 */
XMPP_EXTERN void xmpp_session_free(xmpp_session *s);

/**
 * Starts the stream on a connected transport: queues the stream header (or
 * the TLS ClientHello in direct TLS mode).
 *
 * A session that has closed (after on_closed returned) can be started
 * again on a new transport: this is how a connection is re-established.
 * Handlers, the stream-management state and the queue survive; TLS, SASL
 * and the stream start afresh (the password must be supplied again with
 * xmpp_session_set_password() unless another mechanism is used). After
 * authentication the session resumes the previous stream when it can
 * (xmpp_session_can_resume()), else it binds a new one; on_ready then
 * fires again and xmpp_session_resumed() tells which it was.
 * @param s the session.
 * @param now the current time in milliseconds.
 * @return ::XMPP_OK, ::XMPP_ERR_STATE (already started and not closed),
 *         ::XMPP_ERR_RECURSIVE (from a callback) or ::XMPP_ERR_NOMEM.
 */
XMPP_EXTERN int xmpp_session_start(xmpp_session *s, uint64_t now);

/**
 * Processes bytes read from the transport. Callbacks fire from inside.
 * @param s the session.
 * @param data the bytes read from the transport.
 * @param len their count.
 * @param now the current time in milliseconds (monotonic, caller-chosen origin).
 * @return ::XMPP_OK; ::XMPP_ERR_CLOSED once the session has ended (the
 *         bytes are ignored); ::XMPP_ERR_RECURSIVE from a callback;
 *         ::XMPP_ERR_STATE before xmpp_session_start().
 */
XMPP_EXTERN int xmpp_session_recv(xmpp_session *s, const void *data, size_t len,
                                  uint64_t now);

/**
 * The bytes waiting to be written to the transport.
 * @param s the session.
 * @param data receives a pointer valid until the next call on the session.
 * @param len receives the count (0 when nothing is pending).
 * @return ::XMPP_OK or ::XMPP_ERR_INVALID.
 */
XMPP_EXTERN int xmpp_session_drain(xmpp_session *s, const void **data, size_t *len);

/**
 * Marks @p len bytes returned by xmpp_session_drain() as written.
 * @param s the session.
 * @param len the number of bytes written.
 * @return ::XMPP_OK or ::XMPP_ERR_INVALID (more than pending).
 */
XMPP_EXTERN int xmpp_session_consume(xmpp_session *s, size_t len);

/**
 * The next time xmpp_session_handle_timeout() must be called.
 * @param s the session.
 * @return a time in milliseconds, or UINT64_MAX when there is none.
 */
XMPP_EXTERN uint64_t xmpp_session_next_deadline(const xmpp_session *s);

/**
 * Runs timers due at @p now (negotiation timeout, IQ timeouts, keepalive).
 * @param s the session.
 * @param now the current time in milliseconds (monotonic, caller-chosen origin).
 * @return ::XMPP_OK or ::XMPP_ERR_RECURSIVE.
 */
XMPP_EXTERN int xmpp_session_handle_timeout(xmpp_session *s, uint64_t now);

/**
 * Tells the session the transport ended (EOF or an error).
 * @param s the session.
 * @param cause ::XMPP_CAUSE_TCP for an error, ::XMPP_CAUSE_REMOTE_CLOSE for EOF.
 * @param text a description or NULL.
 * @return ::XMPP_OK.
 */
XMPP_EXTERN int xmpp_session_transport_closed(xmpp_session *s,
                                              xmpp_disconnect_cause cause,
                                              const char *text);

/**
 * Closes the stream politely: sends \</stream:stream> (and the TLS
 * close_notify) and ends the session when the server answers or the
 * transport closes. Idempotent; callable from callbacks.
 * @param s the session.
 * @return ::XMPP_OK.
 */
XMPP_EXTERN int xmpp_session_close(xmpp_session *s);

/** The current state. */
XMPP_EXTERN xmpp_session_state xmpp_session_get_state(const xmpp_session *s);

/**
 * Why the session ended, with details.
 * @param s the session.
 * @param condition receives the stream error condition for
 *        ::XMPP_CAUSE_STREAM_ERROR / ::XMPP_CAUSE_PROTOCOL (may be NULL).
 * @param text receives a description (the stream error text, the SASL
 *        condition and text, the TLS error), borrowed, or NULL (may be NULL).
 * @return the cause (::XMPP_CAUSE_NONE while running).
 */
XMPP_EXTERN xmpp_disconnect_cause xmpp_session_get_error(const xmpp_session *s,
                                                         xmpp_stream_condition *condition,
                                                         const char **text);

/**
 * The SASL failure condition ("not-authorized", ...) when the cause is
 * ::XMPP_CAUSE_SASL, else NULL. Borrowed.
 */
XMPP_EXTERN const char *xmpp_session_sasl_condition(const xmpp_session *s);

/**
 * The stream error's application-specific child, if the server sent one
 * (borrowed), else NULL.
 */
XMPP_EXTERN const xmpp_stanza *xmpp_session_stream_error_app(const xmpp_session *s);

/**
 * For ::XMPP_CAUSE_STREAM_ERROR with see-other-host: the host (and port)
 * the server redirects to, else NULL. Borrowed.
 */
XMPP_EXTERN const char *xmpp_session_redirect(const xmpp_session *s);

/**
 * The certificate verification result of the TLS handshake (also after a
 * failure), or NULL before one.
 */
XMPP_EXTERN const xmpp_tls_verify_result *xmpp_session_tls_result(const xmpp_session *s);

/** The bound full JID once ready, else NULL. Borrowed. */
XMPP_EXTERN const char *xmpp_session_jid(const xmpp_session *s);

/**
 * After authentication: 1 when the mechanism used (SCRAM, EXTERNAL) should
 * pin the account against PLAIN from now on; persist it and pass it to
 * xmpp_session_options_set_sasl_pinned() next time. Else 0. After a FAST
 * token login (XEP-0484) the pin as configured: a token says nothing about
 * the password mechanisms.
 */
XMPP_EXTERN int xmpp_session_sasl_pins(const xmpp_session *s);

/** The SASL mechanism used, once authenticated, else NULL. Static string. */
XMPP_EXTERN const char *xmpp_session_mechanism(const xmpp_session *s);

/**
 * Sends a stanza. The caller keeps its reference.
 *
 * With stream management configured (the default, see
 * xmpp_session_options_set_stream_management()) the stanza is copied into
 * the queue of unacknowledged stanzas and written when the session is
 * ready (at once if it is, else when it becomes ready again, e.g. after a
 * reconnection); its fate, if it is ever handed back, goes to the
 * options' returned callback (xmpp_session_options_set_sm_policy()). Use
 * xmpp_session_send_tracked() to learn the fate of each stanza. Without
 * stream management it is serialised into the outbound buffer at once and
 * the session must be ready.
 * @param s the session.
 * @param st the stanza (the caller keeps its reference).
 * @return ::XMPP_OK; ::XMPP_ERR_STATE when the session cannot send (not
 *         ready without stream management, or closing); ::XMPP_ERR_LIMIT
 *         when the queue or the outbound buffer is full, or the stanza is
 *         larger than the server accepts (back-pressure: send again after
 *         acknowledgements or a drain); ::XMPP_ERR_INVALID; ::XMPP_ERR_NOMEM.
 */
XMPP_EXTERN int xmpp_session_send(xmpp_session *s, const xmpp_stanza *st);

/**
 * Handler for inbound stanzas.
 * @param s the session.
 * @param user_data passed back to the callback.
 * @param stanza borrowed; take a reference to keep it.
 * @return 1 when handled (stop), 0 to let the next matching handler run.
 */
typedef int (*xmpp_handler_fn)(xmpp_session *s, xmpp_stanza *stanza, void *user_data);

/**
 * Registers a handler for stanzas matching an element name (message,
 * presence, iq), the namespace of their first child element (or NULL for
 * any) and a type (or NULL for any). Handlers with the same key run in
 * registration order; keys are looked up in O(1).
 * @param s the session.
 * @param name the element name to match (message, presence, iq, ...).
 * @param ns the namespace of the first child element to match, or NULL for any.
 * @param type the type attribute to match, or NULL for any.
 * @param fn the handler.
 * @param user_data passed back to the callback.
 * @param handle receives a handle for xmpp_session_remove_handler() (> 0).
 * @return ::XMPP_OK, ::XMPP_ERR_INVALID or ::XMPP_ERR_NOMEM.
 */
XMPP_EXTERN int xmpp_session_add_handler(xmpp_session *s, const char *name, const char *ns,
                                         const char *type, xmpp_handler_fn fn,
                                         void *user_data, unsigned long *handle);

/**
 * Removes a handler; safe from inside any callback, including the handler.
 * @param s the session.
 * @param handle receives the handle (> 0); may be NULL.
 * @return ::XMPP_OK or ::XMPP_ERR_NOT_FOUND.
 */
XMPP_EXTERN int xmpp_session_remove_handler(xmpp_session *s, unsigned long handle);

/** How an IQ request ended. */
typedef enum xmpp_iq_status {
    XMPP_IQ_RESULT = 0,   /**< A result arrived (the reply is given). */
    XMPP_IQ_ERROR = 1,    /**< An error arrived (the reply is given). */
    XMPP_IQ_TIMEOUT = 2,  /**< No reply within the timeout. */
    XMPP_IQ_CANCELLED = 3 /**< The session ended or was freed first. */
} xmpp_iq_status;

/**
 * Completion of an IQ request; fires exactly once.
 * @param s the session.
 * @param status how the request ended.
 * @param user_data passed back to the callback.
 * @param reply the result or error (borrowed), or NULL for timeout/cancel.
 */
typedef void (*xmpp_iq_fn)(xmpp_session *s, xmpp_iq_status status, xmpp_stanza *reply,
                           void *user_data);

/**
 * Sends an IQ get/set and tracks its reply by (id, expected sender): a reply
 * from anyone but the request's "to" (or, for a request without "to", from
 * anything but the account itself or its server) is not accepted
 * (RFC 6120 §8.2.3; SECURITY ORG-05). An id is generated when absent.
 * @param s the session.
 * @param iq an iq of type get or set (an id is added when absent).
 * @param cb the completion callback (fires exactly once; may be NULL).
 * @param user_data passed back to the callback.
 * @param timeout_ms 0 for the session default.
 * @return ::XMPP_OK or as xmpp_session_send(); on error the callback does
 *         not fire.
 */
XMPP_EXTERN int xmpp_session_send_iq(xmpp_session *s, xmpp_stanza *iq, unsigned timeout_ms,
                                     xmpp_iq_fn cb, void *user_data);

/**
 * Generates a fresh stanza id (random, URL-safe).
 * @param s the session.
 * @param buf receives the NUL-terminated id.
 * @param size at least 17.
 * @return ::XMPP_OK or ::XMPP_ERR_INVALID.
 */
XMPP_EXTERN int xmpp_session_new_id(xmpp_session *s, char *buf, size_t size);

/* ---- stream management (XEP-0198) and reconnection ---------------------- */

/** How the session uses stream management (XEP-0198). */
typedef enum xmpp_sm_mode {
    XMPP_SM_OFF = 0,    /**< Never enable it. */
    XMPP_SM_ACKS = 1,   /**< Enable acknowledgements, without resumption. */
    XMPP_SM_RESUME = 2  /**< Enable acknowledgements and resumption (the default). */
} xmpp_sm_mode;

/** What happens to unacknowledged stanzas when a stream cannot be resumed. */
typedef enum xmpp_sm_policy {
    /** Re-send messages and presences on the new session with a XEP-0203
     *  \<delay/> stamped with the time they were first queued and their
     *  original ids (the default); IQs are handed back, their replies
     *  could not be matched any more. */
    XMPP_SM_POLICY_RESEND = 0,
    /** Hand every unacknowledged stanza back to the application
     *  (::XMPP_SENT_RETURNED). */
    XMPP_SM_POLICY_RETURN = 1
} xmpp_sm_policy;

/** The fate of a stanza given to xmpp_session_send() or xmpp_session_send_tracked(). */
typedef enum xmpp_sent_status {
    /** The server acknowledged it (XEP-0198 \<a h=.../>). */
    XMPP_SENT_ACKED = 0,
    /** It was written on a stream without stream management: no
     *  acknowledgement will ever come. */
    XMPP_SENT_UNTRACKED = 1,
    /** It is handed back: not known to have reached the server and not
     *  re-sent (resumption failed under ::XMPP_SM_POLICY_RETURN, an IQ
     *  after a failed resumption, or the session was freed). */
    XMPP_SENT_RETURNED = 2
} xmpp_sent_status;

/**
 * Reports the fate of a sent stanza; fires exactly once per stanza.
 * @param s the session.
 * @param stanza the stanza as queued (borrowed, valid during the call; take
 *        a reference or a copy to keep it).
 * @param status what happened to it.
 * @param user_data passed back to the callback.
 */
typedef void (*xmpp_sent_fn)(xmpp_session *s, const xmpp_stanza *stanza,
                             xmpp_sent_status status, void *user_data);

/**
 * Sets how stream management is used. With ::XMPP_SM_ACKS or
 * ::XMPP_SM_RESUME (the default) and a server that offers it, the session
 * enables XEP-0198 after binding (before on_ready fires), keeps every sent
 * stanza in a bounded queue until the server acknowledges it, answers the
 * server's requests and asks for acknowledgements itself (after a few
 * stanzas or a short delay, and instead of the keepalive ping).
 * @param opts the options.
 * @param mode the mode.
 * @return ::XMPP_OK or ::XMPP_ERR_INVALID.
 */
XMPP_EXTERN int xmpp_session_options_set_stream_management(xmpp_session_options *opts,
                                                           xmpp_sm_mode mode);

/**
 * Bounds the queue of unacknowledged (and not yet sent) stanzas. When a
 * stanza would exceed either bound, xmpp_session_send() returns
 * ::XMPP_ERR_LIMIT (back-pressure: send again once acknowledgements came,
 * see xmpp_session_sm_queue()).
 * @param opts the options.
 * @param max_stanzas at most this many stanzas (default 1000, at least 1).
 * @param max_bytes at most this many serialised bytes (default 4 MiB).
 * @return ::XMPP_OK or ::XMPP_ERR_INVALID.
 */
XMPP_EXTERN int xmpp_session_options_set_sm_queue(xmpp_session_options *opts,
                                                  size_t max_stanzas, size_t max_bytes);

/**
 * Chooses what happens to unacknowledged stanzas when resumption fails, and
 * the callback for stanzas handed back that were sent without one of their
 * own (plain xmpp_session_send()).
 * @param opts the options.
 * @param policy ::XMPP_SM_POLICY_RESEND (default) or ::XMPP_SM_POLICY_RETURN.
 * @param on_returned called with ::XMPP_SENT_RETURNED for such stanzas, or NULL.
 * @param user_data passed back to the callback.
 * @return ::XMPP_OK or ::XMPP_ERR_INVALID.
 */
XMPP_EXTERN int xmpp_session_options_set_sm_policy(xmpp_session_options *opts,
                                                   xmpp_sm_policy policy,
                                                   xmpp_sent_fn on_returned, void *user_data);

/**
 * Sends a stanza and reports its fate through @p cb exactly once
 * (see ::xmpp_sent_status). The stanza is copied; the caller keeps its
 * reference.
 *
 * With stream management configured, the stanza may also be given while
 * the session is not ready (before the first connection completes, while
 * reconnecting): it is queued and written once the session is ready again.
 * @param s the session.
 * @param st the stanza (message, presence or iq).
 * @param cb called once with the stanza's fate, or NULL.
 * @param user_data passed back to the callback.
 * @return ::XMPP_OK; ::XMPP_ERR_LIMIT when the queue (or the output buffer)
 *         is full; ::XMPP_ERR_STATE when the session cannot send (not
 *         ready and no stream management configured, or closing);
 *         ::XMPP_ERR_INVALID; ::XMPP_ERR_NOMEM.
 */
XMPP_EXTERN int xmpp_session_send_tracked(xmpp_session *s, const xmpp_stanza *st,
                                          xmpp_sent_fn cb, void *user_data);

/**
 * The stream-management queue.
 * @param s the session.
 * @param unacked receives the number of stanzas written but not yet
 *        acknowledged (may be NULL).
 * @param queued receives the number of stanzas queued in all, unacknowledged
 *        and not yet written (may be NULL).
 * @param bytes receives the serialised size of all queued stanzas (may be NULL).
 * @return 1 when stream management is enabled on the current stream, else 0.
 */
XMPP_EXTERN int xmpp_session_sm_queue(const xmpp_session *s, size_t *unacked, size_t *queued,
                                      size_t *bytes);

/**
 * Whether the last time the session became ready was a resumption of the
 * previous stream (XEP-0198 \<resumed/>: nothing was lost, the bound JID,
 * roster state and presence are unchanged) rather than a new session (the
 * application must then send its presence again, rejoin rooms, etc.).
 * @param s the session.
 * @return 1 for a resumed session, 0 otherwise.
 */
XMPP_EXTERN int xmpp_session_resumed(const xmpp_session *s);

/**
 * Where the server asked resumption to happen (the location attribute of
 * \<enabled/>: "host", "host:port" or "[v6]:port"), or NULL. The driver
 * connects there to resume; a sans-I/O application does the same. The TLS
 * reference identity stays the JID domain.
 */
XMPP_EXTERN const char *xmpp_session_sm_location(const xmpp_session *s);

/**
 * Whether the session holds a stream it can try to resume (enabled with
 * resumption, not yet expired by the server's max, not refused).
 * @param s the session.
 * @param now the current time (ms), to check the server's max resumption time.
 * @return 1 or 0.
 */
XMPP_EXTERN int xmpp_session_can_resume(const xmpp_session *s, uint64_t now);

/**
 * Supplies the password again, for starting a closed session anew: the
 * session wipes the password once authentication is over.
 * @param s the session.
 * @param password the password (copied).
 * @return ::XMPP_OK, ::XMPP_ERR_INVALID or ::XMPP_ERR_NOMEM.
 */
XMPP_EXTERN int xmpp_session_set_password(xmpp_session *s, const char *password);

/**
 * Writes the stream-management state (the stream id, counters, location and
 * every queued stanza) so that another process, or the same one after a
 * restart, can resume the stream with xmpp_session_sm_import(). The result
 * is a small versioned XML document; it holds message contents, so store it
 * as carefully as the messages themselves.
 * @param s the session (any state; typically closed).
 * @param out receives the NUL-terminated document, free with xmpp_free().
 * @param len receives its length (may be NULL).
 * @return ::XMPP_OK, ::XMPP_ERR_STATE (no stream to resume and nothing
 *         queued), ::XMPP_ERR_INVALID or ::XMPP_ERR_NOMEM.
 */
XMPP_EXTERN int xmpp_session_sm_export(const xmpp_session *s, char **out, size_t *len);

/**
 * Loads stream-management state written by xmpp_session_sm_export() into a
 * session that was created but not started. The input is untrusted: it is
 * parsed with the stream parser's limits, its version, counters, id and JID
 * are checked (the JID must be of this session's account) and the queued
 * stanzas must be message, presence or iq elements within the queue bounds.
 * On any error nothing is loaded. The next xmpp_session_start() tries to
 * resume the stream; if that fails the queued stanzas follow the policy.
 * @param s a session in the idle state.
 * @param data the document.
 * @param len its length in bytes.
 * @return ::XMPP_OK; ::XMPP_ERR_STATE (the session was started);
 *         ::XMPP_ERR_INVALID (malformed, wrong version or account, over the
 *         limits); ::XMPP_ERR_NOMEM.
 */
XMPP_EXTERN int xmpp_session_sm_import(xmpp_session *s, const char *data, size_t len);

/* ---- client state (XEP-0352) and server limits (XEP-0478) --------------- */

/**
 * Tells the server whether the user is actively using the client
 * (XEP-0352): an inactive client gets less urgent traffic (presence,
 * chat states) batched or dropped by the server, saving battery and data.
 * The state is remembered: it is sent at once when the server offers CSI,
 * and again on every new (not resumed) session that does; a resumed
 * stream keeps the state the server knew. The default is active.
 * @param s the session.
 * @param active 1 for active, 0 for inactive.
 * @return ::XMPP_OK or ::XMPP_ERR_INVALID.
 */
XMPP_EXTERN int xmpp_session_set_active(xmpp_session *s, int active);

/** Whether the current stream offers client state indication (XEP-0352). */
XMPP_EXTERN int xmpp_session_csi_supported(const xmpp_session *s);

/**
 * The limits the server announced for this stream (XEP-0478). A stanza
 * larger than max_bytes is refused by xmpp_session_send() with
 * ::XMPP_ERR_LIMIT (the server would end the stream); with idle_seconds
 * the session writes a whitespace keepalive before the server's limit.
 * @param s the session.
 * @param max_bytes receives the largest stanza the server accepts, 0 if
 *        it announced none (may be NULL).
 * @param idle_seconds receives the server's idle limit, 0 if none (may be NULL).
 * @return ::XMPP_OK or ::XMPP_ERR_INVALID.
 */
XMPP_EXTERN int xmpp_session_server_limits(const xmpp_session *s, size_t *max_bytes,
                                           unsigned *idle_seconds);

/**
 * Turns on stream compression (XEP-0138, zlib) when the server offers it:
 * off by default. Negotiated only after TLS and authentication, for links
 * where bytes are expensive; compressing under TLS lets an observer learn
 * from sizes (CRIME-style attacks), so leave it off unless needed.
 * Inflation is bounded (at most 1 MiB plus 64 times the compressed bytes
 * over any stretch of the stream): a compression bomb ends the session
 * with a policy-violation stream error, without using more memory.
 * @param opts the options.
 * @param on non-zero to use compression when offered.
 * @return ::XMPP_OK or ::XMPP_ERR_INVALID.
 */
XMPP_EXTERN int xmpp_session_options_set_compression(xmpp_session_options *opts, int on);

/* ---- modern login: SASL2 (XEP-0388), Bind2 (XEP-0386), FAST (XEP-0484) -- */

/**
 * Allows or forbids SASL2 (XEP-0388). Allowed by default: when the
 * server's features after TLS carry \<authentication xmlns='urn:xmpp:sasl:2'>,
 * the session authenticates with it (the same mechanisms, downgrade
 * protection, channel binding and server-signature checks as RFC 6120
 * SASL) and saves the stream restart; where the server also offers them it
 * binds the resource with Bind2 (XEP-0386), enables or resumes stream
 * management inside the same request (XEP-0198) and uses FAST tokens
 * (XEP-0484, see xmpp_session_options_set_fast()). A server without SASL2
 * gets the RFC 6120 negotiation unchanged, and so does one whose RFC 6120
 * mechanisms include a stronger one than its SASL2 list (e.g. a -PLUS
 * variant offered only there): SASL2 is never bought with a weaker
 * mechanism. Bind2 is not used when the account JID names a resource (it
 * cannot request one); RFC 6120 binding requests it after SASL2. Forbid
 * SASL2 to compare the two paths, or to work around a broken server.
 * @param opts the options.
 * @param enable non-zero to allow SASL2 (the default), 0 to forbid it.
 * @return ::XMPP_OK or ::XMPP_ERR_INVALID.
 */
XMPP_EXTERN int xmpp_session_options_set_sasl2(xmpp_session_options *opts, int enable);

/**
 * Describes this installation of the application to the server in the
 * SASL2 \<user-agent/> element. The server uses the id to tell the user's
 * devices apart: Bind2 derives a stable resource from it and replaces an
 * older session of the same device, and FAST tokens are bound to it.
 * Without an id the session generates a random one for its own life
 * (then FAST cannot be used: a token would be useless to the next process).
 * @param opts the options.
 * @param id a UUID in its text form ("8-4-4-4-12" hexadecimal digits, e.g.
 *        from uuidgen), created once per installation and stored by the
 *        application; NULL to let the session generate one.
 * @param software the application's name (e.g. "AwesomeXMPP"), or NULL.
 *        Also the Bind2 tag (the start of the resource the server makes
 *        up; "libxmpp" without a name).
 * @param device a name for the device the user recognises (e.g. "Kiva's
 *        Phone"), or NULL. Avoid private details: the server shows it to
 *        the user's other devices and may log it.
 * @return ::XMPP_OK, ::XMPP_ERR_INVALID (not a UUID; software or device
 *         empty, over 256 bytes or not UTF-8) or ::XMPP_ERR_NOMEM. All
 *         strings are copied.
 */
XMPP_EXTERN int xmpp_session_options_set_user_agent(xmpp_session_options *opts, const char *id,
                                                    const char *software, const char *device);

/**
 * Asks for message carbons (XEP-0280): with Bind2 (and a server that lists
 * carbons among its Bind2 features) they are enabled inside the login, with
 * no extra round trip and no window in which a message could be missed;
 * xmpp_session_login_flags() then has ::XMPP_LOGIN_CARBONS. Elsewhere the
 * session does not enable them: send the XEP-0280 \<enable/> IQ yourself
 * after on_ready when that flag is missing. Default: off.
 * @param opts the options.
 * @param enable non-zero to ask for carbons.
 * @return ::XMPP_OK or ::XMPP_ERR_INVALID.
 */
XMPP_EXTERN int xmpp_session_options_set_carbons(xmpp_session_options *opts, int enable);

/** The SASL condition (xmpp_session_sasl_condition()) of a FAST token the
 *  server refused. */
#define XMPP_SASL_FAST_REJECTED "fast-token-rejected"

/**
 * Receives FAST tokens (XEP-0484) to persist, and tells when one must be
 * forgotten.
 *
 * A token authenticates the account like the password (without revealing
 * it, and only together with the same user-agent id): store it as carefully
 * as a password, never log or show it. Replace the stored token with each
 * new one (the server rotates tokens: the old one stays valid only until
 * the new one is used).
 * @param s the session.
 * @param mechanism the mechanism the token is for ("HT-SHA-256-NONE"; a
 *        static string).
 * @param token the token (borrowed: valid during the call only), or NULL
 *        when the server refused the stored token: delete it.
 * @param expiry when the token expires (seconds since 1970-01-01 UTC); 0
 *        with a NULL token.
 * @param user_data passed back to the callback.
 *
 * Fires from inside xmpp_session_recv(), before on_ready (a new token) or
 * before on_closed (a refused one). It may send, close and free handlers
 * like any callback; xmpp_session_recv(), xmpp_session_free() and
 * xmpp_session_handle_timeout() return ::XMPP_ERR_RECURSIVE there.
 */
typedef void (*xmpp_fast_token_fn)(xmpp_session *s, const char *mechanism, const char *token,
                                   int64_t expiry, void *user_data);

/**
 * Uses FAST (XEP-0484): once a password login succeeded on a server that
 * offers FAST (over TLS only), the session asks for a token and hands it to
 * @p on_token; later logins (reconnections of this session, and sessions
 * given the token with xmpp_session_options_set_fast_token()) authenticate
 * with the token in one round trip instead of the password. The session
 * asks for a new token when the one in use expires within three days, and
 * the server may rotate it on its own; each new token goes to @p on_token.
 *
 * Needs the stable user-agent id of xmpp_session_options_set_user_agent():
 * tokens are bound to it (xmpp_session_new() fails without it).
 *
 * If the server refuses the token, the session ends with
 * ::XMPP_CAUSE_SASL and the condition ::XMPP_SASL_FAST_REJECTED ("the token
 * was refused: log in with the password"), after @p on_token was called
 * with a NULL token. It does not retry with the password on the same
 * connection: servers do not accept a second \<authenticate/> there
 * (Prosody answers it with invalid-mechanism). Start the session again
 * (xmpp_session_start() on a new transport, or xmpp_client_connect()): with
 * a password set (xmpp_session_set_password()) it logs in with the password
 * and asks for a new token; a stream that could be resumed before still can.
 * @param opts the options.
 * @param on_token receives new tokens, or NULL to use no FAST at all.
 * @param user_data passed back to the callback.
 * @return ::XMPP_OK or ::XMPP_ERR_INVALID.
 */
XMPP_EXTERN int xmpp_session_options_set_fast(xmpp_session_options *opts,
                                              xmpp_fast_token_fn on_token, void *user_data);

/**
 * Sets a FAST token stored from an earlier session (xmpp_fast_token_fn):
 * the next login authenticates with it instead of the password where the
 * server offers FAST over TLS with its mechanism. A password may be set as
 * well: it is used where FAST is not offered, or when the token is already
 * expired by the local clock. A mechanism list set with
 * xmpp_session_options_set_mechanisms() restricts only the password
 * mechanisms, not the token's.
 * @param opts the options.
 * @param mechanism the token's mechanism as the callback gave it
 *        ("HT-SHA-256-NONE").
 * @param token the token (copied; wiped when the options or the session
 *        are freed or the token is replaced), or NULL to clear it.
 * @param expiry the expiry the callback gave (seconds since 1970-01-01 UTC).
 * @return ::XMPP_OK, ::XMPP_ERR_INVALID (unsupported mechanism, empty or
 *         over-long token) or ::XMPP_ERR_NOMEM.
 */
XMPP_EXTERN int xmpp_session_options_set_fast_token(xmpp_session_options *opts,
                                                    const char *mechanism, const char *token,
                                                    int64_t expiry);

/** What the last login used: the bits of xmpp_session_login_flags(). */
typedef enum xmpp_login_flag {
    /** SASL2 (XEP-0388) authenticated it, without a stream restart. */
    XMPP_LOGIN_SASL2 = 1,
    /** Bind2 (XEP-0386) bound the resource inside the authentication. */
    XMPP_LOGIN_BIND2 = 2,
    /** A FAST token (XEP-0484) authenticated it instead of the password. */
    XMPP_LOGIN_FAST = 4,
    /** The previous stream was resumed inside the authentication
     *  (XEP-0198 with SASL2; xmpp_session_resumed() is 1 too). */
    XMPP_LOGIN_RESUMED_INLINE = 8,
    /** Stream management was enabled inside the Bind2 request. */
    XMPP_LOGIN_SM_INLINE = 16,
    /** Message carbons (XEP-0280) were enabled inside the Bind2 request. */
    XMPP_LOGIN_CARBONS = 32
} xmpp_login_flag;

/**
 * How the current (or last) login went.
 * @param s the session.
 * @return a bit set of ::xmpp_login_flag values; 0 for an RFC 6120 login,
 *         before authentication, or for NULL.
 */
XMPP_EXTERN unsigned xmpp_session_login_flags(const xmpp_session *s);

#ifdef __cplusplus
}
#endif

#endif /* XMPP_SESSION_H */
