/* muc_driver: drives the "muc" plugin against a real server for
 * tests/integration/muc.sh. Two modes:
 *
 *   muc_driver plugin ROOM       the plugin alone: create a room (config
 *       form fetched, filled in and submitted), a second session joins,
 *       messages both ways, private message, subject, nick change,
 *       self-ping, kick with status 307 seen by both, ban, invitation,
 *       destroy seen by the occupant, join error (banned user).
 *   muc_driver adhoc DOMAIN      XEP-0050: lists the server's commands and
 *       runs its "ping" command when it has one (ejabberd's mod_adhoc).
 *   muc_driver bot ROOM BOTNICK RATE PERIOD
 *       against examples/muc-bot: owns ROOM, waits for the bot, !ping ->
 *       pong, kicks the bot and waits for its return, sends a burst of
 *       commands and checks that the replies respect the token bucket,
 *       with CONTROL-PORT (the bot connects through tests/faults/
 *       faultproxy.py), resets the bot's connection and waits until it
 *       answers again; destroys the room and waits for the bot to
 *       recreate it.
 *
 * Environment: XMPP_HOST, XMPP_PORT, XMPP_CAFILE, ALICE_JID/PASSWORD,
 * BOB_JID/PASSWORD, CAROL_JID/PASSWORD (tests/servers env). Prints
 * "ok: ..." / "FAIL: ..." lines; exit 0 when all passed. Every wait is
 * bounded. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <xmpp/xmpp.h>
#include <xmpp/xep/adhoc.h>
#include <xmpp/xep/forms.h>
#include <xmpp/xep/muc.h>

struct peer {
    const char *name;
    xmpp_ctx *ctx;
    xmpp_client *client;
    xmpp_session *s;
    int ready;
    int joins, join_ok;
    unsigned join_bits;
    xmpp_stanza_condition join_cond;
    int removed;
    xmpp_muc_removal why;
    int iq_done;
    xmpp_iq_status iq_status;
    int cfg_done, cfg_fields;
    int ping_done;
    xmpp_muc_ping_result ping;
    char last_msg[512], last_nick[128], last_subject[256], invite_room[256];
    int msgs, pms;
    /* occupant events */
    char occ_joined[128], occ_left[128];
    unsigned occ_left_bits;
    int bot_joins;
    /* replies to the burst */
    int pongs;
    uint64_t first_pong, last_pong;
};

static int failures;
static const char *g_botnick;

static uint64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static uint64_t t_start;
static void check(int cond, const char *what) {
    if (getenv("MUC_DRIVER_TIMES"))
        fprintf(stderr, "%6.2f s ", (double)(now_ms() - t_start) / 1000.0);
    printf("%s: %s\n", cond ? "ok" : "FAIL", what);
    fflush(stdout);
    if (!cond)
        failures++;
}

static struct peer *peers[3];
static int n_peers;

/* Runs every peer's loop until *flag is set or the time is up. */
static int wait_for(volatile int *flag, unsigned ms) {
    uint64_t end = now_ms() + ms;
    while (!*flag && now_ms() < end) {
        int i;
        for (i = 0; i < n_peers; i++)
            xmpp_client_run_once(peers[i]->client, n_peers > 1 ? 20 : 50);
    }
    return *flag;
}

static void pump(unsigned ms) {
    int never = 0;
    wait_for(&never, ms);
}

static void on_ready(xmpp_session *s, const char *jid, void *ud) {
    struct peer *p = ud;
    (void)jid;
    xmpp_session_enable_plugin(s, "muc");
    p->ready = 1;
}

static void on_closed(xmpp_session *s, xmpp_disconnect_cause cause, void *ud) {
    (void)s;
    (void)ud;
    (void)cause;
}

static void ev_join(xmpp_session *s, const char *room, xmpp_muc_join_status st,
                    xmpp_stanza_condition cond, const char *text, unsigned bits, void *ud) {
    struct peer *p = ud;
    (void)s;
    (void)room;
    (void)text;
    p->joins++;
    p->join_ok = st == XMPP_MUC_JOIN_OK;
    p->join_bits = bits;
    p->join_cond = cond;
}

