/**
 * @file xmpp/xep/receipts.h
 * @brief XEP-0184 Message Delivery Receipts: the "receipts" plugin.
 *
 * While enabled, the plugin answers a \<request/> in an incoming message
 * with a \<received/> receipt, except for messages of type groupchat or
 * error, messages without an id, messages that are themselves receipts,
 * and messages from the own account (XEP-0184 §5.4, §8). It also sends
 * messages with a receipt request and reports each receipt, accepted only
 * from the JID the message went to (for a bare JID: any resource of it).
 *
 * The plugin's message handler is registered for every message (no
 * namespace, no type) when the plugin is enabled and lets the stanza go
 * on to later handlers; an application handler registered for a more
 * specific key (e.g. type "chat") that returns 1 runs first and hides the
 * message from it.
 */
#ifndef XMPP_XEP_RECEIPTS_H
#define XMPP_XEP_RECEIPTS_H

#include <xmpp/common.h>
#include <xmpp/session.h>
#include <xmpp/stanza.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The receipts namespace. */
#define XMPP_NS_RECEIPTS "urn:xmpp:receipts"

/** The most receipts awaited at once; sending more forgets the oldest. */
#define XMPP_RECEIPTS_MAX_PENDING 1024

/**
 * A receipt arrived for a message sent with xmpp_receipts_send().
 * @param s the session.
 * @param id the id of the acknowledged message (borrowed).
 * @param from the JID that acknowledged it (borrowed).
 * @param user_data passed back to the callback.
 */
typedef void (*xmpp_receipt_fn)(xmpp_session *s, const char *id, const char *from, void *user_data);

/**
 * Sets the callback for receipts (replacing any previous one).
 * @param s the session, with "receipts" enabled.
 * @param cb the callback, or NULL for none.
 * @param user_data passed back to the callback.
 * @return ::XMPP_OK or ::XMPP_ERR_STATE (the plugin is not enabled).
 */
XMPP_EXTERN int xmpp_receipts_set_callback(xmpp_session *s, xmpp_receipt_fn cb, void *user_data);

/**
 * Turns the automatic answer to receipt requests on (the default) or off.
 * @param s the session, with "receipts" enabled.
 * @param on 1 or 0.
 * @return ::XMPP_OK or ::XMPP_ERR_STATE.
 */
XMPP_EXTERN int xmpp_receipts_set_auto_reply(xmpp_session *s, int on);

/**
 * Adds a receipt request to a message, gives it an id when it has none,
 * sends it and awaits its receipt. The message must have a @c to and must
 * not be of type groupchat or error (XEP-0184 §5.3).
 * @param s a session, with "receipts" enabled.
 * @param msg a \<message/> (modified: \<request/> and possibly an id are
 *        added; the caller keeps its reference).
 * @return ::XMPP_OK; ::XMPP_ERR_STATE (plugin not enabled);
 *         ::XMPP_ERR_INVALID (not a message, no or malformed @c to, wrong
 *         type, already carries a request); or as xmpp_session_send().
 */
XMPP_EXTERN int xmpp_receipts_send(xmpp_session *s, xmpp_stanza *msg);

/**
 * Whether a message carries a receipt request.
 * @param msg the message.
 * @return 1 or 0.
 */
XMPP_EXTERN int xmpp_receipts_requested(const xmpp_stanza *msg);

#ifdef __cplusplus
}
#endif

#endif /* XMPP_XEP_RECEIPTS_H */
