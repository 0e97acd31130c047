/* XEP-0045 Multi-User Chat, XEP-0249 direct invitations, XEP-0410 MUC
 * self-ping: the "muc" plugin. Uses only the public interface (plus the
 * allocator). */
#include "core/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xmpp/jid.h>
#include <xmpp/session.h>
#include <xmpp/stanza.h>
#include <xmpp/sys/plugin.h>
#include <xmpp/xep/forms.h>
#include <xmpp/xep/muc.h>
#include <xmpp/xep/ping.h>

#include "plugin/plugin_int.h"

#define MUC_MAX_ROOMS       256
#define MUC_MAX_OCCUPANTS   10000
#define MUC_JOIN_TIMEOUT_MS 30000
#define NS_DELAY            "urn:xmpp:delay"

enum room_state { ROOM_JOINING, ROOM_JOINED };

struct muc_room {
    char *jid;      /* bare, prepared */
    char *nick;     /* own nick, prepared */
    char *password; /* or NULL */
    char *subject;  /* or NULL */
    enum room_state state;
    xmpp_muc_join_fn cb;
    void *cb_ud;
    int cb_pending;
    unsigned timeout_ms;
    unsigned long timer;
    int pinging;
    xmpp_muc_occupant *occ;
    size_t n_occ;
};

struct muc_state {
    xmpp_ctx *ctx;
    struct muc_room **rooms;
    size_t n_rooms;
    xmpp_muc_callbacks cb;
    void *cb_ud;
    unsigned long h_presence, h_message;
    unsigned ping_interval;
    int auto_rejoin;
    unsigned long ping_timer;
};

static struct muc_state *get_state(const xmpp_session *s) {
    return xmpp_session_plugin_state(s, "muc");
}

/* ---- names ------------------------------------------------------------- */

static const char *const role_names[] = {"none", "visitor", "participant", "moderator"};
static const char *const aff_names[] = {"none", "outcast", "member", "admin", "owner"};

const char *xmpp_muc_role_name(xmpp_muc_role r) {
    return (unsigned)r < 4 ? role_names[r] : "none";
}
const char *xmpp_muc_affiliation_name(xmpp_muc_affiliation a) {
    return (unsigned)a < 5 ? aff_names[a] : "none";
}
static xmpp_muc_role role_from(const char *v) {
    int i;
    for (i = 0; v && i < 4; i++)
        if (strcmp(v, role_names[i]) == 0)
            return (xmpp_muc_role)i;
    return XMPP_MUC_ROLE_NONE;
}
static xmpp_muc_affiliation aff_from(const char *v) {
    int i;
    for (i = 0; v && i < 5; i++)
        if (strcmp(v, aff_names[i]) == 0)
            return (xmpp_muc_affiliation)i;
    return XMPP_MUC_AFF_NONE;
}

/* ---- rooms and occupants ------------------------------------------------ */

static char *dup_or_null(xmpp_ctx *ctx, const char *v, int *oom) {
    char *d;
    if (v == NULL)
        return NULL;
    if ((d = xmpp__strdup(ctx, v)) == NULL)
        *oom = 1;
    return d;
}

static void occ_clear(xmpp_ctx *ctx, xmpp_muc_occupant *o) {
    xmpp__free(ctx, (char *)o->nick);
    xmpp__free(ctx, (char *)o->real_jid);
    xmpp__free(ctx, (char *)o->show);
    xmpp__free(ctx, (char *)o->status);
    memset(o, 0, sizeof(*o));
}

static void room_clear_occupants(xmpp_ctx *ctx, struct muc_room *r) {
    size_t i;
    for (i = 0; i < r->n_occ; i++)
        occ_clear(ctx, &r->occ[i]);
    xmpp__free(ctx, r->occ);
    r->occ = NULL;
    r->n_occ = 0;
}

static void room_free(xmpp_session *s, struct muc_state *st, struct muc_room *r) {
    if (r == NULL)
        return;
    if (r->timer)
        xmpp_session_remove_timer(s, r->timer);
    room_clear_occupants(st->ctx, r);
    xmpp__free(st->ctx, r->jid);
    xmpp__free(st->ctx, r->nick);
    xmpp__free(st->ctx, r->password);
    xmpp__free(st->ctx, r->subject);
    xmpp__free(st->ctx, r);
}

static struct muc_room *find_room(const struct muc_state *st, const char *bare) {
    size_t i;
    if (st == NULL || bare == NULL)
        return NULL;
    for (i = 0; i < st->n_rooms; i++)
        if (strcmp(st->rooms[i]->jid, bare) == 0)
            return st->rooms[i];
    return NULL;
}

static int room_alive(const struct muc_state *st, const struct muc_room *r) {
    size_t i;
    for (i = 0; st && i < st->n_rooms; i++)
        if (st->rooms[i] == r)
            return 1;
    return 0;
}

/* Takes a room out of the list (the caller frees it). */
static void room_unlink(struct muc_state *st, struct muc_room *r) {
    size_t i;
    for (i = 0; i < st->n_rooms; i++)
        if (st->rooms[i] == r) {
            memmove(&st->rooms[i], &st->rooms[i + 1], (st->n_rooms - i - 1) * sizeof(r));
            st->n_rooms--;
            return;
        }
}

/* The prepared bare form of a room JID given by the application; a room
 * JID has no resource. *out is owned by the caller (xmpp__free). */
static int room_bare(xmpp_ctx *ctx, const char *room, char **out) {
    xmpp_jid *j = NULL;
    int rc;
    *out = NULL;
    if (room == NULL)
        return XMPP_ERR_INVALID;
    if ((rc = xmpp_jid_parse(&j, ctx, room)) != XMPP_OK)
        return rc == XMPP_ERR_NOMEM ? rc : XMPP_ERR_INVALID;
    if (xmpp_jid_is_full(j) || xmpp_jid_local(j) == NULL) {
        xmpp_jid_free(j);
        return XMPP_ERR_INVALID;
    }
    *out = xmpp__strdup(ctx, xmpp_jid_bare(j));
    xmpp_jid_free(j);
    return *out ? XMPP_OK : XMPP_ERR_NOMEM;
}

/* Splits a stanza's from into prepared bare JID and resource (NULL when
 * none). Returns 0 when from is absent or malformed. */
static int split_from(xmpp_ctx *ctx, const char *from, xmpp_jid **j) {
    *j = NULL;
    if (from == NULL || xmpp_jid_parse(j, ctx, from) != XMPP_OK)
        return 0;
    return 1;
}

