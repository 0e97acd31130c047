/**
 * @file xmpp/jid.h
 * @brief XMPP addresses (RFC 7622): parsing, preparation, comparison and
 *        XEP-0106 escaping.
 *
 * A parsed JID holds its prepared form: the localpart enforced and mapped
 * with the PRECIS UsernameCaseMapped profile (RFC 8265 §3.3), the
 * resourcepart with OpaqueString (RFC 8265 §4.2), the domainpart converted
 * with IDNA2008 to its A-label form (lower case, trailing dot removed) or
 * kept as an IP literal. Two JIDs are equal when their prepared forms are
 * byte-identical.
 *
 * Strings returned by accessors belong to the JID and stay valid until it is
 * freed. A JID is immutable.
 */
#ifndef XMPP_JID_H
#define XMPP_JID_H

#include <xmpp/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/** A prepared, immutable JID. */
typedef struct xmpp_jid xmpp_jid;

/**
 * Parses and prepares a JID string.
 * @param out receives the JID; free with xmpp_jid_free().
 * @param ctx the context whose allocator is used.
 * @param str a NUL-terminated UTF-8 string.
 * @return ::XMPP_OK; ::XMPP_ERR_INVALID (NULL argument); ::XMPP_ERR_UTF8;
 *         ::XMPP_ERR_JID_MALFORMED; ::XMPP_ERR_JID_EMPTY_LOCAL;
 *         ::XMPP_ERR_JID_EMPTY_DOMAIN; ::XMPP_ERR_JID_EMPTY_RESOURCE;
 *         ::XMPP_ERR_JID_TOO_LONG; ::XMPP_ERR_JID_LOCAL;
 *         ::XMPP_ERR_JID_DOMAIN; ::XMPP_ERR_JID_RESOURCE;
 *         ::XMPP_ERR_JID_BIDI; ::XMPP_ERR_NOMEM.
 */
XMPP_EXTERN int xmpp_jid_parse(xmpp_jid **out, xmpp_ctx *ctx, const char *str);

/**
 * Builds and prepares a JID from its parts.
 * @param out receives the JID; free with xmpp_jid_free().
 * @param ctx the context whose allocator is used.
 * @param local the localpart or NULL.
 * @param domain the domainpart (required).
 * @param resource the resourcepart or NULL.
 * @return as xmpp_jid_parse().
 */
XMPP_EXTERN int xmpp_jid_new(xmpp_jid **out, xmpp_ctx *ctx, const char *local,
                             const char *domain, const char *resource);

/** Frees a JID. Accepts NULL. */
XMPP_EXTERN void xmpp_jid_free(xmpp_jid *jid);

/**
 * Copies a JID.
 * @return ::XMPP_OK, ::XMPP_ERR_INVALID or ::XMPP_ERR_NOMEM.
 */
XMPP_EXTERN int xmpp_jid_copy(xmpp_jid **out, const xmpp_jid *jid);

/**
 * The bare JID (localpart and domainpart) of @p jid, as a new JID.
 * @return ::XMPP_OK, ::XMPP_ERR_INVALID or ::XMPP_ERR_NOMEM.
 */
XMPP_EXTERN int xmpp_jid_to_bare(xmpp_jid **out, const xmpp_jid *jid);

/** The prepared localpart, or NULL when there is none. */
XMPP_EXTERN const char *xmpp_jid_local(const xmpp_jid *jid);
/** The prepared domainpart (A-labels for an IDN, or an IP literal). */
XMPP_EXTERN const char *xmpp_jid_domain(const xmpp_jid *jid);
/**
 * The domainpart in Unicode (U-label) form, for display (RFC 7622 §3.2;
 * show it beside xmpp_jid_domain() where confusable characters matter).
 */
XMPP_EXTERN const char *xmpp_jid_domain_unicode(const xmpp_jid *jid);
/** The prepared resourcepart, or NULL when there is none. */
XMPP_EXTERN const char *xmpp_jid_resource(const xmpp_jid *jid);
/** The prepared bare JID as a string ("local@domain" or "domain"). */
XMPP_EXTERN const char *xmpp_jid_bare(const xmpp_jid *jid);
/** The prepared full JID as a string (the bare JID when there is no resource). */
XMPP_EXTERN const char *xmpp_jid_full(const xmpp_jid *jid);
/** @return 1 when the JID has a resourcepart, 0 otherwise. */
XMPP_EXTERN int xmpp_jid_is_full(const xmpp_jid *jid);

/**
 * Compares two JIDs on their prepared forms (RFC 7622 §3).
 * @return 1 when equal, 0 otherwise (also when either is NULL).
 */
XMPP_EXTERN int xmpp_jid_equal(const xmpp_jid *a, const xmpp_jid *b);

/**
 * Compares the bare parts of two JIDs.
 * @return 1 when equal, 0 otherwise.
 */
XMPP_EXTERN int xmpp_jid_bare_equal(const xmpp_jid *a, const xmpp_jid *b);

/**
 * Compares a JID with a JID string, preparing the string first. A string
 * that fails preparation is equal to nothing.
 * @return 1 when equal, 0 otherwise.
 */
XMPP_EXTERN int xmpp_jid_equal_str(const xmpp_jid *a, const char *b);

/**
 * Escapes a localpart per XEP-0106 (space " & ' / : < > @ and backslash
 * sequences that would read as escapes).
 * @param ctx the context whose allocator is used.
 * @param local the localpart to escape (bytes; not checked as UTF-8).
 * @param out receives a new string; free with xmpp_free().
 * @return ::XMPP_OK, ::XMPP_ERR_INVALID, ::XMPP_ERR_JID_ESCAPE (empty, or
 *         leading or trailing space, which XEP-0106 §4.3 forbids) or
 *         ::XMPP_ERR_NOMEM.
 */
XMPP_EXTERN int xmpp_jid_escape(xmpp_ctx *ctx, const char *local, char **out);

/**
 * Unescapes an XEP-0106 localpart (only the ten defined escapes are decoded;
 * any other backslash sequence is kept as is).
 * @param ctx the context whose allocator is used.
 * @param local the escaped localpart.
 * @param out receives a new string; free with xmpp_free().
 * @return ::XMPP_OK, ::XMPP_ERR_INVALID or ::XMPP_ERR_NOMEM.
 */
XMPP_EXTERN int xmpp_jid_unescape(xmpp_ctx *ctx, const char *local, char **out);

#ifdef __cplusplus
}
#endif

#endif /* XMPP_JID_H */
