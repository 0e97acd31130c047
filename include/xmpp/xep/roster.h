/**
 * @file xmpp/xep/roster.h
 * @brief RFC 6121 roster management: the "roster" plugin keeps an
 *        in-memory roster, fetches it (with roster versioning, RFC 6121
 *        §2.6), applies roster pushes from the account only, and edits
 *        items.
 *
 * Roster pushes (RFC 6121 §2.1.6) are accepted only without a @c from or
 * from the account's bare JID; any other sender (a spoofed push, the
 * CVE-2014-0364 family) is answered with service-unavailable and the
 * roster stays unchanged. Every change of the in-memory roster (from a
 * fetch or a push) is reported to the change callback.
 *
 * Bounds: at most ::XMPP_ROSTER_MAX_ITEMS items and
 * ::XMPP_ROSTER_MAX_GROUPS groups per item; items beyond are dropped
 * (with a log line), items with an unparsable JID are ignored.
 */
#ifndef XMPP_XEP_ROSTER_H
#define XMPP_XEP_ROSTER_H

#include <stddef.h>

#include <xmpp/common.h>
#include <xmpp/session.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The roster namespace. */
#define XMPP_NS_ROSTER "jabber:iq:roster"
/** The stream feature of roster versioning (RFC 6121 §2.6.1). */
#define XMPP_NS_ROSTER_VER "urn:xmpp:features:rosterver"
/** The largest roster kept in memory. */
#define XMPP_ROSTER_MAX_ITEMS 20000
/** The most groups kept per item. */
#define XMPP_ROSTER_MAX_GROUPS 64

/** The subscription state of a roster item (RFC 6121 §2.1.2.5). */
typedef enum xmpp_roster_subscription {
    XMPP_SUBSCRIPTION_NONE = 0, /**< Neither direction. */
    XMPP_SUBSCRIPTION_TO = 1,   /**< We see the contact's presence. */
    XMPP_SUBSCRIPTION_FROM = 2, /**< The contact sees ours. */
    XMPP_SUBSCRIPTION_BOTH = 3  /**< Both directions. */
} xmpp_roster_subscription;

/** A roster item: borrowed from the plugin, valid until the next change
 *  of the roster (a callback, a fetch result, a push, a load). */
typedef struct xmpp_roster_item xmpp_roster_item;

/** What happened to an item. */
typedef enum xmpp_roster_change {
    XMPP_ROSTER_ADDED = 0,   /**< A new item. */
    XMPP_ROSTER_UPDATED = 1, /**< An item changed (name, groups, subscription, ask). */
    XMPP_ROSTER_REMOVED = 2  /**< An item was removed (the item is valid during the call). */
} xmpp_roster_change;

/**
 * The bare JID of an item (prepared form).
 * @param item the item.
 * @return the JID, or NULL for NULL.
 */
XMPP_EXTERN const char *xmpp_roster_item_jid(const xmpp_roster_item *item);

/**
 * The handle the user gave the contact.
 * @param item the item.
 * @return the name, or NULL when none was set.
 */
XMPP_EXTERN const char *xmpp_roster_item_name(const xmpp_roster_item *item);

/**
 * The subscription state.
 * @param item the item.
 * @return the state (::XMPP_SUBSCRIPTION_NONE for NULL).
 */
XMPP_EXTERN xmpp_roster_subscription xmpp_roster_item_subscription(const xmpp_roster_item *item);

/**
 * Whether our subscription request to the contact is pending
 * (ask='subscribe', RFC 6121 §2.1.2.2).
 * @param item the item.
 * @return 1 when pending, 0 otherwise.
 */
XMPP_EXTERN int xmpp_roster_item_ask(const xmpp_roster_item *item);

/**
 * Whether we pre-approved the contact's subscription (approved='true',
 * RFC 6121 §3.4).
 * @param item the item.
 * @return 1 or 0.
 */
XMPP_EXTERN int xmpp_roster_item_approved(const xmpp_roster_item *item);

/**
 * The number of groups of an item.
 * @param item the item.
 * @return the count.
 */
XMPP_EXTERN size_t xmpp_roster_item_group_count(const xmpp_roster_item *item);

/**
 * A group of an item, by position.
 * @param item the item.
 * @param i below xmpp_roster_item_group_count().
 * @return the group name, or NULL when out of range.
 */
XMPP_EXTERN const char *xmpp_roster_item_group_at(const xmpp_roster_item *item, size_t i);

/**
 * The name of a subscription state as in the protocol.
 * @param sub the state.
 * @return "none", "to", "from" or "both".
 */
XMPP_EXTERN const char *xmpp_roster_subscription_name(xmpp_roster_subscription sub);

/**
 * Called for every change of the in-memory roster.
 * @param s the session.
 * @param change what happened.
 * @param item the item (after the change; before it for a removal).
 * @param user_data passed back to the callback.
 */
typedef void (*xmpp_roster_change_fn)(xmpp_session *s, xmpp_roster_change change,
                                      const xmpp_roster_item *item, void *user_data);

/**
 * Sets the change callback (one per session; NULL removes it).
 * @param s the session, with the "roster" plugin enabled.
 * @param cb the callback or NULL.
 * @param user_data passed back to the callback.
 * @return ::XMPP_OK, ::XMPP_ERR_INVALID or ::XMPP_ERR_STATE (plugin not enabled).
 */
XMPP_EXTERN int xmpp_roster_set_change_callback(xmpp_session *s, xmpp_roster_change_fn cb,
                                                void *user_data);