static int room_lookup(xmpp_session *s, const char *room, struct muc_state **st,
                       struct muc_room **r) {
    char *bare = NULL;
    int rc;
    *st = get_state(s);
    *r = NULL;
    if (*st == NULL)
        return XMPP_ERR_STATE;
    if ((rc = room_bare((*st)->ctx, room, &bare)) != XMPP_OK)
        return rc;
    *r = find_room(*st, bare);
    xmpp__free((*st)->ctx, bare);
    return XMPP_OK;
}

static xmpp_muc_occupant *occ_find(struct muc_room *r, const char *nick) {
    size_t i;
    for (i = 0; nick && i < r->n_occ; i++)
        if (strcmp(r->occ[i].nick, nick) == 0)
            return &r->occ[i];
    return NULL;
}

/* ---- join completion ---------------------------------------------------- */

static void join_complete(xmpp_session *s, struct muc_room *r, xmpp_muc_join_status status,
                          xmpp_stanza_condition cond, const char *text, unsigned bits) {
    xmpp_muc_join_fn cb = r->cb;
    if (!r->cb_pending)
        return;
    r->cb_pending = 0;
    if (r->timer) {
        xmpp_session_remove_timer(s, r->timer);
        r->timer = 0;
    }
    if (cb)
        cb(s, r->jid, status, cond, text, bits, r->cb_ud);
}

static void join_timeout(xmpp_session *s, void *ud) {
    struct muc_state *st = get_state(s);
    struct muc_room *r = ud;
    if (!room_alive(st, r))
        return;
    r->timer = 0;
    room_unlink(st, r);
    join_complete(s, r, XMPP_MUC_JOIN_TIMEOUT, (xmpp_stanza_condition)0, NULL, 0);
    room_free(s, st, r);
}

/* Sends the join presence for a room (XEP-0045 §7.2.2). */
static int send_join(xmpp_session *s, struct muc_state *st, struct muc_room *r,
                     const xmpp_muc_history *h) {
    xmpp_stanza *p = NULL, *x = NULL, *hist = NULL;
    char to[4200], num[24];
    int rc;
    snprintf(to, sizeof(to), "%s/%s", r->jid, r->nick);
    if ((rc = xmpp_presence_new(&p, st->ctx, NULL, to, NULL)) != XMPP_OK)
        return rc;
    rc = xmpp_stanza_add_child_new(p, "x", XMPP_NS_MUC, &x);
    if (rc == XMPP_OK && r->password) {
        xmpp_stanza *pw = NULL;
        rc = xmpp_stanza_add_child_new(x, "password", NULL, &pw);
        if (rc == XMPP_OK)
            rc = xmpp_stanza_add_text(pw, r->password, strlen(r->password));
    }
    if (rc == XMPP_OK && h &&
        (h->maxstanzas >= 0 || h->maxchars >= 0 || h->seconds >= 0 || h->since)) {
        rc = xmpp_stanza_add_child_new(x, "history", NULL, &hist);
        if (rc == XMPP_OK && h->maxchars >= 0) {
            snprintf(num, sizeof(num), "%d", h->maxchars);
            rc = xmpp_stanza_set_attr(hist, "maxchars", num);
        }
        if (rc == XMPP_OK && h->maxstanzas >= 0) {
            snprintf(num, sizeof(num), "%d", h->maxstanzas);
            rc = xmpp_stanza_set_attr(hist, "maxstanzas", num);
        }
        if (rc == XMPP_OK && h->seconds >= 0) {
            snprintf(num, sizeof(num), "%d", h->seconds);
            rc = xmpp_stanza_set_attr(hist, "seconds", num);
        }
        if (rc == XMPP_OK && h->since)
            rc = xmpp_stanza_set_attr(hist, "since", h->since);
    }
    if (rc == XMPP_OK)
        rc = xmpp_session_send(s, p);
    xmpp_stanza_unref(p);
    if (rc == XMPP_OK && r->timer == 0)
        rc = xmpp_session_add_timer(s, r->timeout_ms, join_timeout, r, &r->timer);
    return rc;
}

int xmpp_muc_join(xmpp_session *s, const char *room, const char *nick, const char *password,
                  const xmpp_muc_history *history, unsigned timeout_ms, xmpp_muc_join_fn cb,
                  void *user_data) {
    struct muc_state *st;
    struct muc_room *r = NULL, **nr;
    xmpp_jid *occ = NULL;
    char *bare = NULL, buf[4200];
    int rc, oom = 0;
    if ((rc = room_lookup(s, room, &st, &r)) != XMPP_OK)
        return rc;
    if (r != NULL)
        return XMPP_ERR_STATE;
    if (nick == NULL || nick[0] == '\0' || strlen(nick) > 1023 ||
        (password && strlen(password) > 1024))
        return XMPP_ERR_INVALID;
    if (st->n_rooms >= MUC_MAX_ROOMS)
        return XMPP_ERR_LIMIT;
    if ((rc = room_bare(st->ctx, room, &bare)) != XMPP_OK)
        return rc;
    /* the nick must make a valid occupant JID; keep its prepared form */
    snprintf(buf, sizeof(buf), "%s/%s", bare, nick);
    if ((rc = xmpp_jid_parse(&occ, st->ctx, buf)) != XMPP_OK) {
        xmpp__free(st->ctx, bare);
        return rc == XMPP_ERR_NOMEM ? rc : XMPP_ERR_INVALID;
    }
    r = xmpp__malloc(st->ctx, sizeof(*r));
    nr = xmpp__realloc(st->ctx, st->rooms, (st->n_rooms + 1) * sizeof(*nr));
    if (nr)
        st->rooms = nr;
    if (r == NULL || nr == NULL) {
        xmpp__free(st->ctx, r);
        xmpp__free(st->ctx, bare);
        xmpp_jid_free(occ);
        return XMPP_ERR_NOMEM;
    }
    memset(r, 0, sizeof(*r));
    r->jid = bare;
    r->nick = dup_or_null(st->ctx, xmpp_jid_resource(occ), &oom);
    r->password = dup_or_null(st->ctx, password, &oom);
    xmpp_jid_free(occ);
    r->state = ROOM_JOINING;
    r->cb = cb;
    r->cb_ud = user_data;
    r->timeout_ms = timeout_ms ? timeout_ms : MUC_JOIN_TIMEOUT_MS;
    if (oom || (rc = send_join(s, st, r, history)) != XMPP_OK) {
        room_free(s, st, r);
        return oom ? XMPP_ERR_NOMEM : rc;
    }
    st->rooms[st->n_rooms++] = r;
    r->cb_pending = 1;
    return XMPP_OK;
}

