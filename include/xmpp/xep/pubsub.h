/**
 * @file xmpp/xep/pubsub.h
 * @brief XEP-0060 Publish-Subscribe, XEP-0163 Personal Eventing Protocol
 *        and XEP-0223 private PEP storage: the "pubsub" plugin.
 *
 * Requests (create, delete, publish, retract, items, subscribe,
 * unsubscribe) go to a pubsub service JID, or, with a NULL service, to the
 * account's own PEP service (its bare JID, XEP-0163). Their completion
 * callbacks are ::xmpp_iq_fn (fire exactly once: result, error, timeout or
 * cancel) except for item retrieval (::xmpp_pubsub_items_fn).
 *
 * Notifications (XEP-0060 §7.1.2, §7.2.2, §8.4, §8.5: items, retract,
 * purge, delete) are given to the handlers added with
 * xmpp_pubsub_add_event_handler(), per service and node, and only when the
 * sender is the one the handler trusts (SECURITY.md ORG-06):
 *  - a handler for a service accepts only stanzas from exactly that JID;
 *  - a PEP handler (service NULL) accepts only a bare JID with a localpart
 *    (a contact's or our own PEP service), never a full JID;
 *  - with ::XMPP_PUBSUB_OWN_ONLY only our own bare JID (or no "from",
 *    which RFC 6120 §8.1.2.1 makes our own account) is accepted: the rule
 *    for private data such as bookmarks.
 * A notification refused by a handler added for its very node, and
 * delivered to none, is dropped (not passed on to other message handlers)
 * and logged at warning level; one that no handler wants goes on to the
 * application's message handlers.
 *
 * XEP-0163 "+notify" interests are run-time disco features
 * (xmpp_pep_notify_add()); they change the XEP-0115 hash: send a new
 * presence with xmpp_caps_decorate() afterwards so that the server sends
 * the last items.
 *
 * Enable with xmpp_session_enable_plugin(s, "pubsub") (needs "disco").
 * Functions of this header are callable from callbacks.
 */
#ifndef XMPP_XEP_PUBSUB_H
#define XMPP_XEP_PUBSUB_H

#include <stddef.h>

#include <xmpp/common.h>
#include <xmpp/session.h>
#include <xmpp/stanza.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The XEP-0060 namespace. */
#define XMPP_NS_PUBSUB "http://jabber.org/protocol/pubsub"
/** The XEP-0060 event namespace (notifications). */
#define XMPP_NS_PUBSUB_EVENT "http://jabber.org/protocol/pubsub#event"
/** The XEP-0060 owner namespace (delete, configure). */
#define XMPP_NS_PUBSUB_OWNER "http://jabber.org/protocol/pubsub#owner"
/** The XEP-0060 application error namespace. */
#define XMPP_NS_PUBSUB_ERRORS "http://jabber.org/protocol/pubsub#errors"
/** The disco feature of publish-options support (XEP-0060 §7.1.5). */
#define XMPP_NS_PUBSUB_PUBLISH_OPTIONS "http://jabber.org/protocol/pubsub#publish-options"

/** The kind of a notification. */
typedef enum xmpp_pubsub_event_kind {
    XMPP_PUBSUB_EVENT_ITEMS = 0,   /**< Items were published (payloads given). */
    XMPP_PUBSUB_EVENT_RETRACT = 1, /**< Items were retracted (ids only). */
    XMPP_PUBSUB_EVENT_PURGE = 2,   /**< All items of the node were purged. */
    XMPP_PUBSUB_EVENT_DELETE = 3   /**< The node was deleted. */
} xmpp_pubsub_event_kind;

/** Handler flag: accept notifications only from our own bare JID. */
#define XMPP_PUBSUB_OWN_ONLY 1u

/**
 * A list of items: the items of a notification or of an items request.
 * Borrowed by the callback it is given to; valid during the call only.
 */
typedef struct xmpp_pubsub_items xmpp_pubsub_items;

/**
 * The service the items come from.
 * @param items the list.
 * @return the sender's JID (our bare JID when the stanza had no "from").
 */
XMPP_EXTERN const char *xmpp_pubsub_items_from(const xmpp_pubsub_items *items);

/**
 * The node of the items.
 * @param items the list.
 * @return the node name, or NULL.
 */
