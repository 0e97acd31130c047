/* The TLS filter (lib/filter/tls.c) against an in-memory GnuTLS server:
 * both sessions exchange ciphertext through buffers, no sockets. The
 * certificates come from tests/certs/gen-certs.sh, run into a temporary
 * directory by the group setup (SECURITY.md TLS-06..TLS-12, SASL-05). */
#define _POSIX_C_SOURCE 200809L /* mkdtemp */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include <xmpp/tls.h>

#include "filter/tls.h"
#include "filter/tls_int.h"
#include "testhelp.h"

#define DOMAIN   "example.com"
#define PRIO_ANY "NORMAL"
#define PRIO_12  "NORMAL:-VERS-ALL:+VERS-TLS1.2"

static char certdir[256];

/* --- an in-memory GnuTLS server ------------------------------------------- */

typedef struct tbuf {
    uint8_t *d;
    size_t len, off;
} tbuf;

typedef struct srv {
    gnutls_session_t s;
    gnutls_certificate_credentials_t cred;
    tbuf in;  /* ciphertext from the client */
    tbuf out; /* ciphertext to the client */
    int done; /* server handshake finished */
    int hs_rc;
} srv;

static void tbuf_add(tbuf *b, const void *p, size_t n) {
    b->d = realloc(b->d, b->len + n + 1);
    assert_non_null(b->d);
    memcpy(b->d + b->len, p, n);
    b->len += n;
}

static ssize_t srv_push(gnutls_transport_ptr_t p, const void *d, size_t n) {
    srv *s = p;
    tbuf_add(&s->out, d, n);
    return (ssize_t)n;
}

static ssize_t srv_pull(gnutls_transport_ptr_t p, void *d, size_t n) {
    srv *s = p;
    size_t avail = s->in.len - s->in.off;
    if (avail == 0) {
        gnutls_transport_set_errno(s->s, EAGAIN);
        return -1;
    }
    if (n > avail)
        n = avail;
    memcpy(d, s->in.d + s->in.off, n);
    s->in.off += n;
    return (ssize_t)n;
}

static int srv_pull_timeout(gnutls_transport_ptr_t p, unsigned ms) {
    srv *s = p;
    (void)ms;
    return s->in.len > s->in.off;
}

static char *path(const char *name) {
    static char buf[4][512];
    static int i;
    i = (i + 1) % 4;
    snprintf(buf[i], sizeof(buf[i]), "%s/%s", certdir, name);
    return buf[i];
}

static void srv_init(srv *s, const char *cert, const char *key, const char *prio) {
    memset(s, 0, sizeof(*s));
    assert_int_equal(gnutls_certificate_allocate_credentials(&s->cred), 0);
    assert_true(gnutls_certificate_set_x509_key_file(s->cred, path(cert), path(key),
                                                     GNUTLS_X509_FMT_PEM) >= 0);
    assert_int_equal(gnutls_init(&s->s, GNUTLS_SERVER | GNUTLS_NONBLOCK), 0);
    assert_int_equal(gnutls_priority_set_direct(s->s, prio, NULL), 0);
    assert_int_equal(gnutls_credentials_set(s->s, GNUTLS_CRD_CERTIFICATE, s->cred), 0);
    gnutls_handshake_set_timeout(s->s, 0);
    gnutls_transport_set_ptr(s->s, s);
    gnutls_transport_set_push_function(s->s, srv_push);
    gnutls_transport_set_pull_function(s->s, srv_pull);
    gnutls_transport_set_pull_timeout_function(s->s, srv_pull_timeout);
    s->hs_rc = GNUTLS_E_AGAIN;
}

static void srv_free(srv *s) {
    gnutls_deinit(s->s);
    gnutls_certificate_free_credentials(s->cred);
    free(s->in.d);
    free(s->out.d);
}

/* client output -> server input */
static void c2s(xmpp_tls *c, srv *s) {
    const uint8_t *p;
    size_t n;
    assert_int_equal(xmpp_tls_out(c, &p, &n), XMPP_OK);
    if (n > 0) {
        tbuf_add(&s->in, p, n);
        assert_int_equal(xmpp_tls_out_consume(c, n), XMPP_OK);
    }
}

/* server output -> client input; returns the first feed error */
static int s2c(srv *s, xmpp_tls *c) {
    size_t n = s->out.len - s->out.off;
    int rc = XMPP_OK;
    if (n > 0)
        rc = xmpp_tls_feed(c, s->out.d + s->out.off, n);
    s->out.off = s->out.len = 0;
    return rc;
}

/* Runs both handshakes. In bytewise mode every server byte is fed alone
 * and the client's handshake advanced after each. Returns the client's
 * status (XMPP_OK once both sides are done). */
static int handshake(xmpp_tls *c, srv *s, int bytewise) {
    int i, crc = XMPP_TLS_AGAIN;
    for (i = 0; i < 200; i++) {
        if (crc != XMPP_OK)
            crc = xmpp_tls_handshake(c);
        c2s(c, s);
        if (!s->done) {
            s->hs_rc = gnutls_handshake(s->s);
            if (s->hs_rc == 0)
                s->done = 1;
        }
        if (bytewise && crc == XMPP_TLS_AGAIN) {
            size_t k, n = s->out.len - s->out.off;
            for (k = 0; k < n && crc == XMPP_TLS_AGAIN; k++) {
                int rc = xmpp_tls_feed(c, s->out.d + s->out.off + k, 1);
                if (rc != XMPP_OK)
                    return rc;
                crc = xmpp_tls_handshake(c);
            }
            s->out.off = s->out.len = 0;
        } else {
            int rc = s2c(s, c);
            if (rc != XMPP_OK)
                return rc;
        }
        if (crc != XMPP_OK && crc != XMPP_TLS_AGAIN)
            return crc;
        if (crc == XMPP_OK && s->done)
            return XMPP_OK;
        if (!s->done && s->hs_rc != GNUTLS_E_AGAIN && gnutls_error_is_fatal(s->hs_rc)) {
            /* like a real server, send the alert; report the client's view */
            gnutls_alert_send_appropriate(s->s, s->hs_rc);
            if (s2c(s, c) != XMPP_OK)
                return XMPP_ERR_NOMEM;
            crc = xmpp_tls_handshake(c);
            return crc == XMPP_OK ? XMPP_TLS_ERR_HANDSHAKE : crc;
        }
    }
    return XMPP_TLS_ERR_HANDSHAKE;
}

