/* SASL2 (XEP-0388) with Bind2 (XEP-0386), stream management inside the
 * authentication (XEP-0198 with SASL2) and FAST tokens (XEP-0484).
 *
 * One <authenticate/> carries what the new session needs: the mechanism's
 * initial response, the user agent, a FAST token request, the resumption
 * of the previous stream and a Bind2 request (with stream management,
 * carbons and client state enabled inside it). The <success/> answers all
 * of it, no stream restart follows, and the next <stream:features/> ends
 * the negotiation. The mechanisms, their security rules and the server's
 * proof are those of RFC 6120 SASL (negotiate.c, stream/sasl.h); a FAST
 * token replaces the password with an HT mechanism (stream/ht.h). */
#include "session/session_int.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "stream/ht.h"
#include "stream/sasl.h"

/* A new token is asked for when the one in use expires within this. */
#define FAST_ROTATE_S (3 * 86400)

static int is(const xmpp_stanza *st, const char *name, const char *ns) {
    const char *n = xmpp_stanza_name(st), *sns = xmpp_stanza_ns(st);
    return n && strcmp(n, name) == 0 && sns && strcmp(sns, ns) == 0;
}

/* 1 when `list` has a <name/> child (in ns) whose text is value. */
static int listed(const xmpp_stanza *list, const char *name, const char *ns, const char *value) {
    const xmpp_stanza *c;
    for (c = list ? xmpp_stanza_child(list, name, ns) : NULL; c;
         c = xmpp_stanza_next_match(c, name, ns)) {
        const xmpp_stanza *t = xmpp_stanza_first_child(c);
        if (t && xmpp_stanza_is_text(t) && strcmp(xmpp_stanza_text_ptr(t), value) == 0)
            return 1;
    }
    return 0;
}

/* XEP-0386: the Bind2 inline features are <feature var='...'/>. */
static int bind_feature(const xmpp_stanza *bind2, const char *var) {
    const xmpp_stanza *inl = xmpp_stanza_child(bind2, "inline", XMPP_NS_BIND2), *c;
    for (c = inl ? xmpp_stanza_child(inl, "feature", XMPP_NS_BIND2) : NULL; c;
         c = xmpp_stanza_next_match(c, "feature", XMPP_NS_BIND2))
        if (xmpp_stanza_attr(c, "var") && strcmp(xmpp_stanza_attr(c, "var"), var) == 0)
            return 1;
    return 0;
}

static void put_text(xmpp_buf *b, const char *v) {
    for (; *v; v++) {
        switch (*v) {
        case '&': xmpp__buf_append_str(b, "&amp;"); break;
        case '<': xmpp__buf_append_str(b, "&lt;"); break;
        case '>': xmpp__buf_append_str(b, "&gt;"); break;
        default: xmpp__buf_append(b, v, 1);
        }
    }
}

/* Appends base64(data); the temporary copy is wiped (it may be a
 * credential). */
static int put_b64(xmpp_buf *b, const uint8_t *data, size_t len) {
    gnutls_datum_t in, out = {NULL, 0};
    if (len == 0)
        return XMPP_OK;
    in.data = (unsigned char *)data;
    in.size = (unsigned)len;
    if (gnutls_base64_encode2(&in, &out) < 0)
        return XMPP_ERR_NOMEM;
    xmpp__buf_append(b, (const char *)out.data, out.size);
    gnutls_memset(out.data, 0, out.size);
    gnutls_free(out.data);
    return XMPP_OK;
}

/* Writes a buffer that may hold credentials: never logged, then wiped. */
static void write_secret(xmpp_session *s, xmpp_buf *b) {
    if (b->oom)
        xmpp__session_end(s, XMPP_CAUSE_NOMEM);
    else
        xmpp__session_write(s, b->data, b->len);
    if (b->data)
        gnutls_memset(b->data, 0, b->len);
    xmpp__buf_free(b);
}

static void wipe_token(xmpp_session *s) {
    if (s->s2.token) {
        gnutls_memset(s->s2.token, 0, strlen(s->s2.token));
        xmpp__free(s->ctx, s->s2.token);
    }
    s->s2.token = NULL;
    s->s2.token_mech = NULL;
    s->s2.token_expiry = 0;
}

