/* XEP-0050 Ad-Hoc Commands, requester side. Uses only the public
 * interface (plus the allocator). */
#include "core/internal.h"

#include <string.h>

#include <xmpp/session.h>
#include <xmpp/stanza.h>
#include <xmpp/sys/plugin.h>
#include <xmpp/xep/adhoc.h>
#include <xmpp/xep/forms.h>

#define NS_DISCO_ITEMS "http://jabber.org/protocol/disco#items"
#define MAX_NOTES      16
#define MAX_ITEMS      256

static const char *const action_names[] = {"execute", "next", "prev", "complete", "cancel"};

struct xmpp_adhoc_result {
    xmpp_adhoc_status status;
    const char *sessionid;
    xmpp_form *form;
    unsigned allowed; /* bits by action */
    const char *notes[MAX_NOTES], *note_types[MAX_NOTES];
    size_t n_notes;
};

xmpp_adhoc_status xmpp_adhoc_result_status(const xmpp_adhoc_result *r) {
    return r ? r->status : XMPP_ADHOC_CANCELED;
}
const char *xmpp_adhoc_result_sessionid(const xmpp_adhoc_result *r) {
    return r ? r->sessionid : NULL;
}
const xmpp_form *xmpp_adhoc_result_form(const xmpp_adhoc_result *r) {
    return r ? r->form : NULL;
}
int xmpp_adhoc_result_allows(const xmpp_adhoc_result *r, xmpp_adhoc_action a) {
    if (r == NULL || (unsigned)a > XMPP_ADHOC_CANCEL || r->status != XMPP_ADHOC_EXECUTING)
        return 0;
    return (r->allowed >> a) & 1u;
}
size_t xmpp_adhoc_result_note_count(const xmpp_adhoc_result *r) {
    return r ? r->n_notes : 0;
}
const char *xmpp_adhoc_result_note(const xmpp_adhoc_result *r, size_t i, const char **type) {
    if (type)
        *type = NULL;
    if (r == NULL || i >= r->n_notes)
        return NULL;
    if (type)
        *type = r->note_types[i];
    return r->notes[i];
}

struct adhoc_req {
    xmpp_adhoc_fn cb;
    xmpp_adhoc_list_fn lcb;
    void *ud;
};

static const char *first_text(const xmpp_stanza *el) {
    xmpp_stanza *t = el ? xmpp_stanza_first_child(el) : NULL;
    return t ? xmpp_stanza_text_ptr(t) : NULL;
}

/* Reads <command/> (XEP-0050 §3.4); 0 when it is not a valid answer. */
static int parse_command(xmpp_ctx *ctx, const xmpp_stanza *cmd, xmpp_adhoc_result *r) {
    const char *st = xmpp_stanza_attr(cmd, "status");
    xmpp_stanza *c, *actions;
    memset(r, 0, sizeof(*r));
    if (st == NULL || (r->sessionid = xmpp_stanza_attr(cmd, "sessionid")) == NULL)
        return 0;
    if (strcmp(st, "executing") == 0)
        r->status = XMPP_ADHOC_EXECUTING;
    else if (strcmp(st, "completed") == 0)
        r->status = XMPP_ADHOC_COMPLETED;
    else if (strcmp(st, "canceled") == 0)
        r->status = XMPP_ADHOC_CANCELED;
    else
        return 0;
    r->allowed = (1u << XMPP_ADHOC_EXECUTE) | (1u << XMPP_ADHOC_CANCEL);
    if ((actions = xmpp_stanza_child(cmd, "actions", XMPP_NS_COMMANDS)) != NULL) {
        for (c = xmpp_stanza_child(actions, NULL, XMPP_NS_COMMANDS); c;
             c = xmpp_stanza_next_match(c, NULL, XMPP_NS_COMMANDS)) {
            unsigned k;
            for (k = 1; k < 4; k++)
                if (strcmp(xmpp_stanza_name(c), action_names[k]) == 0)
                    r->allowed |= 1u << k;
        }
    }
    for (c = xmpp_stanza_child(cmd, "note", XMPP_NS_COMMANDS); c && r->n_notes < MAX_NOTES;
         c = xmpp_stanza_next_match(c, "note", XMPP_NS_COMMANDS)) {
        const char *t = xmpp_stanza_attr(c, "type");
        r->note_types[r->n_notes] = t ? t : "info";
        r->notes[r->n_notes++] = first_text(c) ? first_text(c) : "";
    }
    /* a form that does not parse makes the whole answer invalid */
    if (xmpp_stanza_child(cmd, "x", XMPP_NS_DATA_FORMS) &&
        xmpp_form_parse_child(&r->form, ctx, cmd) != XMPP_OK)
        return 0;
    return 1;
}

static void exec_done(xmpp_session *s, xmpp_iq_status status, xmpp_stanza *reply, void *ud) {
    struct adhoc_req q = *(struct adhoc_req *)ud;
    xmpp_adhoc_result r;
    xmpp_stanza *cmd = reply ? xmpp_stanza_child(reply, "command", XMPP_NS_COMMANDS) : NULL;
    int ok = 0;
    xmpp_free(xmpp_session_ctx(s), ud);
    memset(&r, 0, sizeof(r));
    if (status == XMPP_IQ_RESULT) {
        ok = cmd != NULL && parse_command(xmpp_session_ctx(s), cmd, &r);
        if (!ok) {
            xmpp_form_free(r.form);
            r.form = NULL;
            status = XMPP_IQ_ERROR;
        }
    }
    if (q.cb)
        q.cb(s, status, ok ? &r : NULL, reply, q.ud);
    xmpp_form_free(r.form);
}