static xmpp_tls_config *cfg_new(xmpp_ctx *ctx) {
    xmpp_tls_config *cfg = NULL;
    assert_int_equal(xmpp_tls_config_new(&cfg, ctx), XMPP_OK);
    assert_int_equal(xmpp_tls_config_use_system_trust(cfg, 0), XMPP_OK);
    assert_int_equal(xmpp_tls_config_add_cafile(cfg, path("ca.pem")), XMPP_OK);
    return cfg;
}

/* Server plaintext -> client: the server sends, the client reads all. */
static size_t srv_send_client_read(srv *s, xmpp_tls *c, const uint8_t *p, size_t n, uint8_t *got,
                                   size_t cap, int bytewise) {
    size_t off = 0, total = 0;
    while (off < n) {
        ssize_t r = gnutls_record_send(s->s, p + off, n - off > 1000 ? 1000 : n - off);
        assert_true(r > 0);
        off += (size_t)r;
    }
    if (bytewise) {
        size_t k, m = s->out.len - s->out.off;
        for (k = 0; k < m; k++) {
            int r;
            assert_int_equal(xmpp_tls_feed(c, s->out.d + s->out.off + k, 1), XMPP_OK);
            r = xmpp_tls_read(c, got + total, cap - total);
            assert_true(r >= 0);
            total += (size_t)r;
        }
        s->out.off = s->out.len = 0;
    } else {
        int r;
        assert_int_equal(s2c(s, c), XMPP_OK);
        r = xmpp_tls_read(c, got, cap); /* all records in one call */
        assert_true(r >= 0);
        total = (size_t)r;
        assert_int_equal(xmpp_tls_read(c, got + total, cap - total), 0);
    }
    return total;
}

/* Client plaintext -> server. */
static size_t client_write_srv_read(xmpp_tls *c, srv *s, const uint8_t *p, size_t n, uint8_t *got,
                                    size_t cap) {
    size_t total = 0;
    assert_int_equal(xmpp_tls_write(c, p, n), XMPP_OK);
    c2s(c, s);
    for (;;) {
        ssize_t r = gnutls_record_recv(s->s, got + total, cap - total);
        if (r == GNUTLS_E_AGAIN)
            break;
        assert_true(r > 0);
        total += (size_t)r;
    }
    return total;
}

static int load_der(const char *file, gnutls_datum_t *der) {
    size_t len;
    char *pem = th_read_file(path(file), &len);
    gnutls_x509_crt_t crt;
    gnutls_datum_t d;
    int rc;
    if (pem == NULL)
        return -1;
    d.data = (unsigned char *)pem;
    d.size = (unsigned)len;
    gnutls_x509_crt_init(&crt);
    rc = gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_PEM);
    if (rc >= 0)
        rc = gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_DER, der);
    gnutls_x509_crt_deinit(crt);
    free(pem);
    return rc;
}

/* --- group setup ------------------------------------------------------ */