/* ---- XEP-0082 DateTime: CCYY-MM-DDThh:mm:ss[.sss](Z|(+|-)hh:mm) */
static int num(const char *p, int n, int *out) {
    int i, v = 0;
    for (i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        v = v * 10 + (p[i] - '0');
    }
    *out = v;
    return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (the usual
 * era-of-400-years arithmetic). */
static int64_t days_from_civil(int64_t y, int m, int d) {
    int64_t era, yoe, doy, doe;
    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int parse_datetime(const char *v, int64_t *out) {
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0;
    const char *p;
    if (v == NULL || strlen(v) < 20 || num(v, 4, &y) || v[4] != '-' || num(v + 5, 2, &mo) ||
        v[7] != '-' || num(v + 8, 2, &d) || v[10] != 'T' || num(v + 11, 2, &h) ||
        v[13] != ':' || num(v + 14, 2, &mi) || v[16] != ':' || num(v + 17, 2, &sec))
        return -1;
    p = v + 19;
    if (*p == '.') { /* fractions of a second: ignored */
        if (p[1] < '0' || p[1] > '9')
            return -1;
        for (p++; *p >= '0' && *p <= '9'; p++)
            ;
    }
    if (*p == 'Z') {
        p++;
    } else if ((*p == '+' || *p == '-') && !num(p + 1, 2, &oh) && p[3] == ':' &&
               !num(p + 4, 2, &om)) {
        sign = *p == '-' ? -1 : 1;
        p += 6;
    } else {
        return -1;
    }
    if (*p != '\0' || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 ||
        sec > 60 || oh > 23 || om > 59)
        return -1;
    *out = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec -
           sign * (oh * 3600 + om * 60);
    return 0;
}

/* A random (version 4) UUID for the user agent of this session only. */
static void random_uuid(char *out, size_t size) {
    unsigned char r[16];
    if (gnutls_rnd(GNUTLS_RND_NONCE, r, sizeof(r)) != 0)
        memset(r, 0x5a, sizeof(r));
    r[6] = (unsigned char)((r[6] & 0x0f) | 0x40);
    r[8] = (unsigned char)((r[8] & 0x3f) | 0x80);
    snprintf(out, size,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", r[0], r[1],
             r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13], r[14],
             r[15]);
}

/* ---- lifecycle */
int xmpp__sasl2_init(xmpp_session *s) {
    /* FAST tokens are bound to the user agent: without a stable id a
     * token would be useless to the next process */
    if ((s->o.fast_cb != NULL || s->o.fast_token != NULL) && s->o.ua_id == NULL)
        return XMPP_ERR_INVALID;
    if (s->o.ua_id)
        snprintf(s->s2.ua_id, sizeof(s->s2.ua_id), "%s", s->o.ua_id);
    else
        random_uuid(s->s2.ua_id, sizeof(s->s2.ua_id));
    /* the session's copy of the token moves out of the options: one copy */
    s->s2.token = s->o.fast_token;
    s->s2.token_mech = s->o.fast_token ? s->o.fast_mech : NULL;
    s->s2.token_expiry = s->o.fast_token ? s->o.fast_expiry : 0;
    s->o.fast_token = NULL;
    return XMPP_OK;
}

/* Back to no authentication for a new connection; the token and the user
 * agent stay. */
void xmpp__sasl2_reset(xmpp_session *s) {
    char *token = s->s2.token;
    const char *mech = s->s2.token_mech;
    int64_t expiry = s->s2.token_expiry;
    char ua[sizeof(s->s2.ua_id)];
    memcpy(ua, s->s2.ua_id, sizeof(ua));
    gnutls_memset(s->s2.proof, 0, sizeof(s->s2.proof));
    memset(&s->s2, 0, sizeof(s->s2));
    memcpy(s->s2.ua_id, ua, sizeof(ua));
    s->s2.token = token;
    s->s2.token_mech = mech;
    s->s2.token_expiry = expiry;
}

void xmpp__sasl2_free(xmpp_session *s) {
    wipe_token(s);
    gnutls_memset(s->s2.proof, 0, sizeof(s->s2.proof));
}

int xmpp__fast_rejected(const xmpp_session *s) {
    return s->s2.token_rejected;
}

unsigned xmpp_session_login_flags(const xmpp_session *s) {
    return s ? s->s2.login : 0;
}

/* ---- <authenticate/> */
static int64_t utc_now(void) {
    return (int64_t)time(NULL);
}

/* Whether the token in hand can be used on this stream (FAST offered over
 * TLS with its mechanism); an expired token only when there is no
 * password to use instead (the local clock may be wrong). */
static int token_usable(const xmpp_session *s, const xmpp_stanza *fast) {
    if (s->s2.token == NULL || fast == NULL || !s->tls_up || xmpp_jid_local(s->jid) == NULL ||
        !listed(fast, "mechanism", XMPP_NS_FAST, s->s2.token_mech))
        return 0;
    return s->o.password == NULL || s->s2.token_expiry == 0 || s->s2.token_expiry > utc_now();
}

/* The mechanism to ask a token for, or NULL: only with a callback that
 * keeps it and a stable user agent, only over TLS, and only without a
 * token in hand that stays valid long enough. */
static const char *token_request(const xmpp_session *s, const xmpp_stanza *fast, int use_fast) {
    size_t i;
    if (fast == NULL || !s->tls_up || s->o.fast_cb == NULL || s->o.ua_id == NULL ||
        xmpp_jid_local(s->jid) == NULL)
        return NULL;
    if (use_fast && s->s2.token_expiry - utc_now() > FAST_ROTATE_S)
        return NULL;
    for (i = 0; xmpp__ht_mechanisms[i]; i++)
        if (listed(fast, "mechanism", XMPP_NS_FAST, xmpp__ht_mechanisms[i]))
            return xmpp__ht_mechanisms[i];
    return NULL;
}

/* The Bind2 tag (XEP-0386 §2.2: it names the software). */
static const char *bind_tag(const xmpp_session *s) {
    return s->o.ua_software ? s->o.ua_software : "libxmpp";
}

static void put_bind(xmpp_session *s, xmpp_buf *b, const xmpp_stanza *bind2) {
    const char *enable = xmpp__sm_enable_element(s);
    xmpp__buf_append_str(b, "<bind xmlns='" XMPP_NS_BIND2 "'><tag>");
    put_text(b, bind_tag(s));
    xmpp__buf_append_str(b, "</tag>");
    if (enable && bind_feature(bind2, XMPP_NS_SM)) {
        xmpp__buf_append_str(b, enable);
        s->s2.sm_inline = 1;
    }
    if (s->o.carbons && bind_feature(bind2, XMPP_NS_CARBONS)) {
        xmpp__buf_append_str(b, "<enable xmlns='" XMPP_NS_CARBONS "'/>");
        s->s2.carbons_inline = 1;
    }
    /* XEP-0386 / XEP-0352: the session starts inactive if so wanted */
    if (s->csi_inactive && bind_feature(bind2, XMPP_NS_CSI)) {
        xmpp__buf_append_str(b, "<inactive xmlns='" XMPP_NS_CSI "'/>");
        s->s2.csi_inline = 1;
    }
    xmpp__buf_append_str(b, "</bind>");
    s->s2.bind_sent = 1;
}

int xmpp__sasl2_start(xmpp_session *s, const xmpp_stanza *features) {
    const xmpp_stanza *auth = xmpp_stanza_child(features, "authentication", XMPP_NS_SASL2);
    const xmpp_stanza *inl, *bind2 = NULL, *fast = NULL;
    uint8_t *init = NULL;
    size_t ilen = 0;
    int sm_inline = 0, can, resume, rc;
    xmpp_buf b;
    if (auth == NULL || s->o.sasl2_off)
        return 0;
    if ((inl = xmpp_stanza_child(auth, "inline", XMPP_NS_SASL2)) != NULL) {
        bind2 = xmpp_stanza_child(inl, "bind", XMPP_NS_BIND2);
        fast = xmpp_stanza_child(inl, "fast", XMPP_NS_FAST);
        sm_inline = xmpp_stanza_child(inl, "sm", XMPP_NS_SM) != NULL;
    }
    /* Bind2 lets the server make up the resource: a resource the
     * application asked for is requested with RFC 6120 binding */
    if (xmpp_jid_resource(s->jid) != NULL)
        bind2 = NULL;
    xmpp__sasl2_reset(s);
    s->s2.active = 1;
    /* XEP-0484: the token instead of the password (only inside TLS) */
    if (token_usable(s, fast)) {
        rc = xmpp__ht_initial(s->ctx, s->s2.token_mech, xmpp_jid_local(s->jid), s->s2.token, NULL,
                              0, &init, &ilen, s->s2.proof, &s->s2.prooflen);
        if (rc != XMPP_OK) {
            xmpp__session_fail(s, rc == XMPP_ERR_NOMEM ? XMPP_CAUSE_NOMEM : XMPP_CAUSE_SASL,
                               XMPP_SC_NONE, "cannot set up the FAST mechanism");
            return 1;
        }
        s->mech = s->s2.token_mech;
        s->s2.fast = 1;
    } else {
        /* never a weaker mechanism for the sake of SASL2 */
        if ((rc = xmpp__neg_prefer_rfc6120(s, features, auth)) != 0) {
            if (rc < 0)
                return 1;
            xmpp__log(s->ctx, XMPP_LOG_INFO, "session",
                      "RFC 6120 SASL offers a stronger mechanism than SASL2: using it");
            s->s2.active = 0;
            return 0;
        }
        if (xmpp__neg_sasl_begin(s, features, auth, XMPP_NS_SASL2, 1, &init, &ilen) != 0)
            return 1;
    }
    s->s2.request = token_request(s, fast, s->s2.fast);
    /* XEP-0198 with SASL2: resume inside the authentication; XEP-0386:
     * the bind is processed only if that resumption fails. A stream that
     * can be resumed, but not inline, is resumed after <success/>: no
     * Bind2 then, it would replace the old session. */
    can = xmpp_session_can_resume(s, s->now);
    resume = can && sm_inline;
    if (bind2 != NULL && !can)
        xmpp__sm_forget(s); /* its queue follows the policy, as on binding */

    xmpp__buf_init(&b, s->ctx);
    xmpp__buf_append_str(&b, "<authenticate xmlns='" XMPP_NS_SASL2 "' mechanism='");
    xmpp__buf_append_str(&b, s->mech); /* a static name from our tables */
    xmpp__buf_append_str(&b, "'>");
    if (init != NULL) {
        /* XEP-0388 §2.2: an empty response is an empty element, no "=" */
        xmpp__buf_append_str(&b, "<initial-response>");
        if (put_b64(&b, init, ilen) != XMPP_OK)
            b.oom = 1;
        xmpp__buf_append_str(&b, "</initial-response>");
    }
    xmpp__sasl_buf_free(s->ctx, init, ilen);
    xmpp__buf_append_str(&b, "<user-agent id='");
    xmpp__buf_append_str(&b, s->s2.ua_id); /* a UUID: nothing to escape */
    xmpp__buf_append_str(&b, "'>");
    if (s->o.ua_software) {
        xmpp__buf_append_str(&b, "<software>");
        put_text(&b, s->o.ua_software);
        xmpp__buf_append_str(&b, "</software>");
    }
    if (s->o.ua_device) {
        xmpp__buf_append_str(&b, "<device>");
        put_text(&b, s->o.ua_device);
        xmpp__buf_append_str(&b, "</device>");
    }
    xmpp__buf_append_str(&b, "</user-agent>");
    if (s->s2.fast)
        xmpp__buf_append_str(&b, "<fast xmlns='" XMPP_NS_FAST "'/>");
    if (s->s2.request) {
        xmpp__buf_append_str(&b, "<request-token xmlns='" XMPP_NS_FAST "' mechanism='");
        xmpp__buf_append_str(&b, s->s2.request);
        xmpp__buf_append_str(&b, "'/>");
    }
    if (resume) {
        xmpp__sm_resume_element(s, &b);
        s->s2.resume_sent = 1;
    }
    if (bind2 != NULL && (!can || resume))
        put_bind(s, &b, bind2);
    xmpp__buf_append_str(&b, "</authenticate>");
    xmpp__log(s->ctx, XMPP_LOG_INFO, "session", "authenticating with %s over SASL2%s%s%s%s",
              s->mech, s->s2.request ? ", asking for a FAST token" : "",
              s->s2.resume_sent ? ", resuming" : "", s->s2.bind_sent ? ", Bind2" : "",
              s->s2.sm_inline ? " with stream management" : "");
    s->step = STEP_SASL2;
    write_secret(s, &b);
    return 1;
}

/* ---- the server's answers */
static void challenge(xmpp_session *s, const xmpp_stanza *st) {
    uint8_t *in = NULL, *resp = NULL;
    size_t ilen = 0, rlen = 0;
    xmpp_buf b;
    int rc;
    if (s->s2.fast) { /* HT completes in one round trip */
        xmpp__neg_sasl_local_failure(s, XMPP_SASL_E_UNEXPECTED);
        return;
    }
    rc = xmpp__neg_sasl_payload(s, st, &in, &ilen);
    if (rc != XMPP_OK) {
        xmpp__session_fail(s, rc == XMPP_ERR_NOMEM ? XMPP_CAUSE_NOMEM : XMPP_CAUSE_SASL,
                           XMPP_SC_NONE, "malformed base64 from the server");
        return;
    }
    rc = xmpp__sasl_step(s->sasl, in, ilen, &resp, &rlen);
    xmpp__free(s->ctx, in);
    if (rc != XMPP_OK) {
        xmpp__neg_sasl_local_failure(s, rc);
        return;
    }
    xmpp__buf_init(&b, s->ctx);
    xmpp__buf_append_str(&b, "<response xmlns='" XMPP_NS_SASL2 "'>");
    if (put_b64(&b, resp, rlen) != XMPP_OK)
        b.oom = 1;
    xmpp__buf_append_str(&b, "</response>");
    xmpp__sasl_buf_free(s->ctx, resp, rlen);
    write_secret(s, &b);
}

static void failure(xmpp_session *s, const xmpp_stanza *st) {
    const xmpp_stanza *c;
    char msg[256];
    const char *cond = "undefined-condition";
    xmpp_fast_token_fn cb = s->o.fast_cb;
    const char *mech = s->s2.token_mech;
    if (!s->s2.fast) {
        xmpp__neg_sasl_failure(s, st, XMPP_NS_SASL2);
        return;
    }
    /* XEP-0484 §4: the token is no good any more; the application learns
     * it distinctly, and logs in with the password next time */
    for (c = xmpp_stanza_first_child(st); c; c = xmpp_stanza_next(c))
        if (!xmpp_stanza_is_text(c) && xmpp_stanza_ns(c) &&
            strcmp(xmpp_stanza_ns(c), XMPP_NS_SASL) == 0) {
            cond = xmpp_stanza_name(c);
            break;
        }
    snprintf(msg, sizeof(msg),
             "authentication failed: " XMPP_SASL_FAST_REJECTED
             ": the server refused the FAST token (%s); log in with the password",
             cond);
    s->s2.token_rejected = 1;
    wipe_token(s);
    xmpp__free(s->ctx, s->sasl_cond);
    s->sasl_cond = xmpp__strdup(s->ctx, XMPP_SASL_FAST_REJECTED);
    if (cb)
        cb(s, mech, NULL, 0, s->o.fast_ud);
    xmpp__session_fail(s, XMPP_CAUSE_SASL, XMPP_SC_NONE, msg);
}

/* <continue/> asks for tasks (second factor, password change, hash
 * upgrade) we do not implement: abort rather than hang. */
static void continue_required(xmpp_session *s, const xmpp_stanza *st) {
    const xmpp_stanza *tasks = xmpp_stanza_child(st, "tasks", XMPP_NS_SASL2);
    const xmpp_stanza *t = tasks ? xmpp_stanza_child(tasks, "task", XMPP_NS_SASL2) : NULL;
    const xmpp_stanza *tt = t ? xmpp_stanza_first_child(t) : NULL;
    char msg[256];
    snprintf(msg, sizeof(msg),
             "authentication failed: the server requires a further task (%.64s), "
             "which is not supported",
             tt && xmpp_stanza_is_text(tt) ? xmpp_stanza_text_ptr(tt) : "?");
    xmpp__session_write(s, "<abort xmlns='" XMPP_NS_SASL2 "'/>",
                        sizeof("<abort xmlns='" XMPP_NS_SASL2 "'/>") - 1);
    xmpp__free(s->ctx, s->sasl_cond);
    s->sasl_cond = xmpp__strdup(s->ctx, "task-unsupported");
    xmpp__session_fail(s, XMPP_CAUSE_SASL, XMPP_SC_NONE, msg);
}

/* XEP-0484 §3.3: a new token in <success/>, asked for or a rotation. The
 * application gets it once everything else is done. */
static int take_token(xmpp_session *s, const xmpp_stanza *t) {
    const char *tok = xmpp_stanza_attr(t, "token"), *exp = xmpp_stanza_attr(t, "expiry");
    const char *mech = s->s2.request ? s->s2.request : (s->s2.fast ? s->s2.token_mech : NULL);
    int64_t e;
    char *copy;
    if (!s->tls_up || mech == NULL || tok == NULL || tok[0] == '\0' ||
        strlen(tok) > XMPP_HT_TOKEN_MAX || parse_datetime(exp, &e) != 0) {
        xmpp__log(s->ctx, XMPP_LOG_WARN, "session", "ignoring a FAST token: %s",
                  mech == NULL || !s->tls_up ? "not asked for" : "malformed or without expiry");
        return 0;
    }
    if ((copy = xmpp__strdup(s->ctx, tok)) == NULL) {
        xmpp__session_end(s, XMPP_CAUSE_NOMEM);
        return -1;
    }
    wipe_token(s);
    s->s2.token = copy;
    s->s2.token_mech = mech;
    s->s2.token_expiry = e;
    xmpp__log(s->ctx, XMPP_LOG_INFO, "session", "new FAST token for %s", mech);
    return 1;
}

/* The authorization identifier (XEP-0388 §2.6.1; XEP-0386 spells it
 * authorization-identity): a JID of our account, full once bound. */
static xmpp_jid *authz_jid(xmpp_session *s, const xmpp_stanza *st) {
    const xmpp_stanza *a = xmpp_stanza_child(st, "authorization-identifier", XMPP_NS_SASL2);
    char *text = NULL;
    xmpp_jid *j = NULL;
    int rc;
    if (a == NULL)
        a = xmpp_stanza_child(st, "authorization-identity", XMPP_NS_SASL2);
    if (a == NULL || xmpp_stanza_text(a, &text, NULL) != XMPP_OK) {
        xmpp__session_fail(s, text == NULL && a != NULL ? XMPP_CAUSE_NOMEM : XMPP_CAUSE_PROTOCOL,
                           XMPP_SC_NONE, "SASL2 success without an authorization identifier");
        return NULL;
    }
    rc = xmpp_jid_parse(&j, s->ctx, text);
    xmpp_free(s->ctx, text);
    if (rc == XMPP_ERR_NOMEM) {
        xmpp__session_end(s, XMPP_CAUSE_NOMEM);
        return NULL;
    }
    if (rc != XMPP_OK || !xmpp__neg_account_jid(s, j)) {
        xmpp_jid_free(j);
        xmpp__session_fail(s, XMPP_CAUSE_PROTOCOL, XMPP_SC_NONE,
                           "server authorized a JID of another account");
        return NULL;
    }
    return j;
}

static int set_bound(xmpp_session *s, const xmpp_jid *j) {
    char *full = xmpp__strdup(s->ctx, xmpp_jid_full(j));
    if (full == NULL) {
        xmpp__session_end(s, XMPP_CAUSE_NOMEM);
        return -1;
    }
    xmpp__free(s->ctx, s->bound_jid);
    s->bound_jid = full;
    return 0;
}

/* XEP-0198 with SASL2: the answer to the inline <resume/>. */
static int resume_result(xmpp_session *s, const xmpp_stanza *st, const xmpp_jid *authz) {
    const xmpp_stanza *r = xmpp_stanza_child(st, "resumed", XMPP_NS_SM);
    const xmpp_stanza *f = xmpp_stanza_child(st, "failed", XMPP_NS_SM);
    if (r != NULL) {
        if (xmpp__sm_resumed(s, r) != 0)
            return -1;
        s->s2.bound = 1;
        s->s2.login |= XMPP_LOGIN_RESUMED_INLINE;
        /* the resumed session's own JID (the server names it) */
        return xmpp_jid_is_full(authz) ? set_bound(s, authz) : 0;
    }
    if (f != NULL)
        return xmpp__sm_resume_failed(s, f);
    /* no answer at all: not resumed */
    xmpp__sm_forget(s);
    return s->step == STEP_CLOSED ? -1 : 0;
}

/* XEP-0386: <bound/> and what was enabled inside it. */
static int bind_result(xmpp_session *s, const xmpp_stanza *st, const xmpp_jid *authz) {
    const xmpp_stanza *bound = xmpp_stanza_child(st, "bound", XMPP_NS_BIND2), *sm;
    if (bound == NULL) {
        /* refused (<failed/>) or ignored: RFC 6120 binding follows, and
         * the new session starts active */
        s->s2.csi_inline = 0;
        xmpp__log(s->ctx, XMPP_LOG_WARN, "session", "Bind2 did not bind; binding the RFC 6120 way");
        return 0;
    }
    if (!xmpp_jid_is_full(authz)) {
        xmpp__session_fail(s, XMPP_CAUSE_PROTOCOL, XMPP_SC_NONE,
                           "Bind2 result without a full JID");
        return -1;
    }
    if (set_bound(s, authz) != 0)
        return -1;
    s->s2.bound = 1;
    s->s2.login |= XMPP_LOGIN_BIND2;
    if (s->s2.carbons_inline)
        s->s2.login |= XMPP_LOGIN_CARBONS;
    if (!s->s2.sm_inline)
        return 0;
    if ((sm = xmpp_stanza_child(bound, "enabled", XMPP_NS_SM)) != NULL) {
        s->s2.sm_answered = 1;
        if (xmpp__sm_enabled(s, sm) != 0)
            return -1;
        s->s2.login |= XMPP_LOGIN_SM_INLINE;
    } else if (xmpp_stanza_child(bound, "failed", XMPP_NS_SM) != NULL) {
        s->s2.sm_answered = 1;
        xmpp__log(s->ctx, XMPP_LOG_WARN, "sm", "server refused to enable stream management");
    }
    return 0;
}

static void success(xmpp_session *s, const xmpp_stanza *st) {
    const xmpp_stanza *ad = xmpp_stanza_child(st, "additional-data", XMPP_NS_SASL2);
    const xmpp_stanza *tok = xmpp_stanza_child(st, "token", XMPP_NS_FAST);
    uint8_t *in = NULL;
    size_t ilen = 0;
    xmpp_jid *authz;
    int rc, fresh = 0;
    /* SASL-03: the server's proof before anything else counts */
    rc = ad ? xmpp__neg_sasl_payload(s, ad, &in, &ilen) : XMPP_OK;
    if (rc != XMPP_OK) {
        xmpp__session_fail(s, rc == XMPP_ERR_NOMEM ? XMPP_CAUSE_NOMEM : XMPP_CAUSE_SASL,
                           XMPP_SC_NONE, "malformed base64 from the server");
        return;
    }
    if (s->s2.fast)
        rc = xmpp__ht_verify(s->s2.proof, s->s2.prooflen, in, ilen);
    else
        rc = xmpp__sasl_finish(s->sasl, in, ilen);
    xmpp__sasl_buf_free(s->ctx, in, ilen);
    gnutls_memset(s->s2.proof, 0, sizeof(s->s2.proof));
    if (rc != XMPP_OK) {
        xmpp__neg_sasl_local_failure(s, rc);
        return;
    }
    if ((authz = authz_jid(s, st)) == NULL)
        return;
    /* a token says nothing about the password mechanisms: the pin stays */
    s->sasl_pins = s->s2.fast ? s->o.sasl_pinned : xmpp__sasl_pins_account(s->sasl);
    xmpp__sasl_free(s->sasl);
    s->sasl = NULL;
    if (s->o.password) { /* unused by a FAST login: wiped all the same */
        gnutls_memset(s->o.password, 0, strlen(s->o.password));
        xmpp__free(s->ctx, s->o.password);
        s->o.password = NULL;
    }
    s->authenticated = 1;
    s->s2.login |= XMPP_LOGIN_SASL2 | (s->s2.fast ? XMPP_LOGIN_FAST : 0);
    xmpp__log(s->ctx, XMPP_LOG_INFO, "session", "authenticated as %s with %s (SASL2)",
              xmpp_jid_full(authz), s->mech);
    if (tok != NULL && (fresh = take_token(s, tok)) < 0) {
        xmpp_jid_free(authz);
        return;
    }
    rc = 0;
    if (s->s2.resume_sent)
        rc = resume_result(s, st, authz);
    if (rc == 0 && s->s2.bind_sent && !s->sm.resumed)
        rc = bind_result(s, st, authz);
    xmpp_jid_free(authz);
    if (rc != 0 || s->step == STEP_CLOSED)
        return;
    /* XEP-0388 §2.6.1: no restart; the features of the authenticated
     * stream follow on this one */
    s->step = STEP_FEATURES;
    if (fresh && s->o.fast_cb) {
        s->o.fast_cb(s, s->s2.token_mech, s->s2.token, s->s2.token_expiry, s->o.fast_ud);
        if (s->step != STEP_FEATURES)
            return; /* closed from the callback */
    }
    /* Resumed, or bound with stream management settled: nothing is left
     * to negotiate, and the server may already send stanzas (Prosody
     * re-sends the unacknowledged ones, and asks for an ack, before its
     * features). Ready now; the features are taken when they come. */
    if (s->sm.resumed || (s->s2.bound && (s->s2.sm_answered || s->o.sm_mode == XMPP_SM_OFF))) {
        s->s2.features_due = 1;
        xmpp__neg_ready(s);
    }
}

void xmpp__sasl2_stanza(xmpp_session *s, const xmpp_stanza *st) {
    if (is(st, "challenge", XMPP_NS_SASL2))
        challenge(s, st);
    else if (is(st, "success", XMPP_NS_SASL2))
        success(s, st);
    else if (is(st, "failure", XMPP_NS_SASL2))
        failure(s, st);
    else if (is(st, "continue", XMPP_NS_SASL2))
        continue_required(s, st);
    else /* XEP-0388 §2.5: nothing else while authenticating */
        xmpp__session_fail(s, XMPP_CAUSE_PROTOCOL, XMPP_SC_UNSUPPORTED_STANZA_TYPE,
                           "unexpected element during SASL2");
}

/* The features after <success/> when Bind2 bound the resource but
 * stream management is still wanted: the RFC 6120 way if offered. */
int xmpp__sasl2_features(xmpp_session *s) {
    if (!s->s2.active || !s->s2.bound)
        return 0;
    if (!s->sm.resumed && !s->s2.sm_answered && xmpp__sm_try_enable(s))
        return 1;
    if (s->step != STEP_CLOSED)
        xmpp__neg_ready(s);
    return 1;
}

/* The features that follow a <success/> after which the session became
 * ready: their limits and CSI offer apply; 1 when st was them. */
int xmpp__sasl2_late_features(xmpp_session *s, const xmpp_stanza *st) {
    if (!is(st, "features", XMPP_NS_STREAMS))
        return 0;
    s->s2.features_due = 0;
    xmpp__neg_read_features(s, st);
    xmpp__csi_sync(s);
    return 1;
}
