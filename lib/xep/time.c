/* XEP-0202 Entity Time: answers urn:xmpp:time from the wall clock, sends
 * typed requests. Uses only the public plugin interface (and the XEP-0082
 * helper of lib/xep). DESIGN: the session reads the wall clock for dates
 * only; this is one. */
#define _POSIX_C_SOURCE 200809L
#include "core/internal.h"

#include <string.h>
#include <time.h>

#include <xmpp/session.h>
#include <xmpp/stanza.h>
#include <xmpp/sys/plugin.h>
#include <xmpp/xep/time.h>

#include "plugin/plugin_int.h"
#include "xep/datetime.h"

struct time_state {
    unsigned long handler;
    int tzo; /* XMPP_TIME_TZO_LOCAL or minutes */
};

static int add_text_child(xmpp_stanza *parent, const char *name, const char *text) {
    xmpp_stanza *c = NULL;
    int rc = xmpp_stanza_add_child_new(parent, name, NULL, &c);
    if (rc == XMPP_OK)
        rc = xmpp_stanza_add_text(c, text, strlen(text));
    return rc;
}

static int local_tzo(time_t t) {
    struct tm lt, gt;
    long d;
    if (localtime_r(&t, &lt) == NULL || gmtime_r(&t, &gt) == NULL)
        return 0;
    /* the difference of the two broken-down times, without tm_gmtoff */
    d = (long)(lt.tm_hour - gt.tm_hour) * 60 + (lt.tm_min - gt.tm_min);
    if (lt.tm_yday != gt.tm_yday)
        d += (lt.tm_year > gt.tm_year || (lt.tm_year == gt.tm_year && lt.tm_yday > gt.tm_yday))
                 ? 1440
                 : -1440;
    return (int)d;
}

static int on_time(xmpp_session *s, xmpp_stanza *st, void *ud) {
    struct time_state *ts = ud;
    xmpp_stanza *res = NULL, *q = NULL;
    struct timespec now;
    char utc[XMPP__DATETIME_MAX], tzo[8];
    int off;
    clock_gettime(CLOCK_REALTIME, &now);
    off = ts->tzo == XMPP_TIME_TZO_LOCAL ? local_tzo(now.tv_sec) : ts->tzo;
    /* XEP-0202 §3: <tzo/> then <utc/>, milliseconds are enough */
    if (xmpp__tzo_format(off, tzo, sizeof(tzo)) == XMPP_OK &&
        xmpp__datetime_format((int64_t)now.tv_sec, (uint32_t)(now.tv_nsec / 1000000) * 1000, utc,
                              sizeof(utc)) == XMPP_OK &&
        xmpp_iq_result_new(&res, st) == XMPP_OK &&
        xmpp_stanza_add_child_new(res, "time", XMPP_NS_TIME, &q) == XMPP_OK &&
        add_text_child(q, "tzo", tzo) == XMPP_OK && add_text_child(q, "utc", utc) == XMPP_OK)
        (void)xmpp_session_send(s, res);
    xmpp_stanza_unref(res);
    return 1;
}

static int time_attach(xmpp_session *s, void **state, void *ud) {
    xmpp_ctx *ctx = xmpp_session_ctx(s);
    struct time_state *ts = xmpp__malloc(ctx, sizeof(*ts));
    int rc;
    (void)ud;
    if (ts == NULL)
        return XMPP_ERR_NOMEM;
    ts->tzo = XMPP_TIME_TZO_LOCAL;
    rc = xmpp_session_add_handler(s, "iq", XMPP_NS_TIME, "get", on_time, ts, &ts->handler);
    if (rc != XMPP_OK) {
        xmpp_free(ctx, ts);
        return rc;
    }
    *state = ts;
    return XMPP_OK;
}

static void time_detach(xmpp_session *s, void *state, void *ud) {
    struct time_state *ts = state;
    (void)ud;
    xmpp_session_remove_handler(s, ts->handler);
    xmpp_free(xmpp_session_ctx(s), ts);
}

static const char *const time_features[] = {XMPP_NS_TIME, NULL};

const xmpp_plugin_desc xmpp__plugin_time = {
    XMPP_PLUGIN_ABI_VERSION, "time", NULL, time_features, NULL, 0, time_attach, time_detach, NULL};

int xmpp_time_set_tzo(xmpp_session *s, int tzo_minutes) {
    struct time_state *ts = xmpp_session_plugin_state(s, "time");
    if (tzo_minutes != XMPP_TIME_TZO_LOCAL && (tzo_minutes < -1439 || tzo_minutes > 1439))
        return XMPP_ERR_INVALID;
    if (ts == NULL)
        return XMPP_ERR_STATE;
    ts->tzo = tzo_minutes;
    return XMPP_OK;
}

struct time_req {
    xmpp_time_fn cb;
    void *ud;
};

/* The text of a child element, or NULL (allocated). */
static char *child_text(const xmpp_stanza *q, const char *name) {
    xmpp_stanza *c = xmpp_stanza_child(q, name, XMPP_NS_TIME);
    char *t = NULL;
    if (c == NULL || xmpp_stanza_text(c, &t, NULL) != XMPP_OK)
        return NULL;
    return t;
}

static void time_done(xmpp_session *s, xmpp_iq_status status, xmpp_stanza *reply, void *ud) {
    struct time_req r = *(struct time_req *)ud;
    xmpp_ctx *ctx = xmpp_session_ctx(s);
    xmpp_entity_time t;
    int err = XMPP_OK;
    xmpp_free(ctx, ud);
    if (status == XMPP_IQ_RESULT) {
        xmpp_stanza *q = xmpp_stanza_child(reply, "time", XMPP_NS_TIME);
        char *utc = q ? child_text(q, "utc") : NULL, *tzo = q ? child_text(q, "tzo") : NULL;
        memset(&t, 0, sizeof(t));
        if (utc == NULL || tzo == NULL ||
            xmpp__datetime_parse(utc, &t.utc, &t.usec, NULL) != XMPP_OK ||
            xmpp__tzo_parse(tzo, &t.tzo_minutes) != XMPP_OK)
            err = XMPP_ERR_INVALID;
        xmpp_free(ctx, utc);
        xmpp_free(ctx, tzo);
        r.cb(s, status, err, err == XMPP_OK ? &t : NULL, reply, r.ud);
        return;
    }
    r.cb(s, status, XMPP_OK, NULL, reply, r.ud);
}

int xmpp_time_request(xmpp_session *s, const char *to, unsigned timeout_ms, xmpp_time_fn cb,
                      void *user_data) {
    xmpp_ctx *ctx = xmpp_session_ctx(s);
    xmpp_stanza *iq = NULL;
    struct time_req *r;
    char id[32];
    int rc;
    if (s == NULL || cb == NULL || xmpp_session_new_id(s, id, sizeof(id)) != XMPP_OK)
        return XMPP_ERR_INVALID;
    if ((rc = xmpp_iq_new(&iq, ctx, "get", to, id)) != XMPP_OK ||
        (rc = xmpp_stanza_add_child_new(iq, "time", XMPP_NS_TIME, NULL)) != XMPP_OK) {
        xmpp_stanza_unref(iq);
        return rc;
    }
    if ((r = xmpp__malloc(ctx, sizeof(*r))) == NULL) {
        xmpp_stanza_unref(iq);
        return XMPP_ERR_NOMEM;
    }
    r->cb = cb;
    r->ud = user_data;
    rc = xmpp_session_send_iq(s, iq, timeout_ms, time_done, r);
    if (rc != XMPP_OK)
        xmpp_free(ctx, r);
    xmpp_stanza_unref(iq);
    return rc;
}
