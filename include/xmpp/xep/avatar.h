/**
 * @file xmpp/xep/avatar.h
 * @brief XEP-0084 User Avatar over PEP (needs the "pubsub" plugin).
 *
 * Publishing stores the image in the data node and then announces it in
 * the metadata node; the item id of both is the SHA-1 of the image (hex,
 * XEP-0084 §4.2). Metadata notifications come from contacts' bare JIDs
 * (or ours) only, as every PEP notification (xmpp/xep/pubsub.h). Fetched
 * data is checked against the id it was asked for. Functions of this
 * header are callable from callbacks.
 */
#ifndef XMPP_XEP_AVATAR_H
#define XMPP_XEP_AVATAR_H

#include <stddef.h>

#include <xmpp/common.h>
#include <xmpp/session.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The XEP-0084 data node and namespace. */
#define XMPP_NS_AVATAR_DATA "urn:xmpp:avatar:data"
/** The XEP-0084 metadata node and namespace. */
#define XMPP_NS_AVATAR_METADATA "urn:xmpp:avatar:metadata"
/** The largest image published or accepted, in bytes. */
#define XMPP_AVATAR_MAX_BYTES (128u * 1024u)

/**
 * Publishes an avatar: the data item, then the metadata item (XEP-0084
 * §4.1, §4.2), both with the SHA-1 id.
 * @param s the session ("pubsub" enabled).
 * @param data the image bytes (copied).
 * @param len 1 to ::XMPP_AVATAR_MAX_BYTES.
 * @param mime_type e.g. "image/png" (required by §4.2.1).
 * @param width the width in pixels, or 0 when unknown.
 * @param height the height in pixels, or 0 when unknown.
 * @param timeout_ms for each request; 0 for the session default.
 * @param cb the completion callback (may be NULL): the metadata publish
 *        reply, or the data publish error.
 * @param user_data passed back.
 * @return ::XMPP_OK (the callback will fire) or an error (it will not):
 *         ::XMPP_ERR_STATE, ::XMPP_ERR_INVALID, ::XMPP_ERR_LIMIT (too big),
 *         ::XMPP_ERR_NOMEM, or those of xmpp_session_send_iq().
 */
XMPP_EXTERN int xmpp_avatar_publish(xmpp_session *s, const void *data, size_t len,
                                    const char *mime_type, unsigned width, unsigned height,
                                    unsigned timeout_ms, xmpp_iq_fn cb, void *user_data);

/**
 * Publishes an empty metadata item: "no avatar" (XEP-0084 §4.5).
 * @param s the session ("pubsub" enabled).
 * @param timeout_ms 0 for the session default.
 * @param cb the completion callback (may be NULL).
 * @param user_data passed back.
 * @return as xmpp_avatar_publish().
 */
XMPP_EXTERN int xmpp_avatar_disable(xmpp_session *s, unsigned timeout_ms, xmpp_iq_fn cb,
                                    void *user_data);

/**
 * Metadata notification handler.
 * @param s the session.
 * @param from the contact's bare JID (or ours).
 * @param id the SHA-1 id of the avatar, or NULL for "no avatar".
 * @param mime_type its type, or NULL.
 * @param bytes its announced size (0 when unknown).
 * @param user_data passed back.
 */
typedef void (*xmpp_avatar_metadata_fn)(xmpp_session *s, const char *from, const char *id,
                                        const char *mime_type, size_t bytes, void *user_data);

/**
 * Receives metadata notifications, and registers the XEP-0163 interest
 * "urn:xmpp:avatar:metadata+notify" (xmpp_pep_notify_add(); send a
 * presence with xmpp_caps_decorate() afterwards).
 * @param s the session ("pubsub" enabled).
 * @param cb the handler.
 * @param user_data passed back.
 * @param handle receives the handle for xmpp_avatar_unwatch() (may be NULL).
 * @return ::XMPP_OK, ::XMPP_ERR_STATE, ::XMPP_ERR_INVALID, ::XMPP_ERR_NOMEM.
 */
XMPP_EXTERN int xmpp_avatar_watch(xmpp_session *s, xmpp_avatar_metadata_fn cb,
                                  void *user_data, unsigned long *handle);

/**
 * Stops a metadata handler and withdraws its interest.
 * @param s the session.
 * @param handle the handle from xmpp_avatar_watch().
 * @return ::XMPP_OK, ::XMPP_ERR_NOT_FOUND, ::XMPP_ERR_STATE.
 */
XMPP_EXTERN int xmpp_avatar_unwatch(xmpp_session *s, unsigned long handle);

/**
 * Completion of xmpp_avatar_fetch(); fires exactly once.
 * @param s the session.
 * @param status how the request ended.
 * @param err on ::XMPP_IQ_RESULT: ::XMPP_OK with the data;
 *        ::XMPP_ERR_NOT_FOUND (no such item); ::XMPP_ERR_INVALID (bad
 *        base64, or the SHA-1 of the data is not the id);
 *        ::XMPP_ERR_LIMIT (larger than ::XMPP_AVATAR_MAX_BYTES);
 *        ::XMPP_ERR_NOMEM. Otherwise ::XMPP_ERR_NOT_FOUND.
 * @param data the image (borrowed, valid during the call) when err is
 *        ::XMPP_OK, else NULL.
 * @param len its length.
 * @param user_data passed back.
 */
typedef void (*xmpp_avatar_data_fn)(xmpp_session *s, xmpp_iq_status status, int err,
                                    const void *data, size_t len, void *user_data);

/**
 * Fetches the image of an avatar by id from an account's data node and
 * checks its hash (XEP-0084 §4.3).
 * @param s the session ("pubsub" enabled).
 * @param jid the account's bare JID, or NULL for ours.
 * @param id the SHA-1 id (40 hex digits) from the metadata.
 * @param timeout_ms 0 for the session default.
 * @param cb the completion callback (required).
 * @param user_data passed back.
 * @return as xmpp_avatar_publish().
 */
XMPP_EXTERN int xmpp_avatar_fetch(xmpp_session *s, const char *jid, const char *id,
                                  unsigned timeout_ms, xmpp_avatar_data_fn cb, void *user_data);

#ifdef __cplusplus
}
#endif

#endif /* XMPP_XEP_AVATAR_H */
