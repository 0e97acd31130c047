/**
 * @file xmpp/xep/push.h
 * @brief XEP-0357 Push Notifications: enabling and disabling push on the
 *        account's server for an app server (push service JID and node).
 *
 * The client registers with its own server: "send a notification for me
 * to this pubsub service and node", optionally with publish-options (a
 * secret, an endpoint) that the server passes on to the service. The
 * requests go to the own account; the answer is accepted only from the
 * account or its server (ORG-05). Whether the server supports it is the
 * feature ::XMPP_NS_PUSH in the disco#info of the account's bare JID
 * (xmpp_disco_info_request() with @c to = NULL).
 */
#ifndef XMPP_XEP_PUSH_H
#define XMPP_XEP_PUSH_H

#include <stddef.h>

#include <xmpp/common.h>
#include <xmpp/session.h>
#include <xmpp/stanza.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The push namespace (XEP-0357). */
#define XMPP_NS_PUSH "urn:xmpp:push:0"

/** The most publish-options fields xmpp_push_enable() takes. */
#define XMPP_PUSH_MAX_FIELDS 32

/**
 * Completion of xmpp_push_enable() and xmpp_push_disable(); fires exactly
 * once.
 * @param s the session.
 * @param status ::XMPP_IQ_RESULT (done), ::XMPP_IQ_ERROR (refused: see
 *        @p error), ::XMPP_IQ_TIMEOUT or ::XMPP_IQ_CANCELLED.
 * @param error the error reply for ::XMPP_IQ_ERROR (borrowed), else NULL.
 * @param user_data passed back to the callback.
 */
typedef void (*xmpp_push_fn)(xmpp_session *s, xmpp_iq_status status, xmpp_stanza *error,
                             void *user_data);

/**
 * Enables push notifications to a service and node (XEP-0357 §5), with
 * optional publish-options given as a data form of type submit whose
 * FORM_TYPE is http://jabber.org/protocol/pubsub#publish-options.
 * @param s a ready session.
 * @param service the push service (app server) JID.
 * @param node the node on the service (required).
 * @param vars the publish-options field names (e.g. "secret"), or NULL
 *        when @p n_fields is 0; "FORM_TYPE" is added and not allowed here.
 * @param values the field values, one per name.
 * @param n_fields the number of fields, at most ::XMPP_PUSH_MAX_FIELDS.
 * @param timeout_ms 0 for the session default.
 * @param cb the completion callback, or NULL.
 * @param user_data passed back to the callback.
 * @return ::XMPP_OK; ::XMPP_ERR_INVALID (a missing or empty service or
 *         node, a NULL or empty field name, FORM_TYPE among the names, a
 *         NULL value); ::XMPP_ERR_LIMIT (too many fields); or as
 *         xmpp_session_send_iq(); on error the callback does not fire.
 */
XMPP_EXTERN int xmpp_push_enable(xmpp_session *s, const char *service, const char *node,
                                 const char *const *vars, const char *const *values,
                                 size_t n_fields, unsigned timeout_ms, xmpp_push_fn cb,
                                 void *user_data);

/**
 * Disables push notifications to a service: for one node, or for every
 * node of the service when @p node is NULL (XEP-0357 §6).
 * @param s a ready session.
 * @param service the push service JID.
 * @param node the node, or NULL for all.
 * @param timeout_ms 0 for the session default.
 * @param cb the completion callback, or NULL.
 * @param user_data passed back to the callback.
 * @return ::XMPP_OK, ::XMPP_ERR_INVALID, or as xmpp_session_send_iq(); on
 *         error the callback does not fire.
 */
XMPP_EXTERN int xmpp_push_disable(xmpp_session *s, const char *service, const char *node,
                                  unsigned timeout_ms, xmpp_push_fn cb, void *user_data);

#ifdef __cplusplus
}
#endif

#endif /* XMPP_XEP_PUSH_H */
