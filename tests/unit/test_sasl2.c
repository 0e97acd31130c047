/* The modern login as transcripts: SASL2 (XEP-0388) with Bind2
 * (XEP-0386), stream management inside it (XEP-0198), FAST tokens
 * (XEP-0484), the RFC 6120 fallback, downgrade refusal and allocation
 * failure. The server side is played by the test: a small SCRAM server
 * checks the client's proof and signs with the real ServerSignature, and
 * FAST runs over real TLS with an in-memory GnuTLS server (certificates
 * from tests/certs/gen-certs.sh, made once by the group setup). */
#define _POSIX_C_SOURCE 200809L /* mkdtemp */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include <xmpp/session.h>
#include <xmpp/xmpp.h>

#include "stream/base64.h"
#include "testhelp.h"

#define UA_ID "0b7a5c5e-52f9-4c4e-9d4b-6a1de3b5f001"
#define TOKEN "secret-token:fast-aXZpZXJ0aGVyZWFyZW5vc2VjcmV0cw"
#define HDR                                                                                  \
    "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "                             \
    "xmlns:stream='http://etherx.jabber.org/streams' from='example.com' id='s1' "            \
    "version='1.0'>"
#define BIND2_ALL                                                                            \
    "<bind xmlns='urn:xmpp:bind:0'><inline><feature var='urn:xmpp:carbons:2'/>"              \
    "<feature var='urn:xmpp:csi:0'/><feature var='urn:xmpp:sm:3'/></inline></bind>"
/* SASL2 and RFC 6120 SASL with the same mechanisms */
#define SASL2(mechs, inline_) SASL2_1(mechs, inline_, mechs)
#define SASL2_1(mechs, inline_, mechs1)                                                      \
    "<stream:features><authentication xmlns='urn:xmpp:sasl:2'>" mechs "<inline>" inline_   \
    "</inline></authentication><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>"        \
    mechs1 "</mechanisms></stream:features>"
#define M_SCRAM "<mechanism>SCRAM-SHA-1</mechanism><mechanism>PLAIN</mechanism>"
#define M_PLAIN "<mechanism>PLAIN</mechanism>"
#define FAST_NONE "<fast xmlns='urn:xmpp:fast:0'><mechanism>HT-SHA-256-NONE</mechanism></fast>"
#define SM_INLINE "<sm xmlns='urn:xmpp:sm:3'/>"
/* what Prosody sends after <success/>: legacy bind is listed even when
 * Bind2 bound the resource */
#define FEAT_AFTER                                                                           \
    "<stream:features><csi xmlns='urn:xmpp:csi:0'/><bind "                                   \
    "xmlns='urn:ietf:params:xml:ns:xmpp-bind'><required/></bind><session "                    \
    "xmlns='urn:ietf:params:xml:ns:xmpp-session'><optional/></session></stream:features>"
#define FEAT_AFTER_SM                                                                        \
    "<stream:features><sm xmlns='urn:xmpp:sm:3'><optional/></sm><bind "                      \
    "xmlns='urn:ietf:params:xml:ns:xmpp-bind'><required/></bind></stream:features>"
#define SUCCESS_OPEN "<success xmlns='urn:xmpp:sasl:2'>"
#define AUTHZ(j) "<authorization-identifier>" j "</authorization-identifier>"
#define BOUND_SM                                                                             \
    "<bound xmlns='urn:xmpp:bind:0'><enabled xmlns='urn:xmpp:sm:3' id='sm-1' resume='1' "   \
    "max='600'/></bound>"

static char certdir[256];

/* ---- an in-memory TLS server (the session talks STARTTLS to it) ------- */

typedef struct tbuf {
    uint8_t *d;
    size_t len, off;
} tbuf;

typedef struct tsrv {
    gnutls_session_t s;
    gnutls_certificate_credentials_t cred;
    tbuf in, out;
    int done;
} tsrv;

static void tbuf_add(tbuf *b, const void *p, size_t n) {
    b->d = realloc(b->d, b->len + n + 1);
    assert_non_null(b->d);
    memcpy(b->d + b->len, p, n);
    b->len += n;
}

static ssize_t srv_push(gnutls_transport_ptr_t p, const void *d, size_t n) {
    tbuf_add(&((tsrv *)p)->out, d, n);
    return (ssize_t)n;
}

static ssize_t srv_pull(gnutls_transport_ptr_t p, void *d, size_t n) {
    tsrv *t = p;
    size_t avail = t->in.len - t->in.off;
    if (avail == 0) {
        gnutls_transport_set_errno(t->s, EAGAIN);
        return -1;
    }
    if (n > avail)
        n = avail;
    memcpy(d, t->in.d + t->in.off, n);
    t->in.off += n;
    return (ssize_t)n;
}

static int srv_pull_timeout(gnutls_transport_ptr_t p, unsigned ms) {
    tsrv *t = p;
    (void)ms;
    return t->in.len > t->in.off;
}

static char *certpath(const char *name) {
    static char buf[2][512];
    static int i;
    i = (i + 1) % 2;
    snprintf(buf[i], sizeof(buf[i]), "%s/%s", certdir, name);
    return buf[i];
}

static void tsrv_init(tsrv *t) {
    memset(t, 0, sizeof(*t));
    assert_int_equal(gnutls_certificate_allocate_credentials(&t->cred), 0);
    assert_true(gnutls_certificate_set_x509_key_file(t->cred, certpath("server.pem"),
                                                     certpath("server-key.pem"),
                                                     GNUTLS_X509_FMT_PEM) >= 0);
    assert_int_equal(gnutls_init(&t->s, GNUTLS_SERVER | GNUTLS_NONBLOCK), 0);
    assert_int_equal(gnutls_priority_set_direct(t->s, "NORMAL", NULL), 0);
    assert_int_equal(gnutls_credentials_set(t->s, GNUTLS_CRD_CERTIFICATE, t->cred), 0);
    gnutls_handshake_set_timeout(t->s, 0);
    gnutls_transport_set_ptr(t->s, t);
    gnutls_transport_set_push_function(t->s, srv_push);
    gnutls_transport_set_pull_function(t->s, srv_pull);
    gnutls_transport_set_pull_timeout_function(t->s, srv_pull_timeout);
}

static void tsrv_free(tsrv *t) {
    gnutls_deinit(t->s);
    gnutls_certificate_free_credentials(t->cred);
    free(t->in.d);
    free(t->out.d);
    memset(t, 0, sizeof(*t));
}

/* ---- the fixture ------------------------------------------------------- */

struct fix {
    xmpp_ctx *ctx;
    xmpp_session *s;
    char out[65536]; /* what the client wrote (decrypted) since the last take() */
    size_t out_len;
    int ready, closed;
    xmpp_disconnect_cause cause;
    char bound[128];
    /* FAST callback */
    int tokens, forgets;
    int ready_at_token; /* on_ready calls before the last token arrived */
    char token[256], mech[64];
    int64_t expiry;
    /* TLS */
    int use_tls;
    tsrv srv;
    int tls_on; /* the server's side of the handshake started */
    uint64_t now;
};

static void on_ready(xmpp_session *s, const char *jid, void *ud) {
    struct fix *f = ud;
    (void)s;
    f->ready++;
    snprintf(f->bound, sizeof(f->bound), "%s", jid);
}

static void on_closed(xmpp_session *s, xmpp_disconnect_cause cause, void *ud) {
    struct fix *f = ud;
    (void)s;
    f->closed++;
    f->cause = cause;
}

static void on_token(xmpp_session *s, const char *mech, const char *token, int64_t expiry,
                     void *ud) {
    struct fix *f = ud;
    (void)s;
    assert_non_null(mech);
    snprintf(f->mech, sizeof(f->mech), "%s", mech);
    if (token == NULL) {
        f->forgets++;
        assert_int_equal(expiry, 0);
        return;
    }
    f->tokens++;
    f->ready_at_token = f->ready;
    snprintf(f->token, sizeof(f->token), "%s", token);
    f->expiry = expiry;
}

static void append_out(struct fix *f, const void *d, size_t n) {
    assert_true(f->out_len + n < sizeof(f->out));
    memcpy(f->out + f->out_len, d, n);
    f->out_len += n;
    f->out[f->out_len] = '\0';
}

/* Client output: to the TLS server once TLS started, else as it is. */
static void pump(struct fix *f) {
    const void *d;
    size_t n;
    assert_int_equal(xmpp_session_drain(f->s, &d, &n), XMPP_OK);
    if (f->tls_on) {
        if (n > 0)
            tbuf_add(&f->srv.in, d, n);
        if (f->srv.done) {
            char buf[16384];
            ssize_t r;
            while ((r = gnutls_record_recv(f->srv.s, buf, sizeof(buf))) > 0)
                append_out(f, buf, (size_t)r);
        }
    } else if (n > 0) {
        append_out(f, d, n);
    }
    if (n > 0)
        assert_int_equal(xmpp_session_consume(f->s, n), XMPP_OK);
}

