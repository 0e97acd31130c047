/**
 * @file xmpp/xep/delay.h
 * @brief XEP-0082 date and time strings and XEP-0203 delayed delivery.
 *
 * Timestamps are parsed strictly: the XEP-0082 DateTime profile
 * (CCYY-MM-DDThh:mm:ss[.sss]TZD) with every field in range (the day
 * checked against the month and leap years), a time zone of "Z" or
 * +hh:mm / -hh:mm (at most 14:00), and nothing after it. Fractions of a
 * second of any length are accepted (kept to the microsecond). A value
 * that does not parse is an error, never a guess: a forged or garbled
 * stamp must not reorder a conversation silently.
 */
#ifndef XMPP_XEP_DELAY_H
#define XMPP_XEP_DELAY_H

#include <stddef.h>
#include <stdint.h>

#include <xmpp/common.h>
#include <xmpp/stanza.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The XEP-0203 namespace. */
#define XMPP_NS_DELAY "urn:xmpp:delay"

/**
 * Parses a XEP-0082 DateTime ("2026-11-25T08:49:24Z",
 * "2026-11-25T09:49:24.123+01:00").
 * @param text the string (NUL-terminated).
 * @param secs receives the seconds since 1970-01-01T00:00:00Z (UTC); may
 *        be NULL.
 * @param usec receives the fraction in microseconds (0 to 999999); may be
 *        NULL.
 * @return ::XMPP_OK or ::XMPP_ERR_INVALID (NULL @p text, a field missing,
 *         out of range or of the wrong width, a bad offset, trailing
 *         characters); the outputs are left unchanged on error.
 */
XMPP_EXTERN int xmpp_datetime_parse(const char *text, int64_t *secs, uint32_t *usec);

/**
 * Formats a time as a XEP-0082 DateTime in UTC ("CCYY-MM-DDThh:mm:ssZ").
 * @param secs seconds since 1970-01-01T00:00:00Z; years 1 to 9999 only.
 * @param buf receives the NUL-terminated string.
 * @param size the size of @p buf, at least 21.
 * @return ::XMPP_OK or ::XMPP_ERR_INVALID (NULL buffer, too small, or the
 *         time is outside years 1 to 9999).
 */
XMPP_EXTERN int xmpp_datetime_format(int64_t secs, char *buf, size_t size);

/**
 * Reads the XEP-0203 \<delay/> child of a stanza (or of a XEP-0297
 * \<forwarded/> element).
 * @param st the stanza or element.
 * @param secs receives the stamp in seconds since 1970 (UTC); may be NULL.
 * @param from receives the entity that delayed it (borrowed, NULL when
 *        absent); may be NULL. Informational: it is whatever the sender
 *        wrote.
 * @return ::XMPP_OK; ::XMPP_ERR_NOT_FOUND (no \<delay/>);
 *         ::XMPP_ERR_INVALID (NULL @p st, more than one \<delay/>, or a
 *         missing or malformed stamp). The outputs are set only on
 *         success.
 */
XMPP_EXTERN int xmpp_delay_get(const xmpp_stanza *st, int64_t *secs, const char **from);

/**
 * Adds a XEP-0203 \<delay/> child to a stanza.
 * @param st the stanza.
 * @param secs the stamp (seconds since 1970, UTC).
 * @param from the entity that delayed it, or NULL.
 * @return ::XMPP_OK, ::XMPP_ERR_INVALID or ::XMPP_ERR_NOMEM.
 */
XMPP_EXTERN int xmpp_delay_add(xmpp_stanza *st, int64_t secs, const char *from);

#ifdef __cplusplus
}
#endif

#endif /* XMPP_XEP_DELAY_H */
