/**
 * @file xmpp/xep/ping.h
 * @brief XEP-0199 XMPP Ping: the "ping" plugin answers pings; requests
 *        work whether or not it is enabled.
 */
#ifndef XMPP_XEP_PING_H
#define XMPP_XEP_PING_H

#include <xmpp/common.h>
#include <xmpp/session.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The ping namespace. */
#define XMPP_NS_PING_XEP "urn:xmpp:ping"

/**
 * Completion of xmpp_ping_send(); fires exactly once.
 * @param s the session.
 * @param status ::XMPP_IQ_RESULT (pong), ::XMPP_IQ_ERROR (the entity is
 *        reachable but answered with an error, e.g. service-unavailable),
 *        ::XMPP_IQ_TIMEOUT or ::XMPP_IQ_CANCELLED.
 * @param user_data passed back to the callback.
 */
typedef void (*xmpp_ping_fn)(xmpp_session *s, xmpp_iq_status status, void *user_data);

/**
 * Pings an entity; the answer is accepted only from @p to.
 * @param s a ready session.
 * @param to the entity, or NULL for the own server.
 * @param timeout_ms 0 for the session default.
 * @param cb the completion callback, or NULL.
 * @param user_data passed back to the callback.
 * @return ::XMPP_OK or as xmpp_session_send_iq(); on error the callback
 *         does not fire.
 */
XMPP_EXTERN int xmpp_ping_send(xmpp_session *s, const char *to, unsigned timeout_ms,
                               xmpp_ping_fn cb, void *user_data);

#ifdef __cplusplus
}
#endif

#endif /* XMPP_XEP_PING_H */