static void take(struct fix *f) {
    f->out_len = 0;
    f->out[0] = '\0';
}

static void server(struct fix *f, const char *xml) {
    if (f->tls_on) {
        size_t off = 0, n = strlen(xml);
        while (off < n) {
            ssize_t r = gnutls_record_send(f->srv.s, xml + off, n - off);
            assert_true(r > 0);
            off += (size_t)r;
        }
        assert_int_equal(xmpp_session_recv(f->s, f->srv.out.d, f->srv.out.len, f->now), XMPP_OK);
        f->srv.out.len = 0;
    } else {
        assert_int_equal(xmpp_session_recv(f->s, xml, strlen(xml), f->now), XMPP_OK);
    }
    pump(f);
}

/* STARTTLS, then both handshakes to the end; leaves the client's new
 * stream header (decrypted) in the output. */
static void starttls(struct fix *f) {
    int i, rc = GNUTLS_E_AGAIN;
    server(f, HDR "<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'>"
                  "<required/></starttls></stream:features>");
    assert_non_null(strstr(f->out, "<starttls"));
    take(f);
    tsrv_init(&f->srv);
    assert_int_equal(xmpp_session_recv(f->s, "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>",
                                       strlen("<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"),
                                       f->now),
                     XMPP_OK);
    f->tls_on = 1;
    for (i = 0; i < 50 && rc != 0; i++) {
        pump(f);
        rc = gnutls_handshake(f->srv.s);
        assert_true(rc == 0 || rc == GNUTLS_E_AGAIN);
        if (f->srv.out.len) {
            assert_int_equal(xmpp_session_recv(f->s, f->srv.out.d, f->srv.out.len, f->now),
                             XMPP_OK);
            f->srv.out.len = 0;
        }
    }
    assert_int_equal(rc, 0);
    f->srv.done = 1;
    pump(f); /* the client's Finished and its new header */
    assert_non_null(strstr(f->out, "<stream:stream to='example.com' from='alice@example.com'"));
    take(f);
}

typedef struct fopts {
    const char *jid, *password;
    int tls, pinned, sasl2_off, carbons, fast_cb;
    const char *token;
    int64_t token_expiry;
    xmpp_sm_mode sm;
} fopts;

static struct fix *fix_new(const fopts *fo) {
    static struct fix f;
    xmpp_session_options *o;
    memset(&f, 0, sizeof(f));
    f.now = 1000;
    assert_int_equal(xmpp_ctx_new(&f.ctx, NULL), XMPP_OK);
    assert_int_equal(xmpp_session_options_new(&o, f.ctx), XMPP_OK);
    assert_int_equal(xmpp_session_options_set_jid(o, fo->jid ? fo->jid : "alice@example.com"),
                     XMPP_OK);
    if (fo->password)
        assert_int_equal(xmpp_session_options_set_password(o, fo->password), XMPP_OK);
    if (fo->tls) {
        xmpp_tls_config *cfg = NULL;
        assert_int_equal(xmpp_tls_config_new(&cfg, f.ctx), XMPP_OK);
        assert_int_equal(xmpp_tls_config_use_system_trust(cfg, 0), XMPP_OK);
        assert_int_equal(xmpp_tls_config_add_cafile(cfg, certpath("ca.pem")), XMPP_OK);
        assert_int_equal(xmpp_session_options_set_tls_config(o, cfg), XMPP_OK);
        xmpp_tls_config_unref(cfg);
    } else {
        assert_int_equal(xmpp_session_options_allow_plaintext(o, 1), XMPP_OK);
        assert_int_equal(xmpp_session_options_set_tls_mode(o, XMPP_TLS_NONE), XMPP_OK);
    }
    if (fo->pinned)
        assert_int_equal(xmpp_session_options_set_sasl_pinned(o, 1), XMPP_OK);
    if (fo->sasl2_off)
        assert_int_equal(xmpp_session_options_set_sasl2(o, 0), XMPP_OK);
    if (fo->carbons)
        assert_int_equal(xmpp_session_options_set_carbons(o, 1), XMPP_OK);
    if (fo->sm)
        assert_int_equal(xmpp_session_options_set_stream_management(o, fo->sm), XMPP_OK);
    assert_int_equal(xmpp_session_options_set_user_agent(o, UA_ID, "TestApp", "Test <Device>"),
                     XMPP_OK);
    if (fo->fast_cb)
        assert_int_equal(xmpp_session_options_set_fast(o, on_token, &f), XMPP_OK);
    if (fo->token)
        assert_int_equal(xmpp_session_options_set_fast_token(o, "HT-SHA-256-NONE", fo->token,
                                                             fo->token_expiry),
                         XMPP_OK);
    assert_int_equal(xmpp_session_options_set_callbacks(o, on_ready, on_closed, &f), XMPP_OK);
    assert_int_equal(xmpp_session_new(&f.s, f.ctx, o), XMPP_OK);
    xmpp_session_options_free(o);
    f.use_tls = fo->tls;
    assert_int_equal(xmpp_session_start(f.s, f.now), XMPP_OK);
    pump(&f);
    if (fo->tls)
        starttls(&f);
    else
        take(&f);
    return &f;
}

static void fix_free(struct fix *f) {
    xmpp_session_free(f->s);
    xmpp_ctx_free(f->ctx);
    if (f->srv.s)
        tsrv_free(&f->srv);
}

/* Closes the transport and starts the session again on a new one. */
static void reconnect(struct fix *f, const char *password) {
    assert_int_equal(xmpp_session_transport_closed(f->s, XMPP_CAUSE_TCP, "cut"), XMPP_OK);
    if (f->srv.s)
        tsrv_free(&f->srv);
    f->tls_on = 0;
    f->now += 5000;
    if (password)
        assert_int_equal(xmpp_session_set_password(f->s, password), XMPP_OK);
    take(f);
    assert_int_equal(xmpp_session_start(f->s, f->now), XMPP_OK);
    pump(f);
    if (f->use_tls)
        starttls(f);
    else
        take(f);
}

/* The text between open and close in the client's output, or "" */
static const char *between(const char *hay, const char *open, const char *close) {
    static char buf[4096];
    const char *a = strstr(hay, open), *b;
    buf[0] = '\0';
    if (a == NULL)
        return buf;
    a += strlen(open);
    b = strstr(a, close);
    if (b == NULL || (size_t)(b - a) >= sizeof(buf))
        return buf;
    memcpy(buf, a, (size_t)(b - a));
    buf[b - a] = '\0';
    return buf;
}

static size_t count(const char *hay, const char *needle) {
    size_t n = 0;
    for (; (hay = strstr(hay, needle)) != NULL; hay++)
        n++;
    return n;
}

static size_t b64dec(const char *in, uint8_t *out) {
    size_t n = 0;
    assert_int_equal(xmpp__b64_decode(in, strlen(in), out, &n), XMPP_OK);
    return n;
}

static void b64enc(const void *in, size_t n, char *out) {
    xmpp__b64_encode(in, n, out);
}

/* ---- a SCRAM-SHA-1 server ("secret", 4096 iterations) ----------------- */

typedef struct scram {
    char cfirst_bare[512];
    char sfirst[512];
} scram;

static const uint8_t scram_salt[16] = "0123456789abcdef";

/* From the client's initial response (base64), the server-first (base64). */
static void scram_first(scram *sc, const char *ir64, char *out64) {
    uint8_t raw[512];
    char salt64[64];
    size_t n = b64dec(ir64, raw);
    const char *r;
    raw[n] = '\0';
    assert_memory_equal(raw, "n,,n=alice,r=", 13); /* gs2 'n': no TLS here */
    snprintf(sc->cfirst_bare, sizeof(sc->cfirst_bare), "%s", (char *)raw + 3);
    r = strstr(sc->cfirst_bare, "r=");
    assert_non_null(r);
    b64enc(scram_salt, sizeof(scram_salt), salt64);
    snprintf(sc->sfirst, sizeof(sc->sfirst), "r=%sSRVNONCE,s=%s,i=4096", r + 2, salt64);
    b64enc(sc->sfirst, strlen(sc->sfirst), out64);
}

/* Checks the client proof (RFC 5802 §3, server side) and produces the
 * base64 of "v=ServerSignature"; corrupt != 0 flips one byte of it. */
