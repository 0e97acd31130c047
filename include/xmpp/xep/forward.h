/**
 * @file xmpp/xep/forward.h
 * @brief XEP-0297 stanza forwarding: unwrapping a \<forwarded/> element.
 *
 * Carbons (XEP-0280) and archive results (XEP-0313) carry a message inside
 * a \<forwarded/> element. Who forwarded it decides whether it can be
 * trusted: check the outer stanza's sender before believing the inner
 * one's (the carbons and mam plugins do).
 */
#ifndef XMPP_XEP_FORWARD_H
#define XMPP_XEP_FORWARD_H

#include <xmpp/common.h>
#include <xmpp/stanza.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The XEP-0297 namespace. */
#define XMPP_NS_FORWARD "urn:xmpp:forward:0"

/**
 * Finds the forwarded message in an element.
 * @param wrapper a \<forwarded/> element, or an element whose child it is
 *        (e.g. a carbons \<received/> or a MAM \<result/>).
 * @param message receives the forwarded \<message/> (borrowed from
 *        @p wrapper); may be NULL.
 * @param delay receives the \<forwarded/> element's XEP-0203 \<delay/>
 *        (borrowed), or NULL when it has none; may be NULL. Read it with
 *        xmpp_delay_get() on the \<forwarded/> element.
 * @return ::XMPP_OK; ::XMPP_ERR_NOT_FOUND (no \<forwarded/>);
 *         ::XMPP_ERR_INVALID (NULL @p wrapper, more than one
 *         \<forwarded/>, or not exactly one \<message/> in it).
 */
XMPP_EXTERN int xmpp_forward_unwrap(const xmpp_stanza *wrapper, xmpp_stanza **message,
                                    xmpp_stanza **delay);

#ifdef __cplusplus
}
#endif

#endif /* XMPP_XEP_FORWARD_H */
