/**
 * @file xmpp/common.h
 * @brief Shared definitions: export macro, error codes, allocator, logging,
 *        the library context and XMPP error conditions.
 *
 * Every fallible function of libxmpp returns an @c int: zero (or a count) on
 * success and a negative ::xmpp_error on failure. Nothing aborts on out of
 * memory: allocation failures come back as ::XMPP_ERR_NOMEM.
 */
#ifndef XMPP_COMMON_H
#define XMPP_COMMON_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Marks a declaration as part of the exported ABI. */
#if defined(XMPP_BUILDING) && defined(__GNUC__)
#define XMPP_EXTERN __attribute__((visibility("default")))
#else
#define XMPP_EXTERN
#endif

/**
 * Error codes. All are negative; ::XMPP_OK is zero. New codes are only ever
 * appended, so the numeric values are stable across releases.
 */
typedef enum xmpp_error {
    XMPP_OK = 0,                    /**< Success. */
    XMPP_ERR_NOMEM = -1,            /**< An allocation failed. */
    XMPP_ERR_INVALID = -2,          /**< An argument is invalid (NULL where not allowed, bad value). */
    XMPP_ERR_NOT_FOUND = -3,        /**< The requested item does not exist. */
    XMPP_ERR_RECURSIVE = -4,        /**< The call is not allowed from inside a callback. */
    XMPP_ERR_STATE = -5,            /**< The object is not in a state that allows this call. */
    XMPP_ERR_LIMIT = -6,            /**< A configured limit would be exceeded. */
    XMPP_ERR_STREAM = -7,           /**< The XML stream failed; the stream condition says why. */
    XMPP_ERR_CLOSED = -8,           /**< The stream has ended; no further input is accepted. */
    XMPP_ERR_NOT_TEXT = -9,         /**< The node is an element where text was expected, or the reverse. */
    XMPP_ERR_UTF8 = -10,            /**< A string is not valid UTF-8, or holds a forbidden character. */
    XMPP_ERR_JID_MALFORMED = -11,   /**< A JID is malformed (misplaced separators). */
    XMPP_ERR_JID_EMPTY_LOCAL = -12, /**< A JID has an '@' but an empty localpart. */
    XMPP_ERR_JID_EMPTY_DOMAIN = -13,   /**< A JID has an empty domainpart. */
    XMPP_ERR_JID_EMPTY_RESOURCE = -14, /**< A JID has a '/' but an empty resourcepart. */
    XMPP_ERR_JID_TOO_LONG = -15,    /**< A JID part exceeds 1023 octets (RFC 7622 §3). */
    XMPP_ERR_JID_LOCAL = -16,       /**< The localpart fails the PRECIS UsernameCaseMapped profile. */
    XMPP_ERR_JID_DOMAIN = -17,      /**< The domainpart fails IDNA2008 or is not a valid host name or IP literal. */
    XMPP_ERR_JID_RESOURCE = -18,    /**< The resourcepart fails the PRECIS OpaqueString profile. */
    XMPP_ERR_JID_BIDI = -19,        /**< A JID part violates the Bidi Rule (RFC 5893). */
    XMPP_ERR_JID_ESCAPE = -20,      /**< A string cannot be XEP-0106 escaped or unescaped. */
    XMPP_ERR_UNSUPPORTED = -21,     /**< Not available in this build (an optional dependency is missing). */
    XMPP_ERR_BAD_REPLY = -22,       /**< A peer's reply is malformed or unsafe (missing or non-https URL, ...). */
    XMPP_ERR_HTTP = -23,            /**< An HTTP transfer failed (network, TLS or an HTTP error status). */
    XMPP_ERR_CANCELLED = -24        /**< The operation was cancelled (by the application or at teardown). */
} xmpp_error;

/**
 * A short English description of an error code.
 * @param err an ::xmpp_error value (any int is accepted).
 * @return a static string; never NULL. Callable from callbacks.
 */