static void scram_final(const scram *sc, const char *cf64, int corrupt, char *out64) {
    uint8_t cfinal[512], salted[20], ck[20], sk[20], stored[20], csig[20], proof[64], ssig[20];
    gnutls_datum_t key = {(unsigned char *)"secret", 6};
    gnutls_datum_t salt = {(unsigned char *)scram_salt, sizeof(scram_salt)};
    char am[2048], v[64];
    const char *p;
    size_t n = b64dec(cf64, cfinal), plen, i;
    cfinal[n] = '\0';
    p = strstr((char *)cfinal, ",p=");
    assert_non_null(p);
    snprintf(am, sizeof(am), "%s,%s,%.*s", sc->cfirst_bare, sc->sfirst,
             (int)(p - (char *)cfinal), (char *)cfinal);
    assert_int_equal(gnutls_pbkdf2(GNUTLS_MAC_SHA1, &key, &salt, 4096, salted, 20), 0);
    gnutls_hmac_fast(GNUTLS_MAC_SHA1, salted, 20, "Client Key", 10, ck);
    gnutls_hash_fast(GNUTLS_DIG_SHA1, ck, 20, stored);
    gnutls_hmac_fast(GNUTLS_MAC_SHA1, stored, 20, am, strlen(am), csig);
    plen = b64dec(p + 3, proof);
    assert_int_equal(plen, 20);
    for (i = 0; i < 20; i++)
        ck[i] = proof[i] ^ csig[i];
    gnutls_hash_fast(GNUTLS_DIG_SHA1, ck, 20, proof);
    assert_memory_equal(proof, stored, 20); /* the client knows the password */
    gnutls_hmac_fast(GNUTLS_MAC_SHA1, salted, 20, "Server Key", 10, sk);
    gnutls_hmac_fast(GNUTLS_MAC_SHA1, sk, 20, am, strlen(am), ssig);
    if (corrupt)
        ssig[0] ^= 1;
    strcpy(v, "v=");
    b64enc(ssig, 20, v + 2);
    b64enc(v, strlen(v), out64);
}

/* Runs SCRAM-SHA-1 over SASL2 up to <success/>: the client sent
 * <authenticate/> (in f->out); answers the challenge and returns the
 * additional data for <success/> in ad64. */
static void scram_exchange(struct fix *f, int corrupt, char *ad64) {
    scram sc;
    char sf64[1024], resp[1024];
    assert_non_null(strstr(f->out, "<authenticate xmlns='urn:xmpp:sasl:2' mechanism='SCRAM-SHA-1'>"));
    scram_first(&sc, between(f->out, "<initial-response>", "</initial-response>"), sf64);
    take(f);
    {
        char ch[1200];
        snprintf(ch, sizeof(ch), "<challenge xmlns='urn:xmpp:sasl:2'>%s</challenge>", sf64);
        server(f, ch);
    }
    snprintf(resp, sizeof(resp), "%s", between(f->out, "<response xmlns='urn:xmpp:sasl:2'>",
                                               "</response>"));
    assert_true(resp[0] != '\0');
    scram_final(&sc, resp, corrupt, ad64);
    take(f);
}

static fopts plain_opts(void) {
    fopts o;
    memset(&o, 0, sizeof(o));
    o.password = "secret";
    return o;
}

/* Logs in over plaintext with SCRAM through SASL2 + Bind2 (+ SM inline). */
static struct fix *login_sasl2(const fopts *fo) {
    struct fix *f = fix_new(fo);
    char ad[256], succ[1024];
    server(f, HDR SASL2(M_SCRAM, BIND2_ALL SM_INLINE));
    scram_exchange(f, 0, ad);
    snprintf(succ, sizeof(succ),
             SUCCESS_OPEN "<additional-data>%s</additional-data>" AUTHZ(
                 "alice@example.com/TestApp~x1") BOUND_SM "</success>" FEAT_AFTER,
             ad);
    server(f, succ);
    return f;
}

/* ---- SASL2 with SCRAM, Bind2 and SM inline ---------------------------- */

static void test_scram_bind2_sm(void **state) {
    struct fix *f;
    fopts fo = plain_opts();
    char ad[256], succ[1024];
    (void)state;
    f = fix_new(&fo);
    server(f, HDR SASL2(M_SCRAM, BIND2_ALL SM_INLINE));
    /* one request: mechanism, user agent, Bind2 with SM; no carbons (not
     * asked for), no CSI (active), no FAST (not offered) */
    assert_non_null(strstr(f->out, "<user-agent id='" UA_ID "'><software>TestApp</software>"
                                   "<device>Test &lt;Device&gt;</device></user-agent>"));
    assert_non_null(strstr(f->out, "<bind xmlns='urn:xmpp:bind:0'><tag>TestApp</tag>"
                                   "<enable xmlns='urn:xmpp:sm:3' resume='true'/></bind>"));
    assert_null(strstr(f->out, "carbons"));
    assert_null(strstr(f->out, "inactive"));
    assert_null(strstr(f->out, "<resume"));
    assert_null(strstr(f->out, "request-token"));
    assert_null(strstr(f->out, "<auth "));
    scram_exchange(f, 0, ad);
    assert_int_equal(f->ready, 0);
    snprintf(succ, sizeof(succ),
             SUCCESS_OPEN "<additional-data>%s</additional-data>" AUTHZ(
                 "alice@example.com/TestApp~x1") BOUND_SM "</success>",
             ad);
    server(f, succ);
    /* bound with SM settled: nothing left to negotiate, ready at once */
    assert_int_equal(f->ready, 1);
    assert_int_equal(f->out_len, 0);
    assert_int_equal(xmpp_session_csi_supported(f->s), 0); /* not known yet */
    server(f, FEAT_AFTER);
    /* no restart, no bind IQ (although legacy bind is listed), no enable */
    assert_int_equal(f->out_len, 0);
    assert_int_equal(f->ready, 1);
    assert_string_equal(f->bound, "alice@example.com/TestApp~x1");
    assert_string_equal(xmpp_session_jid(f->s), "alice@example.com/TestApp~x1");
    assert_string_equal(xmpp_session_mechanism(f->s), "SCRAM-SHA-1");
    assert_int_equal(xmpp_session_sasl_pins(f->s), 1);
    assert_int_equal(xmpp_session_resumed(f->s), 0);
    assert_int_equal(xmpp_session_login_flags(f->s),
                     XMPP_LOGIN_SASL2 | XMPP_LOGIN_BIND2 | XMPP_LOGIN_SM_INLINE);
    assert_int_equal(xmpp_session_sm_queue(f->s, NULL, NULL, NULL), 1);
    assert_int_equal(xmpp_session_can_resume(f->s, f->now), 1);
    assert_int_equal(xmpp_session_csi_supported(f->s), 1);
    /* acks work on the inline-enabled stream */
    server(f, "<r xmlns='urn:xmpp:sm:3'/>");
    assert_non_null(strstr(f->out, "<a xmlns='urn:xmpp:sm:3' h='0'/>"));
    fix_free(f);
}

static void test_scram_bad_signature(void **state) {
    struct fix *f;
    fopts fo = plain_opts();
    char ad[256], succ[1024];
    (void)state;
    /* SASL-03: a wrong v= in <additional-data/> */
    f = fix_new(&fo);
    server(f, HDR SASL2(M_SCRAM, BIND2_ALL));
    scram_exchange(f, 1, ad);
    snprintf(succ, sizeof(succ),
             SUCCESS_OPEN "<additional-data>%s</additional-data>" AUTHZ(
                 "alice@example.com/r") "<bound xmlns='urn:xmpp:bind:0'/></success>" FEAT_AFTER,
             ad);
    server(f, succ);
    assert_int_equal(f->ready, 0);
    assert_int_equal(f->closed, 1);
    assert_int_equal(f->cause, XMPP_CAUSE_SASL);
    assert_string_equal(xmpp_session_sasl_condition(f->s), "SASL_SIGNATURE");
    assert_null(xmpp_session_jid(f->s));
    assert_null(xmpp_session_mechanism(f->s));
    fix_free(f);
    /* <success/> without any server signature */
    f = fix_new(&fo);
    server(f, HDR SASL2(M_SCRAM, BIND2_ALL));
    scram_exchange(f, 0, ad);
    server(f, SUCCESS_OPEN AUTHZ("alice@example.com/r") "<bound xmlns='urn:xmpp:bind:0'/>"
              "</success>" FEAT_AFTER);
    assert_int_equal(f->ready, 0);
    assert_int_equal(f->cause, XMPP_CAUSE_SASL);
    assert_string_equal(xmpp_session_sasl_condition(f->s), "SASL_NO_SIGNATURE");
    fix_free(f);
    /* <success/> before the client's final message */
    f = fix_new(&fo);
    server(f, HDR SASL2(M_SCRAM, ""));
    server(f, SUCCESS_OPEN AUTHZ("alice@example.com") "</success>" FEAT_AFTER);
    assert_int_equal(f->cause, XMPP_CAUSE_SASL);
    assert_string_equal(xmpp_session_sasl_condition(f->s), "SASL_EARLY_SUCCESS");
    assert_non_null(strstr(f->out, "<abort xmlns='urn:xmpp:sasl:2'/>"));
    fix_free(f);
}

