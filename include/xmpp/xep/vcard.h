/**
 * @file xmpp/xep/vcard.h
 * @brief XEP-0054 vcard-temp and XEP-0153 vCard-based avatars.
 *
 * Requests (get another's or the own vCard, publish the own) work whether
 * or not the "vcard" plugin is enabled. The plugin advertises vcard-temp
 * and reports the avatar hashes others announce in their presence
 * (\<x xmlns='vcard-temp:x:update'/>) through a callback.
 */
#ifndef XMPP_XEP_VCARD_H
#define XMPP_XEP_VCARD_H

#include <stddef.h>

#include <xmpp/common.h>
#include <xmpp/session.h>
#include <xmpp/stanza.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The vcard-temp namespace (XEP-0054). */
#define XMPP_NS_VCARD "vcard-temp"
/** The vCard avatar update namespace (XEP-0153). */
#define XMPP_NS_VCARD_UPDATE "vcard-temp:x:update"

/** The largest photo accepted in a vCard, in decoded bytes. */
#define XMPP_VCARD_MAX_PHOTO (256 * 1024)
/** The longest text field accepted in a vCard, in bytes. */
#define XMPP_VCARD_MAX_TEXT 4096

/**
 * The common fields of a vCard. Every pointer may be NULL (field absent).
 * In a received vCard all of it is borrowed, valid during the callback.
 */
typedef struct xmpp_vcard {
    const char *fn;             /**< Formatted name, \<FN/>. */
    const char *nickname;       /**< \<NICKNAME/>. */
    const char *email;          /**< \<EMAIL>\<USERID/>\</EMAIL> (the first one). */
    const char *url;            /**< \<URL/>. */
    const char *photo_type;     /**< \<PHOTO>\<TYPE/> (a MIME type), with photo. */
    const unsigned char *photo; /**< \<PHOTO>\<BINVAL/>, decoded. */
    size_t photo_len;           /**< The photo's length in bytes. */
} xmpp_vcard;

/**
 * Completion of xmpp_vcard_request(); fires exactly once.
 * @param s the session.
 * @param status how the IQ ended.
 * @param err for ::XMPP_IQ_RESULT: ::XMPP_OK; ::XMPP_ERR_LIMIT (the photo
 *        or a field exceeds ::XMPP_VCARD_MAX_PHOTO or
 *        ::XMPP_VCARD_MAX_TEXT); ::XMPP_ERR_INVALID (no \<vCard/>, bad
 *        base64, a photo without type); then @p vcard is NULL. An empty
 *        \<vCard/> (no vCard stored) gives a vCard with all fields NULL.
 * @param vcard the vCard (borrowed, valid during the call) or NULL.
 * @param reply the result or error stanza (borrowed) or NULL.
 * @param user_data passed back to the callback.
 */
typedef void (*xmpp_vcard_fn)(xmpp_session *s, xmpp_iq_status status, int err,
                              const xmpp_vcard *vcard, xmpp_stanza *reply, void *user_data);

/**
 * Asks for a vCard; the answer is accepted only from @p to (the own
 * account's server when NULL).
 * @param s a ready session.
 * @param to a bare JID, or NULL for the own vCard.
 * @param timeout_ms 0 for the session default.
 * @param cb the completion callback (required).
 * @param user_data passed back to the callback.
 * @return ::XMPP_OK, ::XMPP_ERR_INVALID or as xmpp_session_send_iq(); on
 *         error the callback does not fire.
 */
XMPP_EXTERN int xmpp_vcard_request(xmpp_session *s, const char *to, unsigned timeout_ms,
                                   xmpp_vcard_fn cb, void *user_data);

/**
 * Publishes the own vCard. It replaces the stored vCard as a whole: fields
 * not given here are removed.
 * @param s a ready session.
 * @param vcard the fields (copied into the request); a photo needs
 *        photo_type and at most ::XMPP_VCARD_MAX_PHOTO bytes.
 * @param timeout_ms 0 for the session default.
 * @param cb the completion callback (the server's result or error), or
 *        NULL.
 * @param user_data passed back to the callback.
 * @return ::XMPP_OK, ::XMPP_ERR_INVALID, ::XMPP_ERR_LIMIT, ::XMPP_ERR_UTF8
 *         or as xmpp_session_send_iq(); on error the callback does not
 *         fire.
 */
XMPP_EXTERN int xmpp_vcard_publish(xmpp_session *s, const xmpp_vcard *vcard, unsigned timeout_ms,
                                   xmpp_iq_fn cb, void *user_data);

/**
 * The XEP-0153 hash of a photo: SHA-1 of the image bytes, in lowercase
 * hexadecimal.
 * @param data the image.
 * @param len its length.
 * @param out receives 40 characters and a NUL.
 * @param size at least 41.
 * @return ::XMPP_OK or ::XMPP_ERR_INVALID.
 */
XMPP_EXTERN int xmpp_vcard_photo_hash(const unsigned char *data, size_t len, char *out,
                                      size_t size);

/**
 * Adds \<x xmlns='vcard-temp:x:update'/> to an outgoing presence
 * (XEP-0153 §3.2).
 * @param presence the presence.
 * @param hash the photo hash (40 hex characters), "" for "no avatar", or
 *        NULL for "not ready to advertise" (an empty \<x/>).
 * @return ::XMPP_OK, ::XMPP_ERR_INVALID or ::XMPP_ERR_NOMEM.
 */
XMPP_EXTERN int xmpp_vcard_update_add(xmpp_stanza *presence, const char *hash);

/**
 * Reads the avatar announcement of a presence.
 * @param presence the presence.
 * @param hash receives the hash (borrowed; "" when the contact has no
 *        avatar).
 * @return ::XMPP_OK; ::XMPP_ERR_NOT_FOUND (no \<x/>, or an \<x/> without
 *         \<photo/>: the sender is not ready to tell); ::XMPP_ERR_INVALID
 *         (a photo that is not 40 hex characters or empty, several).
 */
XMPP_EXTERN int xmpp_vcard_update_get(const xmpp_stanza *presence, const char **hash);

/**
 * An avatar announcement arrived in a presence (plugin "vcard").
 * @param s the session.
 * @param from the sender (borrowed).
 * @param hash the photo hash, "" for "no avatar" (borrowed).
 * @param user_data passed back to the callback.
 */
typedef void (*xmpp_vcard_avatar_fn)(xmpp_session *s, const char *from, const char *hash,
                                     void *user_data);

/**
 * Sets the callback for avatar announcements (replacing any previous one).
 * Malformed announcements are dropped.
 * @param s the session, with "vcard" enabled.
 * @param cb the callback, or NULL.
 * @param user_data passed back to the callback.
 * @return ::XMPP_OK or ::XMPP_ERR_STATE.
 */
XMPP_EXTERN int xmpp_vcard_set_avatar_callback(xmpp_session *s, xmpp_vcard_avatar_fn cb,
                                               void *user_data);

#ifdef __cplusplus
}
#endif

#endif /* XMPP_XEP_VCARD_H */
