/**
 * @file xmpp/xep/carbons.h
 * @brief XEP-0280 message carbons: the "carbons" plugin.
 *
 * With carbons enabled on the server, messages the account's other
 * devices send and receive are copied to this session, wrapped in a
 * \<sent/> or \<received/> element. The wrapper is trusted only when it
 * comes from the account itself: the "from" of the outer message must be
 * our bare JID exactly (XEP-0280 §11, CVE-2017-5589). The plugin consumes
 * every message carrying such a wrapper: a valid carbon goes to the
 * handler of xmpp_carbons_set_handler(), a spoofed or malformed one is
 * dropped (and logged); neither reaches the application's message
 * handlers.
 *
 * Enabling: with SASL2 and Bind2, xmpp_session_options_set_carbons()
 * enables them inside the login (xmpp_session_login_flags() then has
 * ::XMPP_LOGIN_CARBONS); otherwise call xmpp_carbons_enable() once the
 * session is ready (again after a new, not resumed, session).
 *
 * Handlers run in the order they were added: enable the plugin
 * (xmpp_session_options_enable_plugin(opts, "carbons")) before adding a
 * message handler of your own that matches every message, or that
 * handler sees carbons (spoofed ones included) first.
 */
#ifndef XMPP_XEP_CARBONS_H
#define XMPP_XEP_CARBONS_H

#include <xmpp/common.h>
#include <xmpp/session.h>
#include <xmpp/stanza.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The XEP-0280 namespace. */
#define XMPP_NS_CARBONS_XEP "urn:xmpp:carbons:2"
/** The XEP-0334 hints namespace (for \<no-copy/>). */
#define XMPP_NS_HINTS "urn:xmpp:hints"

/** Which way a carbon copy went. */
typedef enum xmpp_carbon_dir {
    XMPP_CARBON_RECEIVED = 0, /**< Another device of ours received it. */
    XMPP_CARBON_SENT = 1      /**< Another device of ours sent it. */
} xmpp_carbon_dir;

/**
 * Receives a valid carbon.
 * @param s the session.
 * @param dir received or sent.
 * @param message the forwarded message (borrowed, valid during the call):
 *        for ::XMPP_CARBON_SENT its "from" is one of our resources, its
 *        "to" the peer.
 * @param carbon the outer message from our own account (borrowed).
 * @param user_data passed back to the callback.
 */
typedef void (*xmpp_carbon_fn)(xmpp_session *s, xmpp_carbon_dir dir, xmpp_stanza *message,
                               xmpp_stanza *carbon, void *user_data);

/**
 * Sets the handler of carbons and enables the "carbons" plugin.
 * @param s the session.
 * @param fn the handler, or NULL to drop carbons.
 * @param user_data passed back to the handler.
 * @return ::XMPP_OK, ::XMPP_ERR_INVALID or as xmpp_session_enable_plugin().
 */
XMPP_EXTERN int xmpp_carbons_set_handler(xmpp_session *s, xmpp_carbon_fn fn, void *user_data);

/**
 * Completion of xmpp_carbons_enable(); fires exactly once.
 * @param s the session.
 * @param status ::XMPP_IQ_RESULT when the server switched carbons as
 *        asked; ::XMPP_IQ_ERROR, ::XMPP_IQ_TIMEOUT or ::XMPP_IQ_CANCELLED.
 * @param user_data passed back to the callback.
 */
typedef void (*xmpp_carbons_done_fn)(xmpp_session *s, xmpp_iq_status status, void *user_data);

/**
 * Asks the server to enable or disable carbons for this session
 * (XEP-0280 §4, §5). Enables the "carbons" plugin, so that carbons are
 * checked from then on.
 * @param s a ready session.
 * @param enable non-zero to enable, 0 to disable.
 * @param timeout_ms 0 for the session default.
 * @param cb the completion callback, or NULL.
 * @param user_data passed back to the callback.
 * @return ::XMPP_OK or as xmpp_session_send_iq(); on error the callback
 *         does not fire.
 */
XMPP_EXTERN int xmpp_carbons_enable(xmpp_session *s, int enable, unsigned timeout_ms,
                                    xmpp_carbons_done_fn cb, void *user_data);

/**
 * Marks an outgoing message as private: the server does not copy it to
 * our other devices (XEP-0280 §7: \<private/> plus the XEP-0334
 * \<no-copy/> hint).
 * @param msg the message.
 * @return ::XMPP_OK, ::XMPP_ERR_INVALID or ::XMPP_ERR_NOMEM.
 */
XMPP_EXTERN int xmpp_carbons_mark_private(xmpp_stanza *msg);

#ifdef __cplusplus
}
#endif

#endif /* XMPP_XEP_CARBONS_H */
