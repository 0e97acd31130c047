/* XEP-0082 date-time strings, XEP-0203 delayed delivery and XEP-0297
 * forwarding. Helpers over the public stanza API, no plugin state. */
#include "core/internal.h"

#include <stdio.h>
#include <string.h>

#include <xmpp/stanza.h>
#include <xmpp/xep/delay.h>
#include <xmpp/xep/forward.h>

static int digits(const char *p, int n, int *out) {
    int v = 0, i;
    for (i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        v = v * 10 + (p[i] - '0');
    }
    *out = v;
    return 0;
}

static int leap(int y) {
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int month_days(int y, int m) {
    static const int d[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && leap(y) ? 29 : d[m - 1];
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
 * days_from_civil). */
static int64_t days_from_civil(int64_t y, int m, int d) {
    int64_t era, yoe, doy, doe;
    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* XEP-0082 §3.3: CCYY-MM-DDThh:mm:ss[.sss]TZD */
int xmpp_datetime_parse(const char *t, int64_t *secs, uint32_t *usec) {
    int y, mo, d, h, mi, s, oh = 0, om = 0, sign = 0;
    uint32_t frac = 0;
    const char *p;
    int64_t v;
    if (t == NULL || strlen(t) < 20)
        return XMPP_ERR_INVALID;
    if (digits(t, 4, &y) || t[4] != '-' || digits(t + 5, 2, &mo) || t[7] != '-' ||
        digits(t + 8, 2, &d) || t[10] != 'T' || digits(t + 11, 2, &h) || t[13] != ':' ||
        digits(t + 14, 2, &mi) || t[16] != ':' || digits(t + 17, 2, &s))
        return XMPP_ERR_INVALID;
    if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > month_days(y, mo) || h > 23 || mi > 59 ||
        s > 59)
        return XMPP_ERR_INVALID;
    p = t + 19;
    if (*p == '.') {
        int n = 0;
        for (p++; *p >= '0' && *p <= '9'; p++, n++) {
            if (n < 6)
                frac = frac * 10 + (uint32_t)(*p - '0');
            if (n > 64)
                return XMPP_ERR_INVALID; /* bounded */
        }
        if (n == 0)
            return XMPP_ERR_INVALID;
        for (; n < 6; n++)
            frac *= 10;
    }
    if (p[0] == 'Z' && p[1] == '\0') {
        sign = 0;
    } else if ((p[0] == '+' || p[0] == '-') && strlen(p) == 6 && p[3] == ':' &&
               digits(p + 1, 2, &oh) == 0 && digits(p + 4, 2, &om) == 0) {
        if (om > 59 || oh > 14 || (oh == 14 && om != 0))
            return XMPP_ERR_INVALID;
        sign = p[0] == '+' ? 1 : -1;
    } else {
        return XMPP_ERR_INVALID;
    }
    v = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
    v -= (int64_t)sign * (oh * 3600 + om * 60);
    if (secs)
        *secs = v;
    if (usec)
        *usec = frac;
    return XMPP_OK;
}

int xmpp_datetime_format(int64_t secs, char *buf, size_t size) {
    int64_t days, rem, z, era, doe, yoe, y, doy, mp, d, m;
    if (buf == NULL || size < 21)
        return XMPP_ERR_INVALID;
    /* 0001-01-01 .. 9999-12-31T23:59:59 */
    if (secs < -62135596800LL || secs > 253402300799LL)
        return XMPP_ERR_INVALID;
    days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
    rem = secs - days * 86400;
    /* civil_from_days */
    z = days + 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    y = yoe + era * 400;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    d = doy - (153 * mp + 2) / 5 + 1;
    m = mp < 10 ? mp + 3 : mp - 9;
    y += m <= 2;
    snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02dZ", (int)y, (int)m, (int)d,
             (int)(rem / 3600), (int)(rem / 60 % 60), (int)(rem % 60));
    return XMPP_OK;
}

int xmpp_delay_get(const xmpp_stanza *st, int64_t *secs, const char **from) {
    const xmpp_stanza *d;
    int64_t v;
    if (st == NULL)
        return XMPP_ERR_INVALID;
    d = xmpp_stanza_child(st, "delay", XMPP_NS_DELAY);
    if (d == NULL)
        return XMPP_ERR_NOT_FOUND;
    if (xmpp_stanza_next_match(d, "delay", XMPP_NS_DELAY) != NULL ||
        xmpp_datetime_parse(xmpp_stanza_attr(d, "stamp"), &v, NULL) != XMPP_OK)
        return XMPP_ERR_INVALID;
    if (secs)
        *secs = v;
    if (from)
        *from = xmpp_stanza_attr(d, "from");
    return XMPP_OK;
}

int xmpp_delay_add(xmpp_stanza *st, int64_t secs, const char *from) {
    char stamp[32];
    xmpp_stanza *d = NULL;
    int rc;
    if (st == NULL || xmpp_datetime_format(secs, stamp, sizeof(stamp)) != XMPP_OK)
        return XMPP_ERR_INVALID;
    if ((rc = xmpp_stanza_add_child_new(st, "delay", XMPP_NS_DELAY, &d)) != XMPP_OK)
        return rc;
    if ((rc = xmpp_stanza_set_attr(d, "stamp", stamp)) != XMPP_OK ||
        (from && (rc = xmpp_stanza_set_attr(d, "from", from)) != XMPP_OK))
        xmpp_stanza_remove_child(st, d);
    return rc;
}

/* XEP-0297 §3: exactly one forwarded stanza, here a message. */
int xmpp_forward_unwrap(const xmpp_stanza *w, xmpp_stanza **message, xmpp_stanza **delay) {
    const xmpp_stanza *fwd;
    xmpp_stanza *m;
    if (w == NULL)
        return XMPP_ERR_INVALID;
    if (xmpp_stanza_name(w) && strcmp(xmpp_stanza_name(w), "forwarded") == 0 &&
        xmpp_stanza_ns(w) && strcmp(xmpp_stanza_ns(w), XMPP_NS_FORWARD) == 0) {
        fwd = w;
    } else {
        fwd = xmpp_stanza_child(w, "forwarded", XMPP_NS_FORWARD);
        if (fwd == NULL)
            return XMPP_ERR_NOT_FOUND;
        if (xmpp_stanza_next_match(fwd, "forwarded", XMPP_NS_FORWARD) != NULL)
            return XMPP_ERR_INVALID;
    }
    m = xmpp_stanza_child(fwd, "message", XMPP_NS_CLIENT);
    if (m == NULL || xmpp_stanza_next_match(m, "message", XMPP_NS_CLIENT) != NULL)
        return XMPP_ERR_INVALID;
    if (message)
        *message = m;
    if (delay)
        *delay = xmpp_stanza_child(fwd, "delay", XMPP_NS_DELAY);
    return XMPP_OK;
}
