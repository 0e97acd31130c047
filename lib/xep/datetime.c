/* XEP-0082 XMPP Date and Time Profiles, parsed strictly. Why our own and
 * not strptime()/timegm(): strptime accepts spaces, missing fields and
 * locale forms, depends on the C library, and neither handles the
 * fraction or the offset of XEP-0082; the grammar is small and fixed. */
#include "core/internal.h"

#include <stdio.h>
#include <string.h>

#include "xep/datetime.h"

static int digits(const char *s, size_t n, int *out) {
    int v = 0;
    size_t i;
    for (i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 1;
}

static int leap(int y) {
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int mdays(int y, int m) {
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

static void civil_from_days(int64_t z, int *y, int *m, int *d) {
    int64_t era, doe, yoe, doy, mp;
    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

/* CCYY-MM-DD at s (10 characters). */
static int parse_date(const char *s, int *y, int *m, int *d) {
    if (!digits(s, 4, y) || s[4] != '-' || !digits(s + 5, 2, m) || s[7] != '-' ||
        !digits(s + 8, 2, d))
        return 0;
    return *y >= 1 && *m >= 1 && *m <= 12 && *d >= 1 && *d <= mdays(*y, *m);
}

int xmpp__tzo_parse(const char *s, int *tzo_min) {
    int h, m;
    if (s == NULL || tzo_min == NULL)
        return XMPP_ERR_INVALID;
    if (strcmp(s, "Z") == 0) {
        *tzo_min = 0;
        return XMPP_OK;
    }
    if ((s[0] != '+' && s[0] != '-') || strlen(s) != 6 || !digits(s + 1, 2, &h) || s[3] != ':' ||
        !digits(s + 4, 2, &m) || h > 23 || m > 59)
        return XMPP_ERR_INVALID;
    *tzo_min = (s[0] == '-' ? -1 : 1) * (h * 60 + m);
    return XMPP_OK;
}

int xmpp__date_parse(const char *s, int64_t *unix_secs) {
    int y, m, d;
    if (s == NULL || unix_secs == NULL || strlen(s) != 10 || !parse_date(s, &y, &m, &d))
        return XMPP_ERR_INVALID;
    *unix_secs = days_from_civil(y, m, d) * 86400;
    return XMPP_OK;
}

int xmpp__datetime_parse(const char *s, int64_t *unix_secs, uint32_t *usec, int *tzo_min) {
    int y, mo, d, h, mi, sec, tzo;
    uint32_t frac = 0;
    const char *p;
    if (s == NULL || unix_secs == NULL || strlen(s) < 20)
        return XMPP_ERR_INVALID;
    /* XEP-0082 §3.2: CCYY-MM-DDThh:mm:ss[.sss]TZD */
    if (!parse_date(s, &y, &mo, &d) || s[10] != 'T' || !digits(s + 11, 2, &h) || s[13] != ':' ||
        !digits(s + 14, 2, &mi) || s[16] != ':' || !digits(s + 17, 2, &sec) || h > 23 || mi > 59 ||
        sec > 59)
        return XMPP_ERR_INVALID;
    p = s + 19;
    if (*p == '.') {
        int n = 0;
        uint32_t scale = 100000;
        for (p++; *p >= '0' && *p <= '9'; p++, n++) {
            if (n >= 9)
                return XMPP_ERR_INVALID;
            frac += (uint32_t)(*p - '0') * scale;
            scale /= 10;
        }
        if (n == 0)
            return XMPP_ERR_INVALID;
    }
    if (xmpp__tzo_parse(p, &tzo) != XMPP_OK)
        return XMPP_ERR_INVALID;
    *unix_secs =
        days_from_civil(y, mo, d) * 86400 + (int64_t)h * 3600 + mi * 60 + sec - (int64_t)tzo * 60;
    if (usec)
        *usec = frac;
    if (tzo_min)
        *tzo_min = tzo;
    return XMPP_OK;
}

int xmpp__datetime_format(int64_t unix_secs, uint32_t usec, char *buf, size_t size) {
    int64_t days, rem;
    int y, m, d, n;
    /* 0001-01-01 .. 9999-12-31 */
    if (buf == NULL || size < XMPP__DATETIME_MAX || usec >= 1000000 || unix_secs < -62135596800LL ||
        unix_secs > 253402300799LL)
        return XMPP_ERR_INVALID;
    days = unix_secs >= 0 ? unix_secs / 86400 : -((-unix_secs + 86399) / 86400);
    rem = unix_secs - days * 86400;
    civil_from_days(days, &y, &m, &d);
    n = snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d", y, m, d, (int)(rem / 3600),
                 (int)(rem % 3600 / 60), (int)(rem % 60));
    if (usec > 0)
        n += snprintf(buf + n, size - (size_t)n, ".%06u", (unsigned)usec);
    snprintf(buf + n, size - (size_t)n, "Z");
    return XMPP_OK;
}

int xmpp__tzo_format(int tzo_min, char *buf, size_t size) {
    int a = tzo_min < 0 ? -tzo_min : tzo_min;
    if (buf == NULL || size < 7 || a > 23 * 60 + 59)
        return XMPP_ERR_INVALID;
    if (tzo_min == 0)
        snprintf(buf, size, "Z");
    else
        snprintf(buf, size, "%c%02d:%02d", tzo_min < 0 ? '-' : '+', a / 60, a % 60);
    return XMPP_OK;
}