XMPP_EXTERN const char *xmpp_strerror(int err);

/**
 * Stream error conditions (RFC 6120 §4.9.3). ::XMPP_SC_NONE means no error.
 */
typedef enum xmpp_stream_condition {
    XMPP_SC_NONE = 0, /**< No error. */
    XMPP_SC_BAD_FORMAT, /**< &lt;bad-format/&gt; (RFC 6120 §4.9.3). */
    XMPP_SC_BAD_NAMESPACE_PREFIX, /**< &lt;bad-namespace-prefix/&gt; (RFC 6120 §4.9.3). */
    XMPP_SC_CONFLICT, /**< &lt;conflict/&gt; (RFC 6120 §4.9.3). */
    XMPP_SC_CONNECTION_TIMEOUT, /**< &lt;connection-timeout/&gt; (RFC 6120 §4.9.3). */
    XMPP_SC_HOST_GONE, /**< &lt;host-gone/&gt; (RFC 6120 §4.9.3). */
    XMPP_SC_HOST_UNKNOWN, /**< &lt;host-unknown/&gt; (RFC 6120 §4.9.3). */
    XMPP_SC_IMPROPER_ADDRESSING, /**< &lt;improper-addressing/&gt; (RFC 6120 §4.9.3). */
    XMPP_SC_INTERNAL_SERVER_ERROR, /**< &lt;internal-server-error/&gt; (RFC 6120 §4.9.3). */
    XMPP_SC_INVALID_FROM, /**< &lt;invalid-from/&gt; (RFC 6120 §4.9.3). */
    XMPP_SC_INVALID_NAMESPACE, /**< &lt;invalid-namespace/&gt; (RFC 6120 §4.9.3). */
    XMPP_SC_INVALID_XML, /**< &lt;invalid-xml/&gt; (RFC 6120 §4.9.3). */
    XMPP_SC_NOT_AUTHORIZED, /**< &lt;not-authorized/&gt; (RFC 6120 §4.9.3). */
    XMPP_SC_NOT_WELL_FORMED, /**< &lt;not-well-formed/&gt; (RFC 6120 §4.9.3). */
    XMPP_SC_POLICY_VIOLATION, /**< &lt;policy-violation/&gt; (RFC 6120 §4.9.3). */
    XMPP_SC_REMOTE_CONNECTION_FAILED, /**< &lt;remote-connection-failed/&gt; (RFC 6120 §4.9.3). */
    XMPP_SC_RESET, /**< &lt;reset/&gt; (RFC 6120 §4.9.3). */
    XMPP_SC_RESOURCE_CONSTRAINT, /**< &lt;resource-constraint/&gt; (RFC 6120 §4.9.3). */
    XMPP_SC_RESTRICTED_XML, /**< &lt;restricted-xml/&gt; (RFC 6120 §4.9.3). */
    XMPP_SC_SEE_OTHER_HOST, /**< &lt;see-other-host/&gt; (RFC 6120 §4.9.3). */
    XMPP_SC_SYSTEM_SHUTDOWN, /**< &lt;system-shutdown/&gt; (RFC 6120 §4.9.3). */
    XMPP_SC_UNDEFINED_CONDITION, /**< &lt;undefined-condition/&gt; (RFC 6120 §4.9.3). */
    XMPP_SC_UNSUPPORTED_ENCODING, /**< &lt;unsupported-encoding/&gt; (RFC 6120 §4.9.3). */
    XMPP_SC_UNSUPPORTED_FEATURE, /**< &lt;unsupported-feature/&gt; (RFC 6120 §4.9.3). */
    XMPP_SC_UNSUPPORTED_STANZA_TYPE, /**< &lt;unsupported-stanza-type/&gt; (RFC 6120 §4.9.3). */
    XMPP_SC_UNSUPPORTED_VERSION /**< &lt;unsupported-version/&gt; (RFC 6120 §4.9.3). */
} xmpp_stream_condition;