static void test_authz_other_account(void **state) {
    static const char *const others[] = {"mallory@example.com/TestApp~x1", "alice@evil.com/x",
                                         "example.com", "not a jid@@"};
    size_t i;
    (void)state;
    for (i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
        fopts fo = plain_opts();
        struct fix *f = fix_new(&fo);
        char succ[512];
        server(f, HDR SASL2(M_PLAIN, BIND2_ALL));
        snprintf(succ, sizeof(succ),
                 SUCCESS_OPEN "<authorization-identifier>%s</authorization-identifier>"
                              "<bound xmlns='urn:xmpp:bind:0'/></success>" FEAT_AFTER,
                 others[i]);
        server(f, succ);
        assert_int_equal(f->ready, 0);
        assert_int_equal(f->cause, XMPP_CAUSE_PROTOCOL);
        assert_null(xmpp_session_jid(f->s));
        fix_free(f);
    }
    /* Bind2 that yields no full JID */
    {
        fopts fo = plain_opts();
        struct fix *f = fix_new(&fo);
        server(f, HDR SASL2(M_PLAIN, BIND2_ALL));
        server(f, SUCCESS_OPEN AUTHZ("alice@example.com") "<bound xmlns='urn:xmpp:bind:0'/>"
                  "</success>" FEAT_AFTER);
        assert_int_equal(f->ready, 0);
        assert_int_equal(f->cause, XMPP_CAUSE_PROTOCOL);
        fix_free(f);
    }
    /* the other spelling of XEP-0386 is accepted */
    {
        fopts fo = plain_opts();
        struct fix *f = fix_new(&fo);
        server(f, HDR SASL2(M_PLAIN, BIND2_ALL));
        server(f, SUCCESS_OPEN "<authorization-identity>alice@example.com/b</authorization-identity>"
                  "<bound xmlns='urn:xmpp:bind:0'/></success>" FEAT_AFTER);
        assert_int_equal(f->ready, 1);
        assert_string_equal(f->bound, "alice@example.com/b");
        fix_free(f);
    }
}

/* Carbons and CSI inside Bind2, only as asked; a server without inline
 * features gets none. */
static void test_bind2_carbons_csi(void **state) {
    struct fix *f;
    fopts fo = plain_opts();
    (void)state;
    fo.carbons = 1;
    f = fix_new(&fo);
    assert_int_equal(xmpp_session_set_active(f->s, 0), XMPP_OK);
    server(f, HDR SASL2(M_PLAIN, BIND2_ALL));
    assert_non_null(strstr(f->out, "<enable xmlns='urn:xmpp:carbons:2'/>"));
    assert_non_null(strstr(f->out, "<inactive xmlns='urn:xmpp:csi:0'/>"));
    take(f);
    server(f, SUCCESS_OPEN AUTHZ("alice@example.com/TestApp~1") "<bound xmlns='urn:xmpp:bind:0'>"
              "<enabled xmlns='urn:xmpp:sm:3' id='q' resume='true'/></bound></success>" FEAT_AFTER);
    assert_int_equal(f->ready, 1);
    /* already inactive: not sent again after ready */
    assert_null(strstr(f->out, "inactive"));
    assert_int_equal(xmpp_session_login_flags(f->s), XMPP_LOGIN_SASL2 | XMPP_LOGIN_BIND2 |
                                                         XMPP_LOGIN_SM_INLINE | XMPP_LOGIN_CARBONS);
    assert_int_equal(xmpp_session_set_active(f->s, 1), XMPP_OK);
    pump(f);
    assert_non_null(strstr(f->out, "<active xmlns='urn:xmpp:csi:0'/>"));
    fix_free(f);

    /* Bind2 without inline features, SM the RFC 6120 way after it */
    fo = plain_opts();
    fo.carbons = 1;
    f = fix_new(&fo);
    server(f, HDR SASL2(M_PLAIN, "<bind xmlns='urn:xmpp:bind:0'/>"));
    assert_non_null(strstr(f->out, "<bind xmlns='urn:xmpp:bind:0'><tag>TestApp</tag></bind>"));
    take(f);
    server(f, SUCCESS_OPEN AUTHZ("alice@example.com/TestApp~1")
              "<bound xmlns='urn:xmpp:bind:0'/></success>" FEAT_AFTER_SM);
    assert_string_equal(f->out, "<enable xmlns='urn:xmpp:sm:3' resume='true'/>");
    assert_int_equal(f->ready, 0);
    take(f);
    server(f, "<enabled xmlns='urn:xmpp:sm:3' id='e2' resume='true'/>");
    assert_int_equal(f->ready, 1);
    assert_int_equal(xmpp_session_login_flags(f->s), XMPP_LOGIN_SASL2 | XMPP_LOGIN_BIND2);
    assert_int_equal(xmpp_session_can_resume(f->s, f->now), 1);
    fix_free(f);

    /* a resource asked for: Bind2 cannot request it, RFC 6120 binding does */
    fo = plain_opts();
    fo.jid = "alice@example.com/desk";
    f = fix_new(&fo);
    server(f, HDR SASL2(M_PLAIN, BIND2_ALL SM_INLINE));
    assert_non_null(strstr(f->out, "<authenticate "));
    assert_null(strstr(f->out, "urn:xmpp:bind:0"));
    take(f);
    server(f, SUCCESS_OPEN AUTHZ("alice@example.com") "</success>" FEAT_AFTER_SM);
    assert_non_null(strstr(f->out, "<resource>desk</resource>"));
    fix_free(f);

    /* Bind2 refused: the RFC 6120 bind follows */
    fo = plain_opts();
    f = fix_new(&fo);
    server(f, HDR SASL2(M_PLAIN, "<bind xmlns='urn:xmpp:bind:0'/>"));
    take(f);
    server(f, SUCCESS_OPEN AUTHZ("alice@example.com") "<failed xmlns='urn:xmpp:bind:0'>"
              "<conflict xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></failed></success>"
              FEAT_AFTER);
    assert_non_null(strstr(f->out, "<bind xmlns=\"urn:ietf:params:xml:ns:xmpp-bind\""));
    assert_int_equal(f->ready, 0);
    fix_free(f);
}

/* ---- inline resumption ------------------------------------------------- */

static void sent_cb(xmpp_session *s, const xmpp_stanza *st, xmpp_sent_status status, void *ud) {
    int *acked = ud;
    (void)s;
    (void)st;
    if (status == XMPP_SENT_ACKED)
        acked[0]++;
    else if (status == XMPP_SENT_RETURNED)
        acked[1]++;
}

static void send_msgs(struct fix *f, int n, int *acked) {
    int i;
    for (i = 0; i < n; i++) {
        xmpp_stanza *m = NULL;
        char id[16], body[16];
        snprintf(id, sizeof(id), "m%d", i);
        snprintf(body, sizeof(body), "hello %d", i);
        assert_int_equal(xmpp_message_new(&m, f->ctx, "chat", "bob@example.com", id, body),
                         XMPP_OK);
        assert_int_equal(xmpp_session_send_tracked(f->s, m, sent_cb, acked), XMPP_OK);
        xmpp_stanza_unref(m);
    }
    pump(f);
}

static int count_msg(xmpp_session *s, xmpp_stanza *st, void *ud) {
    (void)s;
    (void)st;
    (*(int *)ud)++;
    return 1;
}

