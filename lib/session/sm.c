/* Stream management (XEP-0198): the queue of unacknowledged stanzas,
 * acknowledgement requests and answers, enabling, resumption and what
 * becomes of the queue when a stream cannot be resumed.
 *
 * Counters are 32-bit and wrap (XEP-0198 §4: h is modulo 2^32); every
 * difference is computed in uint32_t. The queue is bounded by the options;
 * stanzas the library itself must send (IQ error replies, keepalive) may go
 * over the bound rather than fail the session. */
#include "session/session_int.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define SM_ACK_EVERY 5         /* ask for an ack after this many stanzas */
#define SM_ACK_DELAY_MS 200    /* or this long after the first unrequested one */
#define SM_ACK_TIMEOUT_MS 60000 /* an unanswered <r/> without keepalive settings */
#define SM_MAX_ID 1024         /* longest stream id accepted */
/* Stanzas on the wire without an acknowledgement: the rest of the queue
 * waits. A server handles stanzas in order and answers <r/> only after
 * those before it; a small window keeps that answer prompt (so a dead
 * connection is told from a busy server within the ack timeout) and keeps
 * the re-send after a resumption short. */
#define SM_WINDOW 64
/* Unrequested acknowledgements (XEP-0198 §4 allows them) after this many
 * inbound stanzas: a server that asks rarely, or whose answer is delayed
 * by our own traffic, never sees its queue for us grow without bound
 * (ejabberd ends the stream at 5000 unacknowledged stanzas). */
#define SM_ACK_INBOUND_EVERY 16

static int is(const xmpp_stanza *st, const char *name, const char *ns) {
    const char *n = xmpp_stanza_name(st), *sns = xmpp_stanza_ns(st);
    return n && strcmp(n, name) == 0 && sns && strcmp(sns, ns) == 0;
}

static int is_stanza(const xmpp_stanza *st) {
    const char *n = xmpp_stanza_name(st), *ns = xmpp_stanza_ns(st);
    return n && ns && strcmp(ns, XMPP_NS_CLIENT) == 0 &&
           (strcmp(n, "message") == 0 || strcmp(n, "presence") == 0 || strcmp(n, "iq") == 0);
}

/* What we send: an element without a namespace is written in the stream's
 * default namespace, so the server takes (and counts) it as a stanza. */
static int is_out_stanza(const xmpp_stanza *st) {
    const char *n = xmpp_stanza_name(st), *ns = xmpp_stanza_ns(st);
    return n && (ns == NULL || strcmp(ns, XMPP_NS_CLIENT) == 0) &&
           (strcmp(n, "message") == 0 || strcmp(n, "presence") == 0 || strcmp(n, "iq") == 0);
}

/* Strict decimal uint32: digits only, no sign, no leading junk. */
static int parse_u32(const char *v, uint32_t *out) {
    uint64_t x = 0;
    size_t i;
    if (v == NULL || v[0] == '\0')
        return -1;
    for (i = 0; v[i]; i++) {
        if (v[i] < '0' || v[i] > '9' || i >= 10)
            return -1;
        x = x * 10 + (uint64_t)(v[i] - '0');
    }
    if (x > 0xffffffffu)
        return -1;
    *out = (uint32_t)x;
    return 0;
}

static void write_str(xmpp_session *s, const char *str) {
    xmpp__session_write(s, str, strlen(str));
}

static unsigned ack_timeout(const xmpp_session *s) {
    return s->o.ka_timeout_ms ? s->o.ka_timeout_ms : SM_ACK_TIMEOUT_MS;
}

/* The wait for the answer is dated by the caller that knows the time (a
 * timer), else at the next timer call: a send knows only the last time the
 * session heard of, which may be long past for an idle session. */
static void request_ack(xmpp_session *s) {
    s->sm.r_out = 1;
    s->sm.since_r = 0;
    s->sm.r_due = 0;
    s->sm.r_deadline = 0;
    write_str(s, "<r xmlns='" XMPP_NS_SM "'/>");
}

static void send_ack(xmpp_session *s) {
    char buf[64];
    snprintf(buf, sizeof(buf), "<a xmlns='" XMPP_NS_SM "' h='%lu'/>", (unsigned long)s->sm.h_in);
    s->sm.h_in_told = s->sm.h_in;
    write_str(s, buf);
}

/* Acknowledges the stanzas handled before the one being counted now. */
static void send_ack_before(xmpp_session *s) {
    char buf[64];
    s->sm.h_in_told = s->sm.h_in - 1;
    snprintf(buf, sizeof(buf), "<a xmlns='" XMPP_NS_SM "' h='%lu'/>",
             (unsigned long)s->sm.h_in_told);
    write_str(s, buf);
}

/* ---- the queue */
static xmpp_sm_entry *pop_head(xmpp_session *s) {
    xmpp_sm_entry *e = s->sm.head;
    if (e == NULL)
        return NULL;
    s->sm.head = e->next;
    if (s->sm.head == NULL)
        s->sm.tail = NULL;
    if (s->sm.n_unacked > 0)
        s->sm.n_unacked--;
    s->sm.n_queued--;
    s->sm.bytes -= e->bytes;
    e->next = NULL;
    return e;
}

static void append(xmpp_session *s, xmpp_sm_entry *e) {
    e->next = NULL;
    if (s->sm.tail)
        s->sm.tail->next = e;
    else
        s->sm.head = e;
    s->sm.tail = e;
    s->sm.n_queued++;
    s->sm.bytes += e->bytes;
}

/* Reports an entry's fate (exactly once) and frees it. The entry is out
 * of the queue already, so the callback may send, close, anything. */
static void complete(xmpp_session *s, xmpp_sm_entry *e, xmpp_sent_status status) {
    xmpp_sent_fn cb = e->cb;
    void *ud = e->ud;
    if (cb == NULL && status == XMPP_SENT_RETURNED) {
        cb = s->o.sm_returned;
        ud = s->o.sm_returned_ud;
        if (cb == NULL)
            xmpp__log(s->ctx, XMPP_LOG_WARN, "sm",
                      "unacknowledged <%s id='%s'> handed back, but no callback takes it",
                      xmpp_stanza_name(e->st), xmpp_stanza_id(e->st) ? xmpp_stanza_id(e->st) : "");
    }
    if (cb)
        cb(s, e->st, status, ud);
    xmpp_stanza_unref(e->st);
    xmpp__free(s->ctx, e);
}

