/**
 * @file xmpp/xep/presence.h
 * @brief RFC 6121 presence: builders for available/unavailable presence,
 *        the subscription requests and approvals (§3), and the "presence"
 *        plugin, which reports incoming subscription requests and tracks
 *        the available resources of contacts (§4).
 *
 * The plugin tracks presence from any sender (roster contacts, directed
 * presence, strangers) alike, bounded by ::XMPP_PRESENCE_MAX_RESOURCES
 * resources in all: beyond that, new resources are not tracked (a log
 * line says so). Presence with a malformed 'from' is ignored. Its handler
 * returns 0: application presence handlers still see every stanza.
 */
#ifndef XMPP_XEP_PRESENCE_H
#define XMPP_XEP_PRESENCE_H

#include <stddef.h>

#include <xmpp/common.h>
#include <xmpp/session.h>
#include <xmpp/stanza.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The stream feature of subscription pre-approval (RFC 6121 §3.4). */
#define XMPP_NS_PRESENCE_PREAPPROVAL "urn:xmpp:features:pre-approval"
/** The most contact resources tracked. */
#define XMPP_PRESENCE_MAX_RESOURCES 20000

/** A subscription-related presence type (RFC 6121 §3). */
typedef enum xmpp_subscription_type {
    XMPP_PRESENCE_SUBSCRIBE = 0,   /**< A request to see the other's presence. */
    XMPP_PRESENCE_SUBSCRIBED = 1,  /**< Approval (or pre-approval) of a request. */
    XMPP_PRESENCE_UNSUBSCRIBE = 2, /**< Ending our subscription to the other. */
    XMPP_PRESENCE_UNSUBSCRIBED = 3 /**< Denying or cancelling the other's subscription. */
} xmpp_subscription_type;

/**
 * Creates an available presence (RFC 6121 §4.7).
 * @param out receives the stanza (one reference, owned by the caller).
 * @param ctx the context.
 * @param to the recipient for directed presence, or NULL (broadcast).
 * @param show NULL, "away", "chat", "dnd" or "xa".
 * @param status a human-readable status, or NULL.
 * @param priority -128..127; 0 omits the element.
 * @return ::XMPP_OK, ::XMPP_ERR_INVALID (bad show, priority or JID),
 *         ::XMPP_ERR_UTF8 or ::XMPP_ERR_NOMEM.
 */
XMPP_EXTERN int xmpp_presence_available_new(xmpp_stanza **out, xmpp_ctx *ctx, const char *to,
                                            const char *show, const char *status, int priority);

/**
 * Sends available presence (initial presence and later updates when
 * @p to is NULL, directed presence otherwise).
 * @param s a ready session.
 * @param to as xmpp_presence_available_new().
 * @param show as xmpp_presence_available_new().
 * @param status as xmpp_presence_available_new().
 * @param priority as xmpp_presence_available_new().
 * @return as xmpp_presence_available_new() or xmpp_session_send().
 */
XMPP_EXTERN int xmpp_presence_send_available(xmpp_session *s, const char *to, const char *show,
                                             const char *status, int priority);

/**
 * Sends unavailable presence (broadcast when @p to is NULL).
 * @param s a ready session.
 * @param to the recipient, or NULL.
 * @param status a status text, or NULL.
 * @return as xmpp_session_send().
 */
XMPP_EXTERN int xmpp_presence_send_unavailable(xmpp_session *s, const char *to,
                                               const char *status);

/**
 * Sends a subscription request, approval, unsubscription or denial to a
 * contact's bare JID (RFC 6121 §3.1-3.3). A ::XMPP_PRESENCE_SUBSCRIBED
 * without a pending request is a pre-approval (§3.4), honoured when the
 * server offers it (xmpp_presence_preapproval_offered()).
 * @param s a ready session.
 * @param jid the contact (a full JID is reduced to the bare JID).
 * @param type what to send.
 * @return ::XMPP_OK, ::XMPP_ERR_INVALID (bad JID or type), or as
 *         xmpp_session_send().
 */
XMPP_EXTERN int xmpp_presence_send_subscription(xmpp_session *s, const char *jid,
                                                xmpp_subscription_type type);

/**
 * Whether the server offers subscription pre-approval (RFC 6121 §3.4).
 * @param s the session.
 * @return 1 or 0.
 */
