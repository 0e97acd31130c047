/* XEP-0012 Last Activity: answers jabber:iq:last with the idle time the
 * application set (refuses while none is set), sends typed requests. Uses
 * only the public plugin interface. */
#define _POSIX_C_SOURCE 200809L
#include "core/internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <xmpp/session.h>
#include <xmpp/stanza.h>
#include <xmpp/sys/plugin.h>
#include <xmpp/xep/last.h>

#include "plugin/plugin_int.h"

struct last_state {
    unsigned long handler;
    int64_t idle_since; /* -1: not revealed */
};

static int on_last(xmpp_session *s, xmpp_stanza *st, void *ud) {
    struct last_state *ls = ud;
    xmpp_stanza *res = NULL, *q = NULL;
    char secs[24];
    if (ls->idle_since < 0) {
        /* XEP-0012 §4: an entity may refuse to reveal its idle time */
        if (xmpp_stanza_error_new(&res, st, XMPP_EC_FORBIDDEN, NULL) == XMPP_OK)
            (void)xmpp_session_send(s, res);
    } else {
        int64_t now = (int64_t)time(NULL), d = now - ls->idle_since;
        if (d < 0)
            d = 0;
        if (d > 2147483647)
            d = 2147483647;
        snprintf(secs, sizeof(secs), "%ld", (long)d);
        if (xmpp_iq_result_new(&res, st) == XMPP_OK &&
            xmpp_stanza_add_child_new(res, "query", XMPP_NS_LAST, &q) == XMPP_OK &&
            xmpp_stanza_set_attr(q, "seconds", secs) == XMPP_OK)
            (void)xmpp_session_send(s, res);
    }
    xmpp_stanza_unref(res);
    return 1;
}

static int last_attach(xmpp_session *s, void **state, void *ud) {
    xmpp_ctx *ctx = xmpp_session_ctx(s);
    struct last_state *ls = xmpp__malloc(ctx, sizeof(*ls));
    int rc;
    (void)ud;
    if (ls == NULL)
        return XMPP_ERR_NOMEM;
    ls->idle_since = -1;
    rc = xmpp_session_add_handler(s, "iq", XMPP_NS_LAST, "get", on_last, ls, &ls->handler);
    if (rc != XMPP_OK) {
        xmpp_free(ctx, ls);
        return rc;
    }
    *state = ls;
    return XMPP_OK;
}

static void last_detach(xmpp_session *s, void *state, void *ud) {
    struct last_state *ls = state;
    (void)ud;
    xmpp_session_remove_handler(s, ls->handler);
    xmpp_free(xmpp_session_ctx(s), ls);
}

static const char *const last_features[] = {XMPP_NS_LAST, NULL};

const xmpp_plugin_desc xmpp__plugin_last = {
    XMPP_PLUGIN_ABI_VERSION, "last", NULL, last_features, NULL, 0, last_attach, last_detach, NULL};

int xmpp_last_set_idle_since(xmpp_session *s, int64_t idle_since) {
    struct last_state *ls = xmpp_session_plugin_state(s, "last");
    if (idle_since < -1)
        return XMPP_ERR_INVALID;
    if (ls == NULL)
        return XMPP_ERR_STATE;
    ls->idle_since = idle_since;
    return XMPP_OK;
}

struct last_req {
    xmpp_last_fn cb;
    void *ud;
};

/* A decimal 0..2^31-1, digits only. */
static int parse_seconds(const char *v, long *out) {
    long n = 0;
    size_t i, len = v ? strlen(v) : 0;
    if (len == 0 || len > 10)
        return 0;
    for (i = 0; i < len; i++) {
        if (v[i] < '0' || v[i] > '9')
            return 0;
        n = n * 10 + (v[i] - '0');
    }
    if (n > 2147483647L)
        return 0;
    *out = n;
    return 1;
}

static void last_done(xmpp_session *s, xmpp_iq_status status, xmpp_stanza *reply, void *ud) {
    struct last_req r = *(struct last_req *)ud;
    xmpp_ctx *ctx = xmpp_session_ctx(s);
    xmpp_free(ctx, ud);
    if (status == XMPP_IQ_RESULT) {
        xmpp_stanza *q = xmpp_stanza_child(reply, "query", XMPP_NS_LAST);
        long secs = -1;
        char *text = NULL;
        if (q == NULL || !parse_seconds(xmpp_stanza_attr(q, "seconds"), &secs)) {
            r.cb(s, status, XMPP_ERR_INVALID, -1, NULL, reply, r.ud);
            return;
        }
        if (xmpp_stanza_text(q, &text, NULL) == XMPP_OK && text[0] == '\0') {
            xmpp_free(ctx, text);
            text = NULL;
        }
        r.cb(s, status, XMPP_OK, secs, text, reply, r.ud);
        xmpp_free(ctx, text);
        return;
    }
    r.cb(s, status, XMPP_OK, -1, NULL, reply, r.ud);
}

int xmpp_last_request(xmpp_session *s, const char *to, unsigned timeout_ms, xmpp_last_fn cb,
                      void *user_data) {
    xmpp_ctx *ctx = xmpp_session_ctx(s);
    xmpp_stanza *iq = NULL;
    struct last_req *r;
    char id[32];
    int rc;
    if (s == NULL || to == NULL || cb == NULL || xmpp_session_new_id(s, id, sizeof(id)) != XMPP_OK)
        return XMPP_ERR_INVALID;
    if ((rc = xmpp_iq_new(&iq, ctx, "get", to, id)) != XMPP_OK ||
        (rc = xmpp_stanza_add_child_new(iq, "query", XMPP_NS_LAST, NULL)) != XMPP_OK) {
        xmpp_stanza_unref(iq);
        return rc;
    }
    if ((r = xmpp__malloc(ctx, sizeof(*r))) == NULL) {
        xmpp_stanza_unref(iq);
        return XMPP_ERR_NOMEM;
    }
    r->cb = cb;
    r->ud = user_data;
    rc = xmpp_session_send_iq(s, iq, timeout_ms, last_done, r);
    if (rc != XMPP_OK)
        xmpp_free(ctx, r);
    xmpp_stanza_unref(iq);
    return rc;
}