int xmpp_muc_rejoin_all(xmpp_session *s) {
    struct muc_state *st = get_state(s);
    xmpp_muc_history none = {0, -1, -1, NULL};
    size_t i;
    int rc, n = 0;
    if (st == NULL)
        return XMPP_ERR_STATE;
    for (i = 0; i < st->n_rooms; i++) {
        struct muc_room *r = st->rooms[i];
        room_clear_occupants(st->ctx, r);
        r->state = ROOM_JOINING;
        r->pinging = 0;
        if (r->timer) {
            xmpp_session_remove_timer(s, r->timer);
            r->timer = 0;
        }
        if ((rc = send_join(s, st, r, &none)) != XMPP_OK)
            return rc;
        r->cb_pending = 1;
        n++;
    }
    return n;
}

int xmpp_muc_leave(xmpp_session *s, const char *room, const char *status) {
    struct muc_state *st;
    struct muc_room *r;
    xmpp_stanza *p = NULL;
    char to[4200];
    int rc;
    if ((rc = room_lookup(s, room, &st, &r)) != XMPP_OK)
        return rc;
    if (r == NULL)
        return XMPP_ERR_NOT_FOUND;
    snprintf(to, sizeof(to), "%s/%s", r->jid, r->nick);
    rc = xmpp_presence_new(&p, st->ctx, "unavailable", to, NULL);
    if (rc == XMPP_OK && status) {
        xmpp_stanza *t = NULL;
        rc = xmpp_stanza_add_child_new(p, "status", NULL, &t);
        if (rc == XMPP_OK)
            rc = xmpp_stanza_add_text(t, status, strlen(status));
    }
    if (rc == XMPP_OK)
        rc = xmpp_session_send(s, p);
    xmpp_stanza_unref(p);
    room_unlink(st, r);
    join_complete(s, r, XMPP_MUC_JOIN_CANCELLED, (xmpp_stanza_condition)0, NULL, 0);
    room_free(s, st, r);
    return rc;
}

/* ---- inbound presence --------------------------------------------------- */

struct muc_x {
    unsigned bits;
    const char *role, *aff, *real_jid, *item_nick, *actor, *reason;
    int destroyed;
    const char *alt_room, *destroy_reason;
};

static const struct {
    int code;
    unsigned bit;
} status_map[] = {{100, XMPP_MUC_STATUS_NON_ANONYMOUS}, {110, XMPP_MUC_STATUS_SELF},
                  {170, XMPP_MUC_STATUS_LOGGED},        {201, XMPP_MUC_STATUS_CREATED},
                  {210, XMPP_MUC_STATUS_NICK_ASSIGNED}, {301, XMPP_MUC_STATUS_BANNED},
                  {303, XMPP_MUC_STATUS_NICK_CHANGED},  {307, XMPP_MUC_STATUS_KICKED},
                  {321, XMPP_MUC_STATUS_AFFILIATION},   {322, XMPP_MUC_STATUS_MEMBERS_ONLY},
                  {332, XMPP_MUC_STATUS_SHUTDOWN},      {333, XMPP_MUC_STATUS_ERROR_REMOVED}};

static const char *child_text(const xmpp_stanza *el, const char *name) {
    xmpp_stanza *c = xmpp_stanza_child(el, name, NULL);
    xmpp_stanza *t = c ? xmpp_stanza_first_child(c) : NULL;
    return t ? xmpp_stanza_text_ptr(t) : NULL;
}

static void parse_muc_x(const xmpp_stanza *x, struct muc_x *m) {
    xmpp_stanza *c, *item;
    memset(m, 0, sizeof(*m));
    if (x == NULL)
        return;
    for (c = xmpp_stanza_child(x, "status", XMPP_NS_MUC_USER); c;
         c = xmpp_stanza_next_match(c, "status", XMPP_NS_MUC_USER)) {
        const char *code = xmpp_stanza_attr(c, "code");
        size_t k;
        for (k = 0; code && k < sizeof(status_map) / sizeof(status_map[0]); k++)
            if (atoi(code) == status_map[k].code && strlen(code) == 3)
                m->bits |= status_map[k].bit;
    }
    if ((item = xmpp_stanza_child(x, "item", XMPP_NS_MUC_USER)) != NULL) {
        xmpp_stanza *actor = xmpp_stanza_child(item, "actor", XMPP_NS_MUC_USER);
        m->role = xmpp_stanza_attr(item, "role");
        m->aff = xmpp_stanza_attr(item, "affiliation");
        m->real_jid = xmpp_stanza_attr(item, "jid");
        m->item_nick = xmpp_stanza_attr(item, "nick");
        m->reason = child_text(item, "reason");
        if (actor)
            m->actor = xmpp_stanza_attr(actor, "nick") ? xmpp_stanza_attr(actor, "nick")
                                                       : xmpp_stanza_attr(actor, "jid");
    }
    if ((c = xmpp_stanza_child(x, "destroy", XMPP_NS_MUC_USER)) != NULL) {
        m->destroyed = 1;
        m->alt_room = xmpp_stanza_attr(c, "jid");
        m->destroy_reason = child_text(c, "reason");
    }
}

static xmpp_muc_removal removal_of(const struct muc_x *m) {
    if (m->destroyed)
        return XMPP_MUC_REMOVED_DESTROYED;
    if (m->bits & XMPP_MUC_STATUS_BANNED)
        return XMPP_MUC_REMOVED_BANNED;
    if (m->bits & XMPP_MUC_STATUS_KICKED)
        return XMPP_MUC_REMOVED_KICKED;
    if (m->bits & XMPP_MUC_STATUS_SHUTDOWN)
        return XMPP_MUC_REMOVED_SHUTDOWN;
    if (m->bits & (XMPP_MUC_STATUS_AFFILIATION | XMPP_MUC_STATUS_MEMBERS_ONLY))
        return XMPP_MUC_REMOVED_AFFILIATION;
    if (m->bits & XMPP_MUC_STATUS_ERROR_REMOVED)
        return XMPP_MUC_REMOVED_ERROR;
    return XMPP_MUC_REMOVED_LEFT;
}

/* Removes the own occupant from a room: unlink, report, free. */
static void room_removed(xmpp_session *s, struct muc_state *st, struct muc_room *r,
                         xmpp_muc_removal why, const char *actor, const char *reason,
                         const char *alt) {
    room_unlink(st, r);
    if (r->cb_pending) /* removed while joining: the join failed */
        join_complete(s, r, XMPP_MUC_JOIN_ERROR, XMPP_EC_UNDEFINED_CONDITION, reason, 0);
    else if (st->cb.removed)
        st->cb.removed(s, r->jid, why, actor, reason, alt, st->cb_ud);
    room_free(s, st, r);
}