/* XEP-0203 stamp: UTC, seconds precision. */
static void add_delay(xmpp_session *s, xmpp_sm_entry *e) {
    char stamp[32];
    struct tm tm;
    time_t t = (time_t)e->stamp;
    xmpp_stanza *d = NULL;
    if (gmtime_r(&t, &tm) == NULL)
        return;
    strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
    if (xmpp_stanza_child(e->st, "delay", XMPP_NS_DELAY) != NULL)
        return;
    if (xmpp_stanza_add_child_new(e->st, "delay", XMPP_NS_DELAY, &d) != XMPP_OK ||
        xmpp_stanza_set_attr(d, "stamp", stamp) != XMPP_OK ||
        xmpp_stanza_set_attr(d, "from", xmpp_jid_bare(s->jid)) != XMPP_OK) {
        if (d)
            xmpp_stanza_remove_child(e->st, d);
        xmpp__session_end(s, XMPP_CAUSE_NOMEM);
    }
}

int xmpp__stanza_serialize_buf(const xmpp_stanza *st, const char *context_ns, xmpp_buf *b);

/* Writes the entry on the current stream (which has SM enabled). */
static int write_entry(xmpp_session *s, xmpp_sm_entry *e) {
    xmpp_buf tmp;
    int rc;
    if (e->resend) {
        e->resend = 0;
        add_delay(s, e);
        if (s->step == STEP_CLOSED)
            return XMPP_ERR_NOMEM;
    }
    xmpp__buf_init(&tmp, s->ctx);
    rc = xmpp__stanza_serialize_buf(e->st, XMPP_NS_CLIENT, &tmp);
    if (rc == XMPP_OK) {
        s->sm.bytes -= e->bytes;
        e->bytes = tmp.len;
        s->sm.bytes += e->bytes;
        xmpp__log(s->ctx, XMPP_LOG_DEBUG, "session", "SEND %.*s",
                  (int)(tmp.len > 2000 ? 2000 : tmp.len), tmp.data);
        xmpp__session_write(s, tmp.data, tmp.len);
        s->sm.sent++;
        s->sm.since_r++;
    }
    xmpp__buf_free(&tmp);
    return rc;
}

static void maybe_request(xmpp_session *s) {
    if (!s->sm.enabled || s->sm.r_out || s->sm.since_r == 0 || s->step != STEP_READY)
        return;
    if (s->sm.since_r >= SM_ACK_EVERY ||
        (s->o.sm_max_stanzas && s->sm.n_queued * 2 >= s->o.sm_max_stanzas) ||
        (s->o.sm_max_bytes && s->sm.bytes * 2 >= s->o.sm_max_bytes))
        request_ack(s);
    else if (s->sm.r_due == 0)
        s->sm.r_due = s->now + SM_ACK_DELAY_MS;
}

/* Writes every queued entry not yet written on this stream. Without SM on
 * the stream they are written and reported as untracked. */
void xmpp__sm_flush(xmpp_session *s) {
    while (s->step == STEP_READY && s->sm.n_unacked < s->sm.n_queued &&
           (!s->sm.enabled || s->sm.n_unacked < SM_WINDOW)) {
        xmpp_sm_entry *e = s->sm.head;
        size_t i;
        int rc;
        if (!s->sm.enabled) {
            /* only pending entries are left: the head is one */
            e = pop_head(s);
            if (e->resend) {
                e->resend = 0;
                add_delay(s, e);
            }
            rc = s->step == STEP_READY ? xmpp__session_write_stanza(s, e->st, NULL) : XMPP_ERR_STATE;
            if (rc == XMPP_ERR_LIMIT) { /* XEP-0478: too big for this server */
                complete(s, e, XMPP_SENT_RETURNED);
                continue;
            }
            if (rc != XMPP_OK) {
                if (s->step != STEP_CLOSED)
                    xmpp__session_end(s, XMPP_CAUSE_NOMEM);
                complete(s, e, XMPP_SENT_RETURNED);
                return;
            }
            complete(s, e, XMPP_SENT_UNTRACKED);
            continue;
        }
        {
            xmpp_sm_entry *prev = NULL;
            for (i = 0; i < s->sm.n_unacked; i++) {
                prev = e;
                e = e->next;
            }
            if (s->limit_max_bytes && e->bytes > s->limit_max_bytes) {
                /* XEP-0478: queued before this server's limit was known;
                 * writing it would end the stream */
                if (prev)
                    prev->next = e->next;
                else
                    s->sm.head = e->next;
                if (s->sm.tail == e)
                    s->sm.tail = prev;
                s->sm.n_queued--;
                s->sm.bytes -= e->bytes;
                e->next = NULL;
                complete(s, e, XMPP_SENT_RETURNED);
                continue;
            }
        }
        if (write_entry(s, e) != XMPP_OK) {
            if (s->step != STEP_CLOSED)
                xmpp__session_end(s, XMPP_CAUSE_NOMEM);
            return;
        }
        s->sm.n_unacked++;
    }
    maybe_request(s);
}

/* XEP-0198 §4 (SECURITY SM-02): an h above what we sent ends the stream
 * with undefined-condition and <handled-count-too-high h send-count/>. */
static void fail_too_high(xmpp_session *s, uint32_t h, uint32_t n) {
    char text[128], buf[320];
    snprintf(text, sizeof(text),
             "handled-count-too-high: server acknowledged %lu stanzas, %lu were sent",
             (unsigned long)n, (unsigned long)s->sm.n_unacked);
    xmpp__log(s->ctx, XMPP_LOG_ERROR, "session", "session failed: %s", text);
    s->cause = XMPP_CAUSE_PROTOCOL;
    s->cond = XMPP_SC_UNDEFINED_CONDITION;
    if (s->err_text == NULL)
        s->err_text = xmpp__strdup(s->ctx, text);
    if (s->step != STEP_CLOSING) { /* nothing after our </stream:stream> */
        snprintf(buf, sizeof(buf),
                 "<stream:error><undefined-condition xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"
                 "<handled-count-too-high xmlns='" XMPP_NS_SM "' h='%lu' send-count='%lu'/>"
                 "</stream:error></stream:stream>",
                 (unsigned long)h, (unsigned long)s->sm.sent);
        write_str(s, buf);
    }
    xmpp__session_end(s, XMPP_CAUSE_PROTOCOL);
}

