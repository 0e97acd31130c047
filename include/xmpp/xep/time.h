/**
 * @file xmpp/xep/time.h
 * @brief XEP-0202 Entity Time: the "time" plugin answers urn:xmpp:time
 *        queries from the wall clock; requests work whether or not it is
 *        enabled.
 */
#ifndef XMPP_XEP_TIME_H
#define XMPP_XEP_TIME_H

#include <stdint.h>

#include <xmpp/common.h>
#include <xmpp/session.h>
#include <xmpp/stanza.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The entity time namespace. */
#define XMPP_NS_TIME "urn:xmpp:time"

/** An entity's time, as parsed from a XEP-0202 answer. */
typedef struct xmpp_entity_time {
    int64_t utc;     /**< The instant, seconds since 1970-01-01 UTC. */
    uint32_t usec;   /**< Microseconds within that second. */
    int tzo_minutes; /**< The entity's offset from UTC in minutes (east positive). */
} xmpp_entity_time;

/**
 * Completion of xmpp_time_request(); fires exactly once.
 * @param s the session.
 * @param status how the IQ ended (::XMPP_IQ_RESULT, ::XMPP_IQ_ERROR,
 *        ::XMPP_IQ_TIMEOUT, ::XMPP_IQ_CANCELLED).
 * @param err for ::XMPP_IQ_RESULT: ::XMPP_OK, or ::XMPP_ERR_INVALID when
 *        the answer is malformed (missing or non-XEP-0082 \<utc/> or
 *        \<tzo/>); then @p time is NULL.
 * @param time the parsed time (borrowed, valid during the call) or NULL.
 * @param reply the result or error stanza (borrowed) or NULL.
 * @param user_data passed back to the callback.
 */
typedef void (*xmpp_time_fn)(xmpp_session *s, xmpp_iq_status status, int err,
                             const xmpp_entity_time *time, xmpp_stanza *reply, void *user_data);

/**
 * Asks an entity for its time; the answer is accepted only from @p to.
 * @param s a ready session.
 * @param to the entity (a full JID for a client), or NULL for the server.
 * @param timeout_ms 0 for the session default.
 * @param cb the completion callback (required).
 * @param user_data passed back to the callback.
 * @return ::XMPP_OK, ::XMPP_ERR_INVALID or as xmpp_session_send_iq(); on
 *         error the callback does not fire. Not callable from a callback
 *         only where xmpp_session_send_iq() is not.
 */
XMPP_EXTERN int xmpp_time_request(xmpp_session *s, const char *to, unsigned timeout_ms,
                                  xmpp_time_fn cb, void *user_data);

/**
 * Sets the offset the "time" plugin reports (default: the local offset of
 * the machine at the time of each answer). Reporting 0 ("Z") hides the
 * user's time zone.
 * @param s the session, with "time" enabled.
 * @param tzo_minutes the offset in minutes east of UTC (-1439..1439), or
 *        ::XMPP_TIME_TZO_LOCAL for the machine's local offset.
 * @return ::XMPP_OK, ::XMPP_ERR_STATE (plugin not enabled) or
 *         ::XMPP_ERR_INVALID.
 */
XMPP_EXTERN int xmpp_time_set_tzo(xmpp_session *s, int tzo_minutes);

/** xmpp_time_set_tzo(): report the machine's local offset. */
#define XMPP_TIME_TZO_LOCAL 10000

#ifdef __cplusplus
}
#endif

#endif /* XMPP_XEP_TIME_H */