static int group_setup(void **state) {
    const char *top = getenv("top_srcdir");
    char cmd[1024];
    char tmpl[] = "/tmp/libxmpp-tls-XXXXXX";
    (void)state;
    if (top == NULL)
        top = ".";
    if (mkdtemp(tmpl) == NULL)
        return -1;
    snprintf(certdir, sizeof(certdir), "%s", tmpl);
    snprintf(cmd, sizeof(cmd), "sh '%s/tests/certs/gen-certs.sh' '%s' %s", top, certdir, DOMAIN);
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

/* --- fixtures ----------------------------------------------------------- */

typedef struct fx {
    xmpp_ctx *ctx;
    xmpp_tls_config *cfg;
    xmpp_tls *c;
    srv s;
} fx;

static void fx_open(fx *f, const char *cert, const char *key, const char *prio, const char *domain,
                    int direct) {
    memset(f, 0, sizeof(*f));
    assert_int_equal(xmpp_ctx_new(&f->ctx, NULL), XMPP_OK);
    f->cfg = cfg_new(f->ctx);
    srv_init(&f->s, cert, key, prio);
    assert_int_equal(xmpp_tls_new(&f->c, f->ctx, f->cfg, domain, direct), XMPP_OK);
}

static void fx_close(fx *f) {
    xmpp_tls_free(f->c);
    xmpp_tls_config_unref(f->cfg);
    srv_free(&f->s);
    xmpp_ctx_free(f->ctx);
}

/* --- good path -------------------------------------------------------- */

static void check_good_session(fx *f, int bytewise) {
    static uint8_t big[1 << 20], got[(1 << 20) + 64];
    uint8_t msg[4096];
    size_t i, n;
    const xmpp_tls_verify_result *r = xmpp_tls_get_verify_result(f->c);
    assert_non_null(r);
    assert_int_equal(xmpp_tls_verify_result_failures(r), 0);
    assert_string_equal(xmpp_tls_verify_result_reference(r), DOMAIN);
    assert_int_equal(xmpp_tls_verify_result_matched_type(r), XMPP_TLS_ID_DNS);
    assert_string_equal(xmpp_tls_verify_result_matched_name(r), DOMAIN);
    assert_int_equal(xmpp_tls_verify_result_chain_length(r), 1);
    /* server -> client: many records of varying sizes */
    for (i = 0; i < sizeof(msg); i++)
        msg[i] = (uint8_t)(i * 7 + 1);
    n = srv_send_client_read(&f->s, f->c, msg, sizeof(msg), got, sizeof(got), bytewise);
    assert_int_equal(n, sizeof(msg));
    assert_memory_equal(got, msg, sizeof(msg));
    /* client -> server: a 1 MB write, split into records internally */
    for (i = 0; i < sizeof(big); i++)
        big[i] = (uint8_t)(i ^ (i >> 8));
    n = client_write_srv_read(f->c, &f->s, big, sizeof(big), got, sizeof(got));
    assert_int_equal(n, sizeof(big));
    assert_memory_equal(got, big, sizeof(big));
}

static void test_good_handshake(void **state) {
    fx f;
    char sni[256];
    size_t sl = sizeof(sni);
    unsigned type;
    xmpp_tls_info_t info;
    (void)state;
    fx_open(&f, "server.pem", "server-key.pem", PRIO_ANY, DOMAIN, 0);
    /* TLS-01: no application data before the handshake */
    assert_int_equal(xmpp_tls_write(f.c, (const uint8_t *)"x", 1), XMPP_ERR_STATE);
    assert_int_equal(xmpp_tls_read(f.c, (uint8_t *)sni, 1), XMPP_ERR_STATE);
    assert_null(xmpp_tls_get_verify_result(f.c));
    assert_int_equal(handshake(f.c, &f.s, 0), XMPP_OK);
    assert_int_equal(xmpp_tls_handshake(f.c), XMPP_OK); /* idempotent */
    /* TLS-08: SNI = the domainpart */
    assert_int_equal(gnutls_server_name_get(f.s.s, sni, &sl, &type, 0), 0);
    assert_int_equal(type, GNUTLS_NAME_DNS);
    assert_string_equal(sni, DOMAIN);
    assert_int_equal(xmpp_tls_info(f.c, &info), XMPP_OK);
    assert_int_equal(info.version, 13);
    assert_int_equal(info.ems, 1);
    assert_null(info.alpn);
    assert_non_null(info.cipher);
    check_good_session(&f, 0);
    /* close_notify from us reaches the server */
    assert_int_equal(xmpp_tls_bye(f.c), XMPP_OK);
    assert_int_equal(xmpp_tls_write(f.c, (const uint8_t *)"x", 1), XMPP_ERR_STATE);
    c2s(f.c, &f.s);
    {
        char b[16];
        assert_int_equal(gnutls_record_recv(f.s.s, b, sizeof(b)), 0);
    }
    fx_close(&f);
}

/* SASL EXTERNAL (XEP-0178) rests on this: a server that asks for a client
 * certificate receives the one configured, on TLS 1.3 and 1.2. */
static void test_client_certificate(void **state) {
    static const char *const prios[] = {PRIO_ANY, "NORMAL:-VERS-ALL:+VERS-TLS1.2"};
    size_t i;
    (void)state;
    for (i = 0; i < 2; i++) {
        xmpp_ctx *ctx;
        xmpp_tls_config *cfg;
        xmpp_tls *c;
        srv sv;
        const gnutls_datum_t *peers;
        unsigned npeers = 0;
        gnutls_datum_t want;
        assert_int_equal(xmpp_ctx_new(&ctx, NULL), XMPP_OK);
        cfg = cfg_new(ctx);
        assert_int_equal(xmpp_tls_config_set_client_cert(cfg, path("xmppaddr.pem"),
                                                         path("xmppaddr-key.pem")), XMPP_OK);
        srv_init(&sv, "server.pem", "server-key.pem", prios[i]);
        gnutls_certificate_server_set_request(sv.s, GNUTLS_CERT_REQUIRE);
        assert_int_equal(xmpp_tls_new(&c, ctx, cfg, DOMAIN, 0), XMPP_OK);
        assert_int_equal(handshake(c, &sv, 0), XMPP_OK);
        peers = gnutls_certificate_get_peers(sv.s, &npeers);
        assert_non_null(peers);
        assert_true(npeers >= 1);
        assert_true(load_der("xmppaddr.pem", &want) >= 0);
        assert_int_equal(peers[0].size, want.size);
        assert_memory_equal(peers[0].data, want.data, want.size);
        gnutls_free(want.data);
        xmpp_tls_free(c);
        xmpp_tls_config_unref(cfg);
        srv_free(&sv);
        xmpp_ctx_free(ctx);
    }
}

static void test_bytewise(void **state) {
    fx f;
    (void)state;
    fx_open(&f, "server.pem", "server-key.pem", PRIO_ANY, DOMAIN, 0);
    assert_int_equal(handshake(f.c, &f.s, 1), XMPP_OK);
    check_good_session(&f, 1);
    fx_close(&f);
    fx_open(&f, "server.pem", "server-key.pem", PRIO_12, DOMAIN, 0);
    assert_int_equal(handshake(f.c, &f.s, 1), XMPP_OK);
    check_good_session(&f, 1);
    fx_close(&f);
}

static void test_direct_alpn(void **state) {
    fx f;
    gnutls_datum_t proto = {(unsigned char *)"xmpp-client", 11}, sel;
    xmpp_tls_info_t info;
    (void)state;
    fx_open(&f, "server.pem", "server-key.pem", PRIO_ANY, DOMAIN, 1);
    assert_int_equal(gnutls_alpn_set_protocols(f.s.s, &proto, 1, 0), 0);
    assert_int_equal(handshake(f.c, &f.s, 0), XMPP_OK);
    assert_int_equal(gnutls_alpn_get_selected_protocol(f.s.s, &sel), 0);
    assert_int_equal(sel.size, 11);
    assert_memory_equal(sel.data, "xmpp-client", 11);
    assert_int_equal(xmpp_tls_info(f.c, &info), XMPP_OK);
    assert_string_equal(info.alpn, "xmpp-client");
    fx_close(&f);
    /* a server without ALPN is still fine (XEP-0368: SHOULD) */
    fx_open(&f, "server.pem", "server-key.pem", PRIO_ANY, DOMAIN, 1);
    assert_int_equal(handshake(f.c, &f.s, 0), XMPP_OK);
    assert_int_equal(xmpp_tls_info(f.c, &info), XMPP_OK);
    assert_null(info.alpn);
    fx_close(&f);
}

/* --- bad certificates (TLS-07, d.2 18-21) -------------------------------- */

typedef struct cbrec {
    int calls;
    int accept;
    unsigned failures;
    char reference[64];
    size_t der_len;
    int have_spki;
} cbrec;

static int record_cb(const xmpp_tls_verify_result *r, void *ud) {
    cbrec *c = ud;
    const unsigned char *der;
    unsigned char spki[32];
    c->calls++;
    c->failures = xmpp_tls_verify_result_failures(r);
    snprintf(c->reference, sizeof(c->reference), "%s", xmpp_tls_verify_result_reference(r));
    if (xmpp_tls_verify_result_leaf_der(r, &der, &c->der_len) != XMPP_OK)
        c->der_len = 0;
    c->have_spki = xmpp_tls_verify_result_spki_sha256(r, spki) == XMPP_OK;
    return c->accept;
}

static const struct badcase {
    const char *cert, *key;
    unsigned expect; /* bit that must be set */
} badcases[] = {
    {"wrongname.pem", "wrongname-key.pem", XMPP_TLS_VERIFY_NAME_MISMATCH},
    {"expired.pem", "expired-key.pem", XMPP_TLS_VERIFY_EXPIRED},
    {"notyet.pem", "notyet-key.pem", XMPP_TLS_VERIFY_NOT_YET_VALID},
    {"selfsigned.pem", "selfsigned-key.pem", XMPP_TLS_VERIFY_SELF_SIGNED},
    {"unknownca.pem", "unknownca-key.pem", XMPP_TLS_VERIFY_UNKNOWN_CA},
    {"leafsigned-chain.pem", "leafsigned-key.pem", XMPP_TLS_VERIFY_SIGNER_NOT_CA},
    {"v1intermediate-chain.pem", "v1intermediate-key.pem", XMPP_TLS_VERIFY_SIGNER_NOT_CA},
};

static void test_bad_certs(void **state) {
    size_t i;
    (void)state;
    for (i = 0; i < sizeof(badcases) / sizeof(badcases[0]); i++) {
        int with_cb;
        for (with_cb = 0; with_cb < 2; with_cb++) {
            fx f;
            cbrec rec;
            const xmpp_tls_verify_result *r;
            uint8_t b[8];
            unsigned fl;
            memset(&rec, 0, sizeof(rec));
            fx_open(&f, badcases[i].cert, badcases[i].key, PRIO_ANY, DOMAIN, 0);
            if (with_cb)
                xmpp_tls_config_set_verify_callback(f.cfg, record_cb, &rec);
            assert_int_equal(handshake(f.c, &f.s, 0), XMPP_TLS_ERR_CERT);
            r = xmpp_tls_get_verify_result(f.c);
            assert_non_null(r);
            fl = xmpp_tls_verify_result_failures(r);
            if ((fl & badcases[i].expect) == 0)
                fail_msg("%s: failures 0x%x lack 0x%x", badcases[i].cert, fl, badcases[i].expect);
            if (getenv("TLS_TEST_VERBOSE") != NULL && !with_cb)
                print_message("%s: failures 0x%x\n", badcases[i].cert, fl);
            if (badcases[i].expect != XMPP_TLS_VERIFY_NAME_MISMATCH)
                assert_false(fl & XMPP_TLS_VERIFY_NAME_MISMATCH);
            /* sticky, and no application data either way */
            assert_int_equal(xmpp_tls_handshake(f.c), XMPP_TLS_ERR_CERT);
            assert_int_equal(xmpp_tls_write(f.c, b, 1), XMPP_TLS_ERR_CERT);
            assert_int_equal(xmpp_tls_read(f.c, b, sizeof(b)), XMPP_TLS_ERR_CERT);
            assert_int_equal(xmpp_tls_bye(f.c), XMPP_TLS_ERR_CERT);
            /* the server is told (an alert is queued for it) */
            c2s(f.c, &f.s);
            assert_true(gnutls_handshake(f.s.s) < 0);
            if (with_cb) {
                assert_int_equal(rec.calls, 1);
                assert_int_equal(rec.failures, fl);
                assert_string_equal(rec.reference, DOMAIN);
                assert_true(rec.der_len > 0);
                assert_true(rec.have_spki);
            }
            fx_close(&f);
        }
    }
}

static void test_callback_accepts(void **state) {
    fx f;
    cbrec rec;
    const xmpp_tls_verify_result *r;
    gnutls_datum_t der;
    const unsigned char *p;
    size_t n;
    (void)state;
    memset(&rec, 0, sizeof(rec));
    rec.accept = 1;
    fx_open(&f, "wrongname.pem", "wrongname-key.pem", PRIO_ANY, DOMAIN, 0);
    xmpp_tls_config_set_verify_callback(f.cfg, record_cb, &rec);
    assert_int_equal(handshake(f.c, &f.s, 0), XMPP_OK);
    assert_int_equal(rec.calls, 1);
    assert_int_equal(rec.failures, XMPP_TLS_VERIFY_NAME_MISMATCH);
    r = xmpp_tls_get_verify_result(f.c);
    assert_int_equal(xmpp_tls_verify_result_failures(r), XMPP_TLS_VERIFY_NAME_MISMATCH);
    assert_int_equal(xmpp_tls_verify_result_matched_type(r), XMPP_TLS_ID_NONE);
    assert_null(xmpp_tls_verify_result_matched_name(r));
    assert_int_equal(load_der("wrongname.pem", &der), 0);
    assert_int_equal(xmpp_tls_verify_result_leaf_der(r, &p, &n), XMPP_OK);
    assert_int_equal(n, der.size);
    assert_memory_equal(p, der.data, n);
    gnutls_free(der.data);
    fx_close(&f);
    /* a callback returning 0 rejects even a good certificate */
    memset(&rec, 0, sizeof(rec));
    fx_open(&f, "server.pem", "server-key.pem", PRIO_ANY, DOMAIN, 0);
    xmpp_tls_config_set_verify_callback(f.cfg, record_cb, &rec);
    assert_int_equal(handshake(f.c, &f.s, 0), XMPP_TLS_ERR_CERT);
    assert_int_equal(rec.calls, 1);
    assert_int_equal(rec.failures, 0);
    fx_close(&f);
}

/* SHA-256 of the DER SubjectPublicKeyInfo, computed from the PEM file. */
static void file_spki(const char *file, unsigned char out[32]) {
    gnutls_datum_t der, spki;
    gnutls_x509_crt_t crt;
    gnutls_pubkey_t pk;
    assert_int_equal(load_der(file, &der), 0);
    gnutls_x509_crt_init(&crt);
    assert_int_equal(gnutls_x509_crt_import(crt, &der, GNUTLS_X509_FMT_DER), 0);
    gnutls_pubkey_init(&pk);
    assert_int_equal(gnutls_pubkey_import_x509(pk, crt, 0), 0);
    assert_int_equal(gnutls_pubkey_export2(pk, GNUTLS_X509_FMT_DER, &spki), 0);
    assert_int_equal(gnutls_hash_fast(GNUTLS_DIG_SHA256, spki.data, spki.size, out), 0);
    gnutls_free(spki.data);
    gnutls_pubkey_deinit(pk);
    gnutls_x509_crt_deinit(crt);
    gnutls_free(der.data);
}

static void test_pins(void **state) {
    fx f;
    unsigned char pin[32], other[32], got[32];
    (void)state;
    file_spki("server.pem", pin);
    memset(other, 0xab, sizeof(other));
    fx_open(&f, "server.pem", "server-key.pem", PRIO_ANY, DOMAIN, 0);
    assert_int_equal(xmpp_tls_config_add_pin_sha256(f.cfg, other), XMPP_OK);
    assert_int_equal(xmpp_tls_config_add_pin_sha256(f.cfg, pin), XMPP_OK);
    assert_int_equal(handshake(f.c, &f.s, 0), XMPP_OK);
    assert_int_equal(xmpp_tls_verify_result_spki_sha256(xmpp_tls_get_verify_result(f.c), got),
                     XMPP_OK);
    assert_memory_equal(got, pin, 32);
    fx_close(&f);
    fx_open(&f, "server.pem", "server-key.pem", PRIO_ANY, DOMAIN, 0);
    assert_int_equal(xmpp_tls_config_add_pin_sha256(f.cfg, other), XMPP_OK);
    assert_int_equal(handshake(f.c, &f.s, 0), XMPP_TLS_ERR_CERT);
    assert_int_equal(xmpp_tls_verify_result_failures(xmpp_tls_get_verify_result(f.c)),
                     XMPP_TLS_VERIFY_PIN_MISMATCH);
    fx_close(&f);
}

/* --- identity forms (TLS-06) -------------------------------------------- */

static void expect_identity(const char *cert, const char *key, const char *domain, int direct,
                            int ok, xmpp_tls_id_type type, const char *name) {
    fx f;
    const xmpp_tls_verify_result *r;
    fx_open(&f, cert, key, PRIO_ANY, domain, direct);
    assert_int_equal(handshake(f.c, &f.s, 0), ok ? XMPP_OK : XMPP_TLS_ERR_CERT);
    r = xmpp_tls_get_verify_result(f.c);
    assert_string_equal(xmpp_tls_verify_result_reference(r), domain);
    assert_int_equal(xmpp_tls_verify_result_matched_type(r), type);
    if (ok) {
        assert_int_equal(xmpp_tls_verify_result_failures(r), 0);
        assert_string_equal(xmpp_tls_verify_result_matched_name(r), name);
    } else {
        assert_int_equal(xmpp_tls_verify_result_failures(r), XMPP_TLS_VERIFY_NAME_MISMATCH);
    }
    fx_close(&f);
}

static void test_identities(void **state) {
    (void)state;
    /* wildcard: one label only, never the apex */
    expect_identity("wildcard.pem", "wildcard-key.pem", DOMAIN, 0, 0, XMPP_TLS_ID_NONE, NULL);
    expect_identity("wildcard.pem", "wildcard-key.pem", "sub." DOMAIN, 0, 1, XMPP_TLS_ID_DNS,
                    "*." DOMAIN);
    expect_identity("wildcard.pem", "wildcard-key.pem", "a.sub." DOMAIN, 0, 0, XMPP_TLS_ID_NONE,
                    NULL);
    /* XmppAddr only, SRV-ID only (RFC 6120 §13.7.1.2) */
    expect_identity("xmppaddr.pem", "xmppaddr-key.pem", DOMAIN, 0, 1, XMPP_TLS_ID_XMPPADDR, DOMAIN);
    expect_identity("xmppaddr.pem", "xmppaddr-key.pem", "other.example", 0, 0, XMPP_TLS_ID_NONE,
                    NULL);
    expect_identity("srvid.pem", "srvid-key.pem", DOMAIN, 0, 1, XMPP_TLS_ID_SRV,
                    "_xmpp-client." DOMAIN);
    expect_identity("srvid.pem", "srvid-key.pem", DOMAIN, 1, 1, XMPP_TLS_ID_SRV,
                    "_xmpp-client." DOMAIN);
    /* other DNS-IDs of the good certificate; case-insensitive reference */
    expect_identity("server.pem", "server-key.pem", "conference." DOMAIN, 0, 1, XMPP_TLS_ID_DNS,
                    "conference." DOMAIN);
    expect_identity("server.pem", "server-key.pem", "EXAMPLE.Com", 0, 1, XMPP_TLS_ID_DNS, DOMAIN);
}

static void test_dns_id_rules(void **state) {
    static const struct {
        const char *ref, *pres;
        size_t plen; /* 0: strlen */
        int match;
    } cases[] = {
        {"example.com", "example.com", 0, 1},
        {"example.com", "EXAMPLE.COM", 0, 1},
        {"example.com", "example.com.", 0, 1},
        {"example.com.", "example.com", 0, 1},
        {"example.com", "www.example.com", 0, 0},
        {"www.example.com", "*.example.com", 0, 1},
        {"example.com", "*.example.com", 0, 0},      /* apex */
        {"a.b.example.com", "*.example.com", 0, 0},  /* one label only */
        {"foo.example.com", "f*.example.com", 0, 0}, /* partial */
        {"foo.example.com", "*o.example.com", 0, 0},
        {"a.b.example.com", "a.*.example.com", 0, 0}, /* not left-most */
        {"example.com", "*.com", 0, 0},               /* too broad */
        {"example.com", "*", 0, 0},
        {"xn--bcher-kva.example", "xn--*.example", 0, 0},
        {"xn--bcher-kva.example", "xn--bcher-kva.example", 0, 1},
        {"xn--bcher-kva.example",
         "b\xc3\xbc"
         "cher.example",
         0, 0},                                           /* U-label */
        {"example.com", "example.com\0.evil.com", 20, 0}, /* NUL */
        {"example.com", "example.com\0", 12, 0},
        {"example.com", "exa mple.com", 0, 0},
        {"example.com", "", 0, 0},
        {"example.com", "example..com", 0, 0},
        {"127.0.0.1", "127.0.0.1", 0, 0}, /* no IP-ID via DNS */
    };
    size_t i;
    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t n = cases[i].plen ? cases[i].plen : strlen(cases[i].pres);
        if (xmpp__tls_dns_id_match(cases[i].ref, cases[i].pres, n) != cases[i].match)
            fail_msg("case %zu: ref %s presented %s", i, cases[i].ref, cases[i].pres);
    }
}

