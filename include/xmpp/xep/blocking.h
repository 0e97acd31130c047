/**
 * @file xmpp/xep/blocking.h
 * @brief XEP-0191 Blocking Command: the "blocking" plugin keeps the block
 *        list in memory, fetches it, blocks and unblocks, and applies the
 *        server's block/unblock pushes from the account only (a push with
 *        any other sender is answered with service-unavailable and
 *        ignored, as roster pushes are: SECURITY ORG-02).
 *
 * Blocked JIDs may be bare, full or domain JIDs; they are kept in
 * prepared form. At most ::XMPP_BLOCKING_MAX_ITEMS are kept.
 */
#ifndef XMPP_XEP_BLOCKING_H
#define XMPP_XEP_BLOCKING_H

#include <stddef.h>

#include <xmpp/common.h>
#include <xmpp/session.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The blocking namespace. */
#define XMPP_NS_BLOCKING "urn:xmpp:blocking"
/** The largest block list kept in memory. */
#define XMPP_BLOCKING_MAX_ITEMS 20000

/**
 * Called for every change of the in-memory block list.
 * @param s the session.
 * @param blocked 1 when @p jid was blocked, 0 when unblocked.
 * @param jid the JID, or NULL when everything was unblocked.
 * @param user_data passed back to the callback.
 */
typedef void (*xmpp_blocking_change_fn)(xmpp_session *s, int blocked, const char *jid,
                                        void *user_data);

/**
 * Sets the change callback (one per session; NULL removes it).
 * @param s the session, with the "blocking" plugin enabled.
 * @param cb the callback or NULL.
 * @param user_data passed back to the callback.
 * @return ::XMPP_OK, ::XMPP_ERR_INVALID or ::XMPP_ERR_STATE (plugin not enabled).
 */
XMPP_EXTERN int xmpp_blocking_set_change_callback(xmpp_session *s, xmpp_blocking_change_fn cb,
                                                  void *user_data);

/**
 * Fetches the block list (XEP-0191 §3.2); a result replaces the in-memory
 * list (changes are reported) and subscribes this resource to pushes.
 * @param s a ready session, with the "blocking" plugin enabled.
 * @param timeout_ms 0 for the session default.
 * @param cb the completion callback (exactly once), or NULL.
 * @param user_data passed back to the callback.
 * @return ::XMPP_OK, ::XMPP_ERR_STATE, or as xmpp_session_send_iq(); on
 *         error the callback does not fire.
 */
XMPP_EXTERN int xmpp_blocking_fetch(xmpp_session *s, unsigned timeout_ms, xmpp_iq_fn cb,
                                    void *user_data);

/**
 * Blocks JIDs (XEP-0191 §3.3). The in-memory list changes when the
 * server's push arrives.
 * @param s a ready session, with the "blocking" plugin enabled.
 * @param jids the JIDs (at least one).
 * @param n their number.
 * @param timeout_ms 0 for the session default.
 * @param cb the completion callback (exactly once), or NULL.
 * @param user_data passed back to the callback.
 * @return ::XMPP_OK, ::XMPP_ERR_INVALID (a bad JID, none), ::XMPP_ERR_STATE,
 *         or as xmpp_session_send_iq(); on error the callback does not fire.
 */
XMPP_EXTERN int xmpp_blocking_block(xmpp_session *s, const char *const *jids, size_t n,
                                    unsigned timeout_ms, xmpp_iq_fn cb, void *user_data);

/**
 * Unblocks JIDs (XEP-0191 §3.4), or everything when @p n is 0 (§3.5).
 * @param s a ready session, with the "blocking" plugin enabled.
 * @param jids the JIDs, or NULL when @p n is 0.
 * @param n their number; 0 unblocks every JID.
 * @param timeout_ms 0 for the session default.
 * @param cb the completion callback (exactly once), or NULL.
 * @param user_data passed back to the callback.
 * @return as xmpp_blocking_block().
 */
XMPP_EXTERN int xmpp_blocking_unblock(xmpp_session *s, const char *const *jids, size_t n,
                                      unsigned timeout_ms, xmpp_iq_fn cb, void *user_data);

/**
 * The number of blocked JIDs in memory.
 * @param s the session.
 * @return the count.
 */
XMPP_EXTERN size_t xmpp_blocking_count(const xmpp_session *s);

/**
 * A blocked JID by position.
 * @param s the session.
 * @param i below xmpp_blocking_count().
 * @return the JID (prepared form), or NULL when out of range.
 */
XMPP_EXTERN const char *xmpp_blocking_at(const xmpp_session *s, size_t i);

/**
 * Whether a JID is on the in-memory block list (exact, prepared form).
 * @param s the session.
 * @param jid the JID.
 * @return 1 or 0.
 */
XMPP_EXTERN int xmpp_blocking_is_blocked(const xmpp_session *s, const char *jid);

#ifdef __cplusplus
}
#endif

#endif /* XMPP_XEP_BLOCKING_H */