/* The server handled everything up to h. */
static int handle_ack(xmpp_session *s, uint32_t h) {
    uint32_t n = h - s->sm.acked;
    if ((size_t)n > s->sm.n_unacked) {
        fail_too_high(s, h, n);
        return -1;
    }
    s->sm.acked = h;
    while (n-- > 0) {
        xmpp_sm_entry *e = pop_head(s);
        complete(s, e, XMPP_SENT_ACKED);
    }
    return 0;
}

/* The previous stream is gone for good: decide the fate of what it did
 * not acknowledge. Entries written on it become pending again (to be re-sent
 * with <delay/>) or are handed back; those never written stay pending. */
static void stream_lost(xmpp_session *s) {
    size_t n = s->sm.n_unacked, i;
    xmpp_sm_entry *keep = NULL, **kp = &keep, *ret = NULL, **rp = &ret, *e;
    xmpp__free(s->ctx, s->sm.id);
    xmpp__free(s->ctx, s->sm.location);
    s->sm.id = s->sm.location = NULL;
    s->sm.resumable = 0;
    s->sm.h_in = s->sm.sent = s->sm.acked = 0;
    s->sm.h_in_told = 0;
    if (n == 0)
        return;
    xmpp__log(s->ctx, XMPP_LOG_INFO, "sm", "stream not resumed: %lu unacknowledged stanza(s) %s",
              (unsigned long)n,
              s->o.sm_policy == XMPP_SM_POLICY_RETURN ? "handed back" : "to be re-sent");
    /* split the written entries into those re-sent and those handed back */
    for (i = 0; i < n; i++) {
        e = pop_head(s);
        if (s->o.sm_policy == XMPP_SM_POLICY_RESEND && strcmp(xmpp_stanza_name(e->st), "iq") != 0) {
            e->resend = 1;
            *kp = e;
            kp = &e->next;
        } else {
            *rp = e;
            rp = &e->next;
        }
    }
    s->sm.n_unacked = 0;
    /* the re-sent ones go first, before what was never written */
    if (keep != NULL) {
        xmpp_sm_entry *last = keep;
        for (e = keep; e; e = e->next) {
            s->sm.n_queued++;
            s->sm.bytes += e->bytes;
            last = e;
        }
        last->next = s->sm.head;
        if (s->sm.head == NULL)
            s->sm.tail = last;
        s->sm.head = keep;
    }
    while (ret != NULL) {
        e = ret;
        ret = e->next;
        e->next = NULL;
        complete(s, e, XMPP_SENT_RETURNED);
    }
}

/* ---- sending */
int xmpp__sm_send(xmpp_session *s, const xmpp_stanza *st, xmpp_sent_fn cb, void *ud) {
    xmpp_sm_entry *e;
    xmpp_buf tmp;
    int internal = (cb == NULL && ud == (void *)s);
    int rc, direct;
    /* The server counts every stanza after our <enable/>: one sent while a
     * stanza that came before <enabled/> is dispatched is held until then. */
    int ready = s->step == STEP_READY && !s->sm.early;
    if (internal)
        ud = NULL;
    if (s->step == STEP_CLOSING)
        return XMPP_ERR_STATE;
    if (!is_out_stanza(st)) {
        /* nonzas (CSI, ...) are neither counted nor queued */
        if (s->step != STEP_READY)
            return XMPP_ERR_STATE;
        return xmpp__session_write_stanza(s, st, NULL);
    }
    direct = ready && !s->sm.enabled && s->sm.n_queued == 0;
    if (s->o.sm_mode == XMPP_SM_OFF || direct) {
        if (s->step != STEP_READY)
            return XMPP_ERR_STATE;
        if ((rc = xmpp__session_write_stanza(s, st, NULL)) != XMPP_OK)
            return rc;
        if (cb)
            cb(s, st, XMPP_SENT_UNTRACKED, ud);
        return XMPP_OK;
    }
    /* measured once: the bound is on serialised bytes */
    xmpp__buf_init(&tmp, s->ctx);
    if ((rc = xmpp__stanza_serialize_buf(st, XMPP_NS_CLIENT, &tmp)) != XMPP_OK) {
        xmpp__buf_free(&tmp);
        return rc;
    }
    if (!internal && s->limit_max_bytes && tmp.len > s->limit_max_bytes) {
        xmpp__buf_free(&tmp);
        return XMPP_ERR_LIMIT; /* XEP-0478 */
    }
    if (!internal && (s->sm.n_queued + 1 > s->o.sm_max_stanzas ||
                      s->sm.bytes + tmp.len > s->o.sm_max_bytes)) {
        xmpp__buf_free(&tmp);
        /* make room as soon as possible */
        if (s->sm.enabled && !s->sm.r_out && s->step == STEP_READY && s->sm.n_unacked > 0)
            request_ack(s);
        return XMPP_ERR_LIMIT;
    }
    e = xmpp__malloc(s->ctx, sizeof(*e));
    if (e == NULL) {
        xmpp__buf_free(&tmp);
        return XMPP_ERR_NOMEM;
    }
    memset(e, 0, sizeof(*e));
    if ((rc = xmpp_stanza_copy(&e->st, st)) != XMPP_OK ||
        /* explicit, so that an export keeps it a stanza */
        (xmpp_stanza_ns(e->st) == NULL &&
         (rc = xmpp_stanza_set_ns(e->st, XMPP_NS_CLIENT)) != XMPP_OK)) {
        xmpp_stanza_unref(e->st);
        xmpp__buf_free(&tmp);
        xmpp__free(s->ctx, e);
        return rc;
    }
    e->bytes = tmp.len;
    e->cb = cb;
    e->ud = ud;
    e->stamp = (long long)time(NULL);
    append(s, e);
    if (ready && s->sm.enabled && s->sm.n_unacked + 1 == s->sm.n_queued &&
        s->sm.n_unacked < SM_WINDOW) {
        xmpp__log(s->ctx, XMPP_LOG_DEBUG, "session", "SEND %.*s",
                  (int)(tmp.len > 2000 ? 2000 : tmp.len), tmp.data);
        xmpp__session_write(s, tmp.data, tmp.len);
        s->sm.sent++;
        s->sm.since_r++;
        s->sm.n_unacked++;
        maybe_request(s);
    } else if (ready) {
        xmpp__sm_flush(s);
    }
    xmpp__buf_free(&tmp);
    return XMPP_OK;
}