/* --- protocol policy (TLS-09) -------------------------------------------- */

static void test_legacy_server(void **state) {
    fx f;
    (void)state;
    fx_open(&f, "server.pem", "server-key.pem", "NORMAL:-VERS-ALL:+VERS-TLS1.1:+VERS-TLS1.0",
            DOMAIN, 0);
    {
        int rc = handshake(f.c, &f.s, 0);
        if (rc != XMPP_TLS_ERR_PROTOCOL)
            fail_msg("legacy: %d %s (%s) server %s", rc, xmpp_tls_strerror(rc),
                     xmpp_tls_error_detail(f.c), gnutls_strerror(f.s.hs_rc));
    }
    assert_null(xmpp_tls_get_verify_result(f.c));
    fx_close(&f);
    /* a 1.3 floor against a 1.2-only server */
    fx_open(&f, "server.pem", "server-key.pem", PRIO_12, DOMAIN, 0);
    xmpp_tls_free(f.c);
    assert_int_equal(xmpp_tls_config_set_min_version(f.cfg, XMPP_TLS_VERSION_1_3), XMPP_OK);
    assert_int_equal(xmpp_tls_new(&f.c, f.ctx, f.cfg, DOMAIN, 0), XMPP_OK);
    assert_int_equal(handshake(f.c, &f.s, 0), XMPP_TLS_ERR_PROTOCOL);
    fx_close(&f);
}

