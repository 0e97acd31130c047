/* XEP-0082 date and time profiles, strict: parsing and formatting for the
 * plugins that carry timestamps (entity time, delayed delivery, MAM). An
 * internal helper of lib/xep, not public API. */
#ifndef XMPP_XEP_DATETIME_H
#define XMPP_XEP_DATETIME_H

#include <stddef.h>
#include <stdint.h>

/* The longest string xmpp__datetime_format() writes, with its NUL:
 * "CCYY-MM-DDThh:mm:ss.ssssssZ". */
#define XMPP__DATETIME_MAX 28

/* Parses a XEP-0082 DateTime, CCYY-MM-DDThh:mm:ss[.s+]TZD, where TZD is
 * "Z" or +hh:mm / -hh:mm. Strict: exactly these characters, no spaces,
 * months 01-12, days valid for the month (leap years), hours 00-23,
 * minutes and seconds 00-59, 1 to 9 fraction digits (kept to the
 * microsecond), offsets up to 23:59, the year 0001-9999.
 * unix_secs receives the instant (UTC seconds since 1970, may be < 0);
 * usec the microseconds (may be NULL); tzo_min the offset in minutes
 * east of UTC the string carried (may be NULL).
 * Returns XMPP_OK or XMPP_ERR_INVALID (NULL arguments or any deviation). */
int xmpp__datetime_parse(const char *s, int64_t *unix_secs, uint32_t *usec, int *tzo_min);

/* Parses a XEP-0082 Date, CCYY-MM-DD: the instant of its midnight UTC. */
int xmpp__date_parse(const char *s, int64_t *unix_secs);

/* Parses a time zone offset "Z", "+hh:mm" or "-hh:mm" (XEP-0082 TZD, as
 * in XEP-0202 <tzo/>) into minutes east of UTC. */
int xmpp__tzo_parse(const char *s, int *tzo_min);

/* Writes unix_secs (UTC) as CCYY-MM-DDThh:mm:ssZ, with ".uuuuuu" when
 * usec > 0. buf must hold XMPP__DATETIME_MAX bytes. Returns XMPP_OK, or
 * XMPP_ERR_INVALID outside years 0001-9999, usec >= 1000000 or size too
 * small. */
int xmpp__datetime_format(int64_t unix_secs, uint32_t usec, char *buf, size_t size);

/* Writes an offset as "Z" (0) or +hh:mm / -hh:mm; buf holds >= 7 bytes.
 * Returns XMPP_OK or XMPP_ERR_INVALID (|tzo_min| > 23:59, size). */
int xmpp__tzo_format(int tzo_min, char *buf, size_t size);

#endif