XMPP_EXTERN const char *xmpp_pubsub_items_node(const xmpp_pubsub_items *items);

/**
 * The kind of a notification (::XMPP_PUBSUB_EVENT_ITEMS for a request's
 * list).
 * @param items the list.
 * @return the kind.
 */
XMPP_EXTERN xmpp_pubsub_event_kind xmpp_pubsub_items_kind(const xmpp_pubsub_items *items);

/**
 * The number of items (published or retracted ones).
 * @param items the list.
 * @return the count (0 for purge and delete, and for NULL).
 */
XMPP_EXTERN size_t xmpp_pubsub_items_count(const xmpp_pubsub_items *items);

/**
 * The id of an item.
 * @param items the list.
 * @param i the position, below xmpp_pubsub_items_count().
 * @return the id (borrowed), or NULL (out of range, or an item without id).
 */
XMPP_EXTERN const char *xmpp_pubsub_items_id_at(const xmpp_pubsub_items *items, size_t i);

/**
 * The payload of an item: its first child element.
 * @param items the list.
 * @param i the position, below xmpp_pubsub_items_count().
 * @return the payload (borrowed; take a reference or a copy to keep it),
 *         or NULL (retractions, items without payload, out of range).
 */
XMPP_EXTERN xmpp_stanza *xmpp_pubsub_items_payload_at(const xmpp_pubsub_items *items,
                                                      size_t i);

/**
 * Notification handler.
 * @param s the session.
 * @param event the notification (borrowed, valid during the call).
 * @param user_data passed back.
 */
typedef void (*xmpp_pubsub_event_fn)(xmpp_session *s, const xmpp_pubsub_items *event,
                                     void *user_data);

/**
 * Completion of an items request; fires exactly once.
 * @param s the session.
 * @param status how the request ended.
 * @param items the items on ::XMPP_IQ_RESULT, else NULL.
 * @param error the error reply on ::XMPP_IQ_ERROR, else NULL (borrowed).
 * @param user_data passed back.
 */
typedef void (*xmpp_pubsub_items_fn)(xmpp_session *s, xmpp_iq_status status,
                                     const xmpp_pubsub_items *items, xmpp_stanza *error,
                                     void *user_data);

/**
 * Adds a notification handler.
 * @param s the session ("pubsub" enabled).
 * @param service the service JID whose notifications are accepted, or
 *        NULL for PEP (any bare JID with a localpart; see the file comment).
 * @param node the node, or NULL for every node.
 * @param flags 0 or ::XMPP_PUBSUB_OWN_ONLY.
 * @param cb the handler.
 * @param user_data passed back.
 * @param handle receives the handle for xmpp_pubsub_remove_event_handler()
 *        (may be NULL).
 * @return ::XMPP_OK; ::XMPP_ERR_STATE (plugin not enabled);
 *         ::XMPP_ERR_INVALID (NULL callback, unknown flags, malformed
 *         service JID); ::XMPP_ERR_LIMIT (1024 handlers); ::XMPP_ERR_NOMEM.
 *         The handler must not disable the "pubsub" plugin.
 */
XMPP_EXTERN int xmpp_pubsub_add_event_handler(xmpp_session *s, const char *service,
                                              const char *node, unsigned flags,
                                              xmpp_pubsub_event_fn cb, void *user_data,
                                              unsigned long *handle);

/**
 * Removes a notification handler (safe from inside it).
 * @param s the session.
 * @param handle the handle.
 * @return ::XMPP_OK, ::XMPP_ERR_NOT_FOUND or ::XMPP_ERR_STATE.
 */
XMPP_EXTERN int xmpp_pubsub_remove_event_handler(xmpp_session *s, unsigned long handle);

/**
 * Creates a node (XEP-0060 §8.1), optionally with a configuration.
 * @param s the session ("pubsub" enabled).
 * @param service the service JID, or NULL for our PEP service.
 * @param node the node name (NULL: an instant node named by the service).
 * @param config NULL, or a NULL-terminated array of field/value pairs
 *        ("pubsub#access_model", "whitelist", ..., NULL) sent as the
 *        pubsub#node_config data form (XEP-0004).
 * @param timeout_ms 0 for the session default.
 * @param cb the completion callback (may be NULL).
 * @param user_data passed back.
 * @return ::XMPP_OK (the callback will fire) or an error (it will not):
 *         ::XMPP_ERR_STATE, ::XMPP_ERR_INVALID (an odd config array, a
 *         string that is not XML-safe), ::XMPP_ERR_NOMEM, or those of
 *         xmpp_session_send_iq().
 */