/* --- teardown and hostile input (TLS-11, d.2 24-25) --------------------- */

static void test_close_notify(void **state) {
    fx f;
    uint8_t b[64];
    (void)state;
    fx_open(&f, "server.pem", "server-key.pem", PRIO_ANY, DOMAIN, 0);
    assert_int_equal(handshake(f.c, &f.s, 0), XMPP_OK);
    assert_true(gnutls_record_send(f.s.s, "bye!", 4) == 4);
    assert_int_equal(gnutls_bye(f.s.s, GNUTLS_SHUT_WR), 0);
    assert_int_equal(s2c(&f.s, f.c), XMPP_OK);
    assert_int_equal(xmpp_tls_read(f.c, b, sizeof(b)), 4); /* data first */
    assert_memory_equal(b, "bye!", 4);
    assert_int_equal(xmpp_tls_read(f.c, b, sizeof(b)), XMPP_TLS_ERR_CLOSED);
    assert_int_equal(xmpp_tls_read(f.c, b, sizeof(b)), XMPP_TLS_ERR_CLOSED);
    assert_int_equal(xmpp_tls_write(f.c, b, 1), XMPP_TLS_ERR_CLOSED);
    fx_close(&f);
}

static void test_alerts(void **state) {
    fx f;
    uint8_t b[64];
    (void)state;
    /* fatal alert mid-stream */
    fx_open(&f, "server.pem", "server-key.pem", PRIO_ANY, DOMAIN, 0);
    assert_int_equal(handshake(f.c, &f.s, 0), XMPP_OK);
    assert_int_equal(gnutls_alert_send(f.s.s, GNUTLS_AL_FATAL, GNUTLS_A_INTERNAL_ERROR), 0);
    assert_int_equal(s2c(&f.s, f.c), XMPP_OK);
    assert_int_equal(xmpp_tls_read(f.c, b, sizeof(b)), XMPP_TLS_ERR_ALERT);
    assert_string_equal(xmpp_tls_error_detail(f.c), gnutls_alert_get_name(GNUTLS_A_INTERNAL_ERROR));
    fx_close(&f);
    /* a warning alert is an error too (TLS-12) */
    fx_open(&f, "server.pem", "server-key.pem", PRIO_12, DOMAIN, 0);
    assert_int_equal(handshake(f.c, &f.s, 0), XMPP_OK);
    assert_int_equal(gnutls_alert_send(f.s.s, GNUTLS_AL_WARNING, GNUTLS_A_USER_CANCELED), 0);
    assert_int_equal(s2c(&f.s, f.c), XMPP_OK);
    assert_int_equal(xmpp_tls_read(f.c, b, sizeof(b)), XMPP_TLS_ERR_ALERT);
    fx_close(&f);
    /* renegotiation request (TLS 1.2 HelloRequest) */
    fx_open(&f, "server.pem", "server-key.pem", PRIO_12, DOMAIN, 0);
    assert_int_equal(handshake(f.c, &f.s, 0), XMPP_OK);
    assert_int_equal(gnutls_rehandshake(f.s.s), 0);
    assert_int_equal(s2c(&f.s, f.c), XMPP_OK);
    assert_int_equal(xmpp_tls_read(f.c, b, sizeof(b)), XMPP_TLS_ERR_RENEGOTIATION);
    fx_close(&f);
}