int xmpp_session_send_tracked(xmpp_session *s, const xmpp_stanza *st, xmpp_sent_fn cb,
                              void *user_data) {
    if (s == NULL || st == NULL || xmpp_stanza_is_text(st) || !is_out_stanza(st))
        return XMPP_ERR_INVALID;
    if (s->out.len - s->out_off > s->o.send_limit)
        return XMPP_ERR_LIMIT;
    if (cb == NULL && user_data == (void *)s)
        user_data = NULL; /* never mistaken for an internal send */
    return xmpp__sm_send(s, st, cb, user_data);
}

/* ---- inbound */
int xmpp__sm_ready_stanza(xmpp_session *s, xmpp_stanza *st) {
    const char *ns = xmpp_stanza_ns(st), *name = xmpp_stanza_name(st);
    if (ns == NULL || strcmp(ns, XMPP_NS_SM) != 0) {
        if (s->sm.enabled && is_stanza(st)) {
            s->sm.h_in++;
            /* this one is not handled yet: the ack covers those before */
            if ((uint32_t)(s->sm.h_in - 1 - s->sm.h_in_told) >= SM_ACK_INBOUND_EVERY)
                send_ack_before(s);
        }
        return 0;
    }
    if (!s->sm.enabled) {
        xmpp__log(s->ctx, XMPP_LOG_WARN, "sm", "ignoring <%s/>: stream management is not enabled",
                  name);
        return 1;
    }
    if (strcmp(name, "r") == 0) {
        if (s->step == STEP_READY) /* nothing after our </stream:stream> */
            send_ack(s);
    } else if (strcmp(name, "a") == 0) {
        uint32_t h;
        if (parse_u32(xmpp_stanza_attr(st, "h"), &h) != 0) {
            xmpp__session_fail(s, XMPP_CAUSE_PROTOCOL, XMPP_SC_INVALID_XML,
                               "stream management ack without a valid h");
            return 1;
        }
        if (handle_ack(s, h) != 0)
            return 1;
        s->sm.r_out = 0;
        s->sm.r_deadline = 0;
        if (s->step == STEP_READY)
            xmpp__sm_flush(s); /* the window moved; asks again if needed */
    } else {
        xmpp__log(s->ctx, XMPP_LOG_WARN, "sm", "ignoring unexpected <%s/> on a ready stream", name);
    }
    return 1;
}

/* ---- negotiation */
/* The previous stream will not be resumed: its unacknowledged stanzas
 * follow the policy. */
void xmpp__sm_forget(xmpp_session *s) {
    if (s->sm.id != NULL || s->sm.n_unacked > 0)
        stream_lost(s);
}

/* Appends <resume/> for the previous stream to b (also inside a SASL2
 * <authenticate/>). */
void xmpp__sm_resume_element(xmpp_session *s, xmpp_buf *b) {
    char buf[128];
    const char *p;
    snprintf(buf, sizeof(buf), "<resume xmlns='" XMPP_NS_SM "' h='%lu' previd='",
             (unsigned long)s->sm.h_in);
    xmpp__buf_append_str(b, buf);
    /* the id came from the server (or an import): escape it */
    for (p = s->sm.id; *p; p++) {
        switch (*p) {
        case '&': xmpp__buf_append_str(b, "&amp;"); break;
        case '<': xmpp__buf_append_str(b, "&lt;"); break;
        case '\'': xmpp__buf_append_str(b, "&apos;"); break;
        case '"': xmpp__buf_append_str(b, "&quot;"); break;
        /* white space would be normalised to spaces (XML 1.0 §3.3.3) */
        case '\t': xmpp__buf_append_str(b, "&#9;"); break;
        case '\n': xmpp__buf_append_str(b, "&#10;"); break;
        case '\r': xmpp__buf_append_str(b, "&#13;"); break;
        default: xmpp__buf_append(b, p, 1);
        }
    }
    xmpp__buf_append_str(b, "'/>");
}

int xmpp__sm_try_resume(xmpp_session *s) {
    int can = xmpp_session_can_resume(s, s->now) && s->sm.offered;
    if (!can) {
        xmpp__sm_forget(s);
        return 0;
    }
    {
        xmpp_buf esc;
        xmpp__buf_init(&esc, s->ctx);
        xmpp__sm_resume_element(s, &esc);
        if (esc.oom) {
            xmpp__buf_free(&esc);
            xmpp__session_end(s, XMPP_CAUSE_NOMEM);
            return 1;
        }
        xmpp__session_write(s, esc.data, esc.len);
        xmpp__buf_free(&esc);
    }
    s->sm.h_in_told = s->sm.h_in;
    s->step = STEP_SM_RESUME;
    xmpp__log(s->ctx, XMPP_LOG_INFO, "sm", "resuming stream %s (h=%lu, %lu unacknowledged)",
              s->sm.id, (unsigned long)s->sm.h_in, (unsigned long)s->sm.n_unacked);
    return 1;
}

/* The <enable/> element for a new stream-management session (also inside
 * a Bind2 request), or NULL when the mode is off. */
const char *xmpp__sm_enable_element(const xmpp_session *s) {
    if (s->o.sm_mode == XMPP_SM_OFF)
        return NULL;
    return s->o.sm_mode == XMPP_SM_RESUME ? "<enable xmlns='" XMPP_NS_SM "' resume='true'/>"
                                          : "<enable xmlns='" XMPP_NS_SM "'/>";
}

/* Right behind the bind request (RFC 6120 §7, XEP-0198 §3): the server
 * handles them in order, so enabling costs no round trip of its own; a
 * failed bind ends the session anyway. Not with the legacy session IQ,
 * whose answer would come between. */
void xmpp__sm_pipeline_enable(xmpp_session *s) {
    s->sm.enable_sent = 0;
    if (s->o.sm_mode == XMPP_SM_OFF || !s->sm.offered || s->session_needed)
        return;
    write_str(s, xmpp__sm_enable_element(s));
    s->sm.enable_sent = 1;
}

int xmpp__sm_try_enable(xmpp_session *s) {
    int sent = s->sm.enable_sent;
    s->sm.enable_sent = 0;
    if (s->o.sm_mode == XMPP_SM_OFF || !s->sm.offered)
        return 0;
    s->sm.h_in = s->sm.sent = s->sm.acked = 0;
    s->sm.h_in_told = 0;
    s->sm.n_unacked = 0;
    if (!sent)
        write_str(s, xmpp__sm_enable_element(s));
    if (s->step != STEP_CLOSED)
        s->step = STEP_SM_ENABLE;
    return 1;
}

