/**
 * @file xmpp/stanza.h
 * @brief The element and stanza object model: build, query, serialise.
 *
 * A node is either an element (name, namespace, attributes, children) or a
 * text node. Nodes are reference counted: xmpp_stanza_ref() takes a
 * reference, xmpp_stanza_unref() drops one, and the node is freed with its
 * subtree when the last reference goes. A parent holds one reference on each
 * child.
 *
 * Every element has a namespace. The serialiser writes an @c xmlns attribute
 * only where an element's namespace differs from its parent's (or, for the
 * root, from the context namespace given to xmpp_stanza_serialize()).
 *
 * Attribute names are stored as written (@c "to", @c "xml:lang"). An
 * attribute in any other namespace is named @c "{namespace-uri}local".
 *
 * Pointer lifetimes: strings returned by accessors point into the node and
 * stay valid until that node is freed or the same item is changed (a name,
 * an attribute value, a text). Child pointers returned by lookups are
 * borrowed: they stay valid while the parent holds them.
 */
#ifndef XMPP_STANZA_H
#define XMPP_STANZA_H

#include <xmpp/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The namespace of client streams' stanzas (RFC 6120 §4.8.3). */
#define XMPP_NS_CLIENT "jabber:client"
/** The stream namespace (RFC 6120 §4.8.1). */
#define XMPP_NS_STREAMS "http://etherx.jabber.org/streams"
/** The namespace of stanza error conditions (RFC 6120 §8.3.3). */
#define XMPP_NS_STANZAS "urn:ietf:params:xml:ns:xmpp-stanzas"
/** The namespace of stream error conditions (RFC 6120 §4.9.3). */
#define XMPP_NS_STREAM_ERRORS "urn:ietf:params:xml:ns:xmpp-streams"
/** The XML namespace, bound to the prefix "xml". */
#define XMPP_NS_XML "http://www.w3.org/XML/1998/namespace"

/** A node of an XML tree: an element or a text node. */
typedef struct xmpp_stanza xmpp_stanza;

/**
 * Creates an element.
 * @param out receives the element (one reference, owned by the caller).
 * @param ctx the context whose allocator is used.
 * @param name the element name (non-empty, no ':').
 * @param ns the namespace URI, or NULL for none (the serialiser then inherits
 *        the parent's namespace).
 * @return ::XMPP_OK, ::XMPP_ERR_INVALID, ::XMPP_ERR_UTF8 or ::XMPP_ERR_NOMEM.
 */
XMPP_EXTERN int xmpp_stanza_new(xmpp_stanza **out, xmpp_ctx *ctx,
                                const char *name, const char *ns);

/**
 * Creates a text node holding a copy of @p len bytes of @p text.
 * @return ::XMPP_OK, ::XMPP_ERR_INVALID, ::XMPP_ERR_UTF8 (invalid UTF-8 or a
 *         character XML forbids) or ::XMPP_ERR_NOMEM.
 */
XMPP_EXTERN int xmpp_stanza_new_text(xmpp_stanza **out, xmpp_ctx *ctx,
                                     const char *text, size_t len);

/** Takes a reference. @return @p st. */
XMPP_EXTERN xmpp_stanza *xmpp_stanza_ref(xmpp_stanza *st);

/** Drops a reference; frees the node and its subtree at zero. Accepts NULL. */
XMPP_EXTERN void xmpp_stanza_unref(xmpp_stanza *st);

/**
 * Deep copy: a new tree with no parent, owned by the caller.
 * @return ::XMPP_OK, ::XMPP_ERR_INVALID or ::XMPP_ERR_NOMEM.
 */
XMPP_EXTERN int xmpp_stanza_copy(xmpp_stanza **out, const xmpp_stanza *st);

/** The context the node was created with. */
XMPP_EXTERN xmpp_ctx *xmpp_stanza_ctx(const xmpp_stanza *st);