static void test_garbage(void **state) {
    static const char junk[] = "<?xml version='1.0'?><stream:stream xmlns='jabber:client'>";
    xmpp_ctx *ctx;
    xmpp_tls_config *cfg;
    xmpp_tls *c;
    int rc;
    (void)state;
    assert_int_equal(xmpp_ctx_new(&ctx, NULL), XMPP_OK);
    cfg = cfg_new(ctx);
    assert_int_equal(xmpp_tls_new(&c, ctx, cfg, DOMAIN, 0), XMPP_OK);
    assert_int_equal(xmpp_tls_handshake(c), XMPP_TLS_AGAIN);
    assert_int_equal(xmpp_tls_feed(c, (const uint8_t *)junk, sizeof(junk) - 1), XMPP_OK);
    rc = xmpp_tls_handshake(c);
    assert_true(rc < 0 && rc != XMPP_TLS_AGAIN);
    if (getenv("TLS_TEST_VERBOSE") != NULL)
        print_message("garbage: %s (%s)\n", xmpp_tls_strerror(rc), xmpp_tls_error_detail(c));
    assert_int_equal(xmpp_tls_handshake(c), rc);
    assert_null(xmpp_tls_get_verify_result(c));
    xmpp_tls_free(c);
    /* EOF in the middle of the handshake */
    assert_int_equal(xmpp_tls_new(&c, ctx, cfg, DOMAIN, 0), XMPP_OK);
    assert_int_equal(xmpp_tls_handshake(c), XMPP_TLS_AGAIN);
    assert_int_equal(xmpp_tls_feed(c, (const uint8_t *)"\x16\x03\x03\x00\x40\x02", 6), XMPP_OK);
    assert_int_equal(xmpp_tls_feed_eof(c), XMPP_OK);
    assert_int_equal(xmpp_tls_feed(c, (const uint8_t *)"x", 1), XMPP_ERR_STATE);
    rc = xmpp_tls_handshake(c);
    if (rc != XMPP_TLS_ERR_TRUNCATED)
        fail_msg("eof: %d %s", rc, xmpp_tls_error_detail(c));
    xmpp_tls_free(c);
    xmpp_tls_config_unref(cfg);
    xmpp_ctx_free(ctx);
}

static void test_truncated(void **state) {
    fx f;
    uint8_t b[256];
    size_t n;
    (void)state;
    /* a record cut short, then EOF: nothing of it is delivered */
    fx_open(&f, "server.pem", "server-key.pem", PRIO_ANY, DOMAIN, 0);
    assert_int_equal(handshake(f.c, &f.s, 0), XMPP_OK);
    assert_true(gnutls_record_send(f.s.s, "<message>secret</message>", 25) == 25);
    n = f.s.out.len - f.s.out.off;
    assert_int_equal(xmpp_tls_feed(f.c, f.s.out.d + f.s.out.off, n - 5), XMPP_OK);
    assert_int_equal(xmpp_tls_read(f.c, b, sizeof(b)), 0);
    assert_int_equal(xmpp_tls_feed_eof(f.c), XMPP_OK);
    assert_int_equal(xmpp_tls_read(f.c, b, sizeof(b)), XMPP_TLS_ERR_TRUNCATED);
    fx_close(&f);
    /* EOF between records without close_notify */
    fx_open(&f, "server.pem", "server-key.pem", PRIO_ANY, DOMAIN, 0);
    assert_int_equal(handshake(f.c, &f.s, 0), XMPP_OK);
    assert_int_equal(xmpp_tls_feed_eof(f.c), XMPP_OK);
    assert_int_equal(xmpp_tls_read(f.c, b, sizeof(b)), XMPP_TLS_ERR_TRUNCATED);
    fx_close(&f);
    /* a corrupted record */
    fx_open(&f, "server.pem", "server-key.pem", PRIO_ANY, DOMAIN, 0);
    assert_int_equal(handshake(f.c, &f.s, 0), XMPP_OK);
    assert_true(gnutls_record_send(f.s.s, "hello", 5) == 5);
    f.s.out.d[f.s.out.len - 3] ^= 0x40;
    assert_int_equal(s2c(&f.s, f.c), XMPP_OK);
    {
        int rc = xmpp_tls_read(f.c, b, sizeof(b));
        assert_true(rc < 0);
        assert_int_equal(xmpp_tls_read(f.c, b, sizeof(b)), rc);
    }
    fx_close(&f);
}