static void test_inline_resume(void **state) {
    fopts fo = plain_opts();
    struct fix *f;
    int acked[2] = {0, 0};
    (void)state;
    f = login_sasl2(&fo);
    assert_int_equal(f->ready, 1);
    take(f);
    send_msgs(f, 3, acked);
    server(f, "<message from='bob@example.com/x' type='chat'><body>in</body></message>"
              "<a xmlns='urn:xmpp:sm:3' h='1'/>");
    assert_int_equal(acked[0], 1);
    /* the connection drops; the next login resumes inside <authenticate/> */
    reconnect(f, "secret");
    server(f, HDR SASL2(M_SCRAM, BIND2_ALL SM_INLINE));
    assert_non_null(strstr(f->out, "<resume xmlns='urn:xmpp:sm:3' h='1' previd='sm-1'/>"));
    /* XEP-0386: the bind goes along, processed only if resumption fails */
    assert_non_null(strstr(f->out, "<bind xmlns='urn:xmpp:bind:0'>"));
    {
        char ad[256], succ[1024];
        scram_exchange(f, 0, ad);
        snprintf(succ, sizeof(succ),
                 SUCCESS_OPEN "<additional-data>%s</additional-data>" AUTHZ(
                     "alice@example.com/TestApp~x1") "<resumed xmlns='urn:xmpp:sm:3' h='2' "
                                                     "previd='sm-1'/></success>",
                 ad);
        server(f, succ);
    }
    assert_int_equal(acked[0], 2); /* h=2: one more acknowledged */
    assert_int_equal(f->ready, 2);
    /* exactly the unacknowledged stanza is written again, without <delay/> */
    assert_int_equal(count(f->out, "<message"), 1);
    assert_non_null(strstr(f->out, "id=\"m2\""));
    assert_null(strstr(f->out, "urn:xmpp:delay"));
    assert_null(strstr(f->out, "<iq"));
    /* Prosody's order: what it queued for us, and an ack request, come
     * before the features; delivered and counted on the resumed stream */
    {
        int got = 0;
        unsigned long h;
        assert_int_equal(xmpp_session_add_handler(f->s, "message", NULL, "chat", count_msg, &got,
                                                  &h), XMPP_OK);
        take(f);
        server(f, "<message from='bob@example.com/x' type='chat'><body>queued</body></message>"
                  "<r xmlns='urn:xmpp:sm:3'/>" FEAT_AFTER);
        assert_int_equal(got, 1);
        assert_non_null(strstr(f->out, "<a xmlns='urn:xmpp:sm:3' h='2'/>"));
        assert_int_equal(xmpp_session_csi_supported(f->s), 1);
        assert_int_equal(xmpp_session_remove_handler(f->s, h), XMPP_OK);
    }
    assert_int_equal(f->ready, 2);
    assert_int_equal(xmpp_session_resumed(f->s), 1);
    assert_int_equal(xmpp_session_login_flags(f->s),
                     XMPP_LOGIN_SASL2 | XMPP_LOGIN_RESUMED_INLINE);
    assert_string_equal(xmpp_session_jid(f->s), "alice@example.com/TestApp~x1");
    /* a second features element is not taken for the late one */
    take(f);
    server(f, FEAT_AFTER);
    assert_int_equal(f->ready, 2);
    fix_free(f);
}

static void test_inline_resume_failed(void **state) {
    fopts fo = plain_opts();
    struct fix *f;
    int acked[2] = {0, 0};
    (void)state;
    f = login_sasl2(&fo);
    take(f);
    send_msgs(f, 2, acked);
    reconnect(f, "secret");
    server(f, HDR SASL2(M_PLAIN, BIND2_ALL SM_INLINE));
    assert_non_null(strstr(f->out, "<resume xmlns='urn:xmpp:sm:3' h='0' previd='sm-1'/>"));
    take(f);
    /* refused, with h: the server had one; Bind2 made a new session */
    server(f, SUCCESS_OPEN AUTHZ("alice@example.com/TestApp~x2")
              "<failed xmlns='urn:xmpp:sm:3' h='1'><item-not-found "
              "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></failed><bound "
              "xmlns='urn:xmpp:bind:0'><enabled xmlns='urn:xmpp:sm:3' id='sm-2' resume='1'/>"
              "</bound></success>" FEAT_AFTER);
    assert_int_equal(acked[0], 1);
    assert_int_equal(f->ready, 2);
    assert_int_equal(xmpp_session_resumed(f->s), 0);
    assert_int_equal(xmpp_session_login_flags(f->s),
                     XMPP_LOGIN_SASL2 | XMPP_LOGIN_BIND2 | XMPP_LOGIN_SM_INLINE);
    assert_string_equal(f->bound, "alice@example.com/TestApp~x2");
    /* the resend policy: the other message again, with <delay/> and its id */
    assert_int_equal(count(f->out, "<message"), 1);
    assert_non_null(strstr(f->out, "id=\"m1\""));
    assert_non_null(strstr(f->out, "urn:xmpp:delay"));
    assert_null(strstr(f->out, "<iq"));
    take(f);
    server(f, "<r xmlns='urn:xmpp:sm:3'/>");
    assert_non_null(strstr(f->out, "h='0'")); /* a new count */
    fix_free(f);

    /* inline SM without Bind2: after the refusal, RFC 6120 binding */
    memset(acked, 0, sizeof(acked));
    f = login_sasl2(&fo);
    take(f);
    send_msgs(f, 1, acked);
    reconnect(f, "secret");
    server(f, HDR SASL2(M_PLAIN, SM_INLINE));
    assert_non_null(strstr(f->out, "<resume "));
    assert_null(strstr(f->out, "urn:xmpp:bind:0"));
    take(f);
    server(f, SUCCESS_OPEN AUTHZ("alice@example.com") "<failed xmlns='urn:xmpp:sm:3'/>"
              "</success>" FEAT_AFTER_SM);
    assert_non_null(strstr(f->out, "<bind xmlns=\"urn:ietf:params:xml:ns:xmpp-bind\""));
    assert_int_equal(f->ready, 1);
    fix_free(f);

    /* resumable, but the server offers no inline SM: no Bind2 (it would
     * replace the old session), resumption after <success/> */
    f = login_sasl2(&fo);
    reconnect(f, "secret");
    server(f, HDR SASL2(M_PLAIN, BIND2_ALL));
    assert_null(strstr(f->out, "<resume "));
    assert_null(strstr(f->out, "urn:xmpp:bind:0"));
    take(f);
    server(f, SUCCESS_OPEN AUTHZ("alice@example.com") "</success>" FEAT_AFTER_SM);
    assert_non_null(strstr(f->out, "<resume xmlns='urn:xmpp:sm:3' h='0' previd='sm-1'/>"));
    take(f);
    server(f, "<resumed xmlns='urn:xmpp:sm:3' h='0' previd='sm-1'/>");
    assert_int_equal(f->ready, 2);
    assert_int_equal(xmpp_session_resumed(f->s), 1);
    assert_int_equal(xmpp_session_login_flags(f->s), XMPP_LOGIN_SASL2);
    fix_free(f);
}

/* ---- fallback and downgrade ------------------------------------------- */

static void test_fallback_rfc6120(void **state) {
    fopts fo = plain_opts();
    struct fix *f;
    (void)state;
    /* no SASL2: RFC 6120 negotiation, as before */
    f = fix_new(&fo);
    server(f, HDR "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>"
                  "<mechanism>PLAIN</mechanism></mechanisms></stream:features>");
    assert_non_null(strstr(f->out, "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' "
                                   "mechanism='PLAIN'>"));
    assert_null(strstr(f->out, "authenticate"));
    take(f);
    server(f, "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>");
    assert_non_null(strstr(f->out, "<stream:stream")); /* restart */
    take(f);
    server(f, HDR FEAT_AFTER);
    assert_non_null(strstr(f->out, "<bind xmlns=\"urn:ietf:params:xml:ns:xmpp-bind\""));
    assert_int_equal(xmpp_session_login_flags(f->s), 0);
    fix_free(f);
    /* SASL2 offered but forbidden by the application */
    fo.sasl2_off = 1;
    f = fix_new(&fo);
    server(f, HDR SASL2(M_SCRAM, BIND2_ALL SM_INLINE));
    assert_non_null(strstr(f->out, "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' "
                                   "mechanism='SCRAM-SHA-1'>"));
    assert_null(strstr(f->out, "authenticate"));
    fix_free(f);
}

static void test_downgrade_refused(void **state) {
    fopts fo = plain_opts();
    struct fix *f;
    (void)state;
    /* #27 / SASL-02 over SASL2: an account pinned to SCRAM, and both
     * profiles advertising PLAIN only; nothing is sent */
    fo.pinned = 1;
    f = fix_new(&fo);
    server(f, HDR SASL2(M_PLAIN, BIND2_ALL));
    assert_int_equal(f->cause, XMPP_CAUSE_SASL);
    assert_string_equal(xmpp_session_sasl_condition(f->s), "SASL_DOWNGRADE");
    assert_null(strstr(f->out, "<authenticate"));
    assert_null(strstr(f->out, "<auth "));
    assert_int_equal(f->ready, 0);
    fix_free(f);
    /* SCRAM stripped from SASL2 only: RFC 6120 SCRAM, never PLAIN */
    f = fix_new(&fo);
    server(f, HDR SASL2_1(M_PLAIN, BIND2_ALL, M_SCRAM));
    assert_non_null(strstr(f->out, "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' "
                                   "mechanism='SCRAM-SHA-1'>"));
    assert_null(strstr(f->out, "<authenticate"));
    fix_free(f);
    /* unpinned too: SASL2 is never bought with a weaker mechanism */
    fo = plain_opts();
    f = fix_new(&fo);
    server(f, HDR SASL2_1(M_PLAIN, BIND2_ALL, M_SCRAM));
    assert_non_null(strstr(f->out, "mechanism='SCRAM-SHA-1'>"));
    assert_null(strstr(f->out, "<authenticate"));
    fix_free(f);
    /* and an equal one is taken over SASL2 */
    f = fix_new(&fo);
    server(f, HDR SASL2_1(M_SCRAM, BIND2_ALL, M_SCRAM));
    assert_non_null(strstr(f->out, "<authenticate xmlns='urn:xmpp:sasl:2' "
                                   "mechanism='SCRAM-SHA-1'>"));
    fix_free(f);
    /* SASL2 failure: verbatim condition, reported once, no retry */
    fo = plain_opts();
    f = fix_new(&fo);
    server(f, HDR SASL2(M_PLAIN, ""));
    take(f);
    server(f, "<failure xmlns='urn:xmpp:sasl:2'><x xmlns='urn:example:app'/><not-authorized "
              "xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/><text>Nope</text></failure>");
    assert_int_equal(f->closed, 1);
    assert_int_equal(f->cause, XMPP_CAUSE_SASL);
    assert_string_equal(xmpp_session_sasl_condition(f->s), "not-authorized");
    assert_null(strstr(f->out, "<authenticate"));
    fix_free(f);
    /* tasks we cannot do: aborted, not hung */
    f = fix_new(&fo);
    server(f, HDR SASL2(M_PLAIN, ""));
    take(f);
    server(f, "<continue xmlns='urn:xmpp:sasl:2'><tasks><task>TOTP-EXAMPLE</task></tasks>"
              "</continue>");
    assert_int_equal(f->cause, XMPP_CAUSE_SASL);
    assert_non_null(strstr(f->out, "<abort xmlns='urn:xmpp:sasl:2'/>"));
    fix_free(f);
    /* anything else while authenticating is a protocol error */
    f = fix_new(&fo);
    server(f, HDR SASL2(M_PLAIN, ""));
    server(f, "<message><body>early</body></message>");
    assert_int_equal(f->cause, XMPP_CAUSE_PROTOCOL);
    fix_free(f);
}