XMPP_EXTERN int xmpp_pubsub_create(xmpp_session *s, const char *service, const char *node,
                                   const char *const *config, unsigned timeout_ms,
                                   xmpp_iq_fn cb, void *user_data);

/**
 * Deletes a node (XEP-0060 §8.4).
 * @param s the session.
 * @param service the service JID, or NULL for our PEP service.
 * @param node the node name.
 * @param timeout_ms 0 for the session default.
 * @param cb the completion callback (may be NULL).
 * @param user_data passed back.
 * @return as xmpp_pubsub_create().
 */
XMPP_EXTERN int xmpp_pubsub_delete(xmpp_session *s, const char *service, const char *node,
                                   unsigned timeout_ms, xmpp_iq_fn cb, void *user_data);

/**
 * Publishes an item (XEP-0060 §7.1), optionally with publish-options
 * (§7.1.5: the publish fails with precondition-not-met when the node's
 * configuration differs; see xmpp_pubsub_error_condition()).
 * @param s the session.
 * @param service the service JID, or NULL for our PEP service.
 * @param node the node name.
 * @param item_id the item id, or NULL to let the service choose one (read
 *        it with xmpp_pubsub_result_item_id()).
 * @param payload the payload element (copied), or NULL.
 * @param options NULL, or field/value pairs as for xmpp_pubsub_create()
 *        (sent as the pubsub#publish-options form).
 * @param timeout_ms 0 for the session default.
 * @param cb the completion callback (may be NULL).
 * @param user_data passed back.
 * @return as xmpp_pubsub_create().
 */
XMPP_EXTERN int xmpp_pubsub_publish(xmpp_session *s, const char *service, const char *node,
                                    const char *item_id, const xmpp_stanza *payload,
                                    const char *const *options, unsigned timeout_ms,
                                    xmpp_iq_fn cb, void *user_data);

/**
 * Retracts an item (XEP-0060 §7.2).
 * @param s the session.
 * @param service the service JID, or NULL for our PEP service.
 * @param node the node name.
 * @param item_id the item id.
 * @param notify nonzero to ask the service to notify subscribers.
 * @param timeout_ms 0 for the session default.
 * @param cb the completion callback (may be NULL).
 * @param user_data passed back.
 * @return as xmpp_pubsub_create().
 */
XMPP_EXTERN int xmpp_pubsub_retract(xmpp_session *s, const char *service, const char *node,
                                    const char *item_id, int notify, unsigned timeout_ms,
                                    xmpp_iq_fn cb, void *user_data);

/**
 * Retrieves items (XEP-0060 §6.5): all, the @p max most recent, or those
 * with the given ids.
 * @param s the session.
 * @param service the service JID (a contact's bare JID for their PEP), or
 *        NULL for our PEP service.
 * @param node the node name.
 * @param max 0 for no limit, else the max_items attribute.
 * @param ids NULL, or a NULL-terminated array of item ids to fetch.
 * @param timeout_ms 0 for the session default.
 * @param cb the completion callback (required).
 * @param user_data passed back.
 * @return as xmpp_pubsub_create().
 */
XMPP_EXTERN int xmpp_pubsub_get_items(xmpp_session *s, const char *service, const char *node,
                                      unsigned max, const char *const *ids,
                                      unsigned timeout_ms, xmpp_pubsub_items_fn cb,
                                      void *user_data);

/**
 * Subscribes to a node (XEP-0060 §6.1). Add an event handler for the
 * service to receive the notifications.
 * @param s the session.
 * @param service the service JID (required).
 * @param node the node name.
 * @param jid the JID to subscribe, or NULL for our bare JID.
 * @param timeout_ms 0 for the session default.
 * @param cb the completion callback (may be NULL).
 * @param user_data passed back.
 * @return as xmpp_pubsub_create().
 */