static void ev_occ(xmpp_session *s, const char *room, const xmpp_muc_occupant *o,
                   xmpp_muc_occupant_event ev, unsigned bits, const char *nn, void *ud) {
    struct peer *p = ud;
    (void)s;
    (void)room;
    (void)nn;
    if (ev == XMPP_MUC_OCCUPANT_JOINED) {
        snprintf(p->occ_joined, sizeof(p->occ_joined), "%s", o->nick);
        if (g_botnick && strcmp(o->nick, g_botnick) == 0)
            p->bot_joins++;
    } else if (ev == XMPP_MUC_OCCUPANT_LEFT) {
        snprintf(p->occ_left, sizeof(p->occ_left), "%s", o->nick);
        p->occ_left_bits = bits;
    }
}

static void ev_msg(xmpp_session *s, const char *room, const char *nick, const char *body, int priv,
                   int delayed, xmpp_stanza *st, void *ud) {
    struct peer *p = ud;
    (void)s;
    (void)room;
    (void)st;
    if (delayed)
        return;
    if (priv)
        p->pms++;
    else
        p->msgs++;
    snprintf(p->last_msg, sizeof(p->last_msg), "%s", body);
    snprintf(p->last_nick, sizeof(p->last_nick), "%s", nick ? nick : "");
    if (g_botnick && nick && strcmp(nick, g_botnick) == 0 && strstr(body, "pong")) {
        p->pongs++;
        if (p->pongs == 1)
            p->first_pong = now_ms();
        p->last_pong = now_ms();
    }
}

static void ev_subject(xmpp_session *s, const char *room, const char *nick, const char *subj,
                       void *ud) {
    struct peer *p = ud;
    (void)s;
    (void)room;
    (void)nick;
    snprintf(p->last_subject, sizeof(p->last_subject), "%s", subj);
}

static void ev_removed(xmpp_session *s, const char *room, xmpp_muc_removal why, const char *actor,
                       const char *reason, const char *alt, void *ud) {
    struct peer *p = ud;
    (void)s;
    (void)room;
    (void)actor;
    (void)reason;
    (void)alt;
    p->removed++;
    p->why = why;
}

static void ev_invite(xmpp_session *s, const char *room, const char *from, const char *reason,
                      const char *pw, void *ud) {
    struct peer *p = ud;
    (void)s;
    (void)from;
    (void)reason;
    (void)pw;
    snprintf(p->invite_room, sizeof(p->invite_room), "%s", room);
}

static void on_iq(xmpp_session *s, xmpp_iq_status st, xmpp_stanza *reply, void *ud) {
    struct peer *p = ud;
    (void)s;
    (void)reply;
    p->iq_done = 1;
    p->iq_status = st;
}

static xmpp_form *g_form;
static void on_cfg(xmpp_session *s, xmpp_iq_status st, const xmpp_form *form, void *ud) {
    struct peer *p = ud;
    (void)s;
    p->cfg_done = 1;
    p->iq_status = st;
    p->cfg_fields = form ? (int)xmpp_form_field_count(form) : -1;
    if (form)
        xmpp_form_submit_new(&g_form, form);
}

static void on_ping(xmpp_session *s, const char *room, xmpp_muc_ping_result r, void *ud) {
    struct peer *p = ud;
    (void)s;
    (void)room;
    p->ping_done = 1;
    p->ping = r;
}

static const xmpp_muc_callbacks CBS = {ev_occ, ev_msg, ev_subject, ev_removed, ev_invite};

static struct peer *connect_as(const char *name, const char *user) {
    struct peer *p = calloc(1, sizeof(*p));
    xmpp_session_options *o = NULL;
    xmpp_tls_config *cfg = NULL;
    char var[64];
    const char *jid, *pw;
    snprintf(var, sizeof(var), "%s_JID", user);
    jid = getenv(var);
    snprintf(var, sizeof(var), "%s_PASSWORD", user);
    pw = getenv(var);
    if (!p || !jid || !pw || !getenv("XMPP_PORT") || !getenv("XMPP_CAFILE")) {
        fprintf(stderr, "muc_driver: the server env is missing\n");
        exit(2);
    }
    p->name = name;
    xmpp_ctx_new(&p->ctx, NULL);
    xmpp_session_options_new(&o, p->ctx);
    xmpp_session_options_set_jid(o, jid);
    xmpp_session_options_set_password(o, pw);
    xmpp_tls_config_new(&cfg, p->ctx);
    xmpp_tls_config_add_cafile(cfg, getenv("XMPP_CAFILE"));
    xmpp_session_options_set_tls_config(o, cfg);
    xmpp_tls_config_unref(cfg);
    xmpp_session_options_set_callbacks(o, on_ready, on_closed, p);
    if (xmpp_client_new(&p->client, p->ctx, o) != XMPP_OK)
        exit(2);
    xmpp_session_options_free(o);
    p->s = xmpp_client_session(p->client);
    xmpp_client_set_server(p->client, getenv("XMPP_HOST") ? getenv("XMPP_HOST") : "127.0.0.1",
                           (unsigned)atoi(getenv("XMPP_PORT")));
    xmpp_client_connect(p->client);
    peers[n_peers++] = p;
    if (!wait_for(&p->ready, 10000)) {
        printf("FAIL: %s logs in\n", name);
        exit(1);
    }
    xmpp_muc_set_callbacks(p->s, &CBS, p);
    return p;
}

