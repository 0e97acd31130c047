/**
 * @file xmpp/xep/last.h
 * @brief XEP-0012 Last Activity: the "last" plugin answers jabber:iq:last
 *        queries with the idle time the application set, and refuses
 *        (\<forbidden/>) while none is set; requests work whether or not
 *        it is enabled.
 */
#ifndef XMPP_XEP_LAST_H
#define XMPP_XEP_LAST_H

#include <stdint.h>

#include <xmpp/common.h>
#include <xmpp/session.h>
#include <xmpp/stanza.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The last activity namespace. */
#define XMPP_NS_LAST "jabber:iq:last"

/**
 * Sets since when the user has been idle; the plugin answers with the
 * seconds from then to the wall clock at the time of each query.
 * @param s the session, with "last" enabled.
 * @param idle_since the start of the idle time in seconds since
 *        1970-01-01 UTC (a time in the future counts as 0 s), or -1 to
 *        stop revealing it (the default): queries are then refused with
 *        \<forbidden/> (XEP-0012 §4: the entity may refuse).
 * @return ::XMPP_OK, ::XMPP_ERR_STATE (plugin not enabled) or
 *         ::XMPP_ERR_INVALID (a negative value other than -1).
 */
XMPP_EXTERN int xmpp_last_set_idle_since(xmpp_session *s, int64_t idle_since);

/**
 * Completion of xmpp_last_request(); fires exactly once.
 * @param s the session.
 * @param status how the IQ ended.
 * @param err for ::XMPP_IQ_RESULT: ::XMPP_OK, or ::XMPP_ERR_INVALID when
 *        the answer has no valid seconds attribute (0..2^31-1).
 * @param seconds the idle time (for a full JID), the time since logout
 *        (bare JID) or the uptime (server); -1 unless ::XMPP_OK.
 * @param text the status text in the answer, or NULL (borrowed).
 * @param reply the result or error stanza (borrowed) or NULL.
 * @param user_data passed back to the callback.
 */
typedef void (*xmpp_last_fn)(xmpp_session *s, xmpp_iq_status status, int err, long seconds,
                             const char *text, xmpp_stanza *reply, void *user_data);

/**
 * Asks an entity for its last activity; the answer is accepted only from
 * @p to.
 * @param s a ready session.
 * @param to the entity (full JID: idle time; bare JID: last logout;
 *        domain: uptime); required.
 * @param timeout_ms 0 for the session default.
 * @param cb the completion callback (required).
 * @param user_data passed back to the callback.
 * @return ::XMPP_OK, ::XMPP_ERR_INVALID or as xmpp_session_send_iq(); on
 *         error the callback does not fire.
 */
XMPP_EXTERN int xmpp_last_request(xmpp_session *s, const char *to, unsigned timeout_ms,
                                  xmpp_last_fn cb, void *user_data);

#ifdef __cplusplus
}
#endif

#endif /* XMPP_XEP_LAST_H */