XMPP_EXTERN int xmpp_pubsub_subscribe(xmpp_session *s, const char *service, const char *node,
                                      const char *jid, unsigned timeout_ms, xmpp_iq_fn cb,
                                      void *user_data);

/**
 * Unsubscribes from a node (XEP-0060 §6.2).
 * @param s the session.
 * @param service the service JID (required).
 * @param node the node name.
 * @param jid the subscribed JID, or NULL for our bare JID.
 * @param timeout_ms 0 for the session default.
 * @param cb the completion callback (may be NULL).
 * @param user_data passed back.
 * @return as xmpp_pubsub_create().
 */
XMPP_EXTERN int xmpp_pubsub_unsubscribe(xmpp_session *s, const char *service, const char *node,
                                        const char *jid, unsigned timeout_ms, xmpp_iq_fn cb,
                                        void *user_data);

/**
 * The item id in a publish result (XEP-0060 §7.1.2), when the service
 * returned one.
 * @param reply the result given to the completion callback.
 * @return the id (borrowed from @p reply) or NULL.
 */
XMPP_EXTERN const char *xmpp_pubsub_result_item_id(const xmpp_stanza *reply);

/**
 * The pubsub-specific condition of an error reply (XEP-0060 §7.1.3,
 * the element in the pubsub#errors namespace: "precondition-not-met",
 * "item-forbidden", ...).
 * @param reply an error reply.
 * @return the condition name (borrowed from @p reply) or NULL.
 */
XMPP_EXTERN const char *xmpp_pubsub_error_condition(const xmpp_stanza *reply);

/**
 * Publishes to a private node of our own PEP service (XEP-0223): with the
 * publish-options pubsub#persist_items=true and
 * pubsub#access_model=whitelist. First confirms (once per session, by a
 * disco#info request to our bare JID) that the service announces
 * publish-options (SECURITY.md ORG-06): without it nothing is published
 * and the callback gets an error (feature-not-implemented, with an
 * \<unsupported feature='publish-options'/> in the pubsub#errors
 * namespace). When the node exists with another configuration (the
 * publish fails with precondition-not-met), the node is reconfigured with
 * those two fields (XEP-0060 §8.2) and the publish is tried once more.
 * @param s the session.
 * @param node the node name (e.g. "storage:bookmarks").
 * @param item_id the item id, or NULL.
 * @param payload the payload element (copied).
 * @param extra NULL, or more publish-options field/value pairs sent with
 *        the two above and used for the reconfiguration too (e.g.
 *        "pubsub#max_items", "max" for a node of many items).
 * @param timeout_ms for each request; 0 for the session default.
 * @param cb the completion callback (may be NULL), with the final reply.
 * @param user_data passed back.
 * @return as xmpp_pubsub_create().
 */
XMPP_EXTERN int xmpp_pubsub_publish_private(xmpp_session *s, const char *node,
                                            const char *item_id, const xmpp_stanza *payload,
                                            const char *const *extra, unsigned timeout_ms,
                                            xmpp_iq_fn cb,
                                            void *user_data);

/**
 * Registers interest in a PEP node (XEP-0163 §4): adds "NODE+notify" to
 * our disco features (xmpp_session_add_feature()), which changes the caps
 * hash. Send a presence decorated with xmpp_caps_decorate() afterwards so
 * that the server learns it. Counted: add twice, remove twice.
 * @param s the session ("pubsub" enabled).
 * @param node the node (e.g. "urn:xmpp:avatar:metadata").
 * @return ::XMPP_OK, ::XMPP_ERR_STATE, ::XMPP_ERR_INVALID, ::XMPP_ERR_LIMIT
 *         or ::XMPP_ERR_NOMEM.
 */
XMPP_EXTERN int xmpp_pep_notify_add(xmpp_session *s, const char *node);

/**
 * Withdraws an interest added with xmpp_pep_notify_add().
 * @param s the session.
 * @param node the node.
 * @return ::XMPP_OK, ::XMPP_ERR_NOT_FOUND, ::XMPP_ERR_INVALID.
 */
XMPP_EXTERN int xmpp_pep_notify_remove(xmpp_session *s, const char *node);

#ifdef __cplusplus
}
#endif

#endif /* XMPP_XEP_PUBSUB_H */