static int join_room(struct peer *p, const char *room, const char *nick) {
    int before = p->joins;
    volatile int done = 0;
    xmpp_muc_history none = {0, -1, -1, NULL};
    if (xmpp_muc_join(p->s, room, nick, NULL, &none, 10000, ev_join, p) != XMPP_OK)
        return 0;
    {
        uint64_t end = now_ms() + 11000;
        while (p->joins == before && now_ms() < end)
            pump(20);
    }
    (void)done;
    return p->joins > before && p->join_ok;
}

static int wait_iq(struct peer *p) {
    return wait_for(&p->iq_done, 10000) && p->iq_status == XMPP_IQ_RESULT;
}

/* Waits until cond() holds (re-evaluated while pumping). */
#define WAIT_UNTIL(expr, ms)                                                                       \
    do {                                                                                           \
        uint64_t end_ = now_ms() + (ms);                                                           \
        while (!(expr) && now_ms() < end_)                                                         \
            pump(20);                                                                              \
    } while (0)

static int mode_plugin(const char *room) {
    struct peer *a = connect_as("alice", "ALICE"), *b = connect_as("bob", "BOB");
    int rc;
    /* alice creates the room and configures it with the form */
    check(join_room(a, room, "alice"), "owner joins (creates) the room");
    check((a->join_bits & XMPP_MUC_STATUS_CREATED) && (a->join_bits & XMPP_MUC_STATUS_SELF),
          "self-presence has status 110 and 201 (room created)");
    check(xmpp_muc_get_config(a->s, room, on_cfg, a) == XMPP_OK && wait_for(&a->cfg_done, 10000) &&
              a->cfg_fields > 3 && g_form != NULL,
          "configuration form fetched and parsed");
    if (g_form) {
        check(strcmp(xmpp_form_form_type(g_form) ? xmpp_form_form_type(g_form) : "",
                     "http://jabber.org/protocol/muc#roomconfig") == 0,
              "form has FORM_TYPE muc#roomconfig");
        xmpp_form_set(g_form, "muc#roomconfig_roomname", "libxmpp test room");
        a->iq_done = 0;
        check(xmpp_muc_submit_config(a->s, room, g_form, on_iq, a) == XMPP_OK && wait_iq(a),
              "configuration form submitted");
        xmpp_form_free(g_form);
        g_form = NULL;
    }
    /* bob joins; each sees the other */
    check(join_room(b, room, "bob"), "second occupant joins");
    WAIT_UNTIL(strcmp(a->occ_joined, "bob") == 0, 5000);
    check(strcmp(a->occ_joined, "bob") == 0 && xmpp_muc_occupant_count(a->s, room) == 2,
          "owner sees the new occupant");
    check(xmpp_muc_occupant_find(b->s, room, "alice") != NULL &&
              xmpp_muc_occupant_find(b->s, room, "alice")->affiliation == XMPP_MUC_AFF_OWNER,
          "occupant list has the owner with affiliation owner");
    /* groupchat and private messages */
    check(xmpp_muc_send(a->s, room, "hello room", NULL, 0) == XMPP_OK, "groupchat sent");
    WAIT_UNTIL(b->msgs > 0, 5000);
    check(b->msgs > 0 && strcmp(b->last_msg, "hello room") == 0 &&
              strcmp(b->last_nick, "alice") == 0,
          "groupchat received with the sender's nick");
    check(xmpp_muc_send_private(b->s, room, "alice", "psst") == XMPP_OK, "private message sent");
    WAIT_UNTIL(a->pms > 0, 5000);
    check(a->pms == 1 && strcmp(a->last_msg, "psst") == 0, "private message received");
    /* subject */
    check(xmpp_muc_set_subject(a->s, room, "Testing") == XMPP_OK, "subject set");
    WAIT_UNTIL(strcmp(b->last_subject, "Testing") == 0, 5000);
    check(strcmp(b->last_subject, "Testing") == 0 &&
              strcmp(xmpp_muc_subject(b->s, room) ? xmpp_muc_subject(b->s, room) : "", "Testing") ==
                  0,
          "subject change seen");
    /* nick change */
    check(xmpp_muc_change_nick(b->s, room, "bobby") == XMPP_OK, "nick change sent");
    WAIT_UNTIL(strcmp(xmpp_muc_nick(b->s, room) ? xmpp_muc_nick(b->s, room) : "", "bobby") == 0,
               5000);
    check(strcmp(xmpp_muc_nick(b->s, room) ? xmpp_muc_nick(b->s, room) : "", "bobby") == 0 &&
              xmpp_muc_joined(b->s, room),
          "own nick follows the 303 nick change");
    WAIT_UNTIL(xmpp_muc_occupant_find(a->s, room, "bobby") != NULL, 5000);
    check(xmpp_muc_occupant_find(a->s, room, "bobby") != NULL &&
              xmpp_muc_occupant_find(a->s, room, "bob") == NULL,
          "others see the renamed occupant");
    /* self-ping */
    check(xmpp_muc_self_ping(b->s, room, 5000, on_ping, b) == XMPP_OK &&
              wait_for(&b->ping_done, 6000) && b->ping == XMPP_MUC_PING_JOINED,
          "self-ping says joined");
    /* invitation */
    /* to the full JID: bob sent no initial presence, a bare JID would not reach him */
    check(xmpp_muc_invite(a->s, xmpp_session_jid(b->s), room, "come", NULL) == XMPP_OK,
          "direct invitation sent");
    WAIT_UNTIL(b->invite_room[0] != 0, 5000);
    check(strcmp(b->invite_room, room) == 0, "direct invitation received");
    /* kick */
    a->iq_done = 0;
    check(xmpp_muc_set_role(a->s, room, "bobby", XMPP_MUC_ROLE_NONE, "test kick", on_iq, a) ==
                  XMPP_OK &&
              wait_iq(a),
          "kick accepted");
    WAIT_UNTIL(b->removed > 0, 5000);
    check(b->removed == 1 && b->why == XMPP_MUC_REMOVED_KICKED && !xmpp_muc_joined(b->s, room),
          "kicked occupant gets status 307");
    WAIT_UNTIL(strcmp(a->occ_left, "bobby") == 0, 5000);
    check((a->occ_left_bits & XMPP_MUC_STATUS_KICKED) != 0, "others see the kick (307)");
    /* ban, then a join error */
    a->iq_done = 0;
    check(xmpp_muc_set_affiliation(a->s, room, getenv("BOB_JID"), XMPP_MUC_AFF_OUTCAST, "ban",
                                   on_iq, a) == XMPP_OK &&
              wait_iq(a),
          "ban accepted");
    rc = join_room(b, room, "bob");
    check(!rc && b->joins > 0 && b->join_cond == XMPP_EC_FORBIDDEN,
          "banned user's join fails with forbidden");
    a->iq_done = 0;
    check(xmpp_muc_set_affiliation(a->s, room, getenv("BOB_JID"), XMPP_MUC_AFF_NONE, NULL, on_iq,
                                   a) == XMPP_OK &&
              wait_iq(a),
          "ban lifted");
    check(join_room(b, room, "bob"), "rejoin after the ban was lifted");
    /* destroy: the occupant is told */
    b->removed = 0;
    a->iq_done = 0;
    check(xmpp_muc_destroy(a->s, room, NULL, "end of test", on_iq, a) == XMPP_OK && wait_iq(a),
          "room destroyed");
    WAIT_UNTIL(b->removed > 0, 5000);
    check(b->removed == 1 && b->why == XMPP_MUC_REMOVED_DESTROYED, "occupant told of the destroy");
    return failures ? 1 : 0;
}