XMPP_EXTERN int xmpp_presence_preapproval_offered(const xmpp_session *s);

/**
 * An incoming subscription-related presence.
 * @param s the session.
 * @param from the sender's bare JID (prepared form).
 * @param type what the contact sent: ::XMPP_PRESENCE_SUBSCRIBE is a request
 *        to answer with xmpp_presence_send_subscription() (SUBSCRIBED to
 *        approve, UNSUBSCRIBED to deny); the others inform.
 * @param presence the stanza (borrowed), e.g. for a \<status/> or XEP-0172 nick.
 * @param user_data passed back to the callback.
 */
typedef void (*xmpp_subscription_fn)(xmpp_session *s, const char *from,
                                     xmpp_subscription_type type, const xmpp_stanza *presence,
                                     void *user_data);

/**
 * Sets the subscription callback (one per session; NULL removes it).
 * @param s the session, with the "presence" plugin enabled.
 * @param cb the callback or NULL.
 * @param user_data passed back to the callback.
 * @return ::XMPP_OK, ::XMPP_ERR_INVALID or ::XMPP_ERR_STATE (plugin not enabled).
 */
XMPP_EXTERN int xmpp_presence_set_subscription_callback(xmpp_session *s,
                                                        xmpp_subscription_fn cb,
                                                        void *user_data);

/** What is known of an available resource of a contact. */
typedef struct xmpp_presence_info xmpp_presence_info;

/**
 * The full JID of the resource (prepared form; a bare JID when the
 * contact sent presence from its bare JID).
 * @param info the info.
 * @return the JID.
 */
XMPP_EXTERN const char *xmpp_presence_info_jid(const xmpp_presence_info *info);

/**
 * The \<show/> value.
 * @param info the info.
 * @return "away", "chat", "dnd", "xa", or NULL for plain available.
 */
XMPP_EXTERN const char *xmpp_presence_info_show(const xmpp_presence_info *info);

/**
 * The \<status/> text.
 * @param info the info.
 * @return the text, or NULL.
 */
XMPP_EXTERN const char *xmpp_presence_info_status(const xmpp_presence_info *info);

/**
 * The \<priority/> (0 when absent or invalid).
 * @param info the info.
 * @return -128..127.
 */
XMPP_EXTERN int xmpp_presence_info_priority(const xmpp_presence_info *info);

/**
 * Called when a contact's resource becomes available, changes, or
 * becomes unavailable.
 * @param s the session.
 * @param jid the resource's JID.
 * @param available 1 when available (info is set), 0 when it went away.
 * @param info the new state, or NULL when unavailable (borrowed).
 * @param user_data passed back to the callback.
 */
typedef void (*xmpp_presence_change_fn)(xmpp_session *s, const char *jid, int available,
                                        const xmpp_presence_info *info, void *user_data);

/**
 * Sets the availability callback (one per session; NULL removes it).
 * @param s the session, with the "presence" plugin enabled.
 * @param cb the callback or NULL.
 * @param user_data passed back to the callback.
 * @return ::XMPP_OK, ::XMPP_ERR_INVALID or ::XMPP_ERR_STATE.
 */
XMPP_EXTERN int xmpp_presence_set_change_callback(xmpp_session *s, xmpp_presence_change_fn cb,
                                                  void *user_data);

/**
 * The number of available resources of a contact.
 * @param s the session.
 * @param jid the contact's JID (its bare part is used).
 * @return the count (0 when unknown or offline).
 */
XMPP_EXTERN size_t xmpp_presence_resource_count(const xmpp_session *s, const char *jid);

/**
 * An available resource of a contact, by position.
 * @param s the session.
 * @param jid the contact's JID (its bare part is used).
 * @param i below xmpp_presence_resource_count().
 * @return the info (valid until the next presence is processed), or NULL.
 */
XMPP_EXTERN const xmpp_presence_info *xmpp_presence_resource_at(const xmpp_session *s,
                                                                const char *jid, size_t i);

/**
 * The available resource of highest priority (the first one on a tie).
 * @param s the session.
 * @param jid the contact's JID (its bare part is used).
 * @return the info, or NULL when the contact is offline or unknown.
 */
XMPP_EXTERN const xmpp_presence_info *xmpp_presence_best(const xmpp_session *s,
                                                         const char *jid);

#ifdef __cplusplus
}
#endif

#endif /* XMPP_XEP_PRESENCE_H */
