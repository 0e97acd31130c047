/**
 * @file xmpp/xep/register.h
 * @brief XEP-0077 In-Band Registration for a logged-in account: change
 *        the password, cancel the registration (legacy fields, no data
 *        forms). The requests work without enabling any plugin.
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

#ifdef __cplusplus
}
#endif

#endif /* XMPP_XEP_REGISTER_H */