/* Sends one command to the fault proxy's control port; 1 when it said ok. */
static int proxy_command(int port, const char *cmd) {
    struct sockaddr_in a;
    char reply[256];
    ssize_t n;
    int fd = socket(AF_INET, SOCK_STREAM, 0), ok;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
        write(fd, cmd, strlen(cmd)) != (ssize_t)strlen(cmd)) {
        if (fd >= 0)
            close(fd);
        return 0;
    }
    n = read(fd, reply, sizeof(reply) - 1);
    ok = n >= 2 && strncmp(reply, "ok", 2) == 0;
    close(fd);
    return ok;
}

/* Sends !ping every 2 s until a pong comes (or the time is up). */
static int ping_bot(struct peer *a, const char *room, unsigned ms) {
    uint64_t end = now_ms() + ms;
    int before = a->pongs;
    while (a->pongs == before && now_ms() < end) {
        xmpp_muc_send(a->s, room, "!ping", NULL, 0);
        WAIT_UNTIL(a->pongs > before, 2000);
    }
    return a->pongs > before;
}

static int mode_bot(const char *room, const char *botnick, double rate, double period,
                    int control) {
    struct peer *a = connect_as("alice", "ALICE");
    int i, burst = 12, before;
    double elapsed, bound;
    g_botnick = botnick;
    check(join_room(a, room, "owner"), "owner joins the room");
    if (a->join_bits & XMPP_MUC_STATUS_CREATED) {
        a->iq_done = 0;
        xmpp_muc_instant_room(a->s, room, on_iq, a);
        wait_iq(a);
    }
    printf("info: room ready\n"); /* the script starts the bot now */
    fflush(stdout);
    WAIT_UNTIL(xmpp_muc_occupant_find(a->s, room, botnick) != NULL, 20000);
    check(xmpp_muc_occupant_find(a->s, room, botnick) != NULL, "the bot is in the room");
    /* a command */
    pump(300);
    xmpp_muc_send(a->s, room, "!ping", NULL, 0);
    WAIT_UNTIL(a->pongs > 0, 10000);
    check(a->pongs == 1, "the bot answers !ping");
    xmpp_muc_send(a->s, room, "!seen owner", NULL, 0);
    WAIT_UNTIL(strstr(a->last_msg, "owner was last seen") != NULL, 10000);
    check(strstr(a->last_msg, "owner was last seen") != NULL, "the bot answers !seen");
    /* kick: the bot comes back */
    before = a->bot_joins;
    a->iq_done = 0;
    check(xmpp_muc_set_role(a->s, room, botnick, XMPP_MUC_ROLE_NONE, "test", on_iq, a) == XMPP_OK &&
              wait_iq(a),
          "kick of the bot accepted");
    WAIT_UNTIL(a->bot_joins > before, 20000);
    check(a->bot_joins > before, "the bot rejoins after the kick");
    /* burst: the replies never exceed the bucket */
    pump((unsigned)(period * 1000)); /* a full bucket */
    a->pongs = 0;
    {
        uint64_t t0 = now_ms();
        for (i = 0; i < burst; i++)
            xmpp_muc_send(a->s, room, "!ping", NULL, 0);
        pump((unsigned)(period * 1000));
        elapsed = (double)(now_ms() - t0) / 1000.0;
    }
    bound = rate + rate * elapsed / period + 0.5;
    printf("info: burst of %d commands: %d replies in %.1f s (bound %.1f)\n", burst, a->pongs,
           elapsed, bound);
    check(a->pongs >= 1 && a->pongs <= (int)bound && a->pongs < burst,
          "the bot's replies to a burst stay within its rate limit");
    /* the bot's connection is reset: it comes back (resumed, or a new
     * stream and a rejoin) and answers again */
    if (control > 0) {
        pump((unsigned)(period * 1000)); /* the bucket refills */
        check(proxy_command(control, "reset all\n"), "the bot's connection is reset");
        check(ping_bot(a, room, 25000), "the bot answers again after the reset");
    }
    /* destroy: the bot recreates the room */
    before = a->bot_joins;
    a->iq_done = 0;
    check(xmpp_muc_destroy(a->s, room, NULL, "restart", on_iq, a) == XMPP_OK && wait_iq(a),
          "room destroyed");
    pump(500);
    {
        uint64_t end = now_ms() + 20000;
        int ok = 0;
        while (!ok && now_ms() < end) {
            if (join_room(a, room, "owner2")) {
                WAIT_UNTIL(xmpp_muc_occupant_find(a->s, room, botnick) != NULL, 3000);
                ok = xmpp_muc_occupant_find(a->s, room, botnick) != NULL;
                if (!ok)
                    xmpp_muc_leave(a->s, room, NULL);
            }
            if (!ok)
                pump(500);
        }
        check(ok, "the bot is back in the room after it was destroyed");
    }
    return failures ? 1 : 0;
}