/* ---- FAST --------------------------------------------------------------- */

static void test_fast_options(void **state) {
    xmpp_ctx *ctx = NULL;
    xmpp_session_options *o = NULL;
    xmpp_session *s = NULL;
    (void)state;
    assert_int_equal(xmpp_ctx_new(&ctx, NULL), XMPP_OK);
    assert_int_equal(xmpp_session_options_new(&o, ctx), XMPP_OK);
    assert_int_equal(xmpp_session_options_set_jid(o, "alice@example.com"), XMPP_OK);
    assert_int_equal(xmpp_session_options_set_user_agent(o, "not-a-uuid", NULL, NULL),
                     XMPP_ERR_INVALID);
    assert_int_equal(xmpp_session_options_set_user_agent(o, NULL, "", NULL), XMPP_ERR_INVALID);
    assert_int_equal(xmpp_session_options_set_fast_token(o, "SCRAM-SHA-1", "t", 1),
                     XMPP_ERR_INVALID);
    assert_int_equal(xmpp_session_options_set_fast_token(o, "HT-SHA-256-NONE", "", 1),
                     XMPP_ERR_INVALID);
    /* FAST without a stable user agent is refused */
    assert_int_equal(xmpp_session_options_set_fast(o, on_token, NULL), XMPP_OK);
    assert_int_equal(xmpp_session_new(&s, ctx, o), XMPP_ERR_INVALID);
    assert_int_equal(xmpp_session_options_set_fast(o, NULL, NULL), XMPP_OK);
    assert_int_equal(xmpp_session_options_set_fast_token(o, "HT-SHA-256-NONE", TOKEN, 1), XMPP_OK);
    assert_int_equal(xmpp_session_new(&s, ctx, o), XMPP_ERR_INVALID);
    assert_int_equal(xmpp_session_options_set_user_agent(o, UA_ID, NULL, NULL), XMPP_OK);
    assert_int_equal(xmpp_session_new(&s, ctx, o), XMPP_OK);
    xmpp_session_free(s);
    assert_int_equal(xmpp_session_options_set_fast_token(o, NULL, NULL, 0), XMPP_OK);
    xmpp_session_options_free(o);
    xmpp_ctx_free(ctx);
}

/* A FAST offer on a stream without TLS is not taken up. */
static void test_fast_needs_tls(void **state) {
    fopts fo = plain_opts();
    struct fix *f;
    (void)state;
    fo.fast_cb = 1;
    fo.token = TOKEN;
    fo.token_expiry = (int64_t)time(NULL) + 86400 * 30;
    f = fix_new(&fo);
    server(f, HDR SASL2(M_PLAIN, FAST_NONE BIND2_ALL));
    assert_non_null(strstr(f->out, "mechanism='PLAIN'"));
    assert_null(strstr(f->out, "fast:0"));
    fix_free(f);
}

static fopts tls_opts(void) {
    fopts o = plain_opts();
    o.tls = 1;
    o.fast_cb = 1;
    return o;
}

static void test_fast_token_request(void **state) {
    fopts fo = tls_opts();
    struct fix *f;
    (void)state;
    f = fix_new(&fo);
    server(f, HDR SASL2(M_PLAIN, BIND2_ALL FAST_NONE SM_INLINE));
    /* a password login (PLAIN inside TLS) asking for a token */
    assert_non_null(strstr(f->out, "<authenticate xmlns='urn:xmpp:sasl:2' mechanism='PLAIN'>"));
    assert_non_null(strstr(f->out, "<user-agent id='" UA_ID "'>"));
    assert_non_null(strstr(f->out, "<request-token xmlns='urn:xmpp:fast:0' "
                                   "mechanism='HT-SHA-256-NONE'/>"));
    assert_null(strstr(f->out, "<fast "));
    take(f);
    server(f, SUCCESS_OPEN AUTHZ("alice@example.com/TestApp~x1") BOUND_SM
              "<token xmlns='urn:xmpp:fast:0' expiry='2099-03-12T14:36:15Z' token='" TOKEN "'/>"
              "</success>");
    assert_int_equal(f->tokens, 1);
    assert_string_equal(f->token, TOKEN);
    assert_string_equal(f->mech, "HT-SHA-256-NONE");
    assert_int_equal(f->expiry, (int64_t)4077009375); /* 2099-03-12T14:36:15Z */
    assert_int_equal(f->ready_at_token, 0); /* the token comes before on_ready */
    assert_int_equal(f->ready, 1);
    server(f, FEAT_AFTER);
    assert_int_equal(f->ready, 1);
    assert_int_equal(xmpp_session_login_flags(f->s),
                     XMPP_LOGIN_SASL2 | XMPP_LOGIN_BIND2 | XMPP_LOGIN_SM_INLINE);
    /* the next connection of this session logs in with the token */
    reconnect(f, "secret");
    server(f, HDR SASL2(M_PLAIN, BIND2_ALL FAST_NONE SM_INLINE));
    assert_non_null(strstr(f->out, "mechanism='HT-SHA-256-NONE'"));
    assert_non_null(strstr(f->out, "<fast xmlns='urn:xmpp:fast:0'/>"));
    assert_non_null(strstr(f->out, "<resume "));
    assert_null(strstr(f->out, "request-token")); /* far from expiry */
    fix_free(f);

    /* a token without a usable expiry is not taken */
    f = fix_new(&fo);
    server(f, HDR SASL2(M_PLAIN, BIND2_ALL FAST_NONE));
    take(f);
    server(f, SUCCESS_OPEN AUTHZ("alice@example.com/a") "<bound xmlns='urn:xmpp:bind:0'/>"
              "<token xmlns='urn:xmpp:fast:0' expiry='soon' token='x'/></success>" FEAT_AFTER);
    assert_int_equal(f->tokens, 0);
    assert_int_equal(f->ready, 1);
    fix_free(f);
}

/* The initial response and server proof of HT-SHA-256-NONE (the HT draft
 * as FAST uses it), computed here independently. */
static void ht_expect(const char *token, char *ir64, char *proof64) {
    uint8_t msg[64], mac[32];
    memcpy(msg, "alice", 5);
    msg[5] = 0;
    gnutls_hmac_fast(GNUTLS_MAC_SHA256, token, strlen(token), "Initiator", 9, msg + 6);
    b64enc(msg, 6 + 32, ir64);
    gnutls_hmac_fast(GNUTLS_MAC_SHA256, token, strlen(token), "Responder", 9, mac);
    b64enc(mac, 32, proof64);
}