static int occ_upsert(struct muc_state *st, struct muc_room *r, const char *nick,
                      const struct muc_x *m, const xmpp_stanza *pres, int *is_new) {
    xmpp_muc_occupant *o = occ_find(r, nick), tmp;
    int oom = 0;
    *is_new = o == NULL;
    if (o == NULL) {
        xmpp_muc_occupant *no;
        if (r->n_occ >= MUC_MAX_OCCUPANTS)
            return XMPP_ERR_LIMIT;
        no = xmpp__realloc(st->ctx, r->occ, (r->n_occ + 1) * sizeof(*no));
        if (no == NULL)
            return XMPP_ERR_NOMEM;
        r->occ = no;
        o = &no[r->n_occ];
        memset(o, 0, sizeof(*o));
        if ((o->nick = xmpp__strdup(st->ctx, nick)) == NULL)
            return XMPP_ERR_NOMEM;
        r->n_occ++;
    }
    memset(&tmp, 0, sizeof(tmp));
    tmp.nick = o->nick;
    tmp.role = role_from(m->role);
    tmp.affiliation = aff_from(m->aff);
    tmp.real_jid = dup_or_null(st->ctx, m->real_jid, &oom);
    tmp.show = dup_or_null(st->ctx, child_text(pres, "show"), &oom);
    tmp.status = dup_or_null(st->ctx, child_text(pres, "status"), &oom);
    if (oom) {
        tmp.nick = NULL;
        occ_clear(st->ctx, &tmp);
        return XMPP_ERR_NOMEM;
    }
    o->nick = NULL;
    occ_clear(st->ctx, o);
    *o = tmp;
    return XMPP_OK;
}

static void occ_remove(struct muc_state *st, struct muc_room *r, xmpp_muc_occupant *o) {
    size_t i = (size_t)(o - r->occ);
    occ_clear(st->ctx, o);
    memmove(&r->occ[i], &r->occ[i + 1], (r->n_occ - i - 1) * sizeof(*o));
    r->n_occ--;
}

static void presence_error(xmpp_session *s, struct muc_state *st, struct muc_room *r,
                           xmpp_stanza *pres) {
    xmpp_stanza_condition cond = XMPP_EC_UNDEFINED_CONDITION;
    const char *text = NULL;
    (void)xmpp_stanza_get_error(pres, &cond, &text);
    if (r->state != ROOM_JOINING)
        return; /* e.g. a refused nick change: we stay in the room */
    room_unlink(st, r);
    join_complete(s, r, XMPP_MUC_JOIN_ERROR, cond, text, 0);
    room_free(s, st, r);
}

static int on_presence(xmpp_session *s, xmpp_stanza *pres, void *ud) {
    struct muc_state *st = ud;
    struct muc_room *r;
    xmpp_jid *from = NULL;
    const char *type = xmpp_stanza_type(pres), *nick;
    struct muc_x m;
    int self, is_new, rc;
    if (!split_from(st->ctx, xmpp_stanza_from(pres), &from))
        return 0;
    r = find_room(st, xmpp_jid_bare(from));
    nick = xmpp_jid_resource(from);
    if (r == NULL || nick == NULL) { /* not one of our rooms' occupants */
        xmpp_jid_free(from);
        return 0;
    }
    if (type && strcmp(type, "error") == 0) {
        presence_error(s, st, r, pres);
        xmpp_jid_free(from);
        return 1;
    }
    if (type && strcmp(type, "unavailable") != 0) {
        xmpp_jid_free(from);
        return 0; /* subscribe etc. are not MUC presences */
    }
    parse_muc_x(xmpp_stanza_child(pres, "x", XMPP_NS_MUC_USER), &m);
    /* XEP-0045 §7.2.3: 110 marks the self-presence; rooms that do not send
     * it are recognised by the own nick (210: the service assigned one) */
    self = (m.bits & XMPP_MUC_STATUS_SELF) || strcmp(nick, r->nick) == 0;
    if (type != NULL) { /* unavailable */
        xmpp_muc_occupant *o = occ_find(r, nick), gone;
        if (self && (m.bits & XMPP_MUC_STATUS_NICK_CHANGED) && m.item_nick) {
            char *nn = xmpp__strdup(st->ctx, m.item_nick);
            if (nn) {
                xmpp__free(st->ctx, r->nick);
                r->nick = nn;
            }
        } else if (self) {
            room_removed(s, st, r, removal_of(&m), m.actor,
                         m.destroyed ? m.destroy_reason : m.reason, m.alt_room);
            xmpp_jid_free(from);
            return 1;
        }
        if (o != NULL) {
            gone = *o;
            memset(o, 0, sizeof(*o)); /* the strings move to `gone` */
            occ_remove(st, r, o);
            if (st->cb.occupant)
                st->cb.occupant(s, r->jid, &gone, XMPP_MUC_OCCUPANT_LEFT, m.bits,
                                (m.bits & XMPP_MUC_STATUS_NICK_CHANGED) ? m.item_nick : NULL,
                                st->cb_ud);
            occ_clear(st->ctx, &gone);
        }
        xmpp_jid_free(from);
        return 1;
    }
    rc = occ_upsert(st, r, nick, &m, pres, &is_new);
    if (rc == XMPP_OK && st->cb.occupant)
        st->cb.occupant(s, r->jid, occ_find(r, nick),
                        is_new ? XMPP_MUC_OCCUPANT_JOINED : XMPP_MUC_OCCUPANT_CHANGED, m.bits, NULL,
                        st->cb_ud);
    if (self && room_alive(st, r) && r->state == ROOM_JOINING) {
        if (strcmp(nick, r->nick) != 0) { /* 210: the room assigned our nick */
            char *nn = xmpp__strdup(st->ctx, nick);
            if (nn) {
                xmpp__free(st->ctx, r->nick);
                r->nick = nn;
            }
        }
        r->state = ROOM_JOINED;
        join_complete(s, r, XMPP_MUC_JOIN_OK, (xmpp_stanza_condition)0, NULL, m.bits);
    }
    xmpp_jid_free(from);
    return 1;
}

/* ---- inbound messages --------------------------------------------------- */

