/**
 * @file xmpp/xep/disco.h
 * @brief XEP-0030 Service Discovery: the "disco" plugin, disco#info and
 *        disco#items requests.
 *
 * With the "disco" plugin enabled, the session answers disco#info
 * requests with the identities and features of every enabled plugin
 * (each feature once), and disco#items requests with an empty list (an
 * item-not-found error for a node). Requests work whether or not the
 * plugin is enabled.
 */
#ifndef XMPP_XEP_DISCO_H
#define XMPP_XEP_DISCO_H

#include <stddef.h>

#include <xmpp/common.h>
#include <xmpp/session.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The disco#info namespace. */
#define XMPP_NS_DISCO_INFO "http://jabber.org/protocol/disco#info"
/** The disco#items namespace. */
#define XMPP_NS_DISCO_ITEMS "http://jabber.org/protocol/disco#items"

/** A disco#info answer, valid during the callback that gives it. */
typedef struct xmpp_disco_info xmpp_disco_info;

/**
 * Completion of xmpp_disco_info_request(); fires exactly once.
 * @param s the session.
 * @param status how the request ended.
 * @param info the answer for ::XMPP_IQ_RESULT (borrowed, valid during the
 *        call), else NULL.
 * @param error the error reply for ::XMPP_IQ_ERROR (borrowed), else NULL.
 * @param user_data passed back to the callback.
 */
typedef void (*xmpp_disco_info_fn)(xmpp_session *s, xmpp_iq_status status,
                                   const xmpp_disco_info *info, xmpp_stanza *error,
                                   void *user_data);

/**
 * Asks an entity for its identities and features. The answer is accepted
 * only from @p to (xmpp_session_send_iq(): ORG-05).
 * @param s a ready session.
 * @param to the entity to ask (a full JID for a client, a domain for a
 *        server), or NULL for the own account.
 * @param node the node to ask about, or NULL.
 * @param timeout_ms 0 for the session default.
 * @param cb the completion callback (required).
 * @param user_data passed back to the callback.
 * @return ::XMPP_OK or as xmpp_session_send_iq(); on error the callback
 *         does not fire.
 */
XMPP_EXTERN int xmpp_disco_info_request(xmpp_session *s, const char *to, const char *node,
                                        unsigned timeout_ms, xmpp_disco_info_fn cb,
                                        void *user_data);

/**
 * The entity that answered (the reply's from, or NULL for the own account).
 * @param info the answer.
 * @return a borrowed string or NULL.
 */
XMPP_EXTERN const char *xmpp_disco_info_from(const xmpp_disco_info *info);

/**
 * The node the answer is about, or NULL.
 * @param info the answer.
 * @return a borrowed string or NULL.
 */
XMPP_EXTERN const char *xmpp_disco_info_node(const xmpp_disco_info *info);

/**
 * The number of features in the answer.
 * @param info the answer.
 * @return the count.
 */
XMPP_EXTERN size_t xmpp_disco_info_feature_count(const xmpp_disco_info *info);

/**
 * A feature by position.
 * @param info the answer.
 * @param i the position, below xmpp_disco_info_feature_count().
 * @return the feature's var (borrowed), or NULL when out of range.
 */
XMPP_EXTERN const char *xmpp_disco_info_feature_at(const xmpp_disco_info *info, size_t i);

/**
 * Whether the answer lists a feature.
 * @param info the answer.
 * @param feature the feature (namespace) to look for.
 * @return 1 or 0.
 */
XMPP_EXTERN int xmpp_disco_info_has_feature(const xmpp_disco_info *info, const char *feature);

/**
 * The number of identities in the answer.
 * @param info the answer.
 * @return the count.
 */
XMPP_EXTERN size_t xmpp_disco_info_identity_count(const xmpp_disco_info *info);

/**
 * An identity by position. Every output pointer may be NULL; the strings
 * are borrowed.
 * @param info the answer.
 * @param i the position, below xmpp_disco_info_identity_count().
 * @param category receives the category.
 * @param type receives the type.
 * @param name receives the name, or NULL when absent.
 * @param lang receives the xml:lang, or NULL when absent.
 * @return ::XMPP_OK or ::XMPP_ERR_NOT_FOUND (out of range).
 */