static void test_fast_login(void **state) {
    fopts fo = tls_opts();
    struct fix *f;
    char ir[128], proof[128], succ[1024];
    (void)state;
    fo.password = NULL; /* the token only */
    fo.token = TOKEN;
    fo.token_expiry = (int64_t)time(NULL) + 86400 * 30;
    ht_expect(TOKEN, ir, proof);
    f = fix_new(&fo);
    server(f, HDR SASL2(M_SCRAM, BIND2_ALL FAST_NONE SM_INLINE));
    assert_non_null(strstr(f->out, "<authenticate xmlns='urn:xmpp:sasl:2' "
                                   "mechanism='HT-SHA-256-NONE'>"));
    assert_string_equal(between(f->out, "<initial-response>", "</initial-response>"), ir);
    assert_non_null(strstr(f->out, "<fast xmlns='urn:xmpp:fast:0'/>"));
    assert_null(strstr(f->out, "request-token"));
    assert_null(strstr(f->out, TOKEN)); /* the token itself never goes out */
    take(f);
    snprintf(succ, sizeof(succ),
             SUCCESS_OPEN "<additional-data>%s</additional-data>" AUTHZ(
                 "alice@example.com/TestApp~x1") BOUND_SM "</success>" FEAT_AFTER,
             proof);
    server(f, succ);
    assert_int_equal(f->ready, 1);
    assert_string_equal(xmpp_session_mechanism(f->s), "HT-SHA-256-NONE");
    assert_int_equal(xmpp_session_sasl_pins(f->s), 0); /* not pinned before */
    assert_int_equal(xmpp_session_login_flags(f->s), XMPP_LOGIN_SASL2 | XMPP_LOGIN_FAST |
                                                         XMPP_LOGIN_BIND2 | XMPP_LOGIN_SM_INLINE);
    assert_int_equal(f->tokens, 0);
    fix_free(f);

    /* a wrong server proof: the server does not know the token */
    f = fix_new(&fo);
    server(f, HDR SASL2(M_SCRAM, BIND2_ALL FAST_NONE));
    take(f);
    proof[0] = proof[0] == 'A' ? 'B' : 'A';
    snprintf(succ, sizeof(succ),
             SUCCESS_OPEN "<additional-data>%s</additional-data>" AUTHZ(
                 "alice@example.com/TestApp~x1") "<bound xmlns='urn:xmpp:bind:0'/></success>"
                 FEAT_AFTER,
             proof);
    server(f, succ);
    assert_int_equal(f->ready, 0);
    assert_int_equal(f->cause, XMPP_CAUSE_SASL);
    assert_string_equal(xmpp_session_sasl_condition(f->s), "SASL_SIGNATURE");
    fix_free(f);
    /* no proof at all */
    f = fix_new(&fo);
    server(f, HDR SASL2(M_SCRAM, FAST_NONE));
    take(f);
    server(f, SUCCESS_OPEN AUTHZ("alice@example.com") "</success>" FEAT_AFTER);
    assert_int_equal(f->cause, XMPP_CAUSE_SASL);
    assert_string_equal(xmpp_session_sasl_condition(f->s), "SASL_SIGNATURE");
    fix_free(f);
}

static void test_fast_rejected(void **state) {
    fopts fo = tls_opts();
    struct fix *f;
    (void)state;
    fo.token = TOKEN;
    fo.token_expiry = (int64_t)time(NULL) + 86400 * 30;
    f = fix_new(&fo);
    server(f, HDR SASL2(M_PLAIN, BIND2_ALL FAST_NONE));
    assert_non_null(strstr(f->out, "mechanism='HT-SHA-256-NONE'"));
    take(f);
    server(f, "<failure xmlns='urn:xmpp:sasl:2'><credentials-expired "
              "xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/></failure>");
    /* distinct condition; the app is told to forget the token; no retry
     * on this connection */
    assert_int_equal(f->closed, 1);
    assert_int_equal(f->cause, XMPP_CAUSE_SASL);
    assert_string_equal(xmpp_session_sasl_condition(f->s), XMPP_SASL_FAST_REJECTED);
    assert_int_equal(f->forgets, 1);
    assert_string_equal(f->mech, "HT-SHA-256-NONE");
    assert_null(strstr(f->out, "<authenticate"));
    /* the next connection uses the password and asks for a new token */
    f->closed = 0;
    reconnect(f, NULL);
    server(f, HDR SASL2(M_PLAIN, BIND2_ALL FAST_NONE));
    assert_non_null(strstr(f->out, "mechanism='PLAIN'"));
    assert_non_null(strstr(f->out, "<request-token"));
    assert_null(strstr(f->out, "<fast "));
    fix_free(f);
}

static void test_fast_rotation(void **state) {
    fopts fo = tls_opts();
    struct fix *f;
    char ir[128], proof[128], succ[1024];
    (void)state;
    /* the token expires within the rotation window: use it, ask for a new one */
    fo.token = TOKEN;
    fo.token_expiry = (int64_t)time(NULL) + 3600;
    ht_expect(TOKEN, ir, proof);
    f = fix_new(&fo);
    server(f, HDR SASL2(M_SCRAM, BIND2_ALL FAST_NONE));
    assert_non_null(strstr(f->out, "<fast xmlns='urn:xmpp:fast:0'/>"));
    assert_non_null(strstr(f->out, "<request-token xmlns='urn:xmpp:fast:0' "
                                   "mechanism='HT-SHA-256-NONE'/>"));
    take(f);
    snprintf(succ, sizeof(succ),
             SUCCESS_OPEN "<additional-data>%s</additional-data>" AUTHZ(
                 "alice@example.com/a") "<bound xmlns='urn:xmpp:bind:0'/><token "
                                        "xmlns='urn:xmpp:fast:0' expiry='2099-01-01T00:00:00.123+01:00' "
                                        "token='rotated-1'/></success>" FEAT_AFTER,
             proof);
    server(f, succ);
    assert_int_equal(f->ready, 1);
    assert_int_equal(f->tokens, 1);
    assert_string_equal(f->token, "rotated-1");
    assert_int_equal(f->expiry, (int64_t)4070905200); /* 2098-12-31T23:00:00Z */
    fix_free(f);

    /* far from expiry, but the server rotates on its own */
    fo.token_expiry = (int64_t)time(NULL) + 86400 * 20;
    f = fix_new(&fo);
    server(f, HDR SASL2(M_SCRAM, FAST_NONE));
    assert_null(strstr(f->out, "request-token"));
    take(f);
    snprintf(succ, sizeof(succ),
             SUCCESS_OPEN "<additional-data>%s</additional-data>" AUTHZ(
                 "alice@example.com") "<token xmlns='urn:xmpp:fast:0' expiry='2099-01-01T00:00:00Z' "
                                      "token='rotated-2'/></success>" FEAT_AFTER,
             proof);
    server(f, succ);
    assert_int_equal(f->tokens, 1);
    assert_string_equal(f->token, "rotated-2");
    /* RFC 6120 binding after SASL2 without Bind2 */
    assert_non_null(strstr(f->out, "<bind xmlns=\"urn:ietf:params:xml:ns:xmpp-bind\""));
    /* the next login uses the new token */
    reconnect(f, NULL);
    ht_expect("rotated-2", ir, proof);
    server(f, HDR SASL2(M_SCRAM, FAST_NONE));
    assert_string_equal(between(f->out, "<initial-response>", "</initial-response>"), ir);
    fix_free(f);

    /* an expired token with a password at hand: the password, and a new token */
    fo.token_expiry = (int64_t)time(NULL) - 10;
    f = fix_new(&fo);
    server(f, HDR SASL2(M_PLAIN, FAST_NONE));
    assert_non_null(strstr(f->out, "mechanism='PLAIN'"));
    assert_non_null(strstr(f->out, "<request-token"));
    fix_free(f);
}

/* ---- allocation failure ------------------------------------------------- */

static void noop_ready(xmpp_session *s, const char *jid, void *ud) {
    (void)s;
    (void)jid;
    (*(int *)ud)++;
}

/* SASL2 + Bind2 + SM inline, then a dropped connection and an inline
 * resumption: every allocation along the way may fail. */