/* --- channel binding (SASL-05) ------------------------------------------ */

static void check_cb_equal(fx *f, gnutls_channel_binding_t st, xmpp_tls_cb_type ct) {
    gnutls_datum_t sv;
    uint8_t out[64];
    size_t len = sizeof(out);
    assert_int_equal(gnutls_session_channel_binding(f->s.s, st, &sv), 0);
    assert_int_equal(xmpp_tls_channel_binding(f->c, ct, out, &len), XMPP_OK);
    assert_int_equal(len, sv.size);
    assert_memory_equal(out, sv.data, len);
    gnutls_free(sv.data);
}

static void check_end_point(fx *f) {
    gnutls_datum_t der;
    uint8_t want[32], out[64];
    size_t len = 4;
    assert_int_equal(load_der("server.pem", &der), 0); /* ECDSA-SHA256 */
    assert_int_equal(gnutls_hash_fast(GNUTLS_DIG_SHA256, der.data, der.size, want), 0);
    gnutls_free(der.data);
    assert_int_equal(xmpp_tls_channel_binding(f->c, XMPP_TLS_CB_SERVER_END_POINT, out, &len),
                     XMPP_ERR_LIMIT);
    assert_int_equal(len, 32);
    len = sizeof(out);
    assert_int_equal(xmpp_tls_channel_binding(f->c, XMPP_TLS_CB_SERVER_END_POINT, out, &len),
                     XMPP_OK);
    assert_int_equal(len, 32);
    assert_memory_equal(out, want, 32);
}

static void test_channel_binding(void **state) {
    fx f;
    uint8_t out[64];
    size_t len = sizeof(out);
    xmpp_tls_info_t info;
    (void)state;
    assert_int_equal(xmpp_tls_cb_type_from_name("tls-exporter"), XMPP_TLS_CB_EXPORTER);
    assert_int_equal(xmpp_tls_cb_type_from_name("tls-unique"), XMPP_TLS_CB_UNIQUE);
    assert_int_equal(xmpp_tls_cb_type_from_name("tls-server-end-point"),
                     XMPP_TLS_CB_SERVER_END_POINT);
    assert_int_equal(xmpp_tls_cb_type_from_name("tls-bogus"), 0);
    /* TLS 1.3 */
    fx_open(&f, "server.pem", "server-key.pem", PRIO_ANY, DOMAIN, 0);
    assert_int_equal(xmpp_tls_channel_binding(f.c, XMPP_TLS_CB_EXPORTER, out, &len),
                     XMPP_ERR_STATE);
    assert_int_equal(handshake(f.c, &f.s, 0), XMPP_OK);
    check_cb_equal(&f, GNUTLS_CB_TLS_EXPORTER, XMPP_TLS_CB_EXPORTER);
    len = sizeof(out);
    assert_int_equal(xmpp_tls_channel_binding(f.c, XMPP_TLS_CB_UNIQUE, out, &len),
                     XMPP_TLS_ERR_CB_UNAVAILABLE);
    check_end_point(&f);
    fx_close(&f);
    /* TLS 1.2 with EMS */
    fx_open(&f, "server.pem", "server-key.pem", PRIO_12, DOMAIN, 0);
    assert_int_equal(handshake(f.c, &f.s, 0), XMPP_OK);
    assert_int_equal(xmpp_tls_info(f.c, &info), XMPP_OK);
    assert_int_equal(info.version, 12);
    assert_int_equal(info.ems, 1);
    check_cb_equal(&f, GNUTLS_CB_TLS_EXPORTER, XMPP_TLS_CB_EXPORTER);
    check_cb_equal(&f, GNUTLS_CB_TLS_UNIQUE, XMPP_TLS_CB_UNIQUE);
    check_end_point(&f);
    fx_close(&f);
    /* TLS 1.2 without EMS: no tls-exporter (RFC 9266 §3) */
    fx_open(&f, "server.pem", "server-key.pem", PRIO_12 ":%NO_SESSION_HASH", DOMAIN, 0);
    assert_int_equal(handshake(f.c, &f.s, 0), XMPP_OK);
    assert_int_equal(xmpp_tls_info(f.c, &info), XMPP_OK);
    assert_int_equal(info.ems, 0);
    len = sizeof(out);
    assert_int_equal(xmpp_tls_channel_binding(f.c, XMPP_TLS_CB_EXPORTER, out, &len),
                     XMPP_TLS_ERR_CB_UNAVAILABLE);
    fx_close(&f);
}

/* --- configuration API -------------------------------------------------- */

