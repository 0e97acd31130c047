/* Client SASL: mechanism selection, channel-binding policy, and the
 * uniform step interface over SCRAM, PLAIN, EXTERNAL and ANONYMOUS.
 * See sasl.h for the rules enforced. */
#include "stream/sasl.h"

#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>

#include "core/buf.h"
#include "stream/scram.h"

#define SASL_MAX_MECHS 128   /* advertised mechanisms accepted */
#define SASL_MAX_CBTYPES 32  /* advertised channel-binding types accepted */
#define SASL_MAX_NAME 255    /* bytes in one advertised name */

enum mech_id {
    M_SCRAM_SHA512_PLUS,
    M_SCRAM_SHA256_PLUS,
    M_SCRAM_SHA1_PLUS,
    M_SCRAM_SHA512,
    M_SCRAM_SHA256,
    M_SCRAM_SHA1,
    M_PLAIN,
    M_EXTERNAL,
    M_ANONYMOUS,
    M_COUNT
};

/* Our preference order is the table order (SASL-01). */
static const struct mech_info {
    const char *name;
    int scram;
    int plus;
    xmpp__scram_hash hash;
} mechs_tab[M_COUNT] = {
    {"SCRAM-SHA-512-PLUS", 1, 1, XMPP_SCRAM_SHA512},
    {"SCRAM-SHA-256-PLUS", 1, 1, XMPP_SCRAM_SHA256},
    {"SCRAM-SHA-1-PLUS", 1, 1, XMPP_SCRAM_SHA1},
    {"SCRAM-SHA-512", 1, 0, XMPP_SCRAM_SHA512},
    {"SCRAM-SHA-256", 1, 0, XMPP_SCRAM_SHA256},
    {"SCRAM-SHA-1", 1, 0, XMPP_SCRAM_SHA1},
    {"PLAIN", 0, 0, XMPP_SCRAM_SHA1},
    {"EXTERNAL", 0, 0, XMPP_SCRAM_SHA1},
    {"ANONYMOUS", 0, 0, XMPP_SCRAM_SHA1},
};

/* Channel-binding types, strongest first (XEP-0440 §Security
 * Considerations: prefer tls-exporter over tls-server-end-point). */
static const struct cb_info {
    const char *name;
    unsigned bit;
} cbs_tab[] = {
    {"tls-exporter", XMPP_SASL_CB_EXPORTER},
    {"tls-unique", XMPP_SASL_CB_UNIQUE},
    {"tls-server-end-point", XMPP_SASL_CB_ENDPOINT},
};
#define CB_COUNT (sizeof(cbs_tab) / sizeof(cbs_tab[0]))

enum { S_NEW, S_SELECTED, S_STARTED, S_DONE, S_FAILED };

struct xmpp__sasl {
    const xmpp_ctx *ctx;
    char *authcid;
    char *authzid;
    char *password;
    size_t pwlen;
    unsigned flags;
    int pref[M_COUNT];
    size_t npref;
    unsigned cb_info;
    xmpp__sasl_cb_fn get_cb;
    void *cb_ud;
    unsigned min_iter, max_iter;
    int mech;              /* enum mech_id once selected */
    const char *cbtype;    /* static, when binding */
    xmpp__scram *scram;
    int state;
};

/* The channel-binding decision of xmpp__sasl_select. */
typedef struct cb_plan {
    int supported;         /* we can bind on this connection */
    int server_plus;       /* the server advertised some *-PLUS */
    const char *type;      /* type to bind with, NULL: none */
    int ssdp_required;     /* XEP-0474 rule 6: h= must vouch for the list */
} cb_plan;

/* ---- names ------------------------------------------------------------ */