/** @return 1 for a text node, 0 for an element. */
XMPP_EXTERN int xmpp_stanza_is_text(const xmpp_stanza *st);

/** The element name; NULL for a text node. */
XMPP_EXTERN const char *xmpp_stanza_name(const xmpp_stanza *st);

/**
 * The element's own namespace; NULL for a text node or an element created
 * without one.
 */
XMPP_EXTERN const char *xmpp_stanza_ns(const xmpp_stanza *st);

/**
 * Renames an element.
 * @return ::XMPP_OK, ::XMPP_ERR_INVALID, ::XMPP_ERR_NOT_TEXT (a text node),
 *         ::XMPP_ERR_UTF8 or ::XMPP_ERR_NOMEM. Invalidates the old name pointer.
 */
XMPP_EXTERN int xmpp_stanza_set_name(xmpp_stanza *st, const char *name);

/**
 * Sets an element's namespace (NULL removes it).
 * @return as xmpp_stanza_set_name(). Invalidates the old namespace pointer.
 */
XMPP_EXTERN int xmpp_stanza_set_ns(xmpp_stanza *st, const char *ns);

/**
 * An attribute's value.
 * @return the value, or NULL when absent or for a text node.
 */
XMPP_EXTERN const char *xmpp_stanza_attr(const xmpp_stanza *st, const char *name);

/**
 * Sets an attribute, replacing any value it had. The order of first
 * insertion is kept and is the serialisation order.
 * @return ::XMPP_OK, ::XMPP_ERR_INVALID, ::XMPP_ERR_NOT_TEXT, ::XMPP_ERR_UTF8
 *         or ::XMPP_ERR_NOMEM. Invalidates the old value pointer.
 */
XMPP_EXTERN int xmpp_stanza_set_attr(xmpp_stanza *st, const char *name,
                                     const char *value);

/**
 * Removes an attribute.
 * @return ::XMPP_OK, ::XMPP_ERR_NOT_FOUND or ::XMPP_ERR_INVALID.
 */
XMPP_EXTERN int xmpp_stanza_del_attr(xmpp_stanza *st, const char *name);

/** The number of attributes (0 for a text node). */
XMPP_EXTERN size_t xmpp_stanza_attr_count(const xmpp_stanza *st);

/**
 * The attribute at position @p i (insertion order).
 * @param st the element.
 * @param i the position, from 0.
 * @param name receives the name (may be NULL).
 * @param value receives the value (may be NULL).
 * @return ::XMPP_OK or ::XMPP_ERR_NOT_FOUND when @p i is out of range.
 */
XMPP_EXTERN int xmpp_stanza_attr_at(const xmpp_stanza *st, size_t i,
                                    const char **name, const char **value);

/** Shorthand for the "id" attribute. */
XMPP_EXTERN const char *xmpp_stanza_id(const xmpp_stanza *st);
/** Shorthand for the "type" attribute. */
XMPP_EXTERN const char *xmpp_stanza_type(const xmpp_stanza *st);
/** Shorthand for the "to" attribute. */
XMPP_EXTERN const char *xmpp_stanza_to(const xmpp_stanza *st);
/** Shorthand for the "from" attribute. */
XMPP_EXTERN const char *xmpp_stanza_from(const xmpp_stanza *st);

/**
 * Appends @p child to @p parent's children. The parent takes its own
 * reference; the caller keeps its reference and usually drops it.
 * @return ::XMPP_OK, ::XMPP_ERR_INVALID (a text parent, a child that already
 *         has a parent, a child that is an ancestor of @p parent, or
 *         different contexts).
 */
XMPP_EXTERN int xmpp_stanza_add_child(xmpp_stanza *parent, xmpp_stanza *child);

/**
 * Appends a text child holding @p len bytes of @p text.
 * @return ::XMPP_OK, ::XMPP_ERR_INVALID, ::XMPP_ERR_UTF8 or ::XMPP_ERR_NOMEM.
 */