XMPP_EXTERN int xmpp_disco_info_identity_at(const xmpp_disco_info *info, size_t i,
                                            const char **category, const char **type,
                                            const char **name, const char **lang);

/**
 * An extended information form of the answer (XEP-0128): the
 * \<x xmlns='jabber:x:data' type='result'/> whose hidden FORM_TYPE field
 * has the value @p form_type.
 * @param info the answer.
 * @param form_type the FORM_TYPE to look for (e.g. "urn:xmpp:http:upload:0").
 * @return the form element (borrowed, valid as long as @p info), or NULL.
 */
XMPP_EXTERN const xmpp_stanza *xmpp_disco_info_form(const xmpp_disco_info *info,
                                                    const char *form_type);

/**
 * The first value of a field of an extended information form (XEP-0128).
 * @param info the answer.
 * @param form_type the form's FORM_TYPE.
 * @param var the field's var (e.g. "max-file-size").
 * @param out receives the value; free with xmpp_free().
 * @return ::XMPP_OK, ::XMPP_ERR_NOT_FOUND (no such form, field or value),
 *         ::XMPP_ERR_INVALID or ::XMPP_ERR_NOMEM.
 */
XMPP_EXTERN int xmpp_disco_info_form_value(const xmpp_disco_info *info, const char *form_type,
                                           const char *var, char **out);

/** A disco#items answer, valid during the callback that gives it. */
typedef struct xmpp_disco_items xmpp_disco_items;

/**
 * Completion of xmpp_disco_items_request(); fires exactly once.
 * @param s the session.
 * @param status how the request ended.
 * @param items the answer for ::XMPP_IQ_RESULT (borrowed, valid during the
 *        call), else NULL.
 * @param error the error reply for ::XMPP_IQ_ERROR (borrowed), else NULL.
 * @param user_data passed back to the callback.
 */
typedef void (*xmpp_disco_items_fn)(xmpp_session *s, xmpp_iq_status status,
                                    const xmpp_disco_items *items, xmpp_stanza *error,
                                    void *user_data);

/**
 * Asks an entity for its items (XEP-0030 §4), e.g. the server for its
 * services. The answer is accepted only from @p to.
 * @param s a ready session.
 * @param to the entity to ask, or NULL for the own account.
 * @param node the node to ask about, or NULL.
 * @param timeout_ms 0 for the session default.
 * @param cb the completion callback (required).
 * @param user_data passed back to the callback.
 * @return ::XMPP_OK or as xmpp_session_send_iq(); on error the callback
 *         does not fire.
 */
XMPP_EXTERN int xmpp_disco_items_request(xmpp_session *s, const char *to, const char *node,
                                         unsigned timeout_ms, xmpp_disco_items_fn cb,
                                         void *user_data);

/**
 * The entity that answered (the reply's from, or NULL for the own account).
 * @param items the answer.
 * @return a borrowed string or NULL.
 */
XMPP_EXTERN const char *xmpp_disco_items_from(const xmpp_disco_items *items);

/**
 * The number of items in the answer. Items without a jid attribute (which
 * XEP-0030 requires) are not counted.
 * @param items the answer.
 * @return the count.
 */
XMPP_EXTERN size_t xmpp_disco_items_count(const xmpp_disco_items *items);

/**
 * An item by position. Every output pointer may be NULL; the strings are
 * borrowed.
 * @param items the answer.
 * @param i the position, below xmpp_disco_items_count().
 * @param jid receives the item's JID (never NULL on success).
 * @param node receives the item's node, or NULL when absent.
 * @param name receives the item's name, or NULL when absent.
 * @return ::XMPP_OK or ::XMPP_ERR_NOT_FOUND (out of range).
 */
XMPP_EXTERN int xmpp_disco_items_at(const xmpp_disco_items *items, size_t i, const char **jid,
                                    const char **node, const char **name);

#ifdef __cplusplus
}
#endif

#endif /* XMPP_XEP_DISCO_H */