static void test_config_api(void **state) {
    xmpp_ctx *ctx;
    xmpp_tls_config *cfg = NULL;
    xmpp_tls *c = NULL;
    unsigned char pin[32] = {0};
    (void)state;
    assert_int_equal(xmpp_ctx_new(&ctx, NULL), XMPP_OK);
    assert_int_equal(xmpp_tls_config_new(NULL, ctx), XMPP_ERR_INVALID);
    assert_int_equal(xmpp_tls_config_new(&cfg, NULL), XMPP_ERR_INVALID);
    assert_int_equal(xmpp_tls_config_new(&cfg, ctx), XMPP_OK);
    assert_int_equal(xmpp_tls_config_add_cafile(cfg, "/nonexistent/ca.pem"), XMPP_ERR_NOT_FOUND);
    assert_int_equal(xmpp_tls_config_add_ca_pem(cfg, "junk", 4), XMPP_ERR_INVALID);
    assert_int_equal(xmpp_tls_config_set_min_version(cfg, (xmpp_tls_version)11), XMPP_ERR_INVALID);
    assert_int_equal(xmpp_tls_config_add_pin_sha256(cfg, NULL), XMPP_ERR_INVALID);
    assert_int_equal(xmpp_tls_config_add_pin_sha256(cfg, pin), XMPP_OK);
    assert_int_equal(
        xmpp_tls_config_set_client_cert(cfg, path("server.pem"), path("server-key.pem")), XMPP_OK);
    assert_int_equal(xmpp_tls_config_use_system_trust(cfg, 0), XMPP_OK);
    assert_int_equal(xmpp_tls_new(&c, ctx, cfg, "", 0), XMPP_ERR_INVALID);
    assert_int_equal(xmpp_tls_new(&c, ctx, cfg, "bad domain", 0), XMPP_ERR_INVALID);
    assert_int_equal(xmpp_tls_new(&c, ctx, cfg,
                                  "b\xc3\xbc"
                                  "cher.example",
                                  0),
                     XMPP_ERR_INVALID);
    assert_null(c);
    assert_int_equal(xmpp_tls_new(&c, ctx, cfg, DOMAIN, 0), XMPP_OK);
    /* the trust anchors are frozen once used */
    assert_int_equal(xmpp_tls_config_add_cafile(cfg, path("ca.pem")), XMPP_ERR_STATE);
    assert_int_equal(xmpp_tls_config_use_system_trust(cfg, 1), XMPP_ERR_STATE);
    /* the session keeps its own reference */
    xmpp_tls_config_unref(cfg);
    assert_int_equal(xmpp_tls_handshake(c), XMPP_TLS_AGAIN);
    xmpp_tls_free(c);
    xmpp_tls_free(NULL);
    xmpp_tls_config_unref(NULL);
    assert_string_equal(xmpp_tls_verify_failure_name(XMPP_TLS_VERIFY_EXPIRED),
                        "certificate expired");
    assert_string_equal(xmpp_tls_verify_failure_name(3), "unknown");
    xmpp_ctx_free(ctx);
}

/* The system store is parsed once per configuration, however many
 * connections use it. */
static void test_system_trust_shared(void **state) {
    xmpp_ctx *ctx;
    xmpp_tls_config *cfg;
    xmpp_tls *a, *b;
    (void)state;
    assert_int_equal(xmpp_ctx_new(&ctx, NULL), XMPP_OK);
    assert_int_equal(xmpp_tls_config_new(&cfg, ctx), XMPP_OK);
    assert_int_equal(cfg->system_loaded, 0);
    assert_int_equal(xmpp_tls_new(&a, ctx, cfg, DOMAIN, 0), XMPP_OK);
    assert_int_equal(cfg->system_loaded, 1);
    assert_int_equal(xmpp_tls_new(&b, ctx, cfg, DOMAIN, 1), XMPP_OK);
    assert_int_equal(cfg->refs, 3);
    xmpp_tls_free(a);
    xmpp_tls_free(b);
    assert_int_equal(cfg->refs, 1);
    xmpp_tls_config_unref(cfg);
    xmpp_ctx_free(ctx);
}

/* --- allocation-failure torture ---------------------------------------- */

static int torture_scenario(xmpp_ctx *ctx, void *arg) {
    xmpp_tls_config *cfg = NULL;
    xmpp_tls *c = NULL;
    srv s;
    uint8_t msg[40000], got[40000 + 16];
    size_t i, total = 0;
    int rc;
    (void)arg;
    for (i = 0; i < sizeof(msg); i++)
        msg[i] = (uint8_t)i;
    if ((rc = xmpp_tls_config_new(&cfg, ctx)) != XMPP_OK)
        return rc;
    srv_init(&s, "server.pem", "server-key.pem", PRIO_ANY);
    if ((rc = xmpp_tls_config_use_system_trust(cfg, 0)) != XMPP_OK ||
        (rc = xmpp_tls_config_add_cafile(cfg, path("ca.pem"))) != XMPP_OK ||
        (rc = xmpp_tls_config_add_pin_sha256(cfg, msg)) != XMPP_OK ||
        (rc = xmpp_tls_new(&c, ctx, cfg, DOMAIN, 1)) != XMPP_OK)
        goto out;
    /* pin msg[0..32) will not match: let the callback accept that */
    rc = handshake(c, &s, 0);
    if (rc != XMPP_TLS_ERR_CERT)
        goto out;
    xmpp_tls_free(c);
    c = NULL;
    srv_free(&s);
    srv_init(&s, "server.pem", "server-key.pem", PRIO_ANY);
    xmpp_tls_config_unref(cfg);
    cfg = NULL;
    if ((rc = xmpp_tls_config_new(&cfg, ctx)) != XMPP_OK ||
        (rc = xmpp_tls_config_use_system_trust(cfg, 0)) != XMPP_OK ||
        (rc = xmpp_tls_config_add_cafile(cfg, path("ca.pem"))) != XMPP_OK ||
        (rc = xmpp_tls_new(&c, ctx, cfg, DOMAIN, 1)) != XMPP_OK ||
        (rc = handshake(c, &s, 0)) != XMPP_OK)
        goto out;
    if ((rc = xmpp_tls_write(c, msg, sizeof(msg))) != XMPP_OK)
        goto out;
    c2s(c, &s);
    {
        size_t off = 0;
        while (off < sizeof(msg)) {
            ssize_t r = gnutls_record_send(s.s, msg + off, sizeof(msg) - off);
            assert_true(r > 0);
            off += (size_t)r;
        }
    }
    if ((rc = s2c(&s, c)) != XMPP_OK)
        goto out;
    while ((rc = xmpp_tls_read(c, got + total, sizeof(got) - total)) > 0)
        total += (size_t)rc;
    if (rc < 0)
        goto out;
    assert_int_equal(total, sizeof(msg));
    rc = xmpp_tls_bye(c);
out:
    xmpp_tls_free(c);
    xmpp_tls_config_unref(cfg);
    srv_free(&s);
    return rc;
}

static void test_torture(void **state) {
    long n;
    (void)state;
    n = th_torture(torture_scenario, NULL);
    if (getenv("TLS_TEST_VERBOSE") != NULL)
        print_message("torture: %ld allocation points\n", n);
    assert_true(n > 5);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dns_id_rules),
        cmocka_unit_test(test_config_api),
        cmocka_unit_test(test_system_trust_shared),
        cmocka_unit_test(test_good_handshake),
        cmocka_unit_test(test_bytewise),
        cmocka_unit_test(test_client_certificate),
        cmocka_unit_test(test_direct_alpn),
        cmocka_unit_test(test_bad_certs),
        cmocka_unit_test(test_callback_accepts),
        cmocka_unit_test(test_pins),
        cmocka_unit_test(test_identities),
        cmocka_unit_test(test_legacy_server),
        cmocka_unit_test(test_close_notify),
        cmocka_unit_test(test_alerts),
        cmocka_unit_test(test_garbage),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_channel_binding),
        cmocka_unit_test(test_torture),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