XMPP_EXTERN int xmpp_stanza_add_text(xmpp_stanza *parent, const char *text,
                                     size_t len);

/**
 * Appends a new child element and returns it (borrowed, owned by @p parent).
 * @param parent the element to append to.
 * @param name the child's name.
 * @param ns the child's namespace, or NULL to inherit the parent's.
 * @param child receives the new child; may be NULL.
 * @return ::XMPP_OK, ::XMPP_ERR_INVALID, ::XMPP_ERR_UTF8 or ::XMPP_ERR_NOMEM.
 */
XMPP_EXTERN int xmpp_stanza_add_child_new(xmpp_stanza *parent, const char *name,
                                          const char *ns, xmpp_stanza **child);

/**
 * Detaches @p child from its parent and drops the parent's reference on it.
 * @return ::XMPP_OK or ::XMPP_ERR_INVALID (not a child of @p parent).
 */
XMPP_EXTERN int xmpp_stanza_remove_child(xmpp_stanza *parent, xmpp_stanza *child);

/** The parent, or NULL (borrowed). */
XMPP_EXTERN xmpp_stanza *xmpp_stanza_parent(const xmpp_stanza *st);
/** The first child, or NULL (borrowed). */
XMPP_EXTERN xmpp_stanza *xmpp_stanza_first_child(const xmpp_stanza *st);
/** The next sibling, or NULL (borrowed). */
XMPP_EXTERN xmpp_stanza *xmpp_stanza_next(const xmpp_stanza *st);
/** The number of children (text nodes included). */
XMPP_EXTERN size_t xmpp_stanza_child_count(const xmpp_stanza *st);

/**
 * The first child element with this name and namespace.
 * @param st the parent.
 * @param name the element name, or NULL for any.
 * @param ns the namespace, or NULL for any.
 * @return the child (borrowed) or NULL.
 */
XMPP_EXTERN xmpp_stanza *xmpp_stanza_child(const xmpp_stanza *st,
                                           const char *name, const char *ns);

/**
 * The next sibling element after @p st with this name and namespace (NULL
 * for any): with xmpp_stanza_child() this iterates over matching children.
 */
XMPP_EXTERN xmpp_stanza *xmpp_stanza_next_match(const xmpp_stanza *st,
                                                const char *name, const char *ns);

/**
 * Finds a descendant by path. The path is a sequence of steps separated by
 * '/'; each step is @c name or @c name@@ns ("{ns}name" is accepted too), e.g.
 * @c "query@jabber:iq:roster/item". Each step picks the first matching
 * child element.
 * @return the element (borrowed) or NULL.
 */
XMPP_EXTERN xmpp_stanza *xmpp_stanza_path(const xmpp_stanza *st, const char *path);

/**
 * For a text node, its text; NULL for an element. The pointer stays valid
 * until the node is freed.
 */
XMPP_EXTERN const char *xmpp_stanza_text_ptr(const xmpp_stanza *st);

/**
 * The concatenated text of a node's direct text children (of the node itself
 * for a text node), as a new NUL-terminated string.
 * @param st the node.
 * @param out receives the string; free with xmpp_free().
 * @param len receives its length (may be NULL).
 * @return ::XMPP_OK, ::XMPP_ERR_INVALID or ::XMPP_ERR_NOMEM.
 */
XMPP_EXTERN int xmpp_stanza_text(const xmpp_stanza *st, char **out, size_t *len);

/**
 * Replaces all children of an element with one text child.
 * @return as xmpp_stanza_add_text().
 */
XMPP_EXTERN int xmpp_stanza_set_text(xmpp_stanza *st, const char *text, size_t len);

/**
 * Serialises a tree.
 * @param st the root.
 * @param context_ns the namespace in scope where the tree is written (for
 *        stanzas on a client stream: ::XMPP_NS_CLIENT); NULL for none.
 * @param out receives a NUL-terminated string; free with xmpp_free().
 * @param len receives its length (may be NULL).
 * @return ::XMPP_OK, ::XMPP_ERR_INVALID or ::XMPP_ERR_NOMEM.
 */