const char *xmpp__sasl_strerror(int err) {
    switch (err) {
    case XMPP_OK: return "OK";
    case XMPP_ERR_NOMEM: return "NOMEM";
    case XMPP_ERR_INVALID: return "INVALID";
    case XMPP_ERR_STATE: return "STATE";
    case XMPP_SASL_E_NO_MECH: return "SASL_NO_MECH";
    case XMPP_SASL_E_INSECURE: return "SASL_INSECURE";
    case XMPP_SASL_E_DOWNGRADE: return "SASL_DOWNGRADE";
    case XMPP_SASL_E_CB_STRIPPED: return "SASL_CB_STRIPPED";
    case XMPP_SASL_E_CB_NO_TYPES: return "SASL_CB_NO_TYPES";
    case XMPP_SASL_E_CB_NO_MUTUAL: return "SASL_CB_NO_MUTUAL";
    case XMPP_SASL_E_CB_DATA: return "SASL_CB_DATA";
    case XMPP_SASL_E_BAD_NONCE: return "SASL_BAD_NONCE";
    case XMPP_SASL_E_BAD_SALT: return "SASL_BAD_SALT";
    case XMPP_SASL_E_ITERATIONS: return "SASL_ITERATIONS";
    case XMPP_SASL_E_BASE64: return "SASL_BASE64";
    case XMPP_SASL_E_DUPLICATE_ATTR: return "SASL_DUPLICATE_ATTR";
    case XMPP_SASL_E_MISSING_ATTR: return "SASL_MISSING_ATTR";
    case XMPP_SASL_E_MALFORMED: return "SASL_MALFORMED";
    case XMPP_SASL_E_EXTENSION: return "SASL_EXTENSION";
    case XMPP_SASL_E_TOO_LONG: return "SASL_TOO_LONG";
    case XMPP_SASL_E_SIGNATURE: return "SASL_SIGNATURE";
    case XMPP_SASL_E_NO_SIGNATURE: return "SASL_NO_SIGNATURE";
    case XMPP_SASL_E_EARLY_SUCCESS: return "SASL_EARLY_SUCCESS";
    case XMPP_SASL_E_SERVER_ERROR: return "SASL_SERVER_ERROR";
    case XMPP_SASL_E_SSDP_MISMATCH: return "SASL_SSDP_MISMATCH";
    case XMPP_SASL_E_SSDP_MISSING: return "SASL_SSDP_MISSING";
    case XMPP_SASL_E_SASLPREP: return "SASL_SASLPREP";
    case XMPP_SASL_E_UNEXPECTED: return "SASL_UNEXPECTED";
    default: return "UNKNOWN";
    }
}

/* ---- construction ----------------------------------------------------- */

static int mech_by_name(const char *name) {
    int i;
    for (i = 0; i < M_COUNT; i++)
        if (strcmp(mechs_tab[i].name, name) == 0)
            return i;
    return -1;
}

static int set_pref(xmpp__sasl *s, const xmpp__sasl_params *p) {
    size_t i, k;
    if (p->mechs == NULL) {
        for (i = 0; i < M_COUNT; i++)
            s->pref[i] = (int)i;
        s->npref = M_COUNT;
        return XMPP_OK;
    }
    for (i = 0; i < p->nmechs; i++) {
        int id = p->mechs[i] != NULL ? mech_by_name(p->mechs[i]) : -1;
        int dup = 0;
        for (k = 0; k < s->npref; k++)
            dup |= s->pref[k] == id;
        if (id >= 0 && !dup)
            s->pref[s->npref++] = id;
    }
    return s->npref > 0 ? XMPP_OK : XMPP_ERR_INVALID;
}

static int text_ok(const char *t) {
    return t != NULL && t[0] != '\0' && xmpp__xml_text_ok(t, strlen(t));
}

static int params_ok(const xmpp__sasl_params *p) {
    unsigned lo = p->scram_min_iter ? p->scram_min_iter : XMPP_SASL_SCRAM_MIN_ITER;
    unsigned hi = p->scram_max_iter ? p->scram_max_iter : XMPP_SASL_SCRAM_MAX_ITER;
    if (p->password != NULL && (!text_ok(p->password) || !text_ok(p->authcid)))
        return 0;
    if (p->authcid != NULL && !text_ok(p->authcid))
        return 0;
    if (p->authzid != NULL && p->authzid[0] != '\0' && !text_ok(p->authzid))
        return 0;
    if (p->mechs == NULL && p->nmechs > 0)
        return 0;
    return lo <= hi;
}