/* ---- XEP-0050 requester against the server's own commands */
static struct {
    int done, ping_offered, uptime_offered;
    size_t n;
    xmpp_iq_status st;
    xmpp_adhoc_status cst;
    char note[128];
} AH;

static void ah_list(xmpp_session *s, xmpp_iq_status st, size_t n, const char *const *nodes,
                    const char *const *names, void *ud) {
    size_t i;
    (void)s;
    (void)names;
    (void)ud;
    AH.done = 1;
    AH.st = st;
    AH.n = n;
    for (i = 0; i < n; i++)
        if (strcmp(nodes[i], "ping") == 0)
            AH.ping_offered = 1;
        else if (strcmp(nodes[i], "uptime") == 0)
            AH.uptime_offered = 1; /* Prosody's mod_uptime */
}

static void ah_exec(xmpp_session *s, xmpp_iq_status st, const xmpp_adhoc_result *r,
                    xmpp_stanza *reply, void *ud) {
    (void)s;
    (void)reply;
    (void)ud;
    AH.done = 1;
    AH.st = st;
    if (r) {
        AH.cst = xmpp_adhoc_result_status(r);
        snprintf(AH.note, sizeof(AH.note), "%s",
                 xmpp_adhoc_result_note(r, 0, NULL) ? xmpp_adhoc_result_note(r, 0, NULL) : "");
    }
}

