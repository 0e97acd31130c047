/* Internal view of the stanza object model, used by the XML parser to build
 * trees with one allocation per element and per text node. */
#ifndef XMPP_STANZA_INT_H
#define XMPP_STANZA_INT_H

#include "core/internal.h"

#include <xmpp/stanza.h>

typedef struct xmpp__attr {
    char *name;
    char *value;
} xmpp__attr;

/* Flags: which parts live in their own heap allocation rather than inside
 * the node's block. */
#define XMPP__F_TEXT 0x01       /* a text node */
#define XMPP__F_NAME_HEAP 0x02  /* name is a separate allocation */
#define XMPP__F_NS_HEAP 0x04    /* ns is a separate allocation */
#define XMPP__F_ATTRS_HEAP 0x08 /* attr array and every attr string are heap */

struct xmpp_stanza {
    xmpp_ctx *ctx;
    unsigned refs;
    unsigned flags;
    struct xmpp_stanza *parent;
    struct xmpp_stanza *first;
    struct xmpp_stanza *last;
    struct xmpp_stanza *next;
    char *name;  /* element: name; text node: NULL */
    char *ns;    /* element: namespace or NULL */
    char *text;  /* text node: NUL-terminated text */
    size_t text_len;
    xmpp__attr *attrs;
    size_t nattrs;
    size_t attrs_cap;
};

/* An attribute as the parser sees it: the stored name is pre + name. */
typedef struct xmpp__attr_in {
    const char *pre;
    size_t pre_len;
    const char *name;
    size_t name_len;
    const char *value;
    size_t value_len;
} xmpp__attr_in;

/* Builds an element in one allocation. No validation: the caller (the XML
 * parser) has already checked names and UTF-8. ns may be NULL. */
int xmpp__stanza_new_element_n(xmpp_stanza **out, xmpp_ctx *ctx, const char *name,
                               size_t name_len, const char *ns, size_t ns_len,
                               const xmpp__attr_in *attrs, size_t nattrs);

/* Builds a text node in one allocation, without validation. */
int xmpp__stanza_new_text_n(xmpp_stanza **out, xmpp_ctx *ctx, const char *text,
                            size_t len);

/* Appends child to parent, handing over the caller's reference. */
void xmpp__stanza_append(xmpp_stanza *parent, xmpp_stanza *child);

/* Stanza error condition by name; 0 when unknown (lib/core/error.c). */
int xmpp__stanza_condition_from_name(const char *name);

#endif