static int truthy(const char *v) {
    return v && (strcmp(v, "true") == 0 || strcmp(v, "1") == 0);
}

/* <enabled/>, also inside a Bind2 <bound/>: 0, or -1 when the session
 * ended. The caller goes on to ready. */
int xmpp__sm_enabled(xmpp_session *s, const xmpp_stanza *st) {
    const char *id = xmpp_stanza_attr(st, "id"), *loc = xmpp_stanza_attr(st, "location");
    const char *max = xmpp_stanza_attr(st, "max");
    uint32_t m = 0;
    /* counting starts here (inside Bind2 no <enable/> of ours reset it) */
    s->sm.h_in = s->sm.sent = s->sm.acked = 0;
    s->sm.n_unacked = 0;
    s->sm.enabled = 1;
    s->sm.resumed = 0;
    s->sm.lost_at = 0;
    xmpp__free(s->ctx, s->sm.id);
    xmpp__free(s->ctx, s->sm.location);
    s->sm.id = s->sm.location = NULL;
    s->sm.max_s = (max && parse_u32(max, &m) == 0) ? m : 0;
    if (s->o.sm_mode == XMPP_SM_RESUME && truthy(xmpp_stanza_attr(st, "resume")) && id &&
        id[0] && strlen(id) <= SM_MAX_ID) {
        s->sm.id = xmpp__strdup(s->ctx, id);
        if (loc && loc[0] && strlen(loc) <= 300)
            s->sm.location = xmpp__strdup(s->ctx, loc);
        if (s->sm.id == NULL || (loc && loc[0] && strlen(loc) <= 300 && s->sm.location == NULL)) {
            xmpp__session_end(s, XMPP_CAUSE_NOMEM);
            return -1;
        }
        s->sm.resumable = 1;
    }
    xmpp__log(s->ctx, XMPP_LOG_INFO, "sm", "stream management enabled%s%s",
              s->sm.resumable ? ", resumable as " : "", s->sm.resumable ? s->sm.id : "");
    return 0;
}

/* <resumed/>, also inside a SASL2 <success/>: 0, or -1 when the session
 * ended. The caller goes on to ready. */
int xmpp__sm_resumed(xmpp_session *s, const xmpp_stanza *st) {
    const char *previd = xmpp_stanza_attr(st, "previd");
    uint32_t h;
    if (previd == NULL || strcmp(previd, s->sm.id) != 0 ||
        parse_u32(xmpp_stanza_attr(st, "h"), &h) != 0) {
        xmpp__session_fail(s, XMPP_CAUSE_PROTOCOL, XMPP_SC_INVALID_XML,
                           "<resumed/> with a wrong previd or without a valid h");
        return -1;
    }
    if (handle_ack(s, h) != 0 || s->step == STEP_CLOSED || s->step == STEP_CLOSING)
        return -1; /* failed, or closed from an ACKED callback */
    s->sm.enabled = 1;
    s->sm.resumed = 1;
    s->sm.lost_at = 0;
    xmpp__log(s->ctx, XMPP_LOG_INFO, "sm", "stream %s resumed: server had %lu, re-sending %lu",
              s->sm.id, (unsigned long)h, (unsigned long)s->sm.n_unacked);
    /* what the server did not get is written again on this stream */
    s->sm.n_unacked = 0;
    s->sm.sent = s->sm.acked;
    return 0;
}

/* <failed/> in answer to <resume/>, also inside a SASL2 <success/>: the
 * previous stream is lost. 0, or -1 when the session ended. The caller
 * binds a new session. */
int xmpp__sm_resume_failed(xmpp_session *s, const xmpp_stanza *st) {
    uint32_t h;
    /* XEP-0198 §4: <failed/> may say what the server handled */
    if (xmpp_stanza_attr(st, "h") != NULL) {
        if (parse_u32(xmpp_stanza_attr(st, "h"), &h) != 0) {
            xmpp__session_fail(s, XMPP_CAUSE_PROTOCOL, XMPP_SC_INVALID_XML,
                               "<failed/> with an invalid h");
            return -1;
        }
        if (handle_ack(s, h) != 0 || s->step == STEP_CLOSED || s->step == STEP_CLOSING)
            return -1; /* failed, or closed from an ACKED callback */
    }
    xmpp__log(s->ctx, XMPP_LOG_INFO, "sm", "resumption refused; binding a new session");
    stream_lost(s);
    /* the application may have closed from a RETURNED callback */
    return s->step == STEP_CLOSED || s->step == STEP_CLOSING ? -1 : 0;
}

/* A stanza arriving while <enable/> is outstanding was sent before the
 * server enabled SM: it is not counted, but it is delivered. */
static void deliver_early(xmpp_session *s, xmpp_stanza *st) {
    xmpp_step saved = s->step;
    s->step = STEP_READY;
    s->sm.early = 1; /* what is sent meanwhile waits for <enabled/> */
    xmpp__dispatch(s, st);
    s->sm.early = 0;
    if (s->step == STEP_READY)
        s->step = saved;
}

void xmpp__sm_neg_stanza(xmpp_session *s, xmpp_stanza *st) {
    if (s->step == STEP_SM_ENABLE) {
        if (is(st, "enabled", XMPP_NS_SM)) {
            if (xmpp__sm_enabled(s, st) == 0)
                xmpp__neg_ready(s);
        } else if (is(st, "failed", XMPP_NS_SM)) {
            xmpp__log(s->ctx, XMPP_LOG_WARN, "sm", "server refused to enable stream management");
            s->sm.enabled = 0;
            xmpp__neg_ready(s);
        } else if (is_stanza(st)) {
            deliver_early(s, st);
        } else {
            xmpp__session_fail(s, XMPP_CAUSE_PROTOCOL, XMPP_SC_UNSUPPORTED_STANZA_TYPE,
                               "unexpected element while enabling stream management");
        }
        return;
    }
    /* STEP_SM_RESUME */
    if (is(st, "resumed", XMPP_NS_SM)) {
        if (xmpp__sm_resumed(s, st) == 0)
            xmpp__neg_ready(s);
    } else if (is(st, "failed", XMPP_NS_SM)) {
        if (xmpp__sm_resume_failed(s, st) == 0)
            xmpp__neg_bind(s);
    } else {
        xmpp__session_fail(s, XMPP_CAUSE_PROTOCOL, XMPP_SC_UNSUPPORTED_STANZA_TYPE,
                           "unexpected element while resuming the stream");
    }
}