static int on_invite(xmpp_session *s, struct muc_state *st, xmpp_stanza *msg, xmpp_jid *from) {
    xmpp_stanza *x = xmpp_stanza_child(msg, "x", XMPP_NS_CONFERENCE), *inv;
    char *room = NULL;
    if (x != NULL) { /* XEP-0249 §2: the room is in the jid attribute */
        if (room_bare(st->ctx, xmpp_stanza_attr(x, "jid"), &room) != XMPP_OK)
            return 1; /* malformed: dropped */
        if (st->cb.invite)
            st->cb.invite(s, room, xmpp_jid_full(from), xmpp_stanza_attr(x, "reason"),
                          xmpp_stanza_attr(x, "password"), st->cb_ud);
        xmpp__free(st->ctx, room);
        return 1;
    }
    x = xmpp_stanza_child(msg, "x", XMPP_NS_MUC_USER);
    inv = x ? xmpp_stanza_child(x, "invite", XMPP_NS_MUC_USER) : NULL;
    if (inv == NULL || xmpp_jid_resource(from) != NULL || xmpp_jid_local(from) == NULL)
        return 0;
    /* XEP-0045 §7.8.2: a mediated invitation comes from the room itself */
    if (st->cb.invite)
        st->cb.invite(s, xmpp_jid_bare(from), xmpp_stanza_attr(inv, "from"),
                      child_text(inv, "reason"), child_text(x, "password"), st->cb_ud);
    return 1;
}

static int on_message(xmpp_session *s, xmpp_stanza *msg, void *ud) {
    struct muc_state *st = ud;
    struct muc_room *r;
    xmpp_jid *from = NULL;
    const char *type = xmpp_stanza_type(msg), *nick, *body;
    xmpp_stanza *subj;
    int handled = 0;
    if (!split_from(st->ctx, xmpp_stanza_from(msg), &from))
        return 0;
    if (type && strcmp(type, "error") == 0) {
        xmpp_jid_free(from);
        return 0;
    }
    if (xmpp_stanza_child(msg, "x", XMPP_NS_CONFERENCE) ||
        xmpp_stanza_path(msg, "x@" XMPP_NS_MUC_USER "/invite")) {
        handled = on_invite(s, st, msg, from);
        xmpp_jid_free(from);
        return handled;
    }
    r = find_room(st, xmpp_jid_bare(from));
    if (r == NULL) { /* sender check: not from a room we are in */
        xmpp_jid_free(from);
        return 0;
    }
    nick = xmpp_jid_resource(from);
    body = child_text(msg, "body");
    subj = xmpp_stanza_child(msg, "subject", NULL);
    if (type && strcmp(type, "groupchat") == 0) {
        if (subj != NULL && body == NULL) { /* XEP-0045 §8.1: a subject change */
            const char *t = child_text(msg, "subject");
            char *ns = xmpp__strdup(st->ctx, t ? t : "");
            if (ns) {
                xmpp__free(st->ctx, r->subject);
                r->subject = ns;
            }
            if (st->cb.subject)
                st->cb.subject(s, r->jid, nick, t ? t : "", st->cb_ud);
        } else if (body != NULL && st->cb.message) {
            st->cb.message(s, r->jid, nick, body, 0,
                           xmpp_stanza_child(msg, "delay", NS_DELAY) != NULL, msg, st->cb_ud);
        }
        handled = 1;
    } else if (nick != NULL && body != NULL) { /* §7.5: a private message */
        if (st->cb.message)
            st->cb.message(s, r->jid, nick, body, 1, 0, msg, st->cb_ud);
        handled = 1;
    }
    xmpp_jid_free(from);
    return handled;
}

/* ---- outbound messages and presence ------------------------------------- */

static int joined_room(xmpp_session *s, const char *room, struct muc_state **st,
                       struct muc_room **r) {
    int rc = room_lookup(s, room, st, r);
    if (rc != XMPP_OK)
        return rc;
    return *r && (*r)->state == ROOM_JOINED ? XMPP_OK : XMPP_ERR_STATE;
}

int xmpp_muc_send(xmpp_session *s, const char *room, const char *body, char *id, size_t id_size) {
    struct muc_state *st;
    struct muc_room *r;
    xmpp_stanza *m = NULL;
    char mid[32];
    int rc;
    if (body == NULL || (id && id_size < 17))
        return XMPP_ERR_INVALID;
    if ((rc = joined_room(s, room, &st, &r)) != XMPP_OK)
        return rc;
    xmpp_session_new_id(s, mid, sizeof(mid));
    if ((rc = xmpp_message_new(&m, st->ctx, "groupchat", r->jid, mid, body)) != XMPP_OK)
        return rc;
    rc = xmpp_session_send(s, m);
    xmpp_stanza_unref(m);
    if (rc == XMPP_OK && id)
        snprintf(id, id_size, "%s", mid);
    return rc;
}

int xmpp_muc_send_private(xmpp_session *s, const char *room, const char *nick, const char *body) {
    struct muc_state *st;
    struct muc_room *r;
    xmpp_stanza *m = NULL;
    char to[4200], mid[32];
    int rc;
    if (body == NULL || nick == NULL || strlen(nick) > 1023)
        return XMPP_ERR_INVALID;
    if ((rc = joined_room(s, room, &st, &r)) != XMPP_OK)
        return rc;
    snprintf(to, sizeof(to), "%s/%s", r->jid, nick);
    xmpp_session_new_id(s, mid, sizeof(mid));
    rc = xmpp_message_new(&m, st->ctx, "chat", to, mid, body);
    if (rc == XMPP_OK) /* §7.5: marks a private message */
        rc = xmpp_stanza_add_child_new(m, "x", XMPP_NS_MUC_USER, NULL);
    if (rc == XMPP_OK)
        rc = xmpp_session_send(s, m);
    xmpp_stanza_unref(m);
    return rc;
}

int xmpp_muc_set_subject(xmpp_session *s, const char *room, const char *subject) {
    struct muc_state *st;
    struct muc_room *r;
    xmpp_stanza *m = NULL, *sub = NULL;
    char mid[32];
    int rc;
    if (subject == NULL)
        return XMPP_ERR_INVALID;
    if ((rc = joined_room(s, room, &st, &r)) != XMPP_OK)
        return rc;
    xmpp_session_new_id(s, mid, sizeof(mid));
    rc = xmpp_message_new(&m, st->ctx, "groupchat", r->jid, mid, NULL);
    if (rc == XMPP_OK)
        rc = xmpp_stanza_add_child_new(m, "subject", NULL, &sub);
    if (rc == XMPP_OK && subject[0])
        rc = xmpp_stanza_add_text(sub, subject, strlen(subject));
    if (rc == XMPP_OK)
        rc = xmpp_session_send(s, m);
    xmpp_stanza_unref(m);
    return rc;
}