static int send_req(xmpp_session *s, xmpp_stanza *iq, unsigned timeout_ms, xmpp_iq_fn done,
                    xmpp_adhoc_fn cb, xmpp_adhoc_list_fn lcb, void *ud) {
    xmpp_ctx *ctx = xmpp_session_ctx(s);
    struct adhoc_req *q = xmpp__malloc(ctx, sizeof(*q));
    int rc;
    if (q == NULL) {
        xmpp_stanza_unref(iq);
        return XMPP_ERR_NOMEM;
    }
    q->cb = cb;
    q->lcb = lcb;
    q->ud = ud;
    rc = xmpp_session_send_iq(s, iq, timeout_ms, done, q);
    if (rc != XMPP_OK)
        xmpp__free(ctx, q);
    xmpp_stanza_unref(iq);
    return rc;
}

int xmpp_adhoc_execute(xmpp_session *s, const char *to, const char *node, xmpp_adhoc_action action,
                       const char *sessionid, const xmpp_form *form, unsigned timeout_ms,
                       xmpp_adhoc_fn cb, void *user_data) {
    xmpp_ctx *ctx = xmpp_session_ctx(s);
    xmpp_stanza *iq = NULL, *cmd = NULL, *x = NULL;
    char id[32];
    int rc;
    if (s == NULL || to == NULL || node == NULL || (unsigned)action > XMPP_ADHOC_CANCEL ||
        (form && xmpp_form_get_type(form) != XMPP_FORM_SUBMIT &&
         xmpp_form_get_type(form) != XMPP_FORM_CANCEL))
        return XMPP_ERR_INVALID;
    xmpp_session_new_id(s, id, sizeof(id));
    if ((rc = xmpp_iq_new(&iq, ctx, "set", to, id)) != XMPP_OK)
        return rc;
    rc = xmpp_stanza_add_child_new(iq, "command", XMPP_NS_COMMANDS, &cmd);
    if (rc == XMPP_OK)
        rc = xmpp_stanza_set_attr(cmd, "node", node);
    if (rc == XMPP_OK)
        rc = xmpp_stanza_set_attr(cmd, "action", action_names[action]);
    if (rc == XMPP_OK && sessionid)
        rc = xmpp_stanza_set_attr(cmd, "sessionid", sessionid);
    if (rc == XMPP_OK && form && (rc = xmpp_form_to_stanza(form, ctx, &x)) == XMPP_OK) {
        rc = xmpp_stanza_add_child(cmd, x);
        xmpp_stanza_unref(x);
    }
    if (rc != XMPP_OK) {
        xmpp_stanza_unref(iq);
        return rc;
    }
    return send_req(s, iq, timeout_ms, exec_done, cb, NULL, user_data);
}

static void list_done(xmpp_session *s, xmpp_iq_status status, xmpp_stanza *reply, void *ud) {
    struct adhoc_req q = *(struct adhoc_req *)ud;
    const char *nodes[MAX_ITEMS], *names[MAX_ITEMS];
    size_t n = 0;
    xmpp_stanza *query = reply ? xmpp_stanza_child(reply, "query", NS_DISCO_ITEMS) : NULL, *it;
    xmpp_free(xmpp_session_ctx(s), ud);
    if (status == XMPP_IQ_RESULT && query == NULL)
        status = XMPP_IQ_ERROR;
    for (it = query ? xmpp_stanza_child(query, "item", NS_DISCO_ITEMS) : NULL; it && n < MAX_ITEMS;
         it = xmpp_stanza_next_match(it, "item", NS_DISCO_ITEMS)) {
        if (xmpp_stanza_attr(it, "node") == NULL)
            continue;
        nodes[n] = xmpp_stanza_attr(it, "node");
        names[n++] = xmpp_stanza_attr(it, "name");
    }
    if (q.lcb)
        q.lcb(s, status, status == XMPP_IQ_RESULT ? n : 0, nodes, names, q.ud);
}

int xmpp_adhoc_list(xmpp_session *s, const char *to, xmpp_adhoc_list_fn cb, void *user_data) {
    xmpp_stanza *iq = NULL, *q = NULL;
    char id[32];
    int rc;
    if (s == NULL || to == NULL)
        return XMPP_ERR_INVALID;
    xmpp_session_new_id(s, id, sizeof(id));
    if ((rc = xmpp_iq_new(&iq, xmpp_session_ctx(s), "get", to, id)) != XMPP_OK)
        return rc;
    rc = xmpp_stanza_add_child_new(iq, "query", NS_DISCO_ITEMS, &q);
    if (rc == XMPP_OK)
        rc = xmpp_stanza_set_attr(q, "node", XMPP_NS_COMMANDS);
    if (rc != XMPP_OK) {
        xmpp_stanza_unref(iq);
        return rc;
    }
    return send_req(s, iq, 0, list_done, NULL, cb, user_data);
}