/* ---- lifecycle and timers */
void xmpp__sm_disconnected(xmpp_session *s) {
    xmpp_disconnect_cause c = s->cause;
    if (s->sm.enabled) {
        s->sm.enabled = 0;
        s->sm.lost_at = s->now ? s->now : 1;
    }
    s->sm.r_out = 0;
    s->sm.r_due = s->sm.r_deadline = 0;
    s->sm.since_r = 0;
    /* the server ended the session itself, or we did: nothing to resume
     * (a rejected FAST token says nothing about the stream: the password
     * login that follows may resume it) */
    if (c == XMPP_CAUSE_LOCAL_CLOSE || (c == XMPP_CAUSE_SASL && !xmpp__fast_rejected(s)) ||
        c == XMPP_CAUSE_STREAM_ERROR ||
        c == XMPP_CAUSE_TLS_VERIFY || c == XMPP_CAUSE_TLS_REQUIRED)
        s->sm.resumable = 0;
}

uint64_t xmpp__sm_deadline(const xmpp_session *s) {
    uint64_t d = UINT64_MAX;
    if (s->step != STEP_READY || !s->sm.enabled)
        return d;
    if (s->sm.r_due && !s->sm.r_out)
        d = s->sm.r_due;
    if (s->sm.r_out && s->sm.r_deadline && s->sm.r_deadline < d)
        d = s->sm.r_deadline;
    if (s->sm.r_out && !s->sm.r_deadline)
        d = s->now; /* a timer call now, to date the wait */
    return d;
}

void xmpp__sm_timeout(xmpp_session *s, uint64_t now) {
    if (s->step != STEP_READY || !s->sm.enabled)
        return;
    if (s->sm.r_out && !s->sm.r_deadline)
        s->sm.r_deadline = now + ack_timeout(s);
    if (s->sm.r_out && now >= s->sm.r_deadline) {
        static const char text[] = "no stream management acknowledgement: connection is dead";
        if (!s->sm.resumable) {
            xmpp__session_fail(s, XMPP_CAUSE_TIMEOUT, XMPP_SC_NONE, text);
            return;
        }
        /* No </stream:stream>: to a server still reading us, it would end
         * the session we mean to resume (XEP-0198 §7). */
        xmpp__log(s->ctx, XMPP_LOG_ERROR, "session", "session failed: %s", text);
        s->cause = XMPP_CAUSE_TIMEOUT;
        if (s->err_text == NULL)
            s->err_text = xmpp__strdup(s->ctx, text);
        xmpp__session_end(s, XMPP_CAUSE_TIMEOUT);
        return;
    }
    if (!s->sm.r_out && s->sm.r_due && now >= s->sm.r_due && s->sm.n_unacked > 0) {
        request_ack(s);
        s->sm.r_deadline = now + ack_timeout(s);
    } else if (s->sm.r_due && now >= s->sm.r_due)
        s->sm.r_due = 0;
}

int xmpp__sm_keepalive(xmpp_session *s) {
    if (!s->sm.enabled)
        return 0;
    if (!s->sm.r_out) {
        request_ack(s);
        s->sm.r_deadline = s->now + ack_timeout(s); /* from handle_timeout: current */
    }
    return 1;
}

/* Before our </stream:stream>: tell the server what we handled (else it
 * treats those stanzas as undelivered and re-routes them, XEP-0198 §4),
 * and learn what it got. */
void xmpp__sm_closing(xmpp_session *s) {
    send_ack(s);
    if (s->sm.n_unacked > 0 && !s->sm.r_out)
        request_ack(s);
}

void xmpp__sm_free(xmpp_session *s) {
    xmpp_sm_entry *e;
    /* the session is going away: sends from the callbacks are refused
     * (else a stanza sent again from its RETURNED callback would come back
     * again, forever) */
    s->step = STEP_CLOSING;
    s->sm.n_unacked = 0;
    while ((e = pop_head(s)) != NULL)
        complete(s, e, XMPP_SENT_RETURNED);
    xmpp__free(s->ctx, s->sm.id);
    xmpp__free(s->ctx, s->sm.location);
    s->sm.id = s->sm.location = NULL;
}

/* ---- queries */
int xmpp_session_sm_queue(const xmpp_session *s, size_t *unacked, size_t *queued, size_t *bytes) {
    if (unacked)
        *unacked = s ? s->sm.n_unacked : 0;
    if (queued)
        *queued = s ? s->sm.n_queued : 0;
    if (bytes)
        *bytes = s ? s->sm.bytes : 0;
    return s != NULL && s->sm.enabled;
}

int xmpp_session_resumed(const xmpp_session *s) {
    return s != NULL && s->sm.resumed;
}

const char *xmpp_session_sm_location(const xmpp_session *s) {
    return s ? s->sm.location : NULL;
}

int xmpp_session_can_resume(const xmpp_session *s, uint64_t now) {
    if (s == NULL || s->o.sm_mode != XMPP_SM_RESUME || !s->sm.resumable || s->sm.id == NULL)
        return 0;
    /* the server keeps the session for max seconds after it noticed the
     * loss; we noticed no earlier than it did, so this errs on the side of
     * trying (a refused resume costs one round trip) */
    if (s->sm.max_s && s->sm.lost_at && now > s->sm.lost_at &&
        now - s->sm.lost_at > (uint64_t)s->sm.max_s * 1000u)
        return 0;
    return 1;
}

/* ---- export and import (a process restart can resume)
 *
 * The state is an XMPP stream document, so that importing it goes through
 * the hardened stream parser with its limits:
 *
 *   <stream:stream xmlns='jabber:client' xmlns:stream='...'>
 *   <sm-state xmlns='urn:libxmpp:sm-state:1' version='1' account='bare'
 *             jid='bound full JID' id='...' h='..' sent='..' acked='..'
 *             unacked='..' location='..' max='..'/>
 *   <q xmlns='urn:libxmpp:sm-state:1' stamp='unix seconds' resend='0|1'>
 *     <message xmlns='jabber:client' .../></q> ...
 *   </stream:stream>
 */