/**
 * Seeds the in-memory roster with an item the application stored (roster
 * versioning, RFC 6121 §2.6): call it for each stored item, and
 * xmpp_roster_set_version() with the stored version, before
 * xmpp_roster_fetch(). No change callback fires.
 * @param s the session, with the "roster" plugin enabled.
 * @param jid the contact's bare JID.
 * @param name the name or NULL.
 * @param sub the subscription state.
 * @param ask 1 when a subscription request is pending.
 * @param groups the group names (@p n_groups of them), or NULL.
 * @param n_groups at most ::XMPP_ROSTER_MAX_GROUPS.
 * @return ::XMPP_OK; ::XMPP_ERR_INVALID (bad JID or arguments);
 *         ::XMPP_ERR_LIMIT; ::XMPP_ERR_STATE; ::XMPP_ERR_NOMEM.
 */
XMPP_EXTERN int xmpp_roster_load_item(xmpp_session *s, const char *jid, const char *name,
                                      xmpp_roster_subscription sub, int ask,
                                      const char *const *groups, size_t n_groups);

/**
 * Sets the roster version the in-memory roster corresponds to.
 * @param s the session, with the "roster" plugin enabled.
 * @param ver the version ("" for "no stored roster, but send ver"), or NULL.
 * @return ::XMPP_OK, ::XMPP_ERR_STATE or ::XMPP_ERR_NOMEM.
 */
XMPP_EXTERN int xmpp_roster_set_version(xmpp_session *s, const char *ver);

/**
 * The roster version of the in-memory roster, updated by fetches and
 * pushes; the application stores it with the items.
 * @param s the session.
 * @return the version, or NULL when the server gave none.
 */
XMPP_EXTERN const char *xmpp_roster_version(const xmpp_session *s);

/**
 * Completion of xmpp_roster_fetch(); fires exactly once.
 * @param s the session.
 * @param status ::XMPP_IQ_RESULT (the in-memory roster is current),
 *        ::XMPP_IQ_ERROR, ::XMPP_IQ_TIMEOUT or ::XMPP_IQ_CANCELLED.
 * @param unchanged 1 when the server said the stored version is current
 *        (an empty result, RFC 6121 §2.6.3: changes follow as pushes).
 * @param user_data passed back to the callback.
 */
typedef void (*xmpp_roster_fetch_fn)(xmpp_session *s, xmpp_iq_status status, int unchanged,
                                     void *user_data);

/**
 * Fetches the roster (RFC 6121 §2.2). With a version set and the server
 * offering roster versioning, the request carries it and the server
 * answers with the full roster or an empty result. A full roster
 * replaces the in-memory one; each difference fires the change callback.
 * @param s a ready session, with the "roster" plugin enabled.
 * @param timeout_ms 0 for the session default.
 * @param cb the completion callback, or NULL.
 * @param user_data passed back to the callback.
 * @return ::XMPP_OK, ::XMPP_ERR_STATE, or as xmpp_session_send_iq(); on
 *         error the callback does not fire.
 */
XMPP_EXTERN int xmpp_roster_fetch(xmpp_session *s, unsigned timeout_ms, xmpp_roster_fetch_fn cb,
                                  void *user_data);

/**
 * The number of items in the in-memory roster.
 * @param s the session.
 * @return the count (0 without the plugin).
 */
XMPP_EXTERN size_t xmpp_roster_count(const xmpp_session *s);

/**
 * An item by position (order of arrival).
 * @param s the session.
 * @param i below xmpp_roster_count().
 * @return the item, or NULL when out of range.
 */
XMPP_EXTERN const xmpp_roster_item *xmpp_roster_item_at(const xmpp_session *s, size_t i);

/**
 * An item by JID (compared in prepared form; a full JID finds its bare one).
 * @param s the session.
 * @param jid the JID.
 * @return the item, or NULL.
 */
XMPP_EXTERN const xmpp_roster_item *xmpp_roster_find(const xmpp_session *s, const char *jid);

/**
 * Adds or updates an item (RFC 6121 §2.3, §2.4): the server answers and
 * pushes the new item, which then updates the in-memory roster.
 * @param s a ready session, with the "roster" plugin enabled.
 * @param jid the contact's bare JID.
 * @param name the name, or NULL for none.
 * @param groups the group names, or NULL.
 * @param n_groups their number, at most ::XMPP_ROSTER_MAX_GROUPS.
 * @param timeout_ms 0 for the session default.
 * @param cb the completion callback (exactly once), or NULL.
 * @param user_data passed back to the callback.
 * @return ::XMPP_OK, ::XMPP_ERR_INVALID (bad JID), ::XMPP_ERR_LIMIT,
 *         ::XMPP_ERR_STATE, or as xmpp_session_send_iq(); on error the
 *         callback does not fire.
 */
XMPP_EXTERN int xmpp_roster_set_item(xmpp_session *s, const char *jid, const char *name,
                                     const char *const *groups, size_t n_groups,
                                     unsigned timeout_ms, xmpp_iq_fn cb, void *user_data);

/**
 * Removes an item (RFC 6121 §2.5; the server also cancels the
 * subscriptions in both directions).
 * @param s a ready session, with the "roster" plugin enabled.
 * @param jid the contact's bare JID.
 * @param timeout_ms 0 for the session default.
 * @param cb the completion callback (exactly once), or NULL.
 * @param user_data passed back to the callback.
 * @return as xmpp_roster_set_item().
 */
XMPP_EXTERN int xmpp_roster_remove_item(xmpp_session *s, const char *jid, unsigned timeout_ms,
                                        xmpp_iq_fn cb, void *user_data);

#ifdef __cplusplus
}
#endif

#endif /* XMPP_XEP_ROSTER_H */