/**
 * The element name of a stream error condition ("not-well-formed", ...).
 * @return a static string; "" for ::XMPP_SC_NONE or an unknown value.
 */
XMPP_EXTERN const char *xmpp_stream_condition_name(xmpp_stream_condition cond);

/**
 * Looks up a stream error condition by element name.
 * @return the condition, or ::XMPP_SC_UNDEFINED_CONDITION for an unknown name.
 */
XMPP_EXTERN xmpp_stream_condition xmpp_stream_condition_from_name(const char *name);

/**
 * Stanza error conditions (RFC 6120 §8.3.3).
 */
typedef enum xmpp_stanza_condition {
    XMPP_EC_BAD_REQUEST = 1, /**< &lt;bad-request/&gt; (RFC 6120 §8.3.3). */
    XMPP_EC_CONFLICT, /**< &lt;conflict/&gt; (RFC 6120 §8.3.3). */
    XMPP_EC_FEATURE_NOT_IMPLEMENTED, /**< &lt;feature-not-implemented/&gt; (RFC 6120 §8.3.3). */
    XMPP_EC_FORBIDDEN, /**< &lt;forbidden/&gt; (RFC 6120 §8.3.3). */
    XMPP_EC_GONE, /**< &lt;gone/&gt; (RFC 6120 §8.3.3). */
    XMPP_EC_INTERNAL_SERVER_ERROR, /**< &lt;internal-server-error/&gt; (RFC 6120 §8.3.3). */
    XMPP_EC_ITEM_NOT_FOUND, /**< &lt;item-not-found/&gt; (RFC 6120 §8.3.3). */
    XMPP_EC_JID_MALFORMED, /**< &lt;jid-malformed/&gt; (RFC 6120 §8.3.3). */
    XMPP_EC_NOT_ACCEPTABLE, /**< &lt;not-acceptable/&gt; (RFC 6120 §8.3.3). */
    XMPP_EC_NOT_ALLOWED, /**< &lt;not-allowed/&gt; (RFC 6120 §8.3.3). */
    XMPP_EC_NOT_AUTHORIZED, /**< &lt;not-authorized/&gt; (RFC 6120 §8.3.3). */
    XMPP_EC_POLICY_VIOLATION, /**< &lt;policy-violation/&gt; (RFC 6120 §8.3.3). */
    XMPP_EC_RECIPIENT_UNAVAILABLE, /**< &lt;recipient-unavailable/&gt; (RFC 6120 §8.3.3). */
    XMPP_EC_REDIRECT, /**< &lt;redirect/&gt; (RFC 6120 §8.3.3). */
    XMPP_EC_REGISTRATION_REQUIRED, /**< &lt;registration-required/&gt; (RFC 6120 §8.3.3). */
    XMPP_EC_REMOTE_SERVER_NOT_FOUND, /**< &lt;remote-server-not-found/&gt; (RFC 6120 §8.3.3). */
    XMPP_EC_REMOTE_SERVER_TIMEOUT, /**< &lt;remote-server-timeout/&gt; (RFC 6120 §8.3.3). */
    XMPP_EC_RESOURCE_CONSTRAINT, /**< &lt;resource-constraint/&gt; (RFC 6120 §8.3.3). */
    XMPP_EC_SERVICE_UNAVAILABLE, /**< &lt;service-unavailable/&gt; (RFC 6120 §8.3.3). */
    XMPP_EC_SUBSCRIPTION_REQUIRED, /**< &lt;subscription-required/&gt; (RFC 6120 §8.3.3). */
    XMPP_EC_UNDEFINED_CONDITION, /**< &lt;undefined-condition/&gt; (RFC 6120 §8.3.3). */
    XMPP_EC_UNEXPECTED_REQUEST /**< &lt;unexpected-request/&gt; (RFC 6120 §8.3.3). */
} xmpp_stanza_condition;