#define XMPP_NS_SMSTATE "urn:libxmpp:sm-state:1"
#define SMSTATE_HEAD                                                                  \
    "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "                     \
    "xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>"

static int set_u(xmpp_stanza *st, const char *name, unsigned long v) {
    char buf[24];
    snprintf(buf, sizeof(buf), "%lu", v);
    return xmpp_stanza_set_attr(st, name, buf);
}

int xmpp_session_sm_export(const xmpp_session *s, char **out, size_t *len) {
    xmpp_stanza *st = NULL;
    xmpp_buf b;
    const xmpp_sm_entry *e;
    size_t i = 0;
    int rc;
    if (out)
        *out = NULL;
    if (len)
        *len = 0;
    if (s == NULL || out == NULL)
        return XMPP_ERR_INVALID;
    /* nothing to resume and nothing queued: nothing worth a document (and
     * nothing an import would take) */
    if ((s->sm.id == NULL || !s->sm.resumable) && s->sm.n_queued == 0)
        return XMPP_ERR_STATE;
    if ((rc = xmpp_stanza_new(&st, s->ctx, "sm-state", XMPP_NS_SMSTATE)) != XMPP_OK)
        return rc;
    if ((rc = xmpp_stanza_set_attr(st, "version", "1")) != XMPP_OK ||
        (rc = xmpp_stanza_set_attr(st, "account", xmpp_jid_bare(s->jid))) != XMPP_OK ||
        (s->bound_jid && (rc = xmpp_stanza_set_attr(st, "jid", s->bound_jid)) != XMPP_OK) ||
        (s->sm.id && s->sm.resumable && (rc = xmpp_stanza_set_attr(st, "id", s->sm.id)) != XMPP_OK) ||
        (s->sm.location && (rc = xmpp_stanza_set_attr(st, "location", s->sm.location)) != XMPP_OK) ||
        (rc = set_u(st, "h", s->sm.h_in)) != XMPP_OK ||
        (rc = set_u(st, "sent", s->sm.sent)) != XMPP_OK ||
        (rc = set_u(st, "acked", s->sm.acked)) != XMPP_OK ||
        (rc = set_u(st, "unacked", (unsigned long)s->sm.n_unacked)) != XMPP_OK ||
        (rc = set_u(st, "max", s->sm.max_s)) != XMPP_OK) {
        xmpp_stanza_unref(st);
        return rc;
    }
    xmpp__buf_init(&b, s->ctx);
    xmpp__buf_append_str(&b, SMSTATE_HEAD);
    rc = xmpp__stanza_serialize_buf(st, XMPP_NS_CLIENT, &b);
    xmpp_stanza_unref(st);
    for (e = s->sm.head; e && rc == XMPP_OK; e = e->next, i++) {
        char q[128];
        snprintf(q, sizeof(q), "<q xmlns='" XMPP_NS_SMSTATE "' stamp='%lld' resend='%d'>",
                 e->stamp < 0 ? 0LL : e->stamp, e->resend ? 1 : 0);
        xmpp__buf_append_str(&b, q);
        rc = xmpp__stanza_serialize_buf(e->st, NULL, &b);
        xmpp__buf_append_str(&b, "</q>");
    }
    xmpp__buf_append_str(&b, "</stream:stream>");
    xmpp__buf_append(&b, "", 1);
    if (rc == XMPP_OK && b.oom)
        rc = XMPP_ERR_NOMEM;
    if (rc != XMPP_OK) {
        xmpp__buf_free(&b);
        return rc;
    }
    if (len)
        *len = b.len - 1;
    *out = b.data; /* the buffer's memory comes from the context allocator */
    return XMPP_OK;
}

typedef struct import_ctx {
    xmpp_session *s;
    int err;          /* XMPP_OK while fine */
    int header_ok, state_seen, ended;
    xmpp_jid *bound;
    char *id, *location;
    uint32_t h, sent, acked, max;
    size_t unacked;
    xmpp_sm_entry *head, *tail;
    size_t n, bytes;
} import_ctx;

static void imp_start(xmpp_stanza *header, const char *default_ns, void *ud) {
    import_ctx *ic = ud;
    (void)header;
    if (default_ns == NULL || strcmp(default_ns, XMPP_NS_CLIENT) != 0)
        ic->err = XMPP_ERR_INVALID;
    ic->header_ok = 1;
}

static int imp_str(import_ctx *ic, const xmpp_stanza *st, const char *name, size_t max,
                   char **out) {
    const char *v = xmpp_stanza_attr(st, name);
    if (v == NULL)
        return 0;
    if (v[0] == '\0' || strlen(v) > max)
        return -1;
    if ((*out = xmpp__strdup(ic->s->ctx, v)) == NULL) {
        ic->err = XMPP_ERR_NOMEM;
        return -1;
    }
    return 0;
}

static void imp_state(import_ctx *ic, const xmpp_stanza *st) {
    xmpp_session *s = ic->s;
    const char *v = xmpp_stanza_attr(st, "version"), *acct = xmpp_stanza_attr(st, "account");
    const char *jid = xmpp_stanza_attr(st, "jid");
    uint32_t un = 0;
    int rc;
    if (v == NULL || strcmp(v, "1") != 0 || acct == NULL ||
        strcmp(acct, xmpp_jid_bare(s->jid)) != 0 || parse_u32(xmpp_stanza_attr(st, "h"), &ic->h) ||
        parse_u32(xmpp_stanza_attr(st, "sent"), &ic->sent) ||
        parse_u32(xmpp_stanza_attr(st, "acked"), &ic->acked) ||
        parse_u32(xmpp_stanza_attr(st, "unacked"), &un) ||
        parse_u32(xmpp_stanza_attr(st, "max"), &ic->max) ||
        (uint32_t)(ic->sent - ic->acked) != un || imp_str(ic, st, "id", SM_MAX_ID, &ic->id) ||
        imp_str(ic, st, "location", 300, &ic->location)) {
        if (ic->err == XMPP_OK)
            ic->err = XMPP_ERR_INVALID;
        return;
    }
    ic->unacked = un;
    if (jid != NULL) {
        rc = xmpp_jid_parse(&ic->bound, s->ctx, jid);
        if (rc != XMPP_OK || !xmpp_jid_is_full(ic->bound) || !xmpp_jid_bare_equal(ic->bound, s->jid)) {
            ic->err = rc == XMPP_ERR_NOMEM ? rc : XMPP_ERR_INVALID;
            return;
        }
    } else if (ic->id != NULL) {
        ic->err = XMPP_ERR_INVALID; /* a resumable stream has a bound JID */
        return;
    }
    ic->state_seen = 1;
}