int xmpp_muc_change_nick(xmpp_session *s, const char *room, const char *nick) {
    struct muc_state *st;
    struct muc_room *r;
    xmpp_stanza *p = NULL;
    xmpp_jid *j = NULL;
    char to[4200];
    int rc;
    if (nick == NULL || nick[0] == '\0' || strlen(nick) > 1023)
        return XMPP_ERR_INVALID;
    if ((rc = joined_room(s, room, &st, &r)) != XMPP_OK)
        return rc;
    snprintf(to, sizeof(to), "%s/%s", r->jid, nick);
    if ((rc = xmpp_jid_parse(&j, st->ctx, to)) != XMPP_OK)
        return rc == XMPP_ERR_NOMEM ? rc : XMPP_ERR_INVALID;
    xmpp_jid_free(j);
    if ((rc = xmpp_presence_new(&p, st->ctx, NULL, to, NULL)) != XMPP_OK)
        return rc;
    rc = xmpp_session_send(s, p);
    xmpp_stanza_unref(p);
    return rc;
}

int xmpp_muc_invite(xmpp_session *s, const char *to, const char *room, const char *reason,
                    const char *password) {
    struct muc_state *st = get_state(s);
    xmpp_stanza *m = NULL, *x = NULL;
    char *bare = NULL, mid[32];
    int rc;
    if (st == NULL)
        return XMPP_ERR_STATE;
    if (to == NULL || (rc = room_bare(st->ctx, room, &bare)) != XMPP_OK)
        return XMPP_ERR_INVALID;
    xmpp_session_new_id(s, mid, sizeof(mid));
    rc = xmpp_message_new(&m, st->ctx, NULL, to, mid, NULL);
    if (rc == XMPP_OK)
        rc = xmpp_stanza_add_child_new(m, "x", XMPP_NS_CONFERENCE, &x);
    if (rc == XMPP_OK)
        rc = xmpp_stanza_set_attr(x, "jid", bare);
    if (rc == XMPP_OK && reason)
        rc = xmpp_stanza_set_attr(x, "reason", reason);
    if (rc == XMPP_OK && password)
        rc = xmpp_stanza_set_attr(x, "password", password);
    if (rc == XMPP_OK)
        rc = xmpp_session_send(s, m);
    xmpp_stanza_unref(m);
    xmpp__free(st->ctx, bare);
    return rc;
}

/* ---- admin and owner IQs ------------------------------------------------ */

struct muc_iq {
    xmpp_iq_fn cb;
    xmpp_muc_config_fn ccb;
    void *ud;
};

static void iq_done(xmpp_session *s, xmpp_iq_status status, xmpp_stanza *reply, void *ud) {
    struct muc_iq q = *(struct muc_iq *)ud;
    xmpp_free(xmpp_session_ctx(s), ud);
    if (q.cb)
        q.cb(s, status, reply, q.ud);
    if (q.ccb) {
        xmpp_form *f = NULL;
        xmpp_stanza *query = reply ? xmpp_stanza_child(reply, "query", XMPP_NS_MUC_OWNER) : NULL;
        if (status == XMPP_IQ_RESULT && query)
            (void)xmpp_form_parse_child(&f, xmpp_session_ctx(s), query);
        q.ccb(s, status, f, q.ud);
        xmpp_form_free(f);
    }
}

/* Builds <iq type to=room><query xmlns=ns/></iq>; *query is borrowed. */
static int room_iq(xmpp_session *s, const char *room, const char *type, const char *ns,
                   xmpp_stanza **iq, xmpp_stanza **query) {
    struct muc_state *st = get_state(s);
    char *bare = NULL, id[32];
    int rc;
    *iq = NULL;
    if (st == NULL)
        return XMPP_ERR_STATE;
    if ((rc = room_bare(st->ctx, room, &bare)) != XMPP_OK)
        return rc;
    xmpp_session_new_id(s, id, sizeof(id));
    rc = xmpp_iq_new(iq, st->ctx, type, bare, id);
    xmpp__free(st->ctx, bare);
    if (rc == XMPP_OK)
        rc = xmpp_stanza_add_child_new(*iq, "query", ns, query);
    if (rc != XMPP_OK) {
        xmpp_stanza_unref(*iq);
        *iq = NULL;
    }
    return rc;
}

static int send_room_iq(xmpp_session *s, xmpp_stanza *iq, xmpp_iq_fn cb, xmpp_muc_config_fn ccb,
                        void *ud) {
    struct muc_iq *q = xmpp__malloc(xmpp_session_ctx(s), sizeof(*q));
    int rc;
    if (q == NULL) {
        xmpp_stanza_unref(iq);
        return XMPP_ERR_NOMEM;
    }
    q->cb = cb;
    q->ccb = ccb;
    q->ud = ud;
    rc = xmpp_session_send_iq(s, iq, 0, iq_done, q);
    if (rc != XMPP_OK)
        xmpp_free(xmpp_session_ctx(s), q);
    xmpp_stanza_unref(iq);
    return rc;
}

static int add_reason(xmpp_stanza *parent, const char *reason) {
    xmpp_stanza *r = NULL;
    int rc;
    if (reason == NULL)
        return XMPP_OK;
    if ((rc = xmpp_stanza_add_child_new(parent, "reason", NULL, &r)) != XMPP_OK)
        return rc;
    return reason[0] ? xmpp_stanza_add_text(r, reason, strlen(reason)) : XMPP_OK;
}

static int admin_item(xmpp_session *s, const char *room, const char *key, const char *val,
                      const char *attr, const char *attr_val, const char *reason, xmpp_iq_fn cb,
                      void *ud) {
    xmpp_stanza *iq = NULL, *q = NULL, *item = NULL;
    int rc;
    if (val == NULL)
        return XMPP_ERR_INVALID;
    if ((rc = room_iq(s, room, "set", XMPP_NS_MUC_ADMIN, &iq, &q)) != XMPP_OK)
        return rc;
    rc = xmpp_stanza_add_child_new(q, "item", NULL, &item);
    if (rc == XMPP_OK)
        rc = xmpp_stanza_set_attr(item, key, val);
    if (rc == XMPP_OK)
        rc = xmpp_stanza_set_attr(item, attr, attr_val);
    if (rc == XMPP_OK)
        rc = add_reason(item, reason);
    if (rc != XMPP_OK) {
        xmpp_stanza_unref(iq);
        return rc;
    }
    return send_room_iq(s, iq, cb, NULL, ud);
}

int xmpp_muc_set_role(xmpp_session *s, const char *room, const char *nick, xmpp_muc_role role,
                      const char *reason, xmpp_iq_fn cb, void *user_data) {
    if ((unsigned)role > XMPP_MUC_ROLE_MODERATOR)
        return XMPP_ERR_INVALID;
    return admin_item(s, room, "nick", nick, "role", role_names[role], reason, cb, user_data);
}