/**
 * The element name of a stanza error condition ("item-not-found", ...).
 * @return a static string; "" for an unknown value.
 */
XMPP_EXTERN const char *xmpp_stanza_condition_name(xmpp_stanza_condition cond);

/**
 * The error type RFC 6120 §8.3.3 recommends for a condition
 * ("cancel", "modify", "auth", "wait").
 * @return a static string; "cancel" for an unknown value.
 */
XMPP_EXTERN const char *xmpp_stanza_condition_type(xmpp_stanza_condition cond);

/**
 * Allocator hooks. Each function receives @c user_data as its last argument.
 * @c realloc must behave like C realloc (NULL pointer means allocate; it is
 * never called with size 0). @c free accepts NULL.
 */
typedef struct xmpp_allocator {
    void *(*malloc)(size_t size, void *user_data);            /**< Allocate. */
    void *(*realloc)(void *ptr, size_t size, void *user_data); /**< Resize. */
    void (*free)(void *ptr, void *user_data);                 /**< Release. */
    void *user_data;                                          /**< Passed to each hook. */
} xmpp_allocator;

/** Log levels, from most to least verbose. */
typedef enum xmpp_log_level {
    XMPP_LOG_DEBUG = 0, /**< Protocol traces (credentials are redacted). */
    XMPP_LOG_INFO = 1,  /**< Notable events. */
    XMPP_LOG_WARN = 2,  /**< Recoverable problems. */
    XMPP_LOG_ERROR = 3, /**< Failures. */
    XMPP_LOG_NONE = 4   /**< Disable logging. */
} xmpp_log_level;

/**
 * Log callback.
 * @param level the message's level (already filtered: never below the
 *        context's threshold).
 * @param area the subsystem ("xml", "jid", ...), a static string.
 * @param msg the formatted message, valid only during the call.
 * @param user_data as given to xmpp_ctx_set_log().
 */
typedef void (*xmpp_log_fn)(xmpp_log_level level, const char *area,
                            const char *msg, void *user_data);

/**
 * The library context: carries the allocator and the log callback shared by
 * every object created with it. A context must outlive all objects created
 * with it. A context is not thread-safe; objects of distinct contexts may be
 * used on distinct threads.
 */
typedef struct xmpp_ctx xmpp_ctx;

/**
 * Creates a context.
 * @param out receives the new context.
 * @param alloc allocator hooks, copied; NULL for the C library's malloc,
 *        realloc and free. All three hooks must be set when @p alloc is given.
 * @return ::XMPP_OK, ::XMPP_ERR_INVALID (NULL @p out or missing hook) or
 *         ::XMPP_ERR_NOMEM.
 */
XMPP_EXTERN int xmpp_ctx_new(xmpp_ctx **out, const xmpp_allocator *alloc);

/**
 * Frees a context. Accepts NULL. All objects created with it must already be
 * freed.
 */
XMPP_EXTERN void xmpp_ctx_free(xmpp_ctx *ctx);

/**
 * Sets the log callback and threshold. Messages below @p level are dropped
 * before they are formatted, so a quiet log costs nothing.
 * @param ctx the context.
 * @param fn the callback, or NULL to disable logging.
 * @param level the lowest level delivered.
 * @param user_data passed to @p fn.
 */
XMPP_EXTERN void xmpp_ctx_set_log(xmpp_ctx *ctx, xmpp_log_fn fn,
                                  xmpp_log_level level, void *user_data);

/**
 * Frees memory that libxmpp allocated with the context's allocator and handed
 * to the caller (for example by xmpp_stanza_serialize()). Accepts NULL.
 */
XMPP_EXTERN void xmpp_free(xmpp_ctx *ctx, void *ptr);

/**
 * The run-time version of the library, "MAJOR.MINOR.MICRO".
 * @return a static string.
 */
XMPP_EXTERN const char *xmpp_version_string(void);

#ifdef __cplusplus
}
#endif

#endif /* XMPP_COMMON_H */