static int torture_scenario(xmpp_ctx *ctx, void *arg) {
    static const char *const first[] = {
        HDR SASL2(M_PLAIN, BIND2_ALL SM_INLINE),
        SUCCESS_OPEN AUTHZ("alice@example.com/TestApp~x1") BOUND_SM "</success>" FEAT_AFTER
        "<message from='bob@example.com/x'><body>1</body></message>",
        NULL};
    static const char *const second[] = {
        HDR SASL2(M_PLAIN, BIND2_ALL SM_INLINE),
        SUCCESS_OPEN AUTHZ("alice@example.com/TestApp~x1")
        "<resumed xmlns='urn:xmpp:sm:3' h='0' previd='sm-1'/></success>" FEAT_AFTER,
        NULL};
    xmpp_session_options *o = NULL;
    xmpp_session *s = NULL;
    xmpp_stanza *m = NULL;
    int ready = 0, rc, i;
    const void *d;
    size_t n;
    (void)arg;
    if ((rc = xmpp_session_options_new(&o, ctx)) != XMPP_OK)
        return rc;
    if ((rc = xmpp_session_options_set_jid(o, "alice@example.com")) != XMPP_OK ||
        (rc = xmpp_session_options_set_password(o, "pw")) != XMPP_OK ||
        (rc = xmpp_session_options_allow_plaintext(o, 1)) != XMPP_OK ||
        (rc = xmpp_session_options_set_tls_mode(o, XMPP_TLS_NONE)) != XMPP_OK ||
        (rc = xmpp_session_options_set_user_agent(o, UA_ID, "T", "D")) != XMPP_OK ||
        (rc = xmpp_session_options_set_carbons(o, 1)) != XMPP_OK ||
        (rc = xmpp_session_options_set_callbacks(o, noop_ready, NULL, &ready)) != XMPP_OK ||
        (rc = xmpp_session_new(&s, ctx, o)) != XMPP_OK ||
        (rc = xmpp_session_start(s, 0)) != XMPP_OK)
        goto out;
    for (i = 0; first[i]; i++) {
        xmpp_session_recv(s, first[i], strlen(first[i]), 0);
        xmpp_session_drain(s, &d, &n);
        xmpp_session_consume(s, n);
    }
    if (ready != 1 || xmpp_session_get_state(s) != XMPP_STATE_READY) {
        rc = XMPP_ERR_NOMEM;
        goto out;
    }
    if ((rc = xmpp_message_new(&m, ctx, "chat", "bob@example.com", "q1", "queued")) != XMPP_OK ||
        (rc = xmpp_session_send(s, m)) != XMPP_OK)
        goto out;
    xmpp_session_transport_closed(s, XMPP_CAUSE_TCP, NULL);
    if ((rc = xmpp_session_set_password(s, "pw")) != XMPP_OK ||
        (rc = xmpp_session_start(s, 10)) != XMPP_OK)
        goto out;
    for (i = 0; second[i]; i++) {
        xmpp_session_recv(s, second[i], strlen(second[i]), 10);
        xmpp_session_drain(s, &d, &n);
        xmpp_session_consume(s, n);
    }
    rc = ready == 2 && xmpp_session_resumed(s) && xmpp_session_get_state(s) == XMPP_STATE_READY
             ? 0
             : XMPP_ERR_NOMEM;
out:
    xmpp_stanza_unref(m);
    xmpp_session_free(s);
    xmpp_session_options_free(o);
    return rc;
}

/* The session's output to the TLS server; returns what it decrypted. */
static size_t t_pump(xmpp_session *s, tsrv *t, int done, char *plain, size_t cap) {
    const void *d;
    size_t n, got = 0;
    ssize_t r;
    xmpp_session_drain(s, &d, &n);
    if (n > 0) {
        tbuf_add(&t->in, d, n);
        xmpp_session_consume(s, n);
    }
    while (done && got + 1 < cap && (r = gnutls_record_recv(t->s, plain + got, cap - 1 - got)) > 0)
        got += (size_t)r;
    plain[got] = '\0';
    return got;
}

static void t_send(xmpp_session *s, tsrv *t, const char *xml) {
    gnutls_record_send(t->s, xml, strlen(xml));
    xmpp_session_recv(s, t->out.d, t->out.len, 0);
    t->out.len = 0;
}

/* A FAST login over TLS that gets a rotated token: the token, the HT
 * computation and the TLS layer under allocation failure. */
static int torture_fast(xmpp_ctx *ctx, void *arg) {
    static const char proceed[] = "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>";
    static const char feat_tls[] =
        HDR "<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/></stream:features>";
    xmpp_session_options *o = NULL;
    xmpp_tls_config *cfg = NULL;
    xmpp_session *s = NULL;
    struct fix *f = arg; /* only its token counters */
    tsrv t;
    char plain[4096], ir[128], proof[128], succ[1024];
    const void *d;
    size_t n;
    int ready = 0, rc, i, hs = GNUTLS_E_AGAIN;
    memset(&t, 0, sizeof(t));
    f->tokens = 0;
    ht_expect(TOKEN, ir, proof);
    if ((rc = xmpp_session_options_new(&o, ctx)) != XMPP_OK)
        return rc;
    if ((rc = xmpp_tls_config_new(&cfg, ctx)) != XMPP_OK ||
        (rc = xmpp_tls_config_use_system_trust(cfg, 0)) != XMPP_OK ||
        (rc = xmpp_tls_config_add_cafile(cfg, certpath("ca.pem"))) != XMPP_OK ||
        (rc = xmpp_session_options_set_tls_config(o, cfg)) != XMPP_OK ||
        (rc = xmpp_session_options_set_jid(o, "alice@example.com")) != XMPP_OK ||
        (rc = xmpp_session_options_set_user_agent(o, UA_ID, "T", NULL)) != XMPP_OK ||
        (rc = xmpp_session_options_set_fast(o, on_token, f)) != XMPP_OK ||
        (rc = xmpp_session_options_set_fast_token(o, "HT-SHA-256-NONE", TOKEN,
                                                  (int64_t)time(NULL) + 3600)) != XMPP_OK ||
        (rc = xmpp_session_options_set_callbacks(o, noop_ready, NULL, &ready)) != XMPP_OK ||
        (rc = xmpp_session_new(&s, ctx, o)) != XMPP_OK || (rc = xmpp_session_start(s, 0)) != XMPP_OK)
        goto out;
    xmpp_session_drain(s, &d, &n);
    xmpp_session_consume(s, n);
    xmpp_session_recv(s, feat_tls, strlen(feat_tls), 0);
    xmpp_session_drain(s, &d, &n);
    xmpp_session_consume(s, n);
    tsrv_init(&t);
    xmpp_session_recv(s, proceed, strlen(proceed), 0);
    for (i = 0; i < 50 && hs != 0 && xmpp_session_get_state(s) != XMPP_STATE_CLOSED; i++) {
        t_pump(s, &t, 0, plain, sizeof(plain));
        hs = gnutls_handshake(t.s);
        if (t.out.len) {
            xmpp_session_recv(s, t.out.d, t.out.len, 0);
            t.out.len = 0;
        }
    }
    if (hs != 0 || xmpp_session_get_state(s) == XMPP_STATE_CLOSED) {
        rc = XMPP_ERR_NOMEM;
        goto out;
    }
    t_pump(s, &t, 1, plain, sizeof(plain));
    t_send(s, &t, HDR SASL2(M_SCRAM, BIND2_ALL FAST_NONE));
    t_pump(s, &t, 1, plain, sizeof(plain));
    snprintf(succ, sizeof(succ),
             SUCCESS_OPEN "<additional-data>%s</additional-data>" AUTHZ(
                 "alice@example.com/T~1") "<bound xmlns='urn:xmpp:bind:0'/><token "
                                          "xmlns='urn:xmpp:fast:0' expiry='2099-01-01T00:00:00Z' "
                                          "token='rotated'/></success>" FEAT_AFTER,
             proof);
    t_send(s, &t, succ);
    t_pump(s, &t, 1, plain, sizeof(plain));
    rc = ready == 1 && f->tokens == 1 && xmpp_session_get_state(s) == XMPP_STATE_READY &&
                 xmpp_session_login_flags(s) & XMPP_LOGIN_FAST
             ? 0
             : XMPP_ERR_NOMEM;
out:
    xmpp_session_free(s);
    xmpp_session_options_free(o);
    xmpp_tls_config_unref(cfg);
    if (t.s)
        tsrv_free(&t);
    return rc;
}

static void test_torture(void **state) {
    struct fix f;
    (void)state;
    memset(&f, 0, sizeof(f));
    assert_true(th_torture(torture_scenario, NULL) > 20);
    assert_true(th_torture(torture_fast, &f) > 20);
}

/* ---- group setup: the test PKI ------------------------------------------ */

static int group_setup(void **state) {
    const char *top = getenv("top_srcdir");
    char cmd[1024];
    char tmpl[] = "/tmp/libxmpp-sasl2-XXXXXX";
    (void)state;
    if (top == NULL)
        top = ".";
    if (mkdtemp(tmpl) == NULL)
        return -1;
    snprintf(certdir, sizeof(certdir), "%s", tmpl);
    snprintf(cmd, sizeof(cmd), "sh '%s/tests/certs/gen-certs.sh' '%s' example.com", top, certdir);
    return system(cmd) == 0 ? 0 : -1;
}

static int group_teardown(void **state) {
    char cmd[512];
    (void)state;
    if (certdir[0] == '\0')
        return 0;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", certdir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scram_bind2_sm),
        cmocka_unit_test(test_scram_bad_signature),
        cmocka_unit_test(test_authz_other_account),
        cmocka_unit_test(test_bind2_carbons_csi),
        cmocka_unit_test(test_inline_resume),
        cmocka_unit_test(test_inline_resume_failed),
        cmocka_unit_test(test_fallback_rfc6120),
        cmocka_unit_test(test_downgrade_refused),
        cmocka_unit_test(test_fast_options),
        cmocka_unit_test(test_fast_needs_tls),
        cmocka_unit_test(test_fast_token_request),
        cmocka_unit_test(test_fast_login),
        cmocka_unit_test(test_fast_rejected),
        cmocka_unit_test(test_fast_rotation),
        cmocka_unit_test(test_torture),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
