/**
 * @file xmpp/xep/sid.h
 * @brief XEP-0359 unique and stable stanza ids: the "sid" plugin, reading
 *        \<stanza-id/> and adding \<origin-id/>.
 *
 * A \<stanza-id/> is only as trustworthy as the entity named in its "by"
 * attribute, and only that entity's own server (for 1:1 messages: our
 * account) or the room (for groupchat) can be trusted to have set it: any
 * sender can put one in a message. xmpp_sid_stanza_id() therefore reads
 * one only for an expected "by", and xmpp_sid_archive_id() picks the
 * expected one (XEP-0359 §4: a client must not trust one from elsewhere).
 *
 * The "sid" plugin advertises urn:xmpp:sid:0 (XEP-0359 §6); with it
 * enabled, xmpp_sid_add_origin_id() stamps outgoing messages.
 */
#ifndef XMPP_XEP_SID_H
#define XMPP_XEP_SID_H

#include <xmpp/common.h>
#include <xmpp/session.h>
#include <xmpp/stanza.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The XEP-0359 namespace. */
#define XMPP_NS_SID "urn:xmpp:sid:0"

/** The longest id read or written, in bytes; longer ones are ignored. */
#define XMPP_SID_MAX 256

/**
 * The id of the \<stanza-id/> set by an expected entity.
 * @param msg the message.
 * @param by the entity that must have set it (a bare JID or a domain);
 *        compared after normalisation (RFC 7622).
 * @return the id (borrowed from @p msg), or NULL when there is none from
 *         @p by, when there are several from it (XEP-0359 §4: the entity
 *         must have removed others), or when it is empty or longer than
 *         ::XMPP_SID_MAX.
 */
XMPP_EXTERN const char *xmpp_sid_stanza_id(const xmpp_stanza *msg, const char *by);

/**
 * The archive id of a message received on this session: the
 * \<stanza-id/> set by our own account for 1:1 messages, by the room
 * (the bare sender) for type "groupchat".
 * @param s the session (bound: its JID is known).
 * @param msg the message.
 * @return the id (borrowed from @p msg), or NULL.
 */
XMPP_EXTERN const char *xmpp_sid_archive_id(const xmpp_session *s, const xmpp_stanza *msg);

/**
 * The \<origin-id/> of a message (set by its sender: a hint, not a
 * proof).
 * @param msg the message.
 * @return the id (borrowed), or NULL when absent, empty, repeated or too
 *         long.
 */
XMPP_EXTERN const char *xmpp_sid_origin_id(const xmpp_stanza *msg);

/**
 * Adds an \<origin-id/> to an outgoing message, when the "sid" plugin is
 * enabled on the session (else does nothing and returns ::XMPP_OK). The id
 * is the message's id; a message without one gets a fresh id for both.
 * A message that already has an origin-id is left as it is.
 * @param s the session.
 * @param msg the message to stamp.
 * @return ::XMPP_OK, ::XMPP_ERR_INVALID or ::XMPP_ERR_NOMEM.
 */
XMPP_EXTERN int xmpp_sid_add_origin_id(xmpp_session *s, xmpp_stanza *msg);

#ifdef __cplusplus
}
#endif

#endif /* XMPP_XEP_SID_H */
