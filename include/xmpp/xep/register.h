/**
 * @file xmpp/xep/register.h
 * @brief XEP-0077 In-Band Registration: create the account before
 *        logging in (a session option), change the password and cancel
 *        the registration of a logged-in account (legacy fields, no data
 *        forms). None of this needs a plugin.
 */
#ifndef XMPP_XEP_REGISTER_H
#define XMPP_XEP_REGISTER_H

#include <xmpp/common.h>
#include <xmpp/session.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The in-band registration namespace. */
#define XMPP_NS_REGISTER "jabber:iq:register"
/** The stream feature announcing in-band registration. */
#define XMPP_NS_REGISTER_FEATURE "http://jabber.org/features/iq-register"

/**
 * The outcome of the registration asked for with
 * xmpp_session_options_set_register(); fires once per session, before
 * authentication. The session then logs in with the configured JID and
 * password whatever the outcome (an existing account with that password
 * still works); call xmpp_session_close() here to stop instead.
 * @param s the session.
 * @param ok 1 when the server created the account.
 * @param cond when not ok: the condition (::XMPP_EC_CONFLICT: the name is
 *        taken; ::XMPP_EC_NOT_ACCEPTABLE: fields missing or refused;
 *        ::XMPP_EC_FEATURE_NOT_IMPLEMENTED: the server does not offer
 *        in-band registration, nothing was sent).
 * @param text the server's explanation, or NULL (borrowed).
 * @param user_data passed back to the callback.
 */
typedef void (*xmpp_register_result_fn)(xmpp_session *s, int ok, xmpp_stanza_condition cond,
                                        const char *text, void *user_data);

/**
 * Registers the account (XEP-0077 §3.1) on the stream before logging in:
 * once TLS is up (never in plaintext unless plaintext is allowed
 * explicitly), the session sends the username (the localpart of the
 * options' JID), the password of the options and the e-mail address, and
 * then authenticates as usual. Only the first connection of each session
 * registers.
 * @param opts the options (with a JID that has a localpart, and a password).
 * @param email an e-mail address to give, or NULL (copied).
 * @param cb the outcome callback, or NULL to turn registration off.
 * @param user_data passed back to the callback.
 * @return ::XMPP_OK, ::XMPP_ERR_INVALID or ::XMPP_ERR_NOMEM.
 */
XMPP_EXTERN int xmpp_session_options_set_register(xmpp_session_options *opts, const char *email,
                                                  xmpp_register_result_fn cb,
                                                  void *user_data);

/**
 * Changes the account's password (XEP-0077 §3.3): sends the username (the
 * localpart of the session's JID) and the new password to the server.
 * When the server confirms, the session's password is updated too
 * (xmpp_session_set_password()), so that a reconnection logs in with it.
 * @param s a ready session.
 * @param new_password the new password (1 to 1023 bytes).
 * @param timeout_ms 0 for the session default.
 * @param cb the completion callback (exactly once), or NULL; an error
 *        reply carries e.g. not-authorized or not-acceptable.
 * @param user_data passed back to the callback.
 * @return ::XMPP_OK, ::XMPP_ERR_INVALID, ::XMPP_ERR_STATE (not bound), or as
 *         xmpp_session_send_iq(); on error the callback does not fire.
 */
XMPP_EXTERN int xmpp_register_change_password(xmpp_session *s, const char *new_password,
                                              unsigned timeout_ms, xmpp_iq_fn cb,
                                              void *user_data);

/**
 * Cancels the registration: deletes the account on the server
 * (XEP-0077 §3.2). The server usually ends the stream afterwards.
 * @param s a ready session.
 * @param timeout_ms 0 for the session default.
 * @param cb the completion callback (exactly once), or NULL.
 * @param user_data passed back to the callback.
 * @return as xmpp_register_change_password().
 */
XMPP_EXTERN int xmpp_register_cancel(xmpp_session *s, unsigned timeout_ms, xmpp_iq_fn cb,
                                     void *user_data);

/**
 * Registers with a gateway or other service (XEP-0100 §4.1 on top of
 * XEP-0077 §3.1): sends the legacy username and password to @p service
 * (find one with disco: an identity of category "gateway"). The answer
 * is accepted only from @p service. A gateway then usually asks to
 * subscribe to our presence (approve it with the "presence" plugin).
 * @param s a ready session.
 * @param service the gateway's JID (required).
 * @param username the legacy username.
 * @param password the legacy password.
 * @param timeout_ms 0 for the session default.
 * @param cb the completion callback (exactly once), or NULL.
 * @param user_data passed back to the callback.
 * @return ::XMPP_OK, ::XMPP_ERR_INVALID, or as xmpp_session_send_iq(); on
 *         error the callback does not fire.
 */
XMPP_EXTERN int xmpp_register_service(xmpp_session *s, const char *service, const char *username,
                                      const char *password, unsigned timeout_ms, xmpp_iq_fn cb,
                                      void *user_data);

/**
 * Cancels the registration with a gateway or service (XEP-0100 §4.3).
 * @param s a ready session.
 * @param service the gateway's JID (required).
 * @param timeout_ms 0 for the session default.
 * @param cb the completion callback (exactly once), or NULL.
 * @param user_data passed back to the callback.
 * @return as xmpp_register_service().
 */
XMPP_EXTERN int xmpp_register_service_cancel(xmpp_session *s, const char *service,
                                             unsigned timeout_ms, xmpp_iq_fn cb, void *user_data);

#ifdef __cplusplus
}
#endif

#endif /* XMPP_XEP_REGISTER_H */