static int copy_strings(xmpp__sasl *s, const xmpp__sasl_params *p) {
    if (p->authcid != NULL && (s->authcid = xmpp__strdup(s->ctx, p->authcid)) == NULL)
        return XMPP_ERR_NOMEM;
    if (p->authzid != NULL && p->authzid[0] != '\0' &&
        (s->authzid = xmpp__strdup(s->ctx, p->authzid)) == NULL)
        return XMPP_ERR_NOMEM;
    if (p->password != NULL) {
        s->pwlen = strlen(p->password);
        s->password = xmpp__malloc(s->ctx, s->pwlen + 1);
        if (s->password == NULL)
            return XMPP_ERR_NOMEM;
        memcpy(s->password, p->password, s->pwlen + 1);
    }
    return XMPP_OK;
}

int xmpp__sasl_new(xmpp__sasl **out, const xmpp_ctx *ctx,
                   const xmpp__sasl_params *p) {
    xmpp__sasl *s;
    int rc;
    if (out == NULL)
        return XMPP_ERR_INVALID;
    *out = NULL;
    if (ctx == NULL || p == NULL || !params_ok(p))
        return XMPP_ERR_INVALID;
    s = xmpp__malloc(ctx, sizeof(*s));
    if (s == NULL)
        return XMPP_ERR_NOMEM;
    memset(s, 0, sizeof(*s));
    s->ctx = ctx;
    s->flags = p->flags;
    s->cb_info = p->cb_info;
    s->get_cb = p->get_cb;
    s->cb_ud = p->cb_ud;
    s->min_iter = p->scram_min_iter ? p->scram_min_iter : XMPP_SASL_SCRAM_MIN_ITER;
    s->max_iter = p->scram_max_iter ? p->scram_max_iter : XMPP_SASL_SCRAM_MAX_ITER;
    s->mech = -1;
    rc = set_pref(s, p);
    if (rc == XMPP_OK)
        rc = copy_strings(s, p);
    if (rc != XMPP_OK) {
        xmpp__sasl_free(s);
        return rc;
    }
    *out = s;
    return XMPP_OK;
}

static void drop_password(xmpp__sasl *s) {
    if (s->password != NULL) {
        gnutls_memset(s->password, 0, s->pwlen);
        xmpp__free(s->ctx, s->password);
    }
    s->password = NULL;
    s->pwlen = 0;
}

void xmpp__sasl_free(xmpp__sasl *s) {
    const xmpp_ctx *ctx;
    if (s == NULL)
        return;
    ctx = s->ctx;
    drop_password(s);
    xmpp__scram_free(s->scram);
    xmpp__free(ctx, s->authcid);
    xmpp__free(ctx, s->authzid);
    gnutls_memset(s, 0, sizeof(*s));
    xmpp__free(ctx, s);
}

void xmpp__sasl_buf_free(const xmpp_ctx *ctx, uint8_t *buf, size_t len) {
    if (buf == NULL)
        return;
    gnutls_memset(buf, 0, len);
    xmpp__free(ctx, buf);
}

static int fail(xmpp__sasl *s, int rc) {
    if (rc != XMPP_ERR_INVALID) {
        s->state = S_FAILED;
        drop_password(s);
    }
    return rc;
}

/* ---- the advertised lists --------------------------------------------- */

static int names_ok(const char *const *v, size_t n, size_t max) {
    size_t i, k;
    if (n > max || (v == NULL && n > 0))
        return XMPP_SASL_E_TOO_LONG;
    for (i = 0; i < n; i++) {
        size_t len = v[i] != NULL ? strlen(v[i]) : 0;
        if (len == 0)
            return XMPP_SASL_E_MALFORMED;
        if (len > SASL_MAX_NAME)
            return XMPP_SASL_E_TOO_LONG;
        for (k = 0; k < len; k++)
            if ((unsigned char)v[i][k] < 0x20)
                return XMPP_SASL_E_MALFORMED; /* also keeps 0x1E/0x1F out */
    }
    return XMPP_OK;
}

static int listed(const char *const *v, size_t n, const char *name) {
    size_t i;
    for (i = 0; i < n; i++)
        if (strcmp(v[i], name) == 0)
            return 1;
    return 0;
}

