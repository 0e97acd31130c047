/* What the built-in XEP plugins share about disco answers: the caps cache
 * hands out cached disco#info answers through the public accessors. */
#ifndef XMPP_XEP_DISCO_INT_H
#define XMPP_XEP_DISCO_INT_H

#include <xmpp/stanza.h>
#include <xmpp/xep/disco.h>

struct xmpp_disco_info {
    const xmpp_stanza *query; /* may be NULL: an empty answer */
    const char *from;
};

/* The text of an element that holds one text node ("" for none), or NULL
 * when it holds anything else. Borrowed. */
const char *xmpp__elem_text(const xmpp_stanza *e);

/* The FORM_TYPE of an XEP-0128 form element, or NULL (not hidden, absent,
 * or not exactly one value). */
const char *xmpp__disco_form_type(const xmpp_stanza *x);

#endif