int xmpp_muc_set_affiliation(xmpp_session *s, const char *room, const char *jid,
                             xmpp_muc_affiliation aff, const char *reason, xmpp_iq_fn cb,
                             void *user_data) {
    if ((unsigned)aff > XMPP_MUC_AFF_OWNER)
        return XMPP_ERR_INVALID;
    return admin_item(s, room, "jid", jid, "affiliation", aff_names[aff], reason, cb, user_data);
}

int xmpp_muc_get_config(xmpp_session *s, const char *room, xmpp_muc_config_fn cb, void *user_data) {
    xmpp_stanza *iq = NULL, *q = NULL;
    int rc = room_iq(s, room, "get", XMPP_NS_MUC_OWNER, &iq, &q);
    if (rc != XMPP_OK)
        return rc;
    if (cb == NULL) /* still counts as a request; nothing to report */
        return send_room_iq(s, iq, NULL, NULL, user_data);
    return send_room_iq(s, iq, NULL, cb, user_data);
}

int xmpp_muc_submit_config(xmpp_session *s, const char *room, const xmpp_form *form, xmpp_iq_fn cb,
                           void *user_data) {
    xmpp_stanza *iq = NULL, *q = NULL, *x = NULL;
    int rc;
    if (form == NULL || xmpp_form_get_type(form) != XMPP_FORM_SUBMIT)
        return XMPP_ERR_INVALID;
    if ((rc = room_iq(s, room, "set", XMPP_NS_MUC_OWNER, &iq, &q)) != XMPP_OK)
        return rc;
    rc = xmpp_form_to_stanza(form, xmpp_session_ctx(s), &x);
    if (rc == XMPP_OK)
        rc = xmpp_stanza_add_child(q, x);
    xmpp_stanza_unref(x);
    if (rc != XMPP_OK) {
        xmpp_stanza_unref(iq);
        return rc;
    }
    return send_room_iq(s, iq, cb, NULL, user_data);
}

int xmpp_muc_instant_room(xmpp_session *s, const char *room, xmpp_iq_fn cb, void *user_data) {
    xmpp_form *f = NULL;
    int rc;
    if (get_state(s) == NULL)
        return XMPP_ERR_STATE;
    if ((rc = xmpp_form_new(&f, xmpp_session_ctx(s), XMPP_FORM_SUBMIT)) != XMPP_OK)
        return rc;
    rc = xmpp_muc_submit_config(s, room, f, cb, user_data); /* §10.1.2 */
    xmpp_form_free(f);
    return rc;
}

int xmpp_muc_destroy(xmpp_session *s, const char *room, const char *alt_room, const char *reason,
                     xmpp_iq_fn cb, void *user_data) {
    xmpp_stanza *iq = NULL, *q = NULL, *d = NULL;
    int rc;
    if ((rc = room_iq(s, room, "set", XMPP_NS_MUC_OWNER, &iq, &q)) != XMPP_OK)
        return rc;
    rc = xmpp_stanza_add_child_new(q, "destroy", NULL, &d);
    if (rc == XMPP_OK && alt_room)
        rc = xmpp_stanza_set_attr(d, "jid", alt_room);
    if (rc == XMPP_OK)
        rc = add_reason(d, reason);
    if (rc != XMPP_OK) {
        xmpp_stanza_unref(iq);
        return rc;
    }
    return send_room_iq(s, iq, cb, NULL, user_data);
}

/* ---- XEP-0410 self-ping -------------------------------------------------- */

struct muc_ping {
    char *room;
    xmpp_muc_ping_fn cb;
    void *ud;
    int internal;
};

/* XEP-0410 §3.2: what an answer to a self-ping means. */
static xmpp_muc_ping_result ping_decide(xmpp_iq_status status, xmpp_stanza *reply) {
    xmpp_stanza_condition cond = XMPP_EC_UNDEFINED_CONDITION;
    if (status == XMPP_IQ_RESULT)
        return XMPP_MUC_PING_JOINED;
    if (status != XMPP_IQ_ERROR)
        return XMPP_MUC_PING_UNKNOWN;
    (void)xmpp_stanza_get_error(reply, &cond, NULL);
    switch (cond) {
    case XMPP_EC_SERVICE_UNAVAILABLE: /* the client does not answer pings */
    case XMPP_EC_FEATURE_NOT_IMPLEMENTED:
    case XMPP_EC_ITEM_NOT_FOUND: /* a nick change is in progress */
        return XMPP_MUC_PING_JOINED;
    case XMPP_EC_REMOTE_SERVER_NOT_FOUND: /* cannot tell: try later */
    case XMPP_EC_REMOTE_SERVER_TIMEOUT:
        return XMPP_MUC_PING_UNKNOWN;
    default: /* not-acceptable and every other error: not joined */
        return XMPP_MUC_PING_NOT_JOINED;
    }
}

static void ping_done(xmpp_session *s, xmpp_iq_status status, xmpp_stanza *reply, void *ud) {
    struct muc_ping p = *(struct muc_ping *)ud;
    struct muc_state *st = get_state(s);
    struct muc_room *r = st ? find_room(st, p.room) : NULL;
    xmpp_muc_ping_result res = ping_decide(status, reply);
    xmpp_ctx *ctx = xmpp_session_ctx(s);
    xmpp_free(ctx, ud);
    if (r)
        r->pinging = 0;
    if (p.cb)
        p.cb(s, p.room, res, p.ud);
    if (p.internal && res == XMPP_MUC_PING_NOT_JOINED && status != XMPP_IQ_CANCELLED && st &&
        (r = find_room(st, p.room)) != NULL && r->state == ROOM_JOINED) {
        if (st->cb.removed)
            st->cb.removed(s, r->jid, XMPP_MUC_REMOVED_NOT_JOINED, NULL, NULL, NULL, st->cb_ud);
        if ((r = find_room(st, p.room)) != NULL) {
            if (st->auto_rejoin) {
                xmpp_muc_history none = {0, -1, -1, NULL};
                room_clear_occupants(st->ctx, r);
                r->state = ROOM_JOINING;
                if (send_join(s, st, r, &none) == XMPP_OK)
                    r->cb_pending = 1;
            } else {
                room_unlink(st, r);
                room_free(s, st, r);
            }
        }
    }
    xmpp__free(ctx, p.room);
}