static void imp_entry(import_ctx *ic, const xmpp_stanza *q) {
    xmpp_session *s = ic->s;
    const xmpp_stanza *c, *st = NULL;
    const char *stamp = xmpp_stanza_attr(q, "stamp"), *resend = xmpp_stanza_attr(q, "resend");
    uint32_t t = 0;
    xmpp_sm_entry *e;
    xmpp_buf tmp;
    size_t size;
    int rc;
    for (c = xmpp_stanza_first_child(q); c; c = xmpp_stanza_next(c)) {
        if (xmpp_stanza_is_text(c))
            continue; /* whitespace between elements */
        if (st != NULL) {
            ic->err = XMPP_ERR_INVALID;
            return;
        }
        st = c;
    }
    if (st == NULL || !is_stanza(st) || parse_u32(stamp, &t) != 0 || resend == NULL ||
        (strcmp(resend, "0") != 0 && strcmp(resend, "1") != 0) ||
        ic->n + 1 > s->o.sm_max_stanzas) {
        ic->err = XMPP_ERR_INVALID;
        return;
    }
    xmpp__buf_init(&tmp, s->ctx);
    rc = xmpp__stanza_serialize_buf(st, XMPP_NS_CLIENT, &tmp);
    size = tmp.len;
    xmpp__buf_free(&tmp);
    if (rc != XMPP_OK) {
        ic->err = rc;
        return;
    }
    if (ic->bytes + size > s->o.sm_max_bytes) {
        ic->err = XMPP_ERR_INVALID;
        return;
    }
    if ((e = xmpp__malloc(s->ctx, sizeof(*e))) == NULL) {
        ic->err = XMPP_ERR_NOMEM;
        return;
    }
    memset(e, 0, sizeof(*e));
    if ((rc = xmpp_stanza_copy(&e->st, st)) != XMPP_OK) {
        xmpp__free(s->ctx, e);
        ic->err = rc;
        return;
    }
    e->bytes = size;
    e->stamp = (long long)t;
    e->resend = resend[0] == '1';
    if (ic->tail)
        ic->tail->next = e;
    else
        ic->head = e;
    ic->tail = e;
    ic->n++;
    ic->bytes += e->bytes;
}

static void imp_stanza(xmpp_stanza *st, void *ud) {
    import_ctx *ic = ud;
    if (ic->err != XMPP_OK || ic->ended)
        return;
    if (!ic->state_seen) {
        if (is(st, "sm-state", XMPP_NS_SMSTATE))
            imp_state(ic, st);
        else
            ic->err = XMPP_ERR_INVALID;
        return;
    }
    if (is(st, "q", XMPP_NS_SMSTATE))
        imp_entry(ic, st);
    else
        ic->err = XMPP_ERR_INVALID;
}

static void imp_end(void *ud) {
    ((import_ctx *)ud)->ended = 1;
}

static void imp_free(import_ctx *ic) {
    xmpp_ctx *ctx = ic->s->ctx;
    while (ic->head) {
        xmpp_sm_entry *e = ic->head;
        ic->head = e->next;
        xmpp_stanza_unref(e->st);
        xmpp__free(ctx, e);
    }
    xmpp_jid_free(ic->bound);
    xmpp__free(ctx, ic->id);
    xmpp__free(ctx, ic->location);
}

int xmpp_session_sm_import(xmpp_session *s, const char *data, size_t len) {
    import_ctx ic;
    xmpp_xml_parser *p = NULL;
    xmpp_xml_callbacks cb;
    char *bound = NULL;
    int rc;
    if (s == NULL || (data == NULL && len > 0))
        return XMPP_ERR_INVALID;
    if (s->step != STEP_IDLE || s->sm.n_queued > 0 || s->sm.id != NULL)
        return XMPP_ERR_STATE;
    memset(&ic, 0, sizeof(ic));
    ic.s = s;
    cb.stream_start = imp_start;
    cb.stanza = imp_stanza;
    cb.stream_end = imp_end;
    if ((rc = xmpp_xml_parser_new(&p, s->ctx, &cb, &ic)) != XMPP_OK)
        return rc;
    rc = xmpp_xml_parser_feed(p, data, len);
    xmpp_xml_parser_free(p);
    if (rc == XMPP_ERR_NOMEM)
        ic.err = XMPP_ERR_NOMEM;
    else if (ic.err == XMPP_OK && (rc != XMPP_OK || !ic.header_ok || !ic.state_seen || !ic.ended ||
                                   ic.unacked > ic.n || (ic.id == NULL && ic.n == 0)))
        ic.err = XMPP_ERR_INVALID; /* malformed, truncated, counters that do not fit, or
                                    * empty (an export always has a stream or stanzas) */
    if (ic.err == XMPP_OK && ic.bound &&
        (bound = xmpp__strdup(s->ctx, xmpp_jid_full(ic.bound))) == NULL)
        ic.err = XMPP_ERR_NOMEM;
    if (ic.err != XMPP_OK) {
        imp_free(&ic);
        return ic.err;
    }
    /* all checked: take it */
    xmpp__free(s->ctx, s->bound_jid);
    s->bound_jid = bound;
    s->sm.id = ic.id;
    s->sm.location = ic.location;
    ic.id = ic.location = NULL;
    s->sm.resumable = s->sm.id != NULL;
    s->sm.max_s = ic.max;
    s->sm.lost_at = 0; /* unknown here: the server decides */
    s->sm.h_in = ic.h;
    s->sm.h_in_told = ic.h;
    s->sm.sent = ic.sent;
    s->sm.acked = ic.acked;
    s->sm.head = ic.head;
    s->sm.tail = ic.tail;
    s->sm.n_queued = ic.n;
    s->sm.n_unacked = ic.unacked;
    s->sm.bytes = ic.bytes;
    ic.head = ic.tail = NULL;
    imp_free(&ic);
    xmpp__log(s->ctx, XMPP_LOG_INFO, "sm", "imported stream state: %s, %lu queued",
              s->sm.id ? "resumable" : "not resumable", (unsigned long)s->sm.n_queued);
    return XMPP_OK;
}