static int cmp_names(const void *a, const void *b) {
    /* "i;octet" collation (RFC 4790 §9.3): strcmp compares unsigned bytes */
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Appends the names sorted by i;octet and joined by 0x1E. */
static int append_sorted(xmpp_buf *b, const xmpp_ctx *ctx,
                         const char *const *v, size_t n) {
    const char **tmp;
    size_t i;
    if (n == 0)
        return XMPP_OK;
    tmp = xmpp__malloc(ctx, n * sizeof(*tmp)); /* n <= SASL_MAX_MECHS */
    if (tmp == NULL)
        return XMPP_ERR_NOMEM;
    memcpy(tmp, v, n * sizeof(*tmp));
    qsort(tmp, n, sizeof(*tmp), cmp_names);
    for (i = 0; i < n; i++) {
        if (i > 0)
            xmpp__buf_append_char(b, '\x1e');
        xmpp__buf_append_str(b, tmp[i]);
    }
    xmpp__free(ctx, tmp);
    return XMPP_OK;
}

/* XEP-0474 §Server Sends Downgrade Protection Hash, steps 1-4:
 * S = sorted mechanisms joined by 0x1E; only when XEP-0440 was used,
 * 0x1F and the sorted channel-binding types joined by 0x1E. */
static int ssdp_string(const xmpp_ctx *ctx, const char *const *mechs, size_t n,
                       const char *const *cbtypes, size_t ncb, char **out,
                       size_t *len) {
    xmpp_buf b;
    int rc;
    xmpp__buf_init(&b, ctx);
    rc = append_sorted(&b, ctx, mechs, n);
    if (rc == XMPP_OK && ncb > 0) {
        xmpp__buf_append_char(&b, '\x1f');
        rc = append_sorted(&b, ctx, cbtypes, ncb);
    }
    if (rc != XMPP_OK) {
        xmpp__buf_free(&b);
        return rc;
    }
    *out = xmpp__buf_steal(&b, len);
    return *out != NULL ? XMPP_OK : XMPP_ERR_NOMEM;
}

/* ---- channel-binding policy ------------------------------------------- */

/* SASL-05: which types the TLS layer may use on this connection. */
static unsigned usable_cb(const xmpp__sasl *s) {
    unsigned u = 0, i = s->cb_info;
    if (!(s->flags & XMPP_SASL_TLS_ACTIVE) || s->get_cb == NULL)
        return 0;
    /* RFC 9266 §3 (and RFC 7627): tls-exporter needs TLS 1.3 or EMS */
    if ((i & XMPP_SASL_CB_EXPORTER) && (i & (XMPP_SASL_CB_TLS13 | XMPP_SASL_CB_EMS)))
        u |= XMPP_SASL_CB_EXPORTER;
    /* RFC 9266 §1: tls-unique is not defined for TLS 1.3 */
    if ((i & XMPP_SASL_CB_UNIQUE) && !(i & XMPP_SASL_CB_TLS13))
        u |= XMPP_SASL_CB_UNIQUE;
    if (i & XMPP_SASL_CB_ENDPOINT)
        u |= XMPP_SASL_CB_ENDPOINT;
    return u;
}

static const char *cb_name(unsigned bit) {
    size_t i;
    for (i = 0; i < CB_COUNT; i++)
        if (cbs_tab[i].bit == bit)
            return cbs_tab[i].name;
    return NULL;
}

static const char *strongest(unsigned set) {
    size_t i;
    for (i = 0; i < CB_COUNT; i++)
        if (set & cbs_tab[i].bit)
            return cbs_tab[i].name;
    return NULL;
}

static int ends_with_plus(const char *m) {
    size_t n = strlen(m);
    return n > 5 && strcmp(m + n - 5, "-PLUS") == 0;
}

/* 1 when some mechanism we would use is a -PLUS variant offered. */
static int plus_usable(const xmpp__sasl *s, const char *const *mechs, size_t n) {
    size_t i;
    for (i = 0; i < s->npref; i++)
        if (mechs_tab[s->pref[i]].plus && listed(mechs, n, mechs_tab[s->pref[i]].name))
            return 1;
    return 0;
}

static int have_plus_pref(const xmpp__sasl *s) {
    size_t i;
    for (i = 0; i < s->npref; i++)
        if (mechs_tab[s->pref[i]].plus)
            return 1;
    return 0;
}

/* SASL1 without XEP-0440: XEP-0440 leaves the type open (the client MAY
 * abort). We use the protocol default, tls-unique (RFC 5802 §6) before
 * TLS 1.3 and tls-exporter (RFC 9266 §3) on TLS 1.3, then the type every
 * server must implement, tls-server-end-point (XEP-0440 §Security);
 * abort only when none of them is usable. */
static int plan_sasl1_default(unsigned usable, unsigned cb_info, cb_plan *pl) {
    unsigned def = (cb_info & XMPP_SASL_CB_TLS13) ? XMPP_SASL_CB_EXPORTER
                                                 : XMPP_SASL_CB_UNIQUE;
    if (usable & def)
        pl->type = cb_name(def);
    else if (usable & XMPP_SASL_CB_ENDPOINT)
        pl->type = cb_name(XMPP_SASL_CB_ENDPOINT);
    else
        return XMPP_SASL_E_CB_NO_TYPES;
    return XMPP_OK;
}

/* SASL-04: XEP-0440 §Interaction with SASL mechanisms, with rule 6 as
 * modified by XEP-0474 §Business Rules. */
static int plan_cb(const xmpp__sasl *s, const char *const *mechs, size_t n,
                   const char *const *cbtypes, size_t ncb, int sasl2,
                   cb_plan *pl) {
    unsigned usable = usable_cb(s), adv = 0, mutual;
    size_t i;
    memset(pl, 0, sizeof(*pl));
    for (i = 0; i < n; i++)
        pl->server_plus |= ends_with_plus(mechs[i]);
    pl->supported = usable != 0 && have_plus_pref(s);
    if (!pl->supported)
        return XMPP_OK; /* gs2 flag 'n' */
    if (!pl->server_plus)
        /* types without any -PLUS: stripped by a MITM or broken server;
         * neither advertised: gs2 flag 'y' (RFC 5802 §6) */
        return ncb > 0 ? XMPP_SASL_E_CB_STRIPPED : XMPP_OK;
    if (!plus_usable(s, mechs, n))
        return XMPP_OK; /* only -PLUS variants we do not implement: 'n' */
    if (ncb == 0)
        return sasl2 ? XMPP_SASL_E_CB_NO_TYPES : plan_sasl1_default(usable, s->cb_info, pl);
    for (i = 0; i < CB_COUNT; i++)
        if (listed(cbtypes, ncb, cbs_tab[i].name))
            adv |= cbs_tab[i].bit;
    mutual = usable & adv;
    if (mutual != 0) {
        pl->type = strongest(mutual);
        return XMPP_OK;
    }
    /* XEP-0474 new rule 6: no usable advertised type. A list without
     * tls-server-end-point (which servers MUST offer) is suspicious: go on
     * with 'n' only if the server-first h= vouches for the list. */
    pl->ssdp_required = !(adv & XMPP_SASL_CB_ENDPOINT);
    return XMPP_OK;
}

/* ---- mechanism choice ------------------------------------------------- */

typedef struct pick_state {
    int refused_pin;    /* PLAIN offered but the account is pinned */
    int refused_tls;    /* PLAIN offered but TLS is off */
} pick_state;

static int acceptable(const xmpp__sasl *s, int id, const cb_plan *pl,
                      pick_state *ps) {
    const struct mech_info *m = &mechs_tab[id];
    if (m->plus)
        return pl->type != NULL && s->password != NULL;
    if (m->scram)
        return s->password != NULL;
    switch (id) {
    case M_PLAIN:
        if (s->password == NULL)
            return 0;
        if (s->flags & XMPP_SASL_PINNED) {
            ps->refused_pin = 1; /* SASL-02, XEP-0474 §Business Rules 1 */
            return 0;
        }
        if (!(s->flags & (XMPP_SASL_TLS_ACTIVE | XMPP_SASL_PLAIN_ALLOWED))) {
            ps->refused_tls = 1; /* SASL-01, RFC 6120 §13.8.3 */
            return 0;
        }
        return 1;
    case M_EXTERNAL:
        return (s->flags & XMPP_SASL_WANT_EXTERNAL) != 0;
    case M_ANONYMOUS:
        return (s->flags & XMPP_SASL_WANT_ANONYMOUS) != 0;
    default:
        return 0;
    }
}

static int pick(const xmpp__sasl *s, const char *const *mechs, size_t n,
                const cb_plan *pl) {
    pick_state ps;
    size_t i;
    memset(&ps, 0, sizeof(ps));
    for (i = 0; i < s->npref; i++) {
        int id = s->pref[i];
        if (listed(mechs, n, mechs_tab[id].name) && acceptable(s, id, pl, &ps))
            return id;
    }
    if (ps.refused_pin)
        return XMPP_SASL_E_DOWNGRADE;
    return ps.refused_tls ? XMPP_SASL_E_INSECURE : XMPP_SASL_E_NO_MECH;
}

/* RFC 5802 §6 gs2-cbind-flag for the chosen SCRAM variant. */
static char gs2_flag(int id, const cb_plan *pl) {
    if (mechs_tab[id].plus)
        return 'p';
    return pl->supported && !pl->server_plus ? 'y' : 'n';
}

static int start_scram(xmpp__sasl *s, int id, const cb_plan *pl,
                       const char *const *mechs, size_t n,
                       const char *const *cbtypes, size_t ncb) {
    xmpp__scram_params sp;
    char *ssdp = NULL;
    size_t ssdp_len = 0;
    int rc = ssdp_string(s->ctx, mechs, n, cbtypes, ncb, &ssdp, &ssdp_len);
    if (rc != XMPP_OK)
        return rc;
    memset(&sp, 0, sizeof(sp));
    sp.hash = mechs_tab[id].hash;
    sp.authcid = s->authcid;
    sp.authzid = s->authzid;
    sp.password = s->password;
    sp.cbflag = gs2_flag(id, pl);
    sp.cbname = sp.cbflag == 'p' ? pl->type : NULL;
    sp.ssdp = (const uint8_t *)ssdp;
    sp.ssdp_len = ssdp_len;
    sp.ssdp_required = pl->ssdp_required;
    sp.min_iter = s->min_iter;
    sp.max_iter = s->max_iter;
    rc = xmpp__scram_new(&s->scram, s->ctx, &sp);
    xmpp__free(s->ctx, ssdp);
    if (rc == XMPP_OK && sp.cbflag == 'p')
        s->cbtype = pl->type;
    return rc;
}

int xmpp__sasl_select(xmpp__sasl *s, const char *const *mechs, size_t n,
                      const char *const *cbtypes, size_t ncb, int sasl2,
                      const char **mech_out) {
    cb_plan pl;
    int rc, id;
    if (s == NULL || mech_out == NULL)
        return XMPP_ERR_INVALID;
    *mech_out = NULL;
    if (s->state != S_NEW)
        return XMPP_ERR_STATE;
    if ((rc = names_ok(mechs, n, SASL_MAX_MECHS)) != XMPP_OK ||
        (rc = names_ok(cbtypes, ncb, SASL_MAX_CBTYPES)) != XMPP_OK ||
        (rc = plan_cb(s, mechs, n, cbtypes, ncb, sasl2, &pl)) != XMPP_OK)
        return fail(s, rc);
    id = pick(s, mechs, n, &pl);
    if (id < 0)
        return fail(s, id);
    if (pl.ssdp_required && !mechs_tab[id].scram)
        return fail(s, XMPP_SASL_E_CB_NO_MUTUAL); /* nothing could vouch */
    if (mechs_tab[id].scram) {
        rc = start_scram(s, id, &pl, mechs, n, cbtypes, ncb);
        if (rc != XMPP_OK)
            return fail(s, rc);
        drop_password(s); /* the SCRAM object holds the prepared form */
    }
    s->mech = id;
    s->state = S_SELECTED;
    *mech_out = mechs_tab[id].name;
    xmpp__log(s->ctx, XMPP_LOG_DEBUG, "sasl", "mechanism %s%s%s",
              mechs_tab[id].name, s->cbtype ? ", channel binding " : "",
              s->cbtype ? s->cbtype : "");
    return XMPP_OK;
}

int xmpp__sasl_preview(const xmpp__sasl *s, const char *const *mechs, size_t n,
                       const char *const *cbtypes, size_t ncb, int sasl2, int *rank) {
    cb_plan pl;
    int rc, id;
    size_t i;
    if (s == NULL || rank == NULL)
        return XMPP_ERR_INVALID;
    *rank = -1;
    if (s->state != S_NEW)
        return XMPP_ERR_STATE;
    if ((rc = names_ok(mechs, n, SASL_MAX_MECHS)) != XMPP_OK ||
        (rc = names_ok(cbtypes, ncb, SASL_MAX_CBTYPES)) != XMPP_OK ||
        (rc = plan_cb(s, mechs, n, cbtypes, ncb, sasl2, &pl)) != XMPP_OK)
        return rc;
    if ((id = pick(s, mechs, n, &pl)) < 0)
        return id;
    if (pl.ssdp_required && !mechs_tab[id].scram)
        return XMPP_SASL_E_CB_NO_MUTUAL;
    for (i = 0; i < s->npref; i++)
        if (s->pref[i] == id)
            *rank = (int)i;
    return XMPP_OK;
}

int xmpp__sasl_test_set_nonce(xmpp__sasl *s, const char *nonce) {
    if (s == NULL)
        return XMPP_ERR_INVALID;
    if (s->state != S_SELECTED || s->scram == NULL)
        return XMPP_ERR_STATE;
    return xmpp__scram_set_nonce(s->scram, nonce);
}

/* ---- responses -------------------------------------------------------- */

/* A caller-owned response of len bytes (1 spare byte so that an empty
 * response is still a non-NULL buffer). */
static uint8_t *response(const xmpp_ctx *ctx, size_t len) {
    uint8_t *p = len < SIZE_MAX ? xmpp__malloc(ctx, len + 1) : NULL;
    if (p != NULL)
        p[len] = 0;
    return p;
}

/* RFC 4616 §2: message = [authzid] UTF8NUL authcid UTF8NUL passwd */
static int plain_initial(xmpp__sasl *s, uint8_t **out, size_t *len) {
    size_t zl = s->authzid ? strlen(s->authzid) : 0, cl = strlen(s->authcid);
    size_t n = zl + 1 + cl + 1 + s->pwlen;
    uint8_t *p = response(s->ctx, n); /* one exact allocation: no stray copies */
    if (p == NULL)
        return XMPP_ERR_NOMEM;
    if (zl > 0)
        memcpy(p, s->authzid, zl);
    p[zl] = 0;
    memcpy(p + zl + 1, s->authcid, cl);
    p[zl + 1 + cl] = 0;
    memcpy(p + zl + 2 + cl, s->password, s->pwlen);
    *out = p;
    *len = n;
    return XMPP_OK;
}

/* EXTERNAL (RFC 4422 App. A, XEP-0178 §3): the authzid, or an empty
 * response; ANONYMOUS (RFC 4505 §2): an empty trace. */
static int simple_initial(xmpp__sasl *s, const char *text, uint8_t **out,
                          size_t *len) {
    size_t n = text != NULL ? strlen(text) : 0;
    uint8_t *p = response(s->ctx, n);
    if (p == NULL)
        return XMPP_ERR_NOMEM;
    if (n > 0)
        memcpy(p, text, n);
    *out = p;
    *len = n;
    return XMPP_OK;
}

static int scram_initial(xmpp__sasl *s, uint8_t **out, size_t *len) {
    uint8_t cb[XMPP_SASL_CB_MAX];
    size_t cblen = 0;
    char *msg = NULL;
    int rc = XMPP_OK;
    if (s->cbtype != NULL) {
        cblen = sizeof(cb);
        if (s->get_cb(s->cb_ud, s->cbtype, cb, &cblen) < 0 || cblen == 0 ||
            cblen > sizeof(cb))
            rc = XMPP_SASL_E_CB_DATA;
    }
    if (rc == XMPP_OK)
        rc = xmpp__scram_client_first(s->scram, s->cbtype ? cb : NULL, cblen,
                                      &msg, len);
    gnutls_memset(cb, 0, sizeof(cb));
    *out = (uint8_t *)msg;
    return rc;
}

int xmpp__sasl_initial(xmpp__sasl *s, uint8_t **out, size_t *len) {
    int rc;
    if (s == NULL || out == NULL || len == NULL)
        return XMPP_ERR_INVALID;
    *out = NULL;
    *len = 0;
    if (s->state != S_SELECTED)
        return XMPP_ERR_STATE;
    if (mechs_tab[s->mech].scram)
        rc = scram_initial(s, out, len);
    else if (s->mech == M_PLAIN)
        rc = plain_initial(s, out, len);
    else if (s->mech == M_EXTERNAL)
        rc = simple_initial(s, s->authzid, out, len);
    else
        rc = simple_initial(s, NULL, out, len);
    drop_password(s); /* PLAIN: the only copy left is the caller's buffer */
    if (rc != XMPP_OK)
        return fail(s, rc);
    s->state = S_STARTED;
    return XMPP_OK;
}

int xmpp__sasl_step(xmpp__sasl *s, const uint8_t *challenge, size_t len,
                    uint8_t **out, size_t *outlen) {
    char *msg = NULL;
    int rc;
    if (s == NULL || out == NULL || outlen == NULL || (challenge == NULL && len > 0))
        return XMPP_ERR_INVALID;
    *out = NULL;
    *outlen = 0;
    if (s->state != S_STARTED)
        return XMPP_ERR_STATE;
    if (s->scram == NULL)
        return fail(s, XMPP_SASL_E_UNEXPECTED);
    switch (xmpp__scram_state(s->scram)) {
    case 1: /* server-first-message */
        rc = xmpp__scram_client_final(s->scram, (const char *)challenge, len,
                                      &msg, outlen);
        *out = (uint8_t *)msg;
        break;
    case 2: /* server-final in a challenge (RFC 6120 §6.3.10): verify, then
             * answer with an empty response */
        rc = xmpp__scram_verify_final(s->scram, (const char *)challenge, len);
        if (rc == XMPP_OK && (*out = response(s->ctx, 0)) == NULL)
            rc = XMPP_ERR_NOMEM;
        break;
    default:
        rc = XMPP_SASL_E_UNEXPECTED;
        break;
    }
    return rc != XMPP_OK ? fail(s, rc) : XMPP_OK;
}

static int scram_finish(xmpp__sasl *s, const uint8_t *data, size_t len) {
    switch (xmpp__scram_state(s->scram)) {
    case 1:
        return XMPP_SASL_E_EARLY_SUCCESS; /* before client-final */
    case 2:
        return xmpp__scram_verify_final(s->scram, (const char *)data, len);
    case 3: /* verified in a challenge; repeated data must match too */
        return len == 0 ? XMPP_OK
                        : xmpp__scram_verify_final(s->scram, (const char *)data, len);
    default:
        return XMPP_ERR_STATE;
    }
}

int xmpp__sasl_finish(xmpp__sasl *s, const uint8_t *data, size_t len) {
    int rc;
    if (s == NULL || (data == NULL && len > 0))
        return XMPP_ERR_INVALID;
    if (s->state != S_STARTED)
        return XMPP_ERR_STATE;
    if (s->scram != NULL)
        rc = scram_finish(s, data, len);
    else
        rc = len == 0 ? XMPP_OK : XMPP_SASL_E_UNEXPECTED;
    if (rc != XMPP_OK)
        return fail(s, rc);
    s->state = S_DONE;
    return XMPP_OK;
}

/* ---- results ---------------------------------------------------------- */

int xmpp__sasl_pins_account(const xmpp__sasl *s) {
    return s != NULL && s->state == S_DONE &&
           (mechs_tab[s->mech].scram || s->mech == M_EXTERNAL);
}

const char *xmpp__sasl_cb_type(const xmpp__sasl *s) {
    return s != NULL ? s->cbtype : NULL;
}

int xmpp__sasl_ssdp_verified(const xmpp__sasl *s) {
    return s != NULL && xmpp__scram_ssdp_verified(s->scram);
}

const char *xmpp__sasl_server_error(const xmpp__sasl *s) {
    return s != NULL ? xmpp__scram_server_error(s->scram) : NULL;
}