static int self_ping(xmpp_session *s, struct muc_state *st, struct muc_room *r, unsigned timeout_ms,
                     xmpp_muc_ping_fn cb, void *ud, int internal) {
    xmpp_stanza *iq = NULL;
    struct muc_ping *p;
    char to[4200], id[32];
    int rc;
    snprintf(to, sizeof(to), "%s/%s", r->jid, r->nick);
    xmpp_session_new_id(s, id, sizeof(id));
    if ((rc = xmpp_iq_new(&iq, st->ctx, "get", to, id)) != XMPP_OK)
        return rc;
    if ((rc = xmpp_stanza_add_child_new(iq, "ping", XMPP_NS_PING_XEP, NULL)) != XMPP_OK) {
        xmpp_stanza_unref(iq);
        return rc;
    }
    p = xmpp__malloc(st->ctx, sizeof(*p));
    if (p == NULL || (p->room = xmpp__strdup(st->ctx, r->jid)) == NULL) {
        xmpp__free(st->ctx, p);
        xmpp_stanza_unref(iq);
        return XMPP_ERR_NOMEM;
    }
    p->cb = cb;
    p->ud = ud;
    p->internal = internal;
    rc = xmpp_session_send_iq(s, iq, timeout_ms, ping_done, p);
    xmpp_stanza_unref(iq);
    if (rc != XMPP_OK) {
        xmpp__free(st->ctx, p->room);
        xmpp__free(st->ctx, p);
        return rc;
    }
    r->pinging = 1;
    return XMPP_OK;
}

int xmpp_muc_self_ping(xmpp_session *s, const char *room, unsigned timeout_ms, xmpp_muc_ping_fn cb,
                       void *user_data) {
    struct muc_state *st;
    struct muc_room *r;
    int rc = joined_room(s, room, &st, &r);
    if (rc != XMPP_OK)
        return rc;
    return self_ping(s, st, r, timeout_ms, cb, user_data, 0);
}

static void ping_tick(xmpp_session *s, void *ud) {
    struct muc_state *st = ud;
    size_t i;
    st->ping_timer = 0;
    for (i = 0; i < st->n_rooms; i++)
        if (st->rooms[i]->state == ROOM_JOINED && !st->rooms[i]->pinging)
            (void)self_ping(s, st, st->rooms[i], 0, NULL, NULL, 1);
    if (st->ping_interval)
        (void)xmpp_session_add_timer(s, st->ping_interval, ping_tick, st, &st->ping_timer);
}

int xmpp_muc_set_self_ping(xmpp_session *s, unsigned interval_ms, int auto_rejoin) {
    struct muc_state *st = get_state(s);
    if (st == NULL)
        return XMPP_ERR_STATE;
    if (st->ping_timer)
        xmpp_session_remove_timer(s, st->ping_timer);
    st->ping_timer = 0;
    st->ping_interval = interval_ms;
    st->auto_rejoin = auto_rejoin != 0;
    if (interval_ms == 0)
        return XMPP_OK;
    return xmpp_session_add_timer(s, interval_ms, ping_tick, st, &st->ping_timer);
}

/* ---- queries ------------------------------------------------------------ */

static struct muc_room *qroom(const xmpp_session *s, const char *room) {
    struct muc_state *st = get_state(s);
    struct muc_room *r = NULL;
    char *bare = NULL;
    if (st == NULL || room_bare(st->ctx, room, &bare) != XMPP_OK)
        return NULL;
    r = find_room(st, bare);
    xmpp__free(st->ctx, bare);
    return r;
}

int xmpp_muc_joined(const xmpp_session *s, const char *room) {
    struct muc_room *r = qroom(s, room);
    return r && r->state == ROOM_JOINED;
}
const char *xmpp_muc_nick(const xmpp_session *s, const char *room) {
    struct muc_room *r = qroom(s, room);
    return r ? r->nick : NULL;
}
const char *xmpp_muc_subject(const xmpp_session *s, const char *room) {
    struct muc_room *r = qroom(s, room);
    return r ? r->subject : NULL;
}
size_t xmpp_muc_occupant_count(const xmpp_session *s, const char *room) {
    struct muc_room *r = qroom(s, room);
    return r && r->state == ROOM_JOINED ? r->n_occ : 0;
}
const xmpp_muc_occupant *xmpp_muc_occupant_at(const xmpp_session *s, const char *room, size_t i) {
    struct muc_room *r = qroom(s, room);
    return r && i < r->n_occ ? &r->occ[i] : NULL;
}
const xmpp_muc_occupant *xmpp_muc_occupant_find(const xmpp_session *s, const char *room,
                                                const char *nick) {
    struct muc_room *r = qroom(s, room);
    return r ? occ_find(r, nick) : NULL;
}

int xmpp_muc_set_callbacks(xmpp_session *s, const xmpp_muc_callbacks *cb, void *user_data) {
    struct muc_state *st = get_state(s);
    if (st == NULL)
        return XMPP_ERR_STATE;
    if (cb)
        st->cb = *cb;
    else
        memset(&st->cb, 0, sizeof(st->cb));
    st->cb_ud = user_data;
    return XMPP_OK;
}

/* ---- plugin ------------------------------------------------------------- */

static int muc_attach(xmpp_session *s, void **state, void *ud) {
    xmpp_ctx *ctx = xmpp_session_ctx(s);
    struct muc_state *st = xmpp__malloc(ctx, sizeof(*st));
    int rc;
    (void)ud;
    if (st == NULL)
        return XMPP_ERR_NOMEM;
    memset(st, 0, sizeof(*st));
    st->ctx = ctx;
    rc = xmpp_session_add_handler(s, "presence", NULL, NULL, on_presence, st, &st->h_presence);
    if (rc == XMPP_OK)
        rc = xmpp_session_add_handler(s, "message", NULL, NULL, on_message, st, &st->h_message);
    if (rc != XMPP_OK) {
        xmpp_session_remove_handler(s, st->h_presence);
        xmpp__free(ctx, st);
        return rc;
    }
    *state = st;
    return XMPP_OK;
}

static void muc_detach(xmpp_session *s, void *state, void *ud) {
    struct muc_state *st = state;
    (void)ud;
    xmpp_session_remove_handler(s, st->h_presence);
    xmpp_session_remove_handler(s, st->h_message);
    if (st->ping_timer)
        xmpp_session_remove_timer(s, st->ping_timer);
    while (st->n_rooms > 0) {
        struct muc_room *r = st->rooms[st->n_rooms - 1];
        st->n_rooms--;
        join_complete(s, r, XMPP_MUC_JOIN_CANCELLED, (xmpp_stanza_condition)0, NULL, 0);
        room_free(s, st, r);
    }
    xmpp__free(st->ctx, st->rooms);
    xmpp__free(st->ctx, st);
}

static const char *const muc_features[] = {XMPP_NS_MUC, XMPP_NS_CONFERENCE, NULL};

const xmpp_plugin_desc xmpp__plugin_muc = {
    XMPP_PLUGIN_ABI_VERSION, "muc", NULL, muc_features, NULL, 0, muc_attach, muc_detach, NULL};
