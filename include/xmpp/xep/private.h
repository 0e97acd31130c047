/**
 * @file xmpp/xep/private.h
 * @brief XEP-0049 Private XML Storage: get and set one namespace's element
 *        in the account's private storage (jabber:iq:private).
 *
 * Requests go to our own account (no "to"); replies are accepted only
 * from it (SECURITY.md ORG-05). No plugin needs to be enabled. Functions
 * of this header are callable from callbacks.
 */
#ifndef XMPP_XEP_PRIVATE_H
#define XMPP_XEP_PRIVATE_H

#include <xmpp/common.h>
#include <xmpp/session.h>
#include <xmpp/stanza.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The XEP-0049 namespace. */
#define XMPP_NS_PRIVATE "jabber:iq:private"

/**
 * Completion of xmpp_private_get(); fires exactly once.
 * @param s the session.
 * @param status how the request ended.
 * @param element on ::XMPP_IQ_RESULT, the stored element with the name
 *        and namespace asked for (borrowed; copy it to keep it), or NULL
 *        when the reply did not hold one; NULL otherwise.
 * @param error the error reply on ::XMPP_IQ_ERROR, else NULL (borrowed).
 * @param user_data passed back.
 */
typedef void (*xmpp_private_fn)(xmpp_session *s, xmpp_iq_status status, xmpp_stanza *element,
                                xmpp_stanza *error, void *user_data);

/**
 * Retrieves the stored element of a namespace (XEP-0049 §3.2). Servers
 * return the empty element when nothing is stored.
 * @param s the session.
 * @param name the element name (e.g. "storage").
 * @param ns its namespace (e.g. "storage:bookmarks"); "jabber:" namespaces
 *        are refused by servers (XEP-0049 §3.3).
 * @param timeout_ms 0 for the session default.
 * @param cb the completion callback (required).
 * @param user_data passed back.
 * @return ::XMPP_OK (the callback will fire) or an error (it will not):
 *         ::XMPP_ERR_INVALID, ::XMPP_ERR_NOMEM, or those of
 *         xmpp_session_send_iq().
 */
XMPP_EXTERN int xmpp_private_get(xmpp_session *s, const char *name, const char *ns,
                                 unsigned timeout_ms, xmpp_private_fn cb, void *user_data);

/**
 * Stores an element, replacing what was stored for its namespace
 * (XEP-0049 §3.1).
 * @param s the session.
 * @param element the element (copied); it must have a namespace other
 *        than jabber:client.
 * @param timeout_ms 0 for the session default.
 * @param cb the completion callback (may be NULL).
 * @param user_data passed back.
 * @return as xmpp_private_get().
 */
XMPP_EXTERN int xmpp_private_set(xmpp_session *s, const xmpp_stanza *element,
                                 unsigned timeout_ms, xmpp_iq_fn cb, void *user_data);

#ifdef __cplusplus
}
#endif

#endif /* XMPP_XEP_PRIVATE_H */