static int mode_adhoc(const char *domain) {
    struct peer *a = connect_as("alice", "ALICE");
    check(xmpp_adhoc_list(a->s, domain, ah_list, NULL) == XMPP_OK && wait_for(&AH.done, 10000),
          "ad-hoc command list answered");
    if (AH.st != XMPP_IQ_RESULT || (!AH.ping_offered && !AH.uptime_offered)) {
        printf("info: the server offers neither a \"ping\" nor an \"uptime\" command "
               "(%zu commands): not executed\n", AH.n);
        return failures ? 1 : 0;
    }
    {
        /* ejabberd's mod_adhoc has "ping", Prosody's mod_uptime "uptime" */
        const char *node = AH.ping_offered ? "ping" : "uptime";
        char what[96];
        AH.done = 0;
        snprintf(what, sizeof(what), "ad-hoc \"%s\" command executed to completion", node);
        check(xmpp_adhoc_execute(a->s, domain, node, XMPP_ADHOC_EXECUTE, NULL, NULL, 0, ah_exec,
                                 NULL) == XMPP_OK &&
                  wait_for(&AH.done, 10000) && AH.st == XMPP_IQ_RESULT &&
                  AH.cst == XMPP_ADHOC_COMPLETED,
              what);
        printf("info: %s command note: %s\n", node, AH.note);
    }
    return failures ? 1 : 0;
}

int main(int argc, char **argv) {
    int rc;
    t_start = now_ms();
    if (argc == 3 && strcmp(argv[1], "plugin") == 0)
        rc = mode_plugin(argv[2]);
    else if (argc == 3 && strcmp(argv[1], "adhoc") == 0)
        rc = mode_adhoc(argv[2]);
    else if ((argc == 6 || argc == 7) && strcmp(argv[1], "bot") == 0)
        rc =
            mode_bot(argv[2], argv[3], atof(argv[4]), atof(argv[5]), argc == 7 ? atoi(argv[6]) : 0);
    else {
        fprintf(stderr,
                "usage: muc_driver plugin ROOM | bot ROOM BOTNICK RATE PERIOD [CONTROL-PORT]\n");
        return 2;
    }
    while (n_peers > 0) {
        struct peer *p = peers[--n_peers];
        uint64_t end = now_ms() + 1000;
        xmpp_client_close(p->client);
        while (now_ms() < end && xmpp_client_run_once(p->client, 50) != XMPP_ERR_CLOSED)
            ;
        xmpp_client_free(p->client);
        xmpp_ctx_free(p->ctx);
        free(p);
    }
    return rc;
}
