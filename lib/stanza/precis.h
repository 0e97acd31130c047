/* PRECIS (RFC 8264) string classes and the two RFC 8265 profiles that
 * XMPP addresses use (RFC 7622 §3.3, §3.4), built on libunistring.
 *
 * All functions take UTF-8 that the caller has already validated
 * (u8_check); they never see invalid sequences. Output strings are
 * NUL-terminated and allocated with the context's allocator. */
#ifndef XMPP_STANZA_PRECIS_H
#define XMPP_STANZA_PRECIS_H

#include "core/internal.h"

/* Derived property values (RFC 8264 §8). FREE_PVAL and ID_DIS are one
 * value: valid in the FreeformClass, disallowed in the IdentifierClass. */
typedef enum xmpp__precis_prop {
    XMPP__PRECIS_PVALID = 0,
    XMPP__PRECIS_CONTEXTJ,
    XMPP__PRECIS_CONTEXTO,
    XMPP__PRECIS_ID_DIS,
    XMPP__PRECIS_DISALLOWED,
    XMPP__PRECIS_UNASSIGNED
} xmpp__precis_prop;

/* Results of the profile functions besides XMPP_OK and XMPP_ERR_NOMEM.
 * They are internal: jid.c maps them to the public XMPP_ERR_JID_* codes. */
enum {
    XMPP__PRECIS_EDISALLOWED = -100, /* a code point the class forbids */
    XMPP__PRECIS_ECONTEXT = -101,    /* a CONTEXTJ/CONTEXTO rule failed */
    XMPP__PRECIS_EBIDI = -102,       /* the Bidi Rule (RFC 5893 §2) failed */
    XMPP__PRECIS_EEMPTY = -103,      /* empty string (RFC 8264 §7) */
    XMPP__PRECIS_EUNSTABLE = -104    /* enforcement did not reach a fixed point */
};

/* Mapping steps for xmpp__precis_map(). */
#define XMPP__PRECIS_MAP_WIDTH 0x1u /* <wide>/<narrow> to decomposition */
#define XMPP__PRECIS_MAP_SPACE 0x2u /* Zs other than U+0020 to U+0020 */
#define XMPP__PRECIS_MAP_LOWER 0x4u /* Unicode toLowerCase */
#define XMPP__PRECIS_MAP_NFC 0x8u   /* Normalization Form C */
/* Per code point lower case, only where case folding changes the code
 * point: the RFC 5895 §2 step 1 mapping for domain names, which must not
 * turn IDNA2008-valid letters (Cherokee capitals, ß, final sigma) into
 * disallowed ones. */
#define XMPP__PRECIS_MAP_LOWER_IDNA 0x10u

/* The derived property of one code point (RFC 8264 §8). */
xmpp__precis_prop xmpp__precis_property(uint32_t cp);

/* Applies the mapping steps in @p flags, in the RFC 8264 §7 order (width,
 * additional mapping, case, normalization), to in[0..len). Checks nothing
 * else. Returns XMPP_OK or XMPP_ERR_NOMEM; *out is freed with xmpp__free. */
int xmpp__precis_map(const xmpp_ctx *ctx, const char *in, size_t len,
                     unsigned flags, char **out, size_t *outlen);

/* Enforces the UsernameCaseMapped profile (RFC 8265 §3.3.3). */
int xmpp__precis_username_casemapped(const xmpp_ctx *ctx, const char *in,
                                     size_t len, char **out, size_t *outlen);

/* Enforces the OpaqueString profile (RFC 8265 §4.2.3). RFC 8265 gives the
 * profile no directionality rule; with @p bidi set the Bidi Rule is applied
 * to strings holding right-to-left characters anyway (see jid.c). */
int xmpp__precis_opaque_string(const xmpp_ctx *ctx, const char *in, size_t len,
                               int bidi, char **out, size_t *outlen);

#endif