XMPP_EXTERN int xmpp_stanza_serialize(const xmpp_stanza *st, const char *context_ns,
                                      char **out, size_t *len);

/**
 * Creates a \<message/> in the jabber:client namespace.
 * @param out receives the stanza (one reference, owned by the caller).
 * @param ctx the context.
 * @param type the type attribute or NULL (RFC 6121 §5.2.2).
 * @param to the recipient or NULL.
 * @param id the id or NULL.
 * @param body a \<body/> text, or NULL for none.
 * @return ::XMPP_OK, ::XMPP_ERR_INVALID, ::XMPP_ERR_UTF8 or ::XMPP_ERR_NOMEM.
 */
XMPP_EXTERN int xmpp_message_new(xmpp_stanza **out, xmpp_ctx *ctx, const char *type,
                                 const char *to, const char *id, const char *body);

/**
 * Creates a \<presence/> in the jabber:client namespace.
 * @param out receives the stanza (one reference, owned by the caller).
 * @param ctx the context.
 * @param type the type attribute or NULL for available.
 * @param to the recipient or NULL (broadcast).
 * @param id the id or NULL.
 * @return as xmpp_message_new().
 */
XMPP_EXTERN int xmpp_presence_new(xmpp_stanza **out, xmpp_ctx *ctx, const char *type,
                                  const char *to, const char *id);

/**
 * Creates an \<iq/> in the jabber:client namespace.
 * @param out receives the stanza (one reference, owned by the caller).
 * @param ctx the context.
 * @param type "get", "set", "result" or "error" (required).
 * @param to the recipient or NULL.
 * @param id the id (required: RFC 6120 §8.2.3).
 * @return as xmpp_message_new(); ::XMPP_ERR_INVALID for a bad type or no id.
 */
XMPP_EXTERN int xmpp_iq_new(xmpp_stanza **out, xmpp_ctx *ctx, const char *type,
                            const char *to, const char *id);

/**
 * Creates the result for an IQ request: type "result", the same id, @c to
 * set to the request's @c from (omitted when the request had none).
 * @return as xmpp_message_new(); ::XMPP_ERR_INVALID when @p request is not
 *         an iq get or set.
 */
XMPP_EXTERN int xmpp_iq_result_new(xmpp_stanza **out, const xmpp_stanza *request);

/**
 * Creates an error reply to a stanza (RFC 6120 §8.3): same element and id,
 * type "error", @c to set to the request's @c from, and an \<error/> with the
 * condition, its recommended type and an optional text.
 * @param out receives the reply (one reference, owned by the caller).
 * @param request the stanza being answered (not of type "error": RFC 6120
 *        §8.3.1 forbids answering an error with an error).
 * @param cond the condition.
 * @param text a human-readable text or NULL.
 * @return ::XMPP_OK, ::XMPP_ERR_INVALID, ::XMPP_ERR_UTF8 or ::XMPP_ERR_NOMEM.
 */
XMPP_EXTERN int xmpp_stanza_error_new(xmpp_stanza **out, const xmpp_stanza *request,
                                      xmpp_stanza_condition cond, const char *text);

/**
 * Reads the error condition of a stanza of type "error".
 * @param st the stanza.
 * @param cond receives the condition.
 * @param text receives the \<text/> (borrowed) or NULL; may be NULL.
 * @return ::XMPP_OK, or ::XMPP_ERR_NOT_FOUND when there is no \<error/> or
 *         no known condition in it.
 */
XMPP_EXTERN int xmpp_stanza_get_error(const xmpp_stanza *st,
                                      xmpp_stanza_condition *cond, const char **text);

#ifdef __cplusplus
}
#endif

#endif /* XMPP_STANZA_H */
