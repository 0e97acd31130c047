/**
 * @file xmpp/xep/bookmarks.h
 * @brief XEP-0402 PEP Native Bookmarks with XEP-0048 compatibility: the
 *        "bookmarks" plugin (needs "pubsub").
 *
 * The storage is chosen once per session, before the first operation, by
 * a disco#info request to our own bare JID (XEP-0402 §3):
 *  - the account announces "urn:xmpp:bookmarks:1#compat": bookmarks are
 *    items of our PEP node "urn:xmpp:bookmarks:1" (one item per room,
 *    item id = room JID), published privately (XEP-0223:
 *    persist_items, access_model=whitelist, max_items=max,
 *    send_last_published_item=never) and retracted with notify;
 *  - otherwise: the legacy \<storage xmlns='storage:bookmarks'/> in
 *    XEP-0049 private storage, read, changed and written back whole (two
 *    clients changing it at the same time may lose a change: a limit of
 *    XEP-0048 itself).
 * Notifications (xmpp_bookmarks_watch(), PEP storage only) are accepted
 * only from our own bare JID (SECURITY.md ORG-06). Functions of this
 * header are callable from callbacks.
 */
#ifndef XMPP_XEP_BOOKMARKS_H
#define XMPP_XEP_BOOKMARKS_H

#include <stddef.h>

#include <xmpp/common.h>
#include <xmpp/session.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The XEP-0402 node and namespace. */
#define XMPP_NS_BOOKMARKS2 "urn:xmpp:bookmarks:1"
/** The feature an account announces when PEP bookmarks are the storage. */
#define XMPP_NS_BOOKMARKS2_COMPAT "urn:xmpp:bookmarks:1#compat"
/** The XEP-0048 namespace. */
#define XMPP_NS_BOOKMARKS_LEGACY "storage:bookmarks"

/** A chat room bookmark. Strings are borrowed (given or received). */
typedef struct xmpp_bookmark {
    const char *jid;      /**< The room's bare JID (required). */
    const char *name;     /**< A display name, or NULL. */
    const char *nick;     /**< Our nickname in the room, or NULL. */
    const char *password; /**< The room password, or NULL. */
    int autojoin;         /**< Nonzero to join the room at login. */
} xmpp_bookmark;

/** The storage in use (see the file comment). */
typedef enum xmpp_bookmarks_storage {
    XMPP_BOOKMARKS_UNKNOWN = 0, /**< Not decided yet (no operation ran). */
    XMPP_BOOKMARKS_PEP = 1,     /**< XEP-0402 PEP items. */
    XMPP_BOOKMARKS_LEGACY = 2   /**< XEP-0048 in XEP-0049 private storage. */
} xmpp_bookmarks_storage;

/**
 * Completion of xmpp_bookmarks_list(); fires exactly once.
 * @param s the session.
 * @param status how the request ended.
 * @param list the bookmarks on ::XMPP_IQ_RESULT (valid during the call),
 *        else NULL.
 * @param n the number of bookmarks.
 * @param error the error reply on ::XMPP_IQ_ERROR (borrowed), else NULL.
 * @param user_data passed back.
 */
typedef void (*xmpp_bookmarks_fn)(xmpp_session *s, xmpp_iq_status status,
                                  const xmpp_bookmark *list, size_t n, xmpp_stanza *error,
                                  void *user_data);

/**
 * Lists the bookmarks (an absent node or storage is an empty list).
 * @param s the session ("bookmarks" enabled).
 * @param timeout_ms for each request; 0 for the session default.
 * @param cb the completion callback (required).
 * @param user_data passed back.
 * @return ::XMPP_OK (the callback will fire) or an error (it will not):
 *         ::XMPP_ERR_STATE, ::XMPP_ERR_INVALID, ::XMPP_ERR_NOMEM, or those
 *         of xmpp_session_send_iq().
 */
XMPP_EXTERN int xmpp_bookmarks_list(xmpp_session *s, unsigned timeout_ms, xmpp_bookmarks_fn cb,
                                    void *user_data);

/**
 * Adds a bookmark, or replaces the one with the same room JID.
 * @param s the session ("bookmarks" enabled).
 * @param b the bookmark (copied).
 * @param timeout_ms for each request; 0 for the session default.
 * @param cb the completion callback (may be NULL).
 * @param user_data passed back.
 * @return as xmpp_bookmarks_list().
 */
XMPP_EXTERN int xmpp_bookmarks_add(xmpp_session *s, const xmpp_bookmark *b, unsigned timeout_ms,
                                   xmpp_iq_fn cb, void *user_data);

/**
 * Removes the bookmark of a room (removing an absent one succeeds with
 * the legacy storage; with PEP the server may answer item-not-found).
 * @param s the session ("bookmarks" enabled).
 * @param jid the room JID.
 * @param timeout_ms for each request; 0 for the session default.
 * @param cb the completion callback (may be NULL).
 * @param user_data passed back.
 * @return as xmpp_bookmarks_list().
 */
XMPP_EXTERN int xmpp_bookmarks_remove(xmpp_session *s, const char *jid, unsigned timeout_ms,
                                      xmpp_iq_fn cb, void *user_data);

/**
 * The storage chosen for this session.
 * @param s the session.
 * @return the storage (::XMPP_BOOKMARKS_UNKNOWN before the first
 *         operation completed its disco#info, or without the plugin).
 */
XMPP_EXTERN xmpp_bookmarks_storage xmpp_bookmarks_get_storage(const xmpp_session *s);

/**
 * Bookmark notification handler (PEP storage).
 * @param s the session.
 * @param jid the room JID.
 * @param b the new or changed bookmark, or NULL when it was removed.
 * @param user_data passed back.
 */
typedef void (*xmpp_bookmarks_event_fn)(xmpp_session *s, const char *jid,
                                        const xmpp_bookmark *b, void *user_data);

/**
 * Receives bookmark changes made by our other clients, and registers the
 * XEP-0163 interest "urn:xmpp:bookmarks:1+notify" (send a presence with
 * xmpp_caps_decorate() afterwards).
 * @param s the session ("bookmarks" enabled).
 * @param cb the handler.
 * @param user_data passed back.
 * @param handle receives the handle for xmpp_bookmarks_unwatch() (may be
 *        NULL).
 * @return ::XMPP_OK, ::XMPP_ERR_STATE, ::XMPP_ERR_INVALID, ::XMPP_ERR_LIMIT,
 *         ::XMPP_ERR_NOMEM.
 */
XMPP_EXTERN int xmpp_bookmarks_watch(xmpp_session *s, xmpp_bookmarks_event_fn cb,
                                     void *user_data, unsigned long *handle);

/**
 * Stops a bookmark handler and withdraws its interest.
 * @param s the session.
 * @param handle the handle from xmpp_bookmarks_watch().
 * @return ::XMPP_OK, ::XMPP_ERR_NOT_FOUND, ::XMPP_ERR_STATE.
 */
XMPP_EXTERN int xmpp_bookmarks_unwatch(xmpp_session *s, unsigned long handle);

#ifdef __cplusplus
}
#endif

#endif /* XMPP_XEP_BOOKMARKS_H */
