/* SASL mechanism layer and SCRAM: RFC test vectors, hostile server
 * messages (SECURITY.md d.3 27-33, SASL-03), the selection matrix of
 * SASL-01/02/04/05, XEP-0474 SSDP, and allocation-failure torture. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "stream/base64.h"
#include "stream/sasl.h"
#include "stream/scram.h"
#include "testhelp.h"

/* ---- fixtures --------------------------------------------------------- */

static const char fake_cb[] = "THIS IS FAKE CB DATA"; /* XEP-0474 §Full Example */
static char last_cb_type[32];
static int cb_fail;

static int fake_get_cb(void *ud, const char *type, uint8_t *out, size_t *len) {
    (void)ud;
    snprintf(last_cb_type, sizeof(last_cb_type), "%s", type);
    if (cb_fail || *len < sizeof(fake_cb) - 1)
        return -1;
    memcpy(out, fake_cb, sizeof(fake_cb) - 1);
    *len = sizeof(fake_cb) - 1;
    return 0;
}

static xmpp_ctx *new_ctx(void) {
    xmpp_ctx *ctx = NULL;
    assert_int_equal(xmpp_ctx_new(&ctx, NULL), XMPP_OK);
    return ctx;
}

/* Credentials "user"/"pencil" over TLS, no channel binding. */
static xmpp__sasl_params base_params(void) {
    xmpp__sasl_params p;
    memset(&p, 0, sizeof(p));
    p.authcid = "user";
    p.password = "pencil";
    p.flags = XMPP_SASL_TLS_ACTIVE;
    return p;
}

/* The same with every channel-binding type available on TLS 1.3. */
static xmpp__sasl_params cb_params(unsigned info) {
    xmpp__sasl_params p = base_params();
    p.get_cb = fake_get_cb;
    p.cb_info = info;
    return p;
}

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Selects on a fresh object; returns the code, *mech the choice. */
static int select_with(xmpp_ctx *ctx, const xmpp__sasl_params *p,
                       const char *const *mechs, size_t n,
                       const char *const *cbt, size_t ncb, int sasl2,
                       const char **mech, xmpp__sasl **keep) {
    xmpp__sasl *s = NULL;
    int rc;
    assert_int_equal(xmpp__sasl_new(&s, ctx, p), XMPP_OK);
    *mech = NULL;
    rc = xmpp__sasl_select(s, mechs, n, cbt, ncb, sasl2, mech);
    if (keep != NULL)
        *keep = s;
    else
        xmpp__sasl_free(s);
    return rc;
}

static void expect_bytes(const uint8_t *got, size_t len, const char *want) {
    assert_non_null(got);
    assert_int_equal(len, strlen(want));
    assert_memory_equal(got, want, len);
}

static const uint8_t *U(const char *s) {
    return (const uint8_t *)s;
}

/* ---- a tiny SCRAM server for self-consistency ------------------------- */

typedef struct tsrv {
    gnutls_mac_algorithm_t mac;
    gnutls_digest_algorithm_t dig;
    size_t hlen;
    const char *password;
    uint8_t salt[16];
    unsigned iter;
} tsrv;

/* Checks the proof of client-final against AuthMessage (RFC 5802 §3,
 * server side) and writes the base64 ServerSignature into v64. */
static void tsrv_check(const tsrv *t, const char *cfirst, const char *sfirst,
                       const char *cfinal, char *v64) {
    uint8_t salted[64], ck[64], sk[64], stored[64], csig[64], proof[64], ssig[64];
    gnutls_datum_t key = {(unsigned char *)t->password, (unsigned)strlen(t->password)};
    gnutls_datum_t salt = {(unsigned char *)t->salt, sizeof(t->salt)};
    const char *bare = strstr(cfirst, "n=");
    const char *p = strstr(cfinal, ",p=");
    char am[2048];
    size_t plen, i;
    assert_non_null(bare);
    assert_non_null(p);
    snprintf(am, sizeof(am), "%s,%s,%.*s", bare, sfirst, (int)(p - cfinal), cfinal);
    assert_int_equal(gnutls_pbkdf2(t->mac, &key, &salt, t->iter, salted, t->hlen), 0);
    gnutls_hmac_fast(t->mac, salted, t->hlen, "Client Key", 10, ck);
    gnutls_hash_fast(t->dig, ck, t->hlen, stored);
    gnutls_hmac_fast(t->mac, stored, t->hlen, am, strlen(am), csig);
    assert_int_equal(xmpp__b64_decode(p + 3, strlen(p + 3), proof, &plen), XMPP_OK);
    assert_int_equal(plen, t->hlen);
    for (i = 0; i < t->hlen; i++)
        ck[i] = proof[i] ^ csig[i]; /* recovered ClientKey */
    gnutls_hash_fast(t->dig, ck, t->hlen, proof);
    assert_memory_equal(proof, stored, t->hlen);
    gnutls_hmac_fast(t->mac, salted, t->hlen, "Server Key", 10, sk);
    gnutls_hmac_fast(t->mac, sk, t->hlen, am, strlen(am), ssig);
    strcpy(v64, "v=");
    xmpp__b64_encode(ssig, t->hlen, v64 + 2);
}

/* ---- base64 ----------------------------------------------------------- */

static void test_base64(void **state) {
    static const struct { const char *in; int ok; const char *out; } cases[] = {
        {"", 1, ""},         {"QQ==", 1, "A"},    {"QUI=", 1, "AB"},
        {"QUJD", 1, "ABC"},  {"QU JD", 0, NULL},  {"QUJ\nD", 0, NULL},
        {"QUI", 0, NULL},    {"QUJ=", 0, NULL},   {"QR==", 0, NULL},
        {"Q===", 0, NULL},   {"====", 0, NULL},   {"QU==QU==", 0, NULL},
        {"QU=D", 0, NULL},   {"QUJD\x80" "AAA", 0, NULL}, {"Zm9v-A==", 0, NULL},
    };
    uint8_t buf[16];
    char enc[32];
    size_t i, n;
    (void)state;
    for (i = 0; i < NELEM(cases); i++) {
        int rc = xmpp__b64_decode(cases[i].in, strlen(cases[i].in), buf, &n);
        if (cases[i].ok) {
            assert_int_equal(rc, XMPP_OK);
            assert_int_equal(n, strlen(cases[i].out));
            assert_memory_equal(buf, cases[i].out, n);
            assert_int_equal(xmpp__b64_encode(buf, n, enc), strlen(cases[i].in));
            assert_string_equal(enc, cases[i].in);
        } else {
            assert_int_equal(rc, XMPP_ERR_INVALID);
        }
    }
    assert_int_equal(xmpp__b64_encoded_len(0), 0);
    assert_int_equal(xmpp__b64_encoded_len(1), 4);
    assert_int_equal(xmpp__b64_encoded_len(64), 88);
}

/* ---- RFC test vectors ------------------------------------------------- */

typedef struct vector {
    const char *mech, *nonce, *cfirst, *sfirst, *cfinal, *sfinal;
} vector;

/* RFC 5802 §5 */
static const vector rfc5802 = {
    "SCRAM-SHA-1", "fyko+d2lbbFgONRv9qkxdawL", "n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL",
    "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096",
    "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
    "v=rmF9pqV8S7suAoZWja4dJRkFsKQ="};

/* RFC 7677 §3 */
static const vector rfc7677 = {
    "SCRAM-SHA-256", "rOprNGfwEbeRWgbNEkqO", "n,,n=user,r=rOprNGfwEbeRWgbNEkqO",
    "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
    "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
    "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
    "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="};

/* Runs a vector; the client has channel binding unavailable ('n'). */
static void run_vector(const vector *v, const char *password) {
    xmpp_ctx *ctx = new_ctx();
    xmpp__sasl_params p = base_params();
    xmpp__sasl *s = NULL;
    const char *mechs[] = {"PLAIN", v->mech};
    const char *mech;
    uint8_t *out;
    size_t len;
    p.password = password;
    assert_int_equal(select_with(ctx, &p, mechs, 2, NULL, 0, 0, &mech, &s), XMPP_OK);
    assert_string_equal(mech, v->mech);
    assert_int_equal(xmpp__sasl_test_set_nonce(s, v->nonce), XMPP_OK);
    assert_int_equal(xmpp__sasl_initial(s, &out, &len), XMPP_OK);
    expect_bytes(out, len, v->cfirst);
    xmpp__sasl_buf_free(ctx, out, len);
    assert_int_equal(xmpp__sasl_step(s, U(v->sfirst), strlen(v->sfirst), &out, &len),
                     XMPP_OK);
    expect_bytes(out, len, v->cfinal);
    xmpp__sasl_buf_free(ctx, out, len);
    assert_int_equal(xmpp__sasl_finish(s, U(v->sfinal), strlen(v->sfinal)), XMPP_OK);
    assert_true(xmpp__sasl_pins_account(s));
    assert_null(xmpp__sasl_cb_type(s));
    assert_false(xmpp__sasl_ssdp_verified(s));
    xmpp__sasl_free(s);
    xmpp_ctx_free(ctx);
}

static void test_rfc5802_vector(void **state) {
    (void)state;
    run_vector(&rfc5802, "pencil");
}

static void test_rfc7677_vector(void **state) {
    (void)state;
    run_vector(&rfc7677, "pencil");
}

/* SASLprep (RFC 4013 §2.1): U+00AD SOFT HYPHEN maps to nothing, so
 * "pen\u00ADcil" must produce exactly the RFC 5802 proof. */
static void test_saslprep_maps(void **state) {
    (void)state;
    run_vector(&rfc5802, "pen\xc2\xad" "cil");
}

/* Unassigned code point U+0378 is prohibited in stored strings. */
static void test_saslprep_unassigned(void **state) {
    xmpp_ctx *ctx = new_ctx();
    xmpp__sasl_params p = base_params();
    const char *mechs[] = {"SCRAM-SHA-1"};
    const char *mech;
    (void)state;
    p.password = "pass\xcd\xb8";
    assert_int_equal(select_with(ctx, &p, mechs, 1, NULL, 0, 0, &mech, NULL),
                     XMPP_SASL_E_SASLPREP);
    p.password = "smile\xf0\x9f\x98\x80"; /* U+1F600: unassigned in Unicode 3.2 */
    assert_int_equal(select_with(ctx, &p, mechs, 1, NULL, 0, 0, &mech, NULL),
                     XMPP_SASL_E_SASLPREP);
    p.password = "\xc2\xad"; /* maps to the empty string */
    assert_int_equal(select_with(ctx, &p, mechs, 1, NULL, 0, 0, &mech, NULL),
                     XMPP_SASL_E_SASLPREP);
    p.password = "I\xe2\x85\xa8"; /* U+2168 ROMAN NUMERAL NINE: NFKC to "IX" */
    assert_int_equal(select_with(ctx, &p, mechs, 1, NULL, 0, 0, &mech, NULL), XMPP_OK);
    xmpp_ctx_free(ctx);
}

/* RFC 5802 §5.1: ',' and '=' in the username are escaped. */
static void test_username_escape(void **state) {
    xmpp_ctx *ctx = new_ctx();
    xmpp__sasl_params p = base_params();
    xmpp__sasl *s = NULL;
    const char *mechs[] = {"SCRAM-SHA-256"};
    const char *mech;
    uint8_t *out;
    size_t len;
    (void)state;
    p.authcid = "a,b=c";
    p.authzid = "x=y,z";
    assert_int_equal(select_with(ctx, &p, mechs, 1, NULL, 0, 0, &mech, &s), XMPP_OK);
    assert_int_equal(xmpp__sasl_test_set_nonce(s, "abc"), XMPP_OK);
    assert_int_equal(xmpp__sasl_initial(s, &out, &len), XMPP_OK);
    expect_bytes(out, len, "n,a=x=3Dy=2Cz,n=a=2Cb=3Dc,r=abc");
    xmpp__sasl_buf_free(ctx, out, len);
    xmpp__sasl_free(s);
    xmpp_ctx_free(ctx);
}

/* ---- full exchanges against the test server --------------------------- */

typedef struct exch {
    xmpp_ctx *ctx;
    xmpp__sasl *s;
    tsrv t;
    char cfirst[512];
    char sfirst[1024];
    char cfinal[1024];
    char v64[128];
} exch;

static void tsrv_init(tsrv *t, const char *mech) {
    memset(t, 0, sizeof(*t));
    if (strncmp(mech, "SCRAM-SHA-512", 13) == 0) {
        t->mac = GNUTLS_MAC_SHA512;
        t->dig = GNUTLS_DIG_SHA512;
    } else if (strncmp(mech, "SCRAM-SHA-256", 13) == 0) {
        t->mac = GNUTLS_MAC_SHA256;
        t->dig = GNUTLS_DIG_SHA256;
    } else {
        t->mac = GNUTLS_MAC_SHA1;
        t->dig = GNUTLS_DIG_SHA1;
    }
    t->hlen = gnutls_hash_get_len(t->dig);
    t->password = "pencil";
    memcpy(t->salt, "0123456789abcdef", 16);
    t->iter = 4096;
}

/* Runs select + initial and builds a server-first with `extra` appended
 * (e.g. ",h=..."). Returns the select code. */
static int exch_start(exch *e, xmpp__sasl_params *p, const char *const *mechs,
                      size_t n, const char *const *cbt, size_t ncb, int sasl2,
                      const char *extra) {
    const char *mech;
    uint8_t *out;
    size_t len;
    char salt64[32];
    int rc;
    memset(e, 0, sizeof(*e));
    e->ctx = new_ctx();
    rc = select_with(e->ctx, p, mechs, n, cbt, ncb, sasl2, &mech, &e->s);
    if (rc != XMPP_OK)
        return rc;
    tsrv_init(&e->t, mech);
    assert_int_equal(xmpp__sasl_test_set_nonce(e->s, "cnonce"), XMPP_OK);
    assert_int_equal(xmpp__sasl_initial(e->s, &out, &len), XMPP_OK);
    assert_true(len < sizeof(e->cfirst));
    memcpy(e->cfirst, out, len);
    xmpp__sasl_buf_free(e->ctx, out, len);
    xmpp__b64_encode(e->t.salt, sizeof(e->t.salt), salt64);
    snprintf(e->sfirst, sizeof(e->sfirst), "r=cnonceSERVER,s=%s,i=%u%s", salt64,
             e->t.iter, extra ? extra : "");
    return XMPP_OK;
}

static int exch_step(exch *e) {
    uint8_t *out;
    size_t len;
    int rc = xmpp__sasl_step(e->s, U(e->sfirst), strlen(e->sfirst), &out, &len);
    if (rc != XMPP_OK) {
        assert_null(out); /* no client-final on failure (d.3 29) */
        return rc;
    }
    assert_true(len < sizeof(e->cfinal));
    memcpy(e->cfinal, out, len);
    xmpp__sasl_buf_free(e->ctx, out, len);
    tsrv_check(&e->t, e->cfirst, e->sfirst, e->cfinal, e->v64);
    return XMPP_OK;
}

static void exch_end(exch *e) {
    xmpp__sasl_free(e->s);
    xmpp_ctx_free(e->ctx);
}

/* SCRAM-SHA-512 checked by the test's own server computation. */
static void test_scram_sha512(void **state) {
    exch e;
    xmpp__sasl_params p = base_params();
    const char *mechs[] = {"SCRAM-SHA-1", "SCRAM-SHA-512", "SCRAM-SHA-256"};
    (void)state;
    assert_int_equal(exch_start(&e, &p, mechs, 3, NULL, 0, 0, NULL), XMPP_OK);
    assert_string_equal(e.cfirst, "n,,n=user,r=cnonce");
    assert_int_equal(exch_step(&e), XMPP_OK);
    assert_int_equal(strncmp(e.cfinal, "c=biws,r=cnonceSERVER,p=", 24), 0);
    assert_int_equal(xmpp__sasl_finish(e.s, U(e.v64), strlen(e.v64)), XMPP_OK);
    exch_end(&e);
}

/* -PLUS: c= carries base64(gs2-header || cb-data) (RFC 5802 §7). */
static void test_scram_plus(void **state) {
    exch e;
    xmpp__sasl_params p = cb_params(XMPP_SASL_CB_EXPORTER | XMPP_SASL_CB_ENDPOINT |
                                    XMPP_SASL_CB_TLS13);
    const char *mechs[] = {"SCRAM-SHA-256", "SCRAM-SHA-256-PLUS", "PLAIN"};
    const char *cbt[] = {"tls-server-end-point", "tls-exporter"};
    (void)state;
    assert_int_equal(exch_start(&e, &p, mechs, 3, cbt, 2, 1, NULL), XMPP_OK);
    assert_string_equal(e.cfirst, "p=tls-exporter,,n=user,r=cnonce");
    assert_string_equal(last_cb_type, "tls-exporter");
    assert_string_equal(xmpp__sasl_cb_type(e.s), "tls-exporter");
    assert_int_equal(exch_step(&e), XMPP_OK);
    /* base64("p=tls-exporter,,THIS IS FAKE CB DATA"), as in XEP-0474 */
    assert_int_equal(strncmp(e.cfinal, "c=cD10bHMtZXhwb3J0ZXIsLFRISVMgSVMgRkFLRSBDQiBEQVRB,", 51), 0);
    assert_int_equal(xmpp__sasl_finish(e.s, U(e.v64), strlen(e.v64)), XMPP_OK);
    exch_end(&e);
}

/* server-final in a challenge (RFC 6120 §6.3.10), then empty success. */
static void test_final_in_challenge(void **state) {
    exch e;
    xmpp__sasl_params p = base_params();
    const char *mechs[] = {"SCRAM-SHA-1"};
    uint8_t *out;
    size_t len;
    (void)state;
    assert_int_equal(exch_start(&e, &p, mechs, 1, NULL, 0, 0, NULL), XMPP_OK);
    assert_int_equal(exch_step(&e), XMPP_OK);
    assert_int_equal(xmpp__sasl_step(e.s, U(e.v64), strlen(e.v64), &out, &len), XMPP_OK);
    assert_non_null(out);
    assert_int_equal(len, 0);
    xmpp__sasl_buf_free(e.ctx, out, len);
    assert_int_equal(xmpp__sasl_finish(e.s, NULL, 0), XMPP_OK);
    exch_end(&e);
}

/* ---- hostile server-first (d.3 29-31, SASL-03) ------------------------ */

typedef struct bad_first {
    const char *msg;
    int rc;
} bad_first;

static void test_bad_server_first(void **state) {
    static const bad_first cases[] = {
        /* d.3 29: nonce not prefixed by ours, or not longer */
        {"r=XnonceSERVER,s=MDEyMzQ1Njc4OWFiY2RlZg==,i=4096", XMPP_SASL_E_BAD_NONCE},
        {"r=cnonce,s=MDEyMzQ1Njc4OWFiY2RlZg==,i=4096", XMPP_SASL_E_BAD_NONCE},
        {"r=cnonc,s=MDEyMzQ1Njc4OWFiY2RlZg==,i=4096", XMPP_SASL_E_BAD_NONCE},
        {"r=cnonce\x7f,s=MDEyMzQ1Njc4OWFiY2RlZg==,i=4096", XMPP_SASL_E_BAD_NONCE},
        /* d.3 30: iteration count */
        {"r=cnonceS,s=MDEyMzQ1Njc4OWFiY2RlZg==,i=0", XMPP_SASL_E_ITERATIONS},
        {"r=cnonceS,s=MDEyMzQ1Njc4OWFiY2RlZg==,i=-1", XMPP_SASL_E_ITERATIONS},
        {"r=cnonceS,s=MDEyMzQ1Njc4OWFiY2RlZg==,i=2147483648", XMPP_SASL_E_ITERATIONS},
        {"r=cnonceS,s=MDEyMzQ1Njc4OWFiY2RlZg==,i=18446744073709551617", XMPP_SASL_E_ITERATIONS},
        {"r=cnonceS,s=MDEyMzQ1Njc4OWFiY2RlZg==,i=abc", XMPP_SASL_E_ITERATIONS},
        {"r=cnonceS,s=MDEyMzQ1Njc4OWFiY2RlZg==,i=4096x", XMPP_SASL_E_ITERATIONS},
        {"r=cnonceS,s=MDEyMzQ1Njc4OWFiY2RlZg==,i=+4096", XMPP_SASL_E_ITERATIONS},
        {"r=cnonceS,s=MDEyMzQ1Njc4OWFiY2RlZg==,i=04096", XMPP_SASL_E_ITERATIONS},
        {"r=cnonceS,s=MDEyMzQ1Njc4OWFiY2RlZg==,i=4095", XMPP_SASL_E_ITERATIONS},
        {"r=cnonceS,s=MDEyMzQ1Njc4OWFiY2RlZg==,i=1000001", XMPP_SASL_E_ITERATIONS},
        /* d.3 31: base64, missing and duplicated attributes */
        {"r=cnonceS,s=MDEyMzQ1Njc4OWFiY2RlZg=,i=4096", XMPP_SASL_E_BAD_SALT},
        {"r=cnonceS,s=MDEy MzQ1,i=4096", XMPP_SASL_E_BAD_SALT},
        {"r=cnonceS,s=====,i=4096", XMPP_SASL_E_BAD_SALT},
        {"r=cnonceS,s=,i=4096", XMPP_SASL_E_MALFORMED},
        {"s=MDEyMzQ1Njc4OWFiY2RlZg==,i=4096", XMPP_SASL_E_MISSING_ATTR},
        {"r=cnonceS,i=4096", XMPP_SASL_E_MISSING_ATTR},
        {"r=cnonceS,s=MDEyMzQ1Njc4OWFiY2RlZg==", XMPP_SASL_E_MISSING_ATTR},
        {"r=cnonceS,r=cnonceS,s=MDEyMzQ1Njc4OWFiY2RlZg==,i=4096", XMPP_SASL_E_DUPLICATE_ATTR},
        {"r=cnonceS,s=MDEyMzQ1Njc4OWFiY2RlZg==,i=4096,r=cnonceT", XMPP_SASL_E_DUPLICATE_ATTR},
        {"r=cnonceS,s=MDEyMzQ1Njc4OWFiY2RlZg==,i=4096,s=MDEy", XMPP_SASL_E_DUPLICATE_ATTR},
        {"r=cnonceS,s=MDEyMzQ1Njc4OWFiY2RlZg==,i=4096,x=1,x=2", XMPP_SASL_E_DUPLICATE_ATTR},
        {"s=MDEyMzQ1Njc4OWFiY2RlZg==,r=cnonceS,i=4096", XMPP_SASL_E_MISSING_ATTR},
        {"r=cnonceS,i=4096,s=MDEyMzQ1Njc4OWFiY2RlZg==", XMPP_SASL_E_MISSING_ATTR},
        /* mandatory extension, server error, syntax */
        {"m=ext,r=cnonceS,s=MDEyMzQ1Njc4OWFiY2RlZg==,i=4096", XMPP_SASL_E_EXTENSION},
        {"r=cnonceS,s=MDEyMzQ1Njc4OWFiY2RlZg==,i=4096,m=x", XMPP_SASL_E_EXTENSION},
        {"e=other-error", XMPP_SASL_E_SERVER_ERROR},
        {"", XMPP_SASL_E_MALFORMED},
        {"r=cnonceS,s=MDEyMzQ1Njc4OWFiY2RlZg==,i=4096,", XMPP_SASL_E_MALFORMED},
        {"r=cnonceS,,s=MDEyMzQ1Njc4OWFiY2RlZg==,i=4096", XMPP_SASL_E_MALFORMED},
        {"rcnonceS,s=MDEyMzQ1Njc4OWFiY2RlZg==,i=4096", XMPP_SASL_E_MALFORMED},
        {"1=cnonceS,s=MDEyMzQ1Njc4OWFiY2RlZg==,i=4096", XMPP_SASL_E_MALFORMED},
        {"r=cnonce\xff,s=MDEyMzQ1Njc4OWFiY2RlZg==,i=4096", XMPP_SASL_E_MALFORMED},
        /* XEP-0474 h= malformed / wrong */
        {"r=cnonceS,s=MDEyMzQ1Njc4OWFiY2RlZg==,i=4096,h=!!!!!!!!!!!!!!!!!!!!!!!!!!!=",
         XMPP_SASL_E_BASE64},
        {"r=cnonceS,s=MDEyMzQ1Njc4OWFiY2RlZg==,i=4096,h=AAAA", XMPP_SASL_E_SSDP_MISMATCH},
        {"r=cnonceS,s=MDEyMzQ1Njc4OWFiY2RlZg==,i=4096,h=AAAAAAAAAAAAAAAAAAAAAAAAAAA=",
         XMPP_SASL_E_SSDP_MISMATCH},
    };
    size_t i;
    (void)state;
    for (i = 0; i < NELEM(cases); i++) {
        exch e;
        xmpp__sasl_params p = base_params();
        const char *mechs[] = {"SCRAM-SHA-1"};
        uint8_t *out = (uint8_t *)&e;
        size_t len = 99;
        int rc;
        assert_int_equal(exch_start(&e, &p, mechs, 1, NULL, 0, 0, NULL), XMPP_OK);
        rc = xmpp__sasl_step(e.s, U(cases[i].msg), strlen(cases[i].msg), &out, &len);
        if (rc != cases[i].rc)
            fail_msg("case %zu \"%s\": got %s, want %s", i, cases[i].msg,
                     xmpp__sasl_strerror(rc), xmpp__sasl_strerror(cases[i].rc));
        assert_null(out);
        assert_int_equal(len, 0);
        /* dead afterwards: no success can be accepted */
        assert_int_equal(xmpp__sasl_finish(e.s, NULL, 0), XMPP_ERR_STATE);
        exch_end(&e);
    }
}

static void test_server_first_error_text(void **state) {
    exch e;
    xmpp__sasl_params p = base_params();
    const char *mechs[] = {"SCRAM-SHA-1"};
    uint8_t *out;
    size_t len;
    (void)state;
    assert_int_equal(exch_start(&e, &p, mechs, 1, NULL, 0, 0, NULL), XMPP_OK);
    assert_int_equal(xmpp__sasl_step(e.s, U("e=unknown-user"), 14, &out, &len),
                     XMPP_SASL_E_SERVER_ERROR);
    assert_string_equal(xmpp__sasl_server_error(e.s), "unknown-user");
    exch_end(&e);
}

/* Oversized server-first and a NUL byte. */
static void test_server_first_size(void **state) {
    exch e;
    xmpp__sasl_params p = base_params();
    const char *mechs[] = {"SCRAM-SHA-1"};
    char *big = malloc(XMPP_SCRAM_MAX_MSG + 2);
    uint8_t *out;
    size_t len;
    (void)state;
    assert_non_null(big);
    memset(big, 'A', XMPP_SCRAM_MAX_MSG + 1);
    memcpy(big, "r=cnonce", 8);
    assert_int_equal(exch_start(&e, &p, mechs, 1, NULL, 0, 0, NULL), XMPP_OK);
    assert_int_equal(xmpp__sasl_step(e.s, U(big), XMPP_SCRAM_MAX_MSG + 1, &out, &len),
                     XMPP_SASL_E_TOO_LONG);
    exch_end(&e);
    assert_int_equal(exch_start(&e, &p, mechs, 1, NULL, 0, 0, NULL), XMPP_OK);
    assert_int_equal(xmpp__sasl_step(e.s, U("r=cnonceS\0,s=QUJD,i=4096"), 24, &out, &len),
                     XMPP_SASL_E_MALFORMED);
    exch_end(&e);
    /* an oversized salt (decoded > XMPP_SCRAM_MAX_SALT) */
    assert_int_equal(exch_start(&e, &p, mechs, 1, NULL, 0, 0, NULL), XMPP_OK);
    memset(big, 'A', 800);
    memcpy(big, "r=cnonceS,s=", 12);
    strcpy(big + 800, ",i=4096");
    assert_int_equal(xmpp__sasl_step(e.s, U(big), strlen(big), &out, &len),
                     XMPP_SASL_E_BAD_SALT);
    exch_end(&e);
    free(big);
}

/* Configurable iteration floor and cap. */
static void test_iteration_bounds(void **state) {
    exch e;
    xmpp__sasl_params p = base_params();
    const char *mechs[] = {"SCRAM-SHA-1"};
    (void)state;
    p.scram_min_iter = 4097;
    assert_int_equal(exch_start(&e, &p, mechs, 1, NULL, 0, 0, NULL), XMPP_OK);
    assert_int_equal(exch_step(&e), XMPP_SASL_E_ITERATIONS); /* 4096 < 4097 */
    exch_end(&e);
    p.scram_min_iter = 100;
    p.scram_max_iter = 4096;
    assert_int_equal(exch_start(&e, &p, mechs, 1, NULL, 0, 0, NULL), XMPP_OK);
    assert_int_equal(exch_step(&e), XMPP_OK);
    exch_end(&e);
    p.scram_min_iter = 5000;
    p.scram_max_iter = 4000;
    {
        xmpp_ctx *ctx = new_ctx();
        xmpp__sasl *s = (xmpp__sasl *)1;
        assert_int_equal(xmpp__sasl_new(&s, ctx, &p), XMPP_ERR_INVALID);
        assert_null(s);
        xmpp_ctx_free(ctx);
    }
}

/* ---- hostile server-final / success (d.3 32, SASL-03) ----------------- */

static void test_bad_server_final(void **state) {
    static const struct { const char *msg; int rc; } cases[] = {
        {"", XMPP_SASL_E_NO_SIGNATURE},              /* success without v= */
        {"v=AAAAAAAAAAAAAAAAAAAAAAAAAAA=", XMPP_SASL_E_SIGNATURE},
        {"v=AAAA", XMPP_SASL_E_SIGNATURE},
        {"v=!!!!", XMPP_SASL_E_BASE64},
        {"e=other-error", XMPP_SASL_E_SERVER_ERROR},
        {"e=invalid-proof", XMPP_SASL_E_SERVER_ERROR},
        {"m=foo", XMPP_SASL_E_EXTENSION},
        {"x=1,v=AAAA", XMPP_SASL_E_NO_SIGNATURE},
        {"v", XMPP_SASL_E_MALFORMED},
        {"v=", XMPP_SASL_E_MALFORMED},
    };
    size_t i;
    (void)state;
    for (i = 0; i < NELEM(cases); i++) {
        exch e;
        xmpp__sasl_params p = base_params();
        const char *mechs[] = {"SCRAM-SHA-1"};
        int rc;
        assert_int_equal(exch_start(&e, &p, mechs, 1, NULL, 0, 0, NULL), XMPP_OK);
        assert_int_equal(exch_step(&e), XMPP_OK);
        rc = xmpp__sasl_finish(e.s, U(cases[i].msg), strlen(cases[i].msg));
        if (rc != cases[i].rc)
            fail_msg("case %zu \"%s\": got %s", i, cases[i].msg, xmpp__sasl_strerror(rc));
        assert_false(xmpp__sasl_pins_account(e.s));
        assert_int_equal(xmpp__sasl_finish(e.s, U(e.v64), strlen(e.v64)), XMPP_ERR_STATE);
        exch_end(&e);
    }
}

/* Valid v= followed by a duplicate or a mandatory extension; e= text. */
static void test_server_final_extras(void **state) {
    const char *suffix[] = {",v=AAAA", ",m=1", ",e=x", ",x=1,x=2"};
    const int want[] = {XMPP_SASL_E_DUPLICATE_ATTR, XMPP_SASL_E_EXTENSION,
                        XMPP_SASL_E_MALFORMED, XMPP_SASL_E_DUPLICATE_ATTR};
    size_t i;
    (void)state;
    for (i = 0; i < NELEM(suffix); i++) {
        exch e;
        xmpp__sasl_params p = base_params();
        const char *mechs[] = {"SCRAM-SHA-1"};
        char msg[256];
        assert_int_equal(exch_start(&e, &p, mechs, 1, NULL, 0, 0, NULL), XMPP_OK);
        assert_int_equal(exch_step(&e), XMPP_OK);
        snprintf(msg, sizeof(msg), "%s%s", e.v64, suffix[i]);
        assert_int_equal(xmpp__sasl_finish(e.s, U(msg), strlen(msg)), want[i]);
        exch_end(&e);
    }
    {
        exch e;
        xmpp__sasl_params p = base_params();
        const char *mechs[] = {"SCRAM-SHA-1"};
        char msg[256];
        assert_int_equal(exch_start(&e, &p, mechs, 1, NULL, 0, 0, NULL), XMPP_OK);
        assert_int_equal(exch_step(&e), XMPP_OK);
        snprintf(msg, sizeof(msg), "%s,x=unknown", e.v64); /* ignored (§7) */
        assert_int_equal(xmpp__sasl_finish(e.s, U(msg), strlen(msg)), XMPP_OK);
        exch_end(&e);
    }
    {
        exch e;
        xmpp__sasl_params p = base_params();
        const char *mechs[] = {"SCRAM-SHA-1"};
        assert_int_equal(exch_start(&e, &p, mechs, 1, NULL, 0, 0, NULL), XMPP_OK);
        assert_int_equal(exch_step(&e), XMPP_OK);
        assert_int_equal(xmpp__sasl_finish(e.s, U("e=other-error"), 13),
                         XMPP_SASL_E_SERVER_ERROR);
        assert_string_equal(xmpp__sasl_server_error(e.s), "other-error");
        exch_end(&e);
    }
}

/* d.3 32: <success/> before client-final. */
static void test_early_success(void **state) {
    exch e;
    xmpp__sasl_params p = base_params();
    const char *mechs[] = {"SCRAM-SHA-256"};
    (void)state;
    assert_int_equal(exch_start(&e, &p, mechs, 1, NULL, 0, 0, NULL), XMPP_OK);
    assert_int_equal(xmpp__sasl_finish(e.s, NULL, 0), XMPP_SASL_E_EARLY_SUCCESS);
    exch_end(&e);
    assert_int_equal(exch_start(&e, &p, mechs, 1, NULL, 0, 0, NULL), XMPP_OK);
    assert_int_equal(xmpp__sasl_finish(e.s, U("v=AAAA"), 6), XMPP_SASL_E_EARLY_SUCCESS);
    exch_end(&e);
}

/* Calls out of sequence. */
static void test_sequence(void **state) {
    xmpp_ctx *ctx = new_ctx();
    xmpp__sasl_params p = base_params();
    xmpp__sasl *s = NULL;
    const char *mechs[] = {"PLAIN"};
    const char *mech;
    uint8_t *out;
    size_t len;
    (void)state;
    assert_int_equal(xmpp__sasl_new(&s, ctx, &p), XMPP_OK);
    assert_int_equal(xmpp__sasl_initial(s, &out, &len), XMPP_ERR_STATE);
    assert_int_equal(xmpp__sasl_finish(s, NULL, 0), XMPP_ERR_STATE);
    assert_int_equal(xmpp__sasl_select(s, mechs, 1, NULL, 0, 0, &mech), XMPP_OK);
    assert_int_equal(xmpp__sasl_select(s, mechs, 1, NULL, 0, 0, &mech), XMPP_ERR_STATE);
    assert_int_equal(xmpp__sasl_test_set_nonce(s, "x"), XMPP_ERR_STATE); /* not SCRAM */
    assert_int_equal(xmpp__sasl_initial(s, &out, &len), XMPP_OK);
    xmpp__sasl_buf_free(ctx, out, len);
    assert_int_equal(xmpp__sasl_initial(s, &out, &len), XMPP_ERR_STATE);
    assert_int_equal(xmpp__sasl_step(s, U("x"), 1, &out, &len), XMPP_SASL_E_UNEXPECTED);
    assert_int_equal(xmpp__sasl_finish(s, NULL, 0), XMPP_ERR_STATE);
    xmpp__sasl_free(s);
    xmpp__sasl_free(NULL);
    xmpp__sasl_buf_free(ctx, NULL, 0);
    assert_int_equal(xmpp__sasl_new(NULL, ctx, &p), XMPP_ERR_INVALID);
    p.password = "";
    assert_int_equal(xmpp__sasl_new(&s, ctx, &p), XMPP_ERR_INVALID);
    p.password = "bad\xff";
    assert_int_equal(xmpp__sasl_new(&s, ctx, &p), XMPP_ERR_INVALID);
    p.password = "pencil";
    p.authcid = NULL;
    assert_int_equal(xmpp__sasl_new(&s, ctx, &p), XMPP_ERR_INVALID);
    xmpp_ctx_free(ctx);
}

/* ---- PLAIN, EXTERNAL, ANONYMOUS --------------------------------------- */

static void run_simple(const xmpp__sasl_params *p, const char *const *mechs, size_t n,
                       const char *want_mech, const char *want, size_t wantlen) {
    xmpp_ctx *ctx = new_ctx();
    xmpp__sasl *s = NULL;
    const char *mech;
    uint8_t *out;
    size_t len;
    assert_int_equal(select_with(ctx, p, mechs, n, NULL, 0, 0, &mech, &s), XMPP_OK);
    assert_string_equal(mech, want_mech);
    assert_int_equal(xmpp__sasl_initial(s, &out, &len), XMPP_OK);
    assert_non_null(out); /* all four have an initial response */
    assert_int_equal(len, wantlen);
    assert_memory_equal(out, want, len);
    xmpp__sasl_buf_free(ctx, out, len);
    assert_int_equal(xmpp__sasl_finish(s, U("x"), 1), XMPP_SASL_E_UNEXPECTED);
    xmpp__sasl_free(s);
    assert_int_equal(select_with(ctx, p, mechs, n, NULL, 0, 0, &mech, &s), XMPP_OK);
    assert_int_equal(xmpp__sasl_initial(s, &out, &len), XMPP_OK);
    xmpp__sasl_buf_free(ctx, out, len);
    assert_int_equal(xmpp__sasl_finish(s, NULL, 0), XMPP_OK);
    assert_int_equal(xmpp__sasl_pins_account(s), strcmp(want_mech, "EXTERNAL") == 0);
    xmpp__sasl_free(s);
    xmpp_ctx_free(ctx);
}

static void test_plain_external_anonymous(void **state) {
    xmpp__sasl_params p = base_params();
    const char *plain[] = {"PLAIN"};
    const char *ext[] = {"EXTERNAL", "PLAIN"};
    const char *anon[] = {"ANONYMOUS"};
    (void)state;
    run_simple(&p, plain, 1, "PLAIN", "\0user\0pencil", 12);
    p.authzid = "admin@example.org";
    run_simple(&p, plain, 1, "PLAIN", "admin@example.org\0user\0pencil", 29);
    /* EXTERNAL: empty response (XEP-0178), or the authzid */
    memset(&p, 0, sizeof(p));
    p.flags = XMPP_SASL_TLS_ACTIVE | XMPP_SASL_WANT_EXTERNAL;
    run_simple(&p, ext, 2, "EXTERNAL", "", 0);
    p.authzid = "user@example.org";
    run_simple(&p, ext, 2, "EXTERNAL", "user@example.org", 16);
    memset(&p, 0, sizeof(p));
    p.flags = XMPP_SASL_WANT_ANONYMOUS;
    run_simple(&p, anon, 1, "ANONYMOUS", "", 0);
}

/* ---- selection matrix (SASL-01, SASL-02) ------------------------------ */

static void test_select_preference(void **state) {
    xmpp_ctx *ctx = new_ctx();
    xmpp__sasl_params p = base_params();
    const char *all[] = {"PLAIN", "SCRAM-SHA-1", "DIGEST-MD5", "SCRAM-SHA-256",
                         "SCRAM-SHA-512", "EXTERNAL", "ANONYMOUS"};
    const char *no512[] = {"SCRAM-SHA-1", "SCRAM-SHA-256", "PLAIN"};
    const char *sha1[] = {"PLAIN", "SCRAM-SHA-1"};
    const char *unknown[] = {"DIGEST-MD5", "CRAM-MD5", "X-OAUTH2"};
    const char *allow[] = {"SCRAM-SHA-1", "PLAIN", "NOT-A-MECH"};
    const char *mech;
    (void)state;
    assert_int_equal(select_with(ctx, &p, all, NELEM(all), NULL, 0, 0, &mech, NULL), XMPP_OK);
    assert_string_equal(mech, "SCRAM-SHA-512");
    assert_int_equal(select_with(ctx, &p, no512, 3, NULL, 0, 0, &mech, NULL), XMPP_OK);
    assert_string_equal(mech, "SCRAM-SHA-256");
    assert_int_equal(select_with(ctx, &p, sha1, 2, NULL, 0, 0, &mech, NULL), XMPP_OK);
    assert_string_equal(mech, "SCRAM-SHA-1");
    /* only advertised mechanisms, and only ones we implement */
    assert_int_equal(select_with(ctx, &p, unknown, 3, NULL, 0, 0, &mech, NULL),
                     XMPP_SASL_E_NO_MECH);
    assert_null(mech);
    assert_int_equal(select_with(ctx, &p, NULL, 0, NULL, 0, 0, &mech, NULL),
                     XMPP_SASL_E_NO_MECH);
    /* the app's allow-list is also its order */
    p.mechs = allow;
    p.nmechs = 3;
    assert_int_equal(select_with(ctx, &p, all, NELEM(all), NULL, 0, 0, &mech, NULL), XMPP_OK);
    assert_string_equal(mech, "SCRAM-SHA-1");
    p.nmechs = 1;
    assert_int_equal(select_with(ctx, &p, no512 + 2, 1, NULL, 0, 0, &mech, NULL),
                     XMPP_SASL_E_NO_MECH);
    /* EXTERNAL and ANONYMOUS only when asked for */
    p = base_params();
    {
        const char *ea[] = {"EXTERNAL", "ANONYMOUS"};
        assert_int_equal(select_with(ctx, &p, ea, 2, NULL, 0, 0, &mech, NULL),
                         XMPP_SASL_E_NO_MECH);
        p.flags |= XMPP_SASL_WANT_ANONYMOUS;
        assert_int_equal(select_with(ctx, &p, ea, 2, NULL, 0, 0, &mech, NULL), XMPP_OK);
        assert_string_equal(mech, "ANONYMOUS");
        p.flags |= XMPP_SASL_WANT_EXTERNAL;
        assert_int_equal(select_with(ctx, &p, ea, 2, NULL, 0, 0, &mech, NULL), XMPP_OK);
        assert_string_equal(mech, "EXTERNAL");
        /* with a password, SCRAM still comes first */
        assert_int_equal(select_with(ctx, &p, all, NELEM(all), NULL, 0, 0, &mech, NULL),
                         XMPP_OK);
        assert_string_equal(mech, "SCRAM-SHA-512");
    }
    xmpp_ctx_free(ctx);
}

static void test_select_plain_policy(void **state) {
    xmpp_ctx *ctx = new_ctx();
    xmpp__sasl_params p = base_params();
    const char *plain[] = {"PLAIN"};
    const char *both[] = {"PLAIN", "SCRAM-SHA-1"};
    const char *mech;
    (void)state;
    /* SASL-01: never PLAIN without TLS, unless the app says so */
    p.flags = 0;
    assert_int_equal(select_with(ctx, &p, plain, 1, NULL, 0, 0, &mech, NULL),
                     XMPP_SASL_E_INSECURE);
    assert_int_equal(select_with(ctx, &p, both, 2, NULL, 0, 0, &mech, NULL), XMPP_OK);
    assert_string_equal(mech, "SCRAM-SHA-1");
    p.flags = XMPP_SASL_PLAIN_ALLOWED;
    assert_int_equal(select_with(ctx, &p, plain, 1, NULL, 0, 0, &mech, NULL), XMPP_OK);
    assert_string_equal(mech, "PLAIN");
    p.flags = XMPP_SASL_TLS_ACTIVE;
    assert_int_equal(select_with(ctx, &p, plain, 1, NULL, 0, 0, &mech, NULL), XMPP_OK);
    /* d.3 27 / SASL-02: pinned account, MITM reduced the list to PLAIN */
    p.flags = XMPP_SASL_TLS_ACTIVE | XMPP_SASL_PINNED;
    assert_int_equal(select_with(ctx, &p, plain, 1, NULL, 0, 0, &mech, NULL),
                     XMPP_SASL_E_DOWNGRADE);
    p.flags |= XMPP_SASL_PLAIN_ALLOWED;
    assert_int_equal(select_with(ctx, &p, plain, 1, NULL, 0, 0, &mech, NULL),
                     XMPP_SASL_E_DOWNGRADE);
    assert_int_equal(select_with(ctx, &p, both, 2, NULL, 0, 0, &mech, NULL), XMPP_OK);
    assert_string_equal(mech, "SCRAM-SHA-1");
    xmpp_ctx_free(ctx);
}

/* Oversized or malformed advertised lists. */
static void test_select_limits(void **state) {
    xmpp_ctx *ctx = new_ctx();
    xmpp__sasl_params p = base_params();
    const char *many[200];
    const char *bad[] = {"SCRAM-SHA-1", ""};
    const char *ctl[] = {"SCRAM\x1f" "SHA-1"};
    char longname[300];
    const char *lng[1];
    const char *mech;
    size_t i;
    (void)state;
    for (i = 0; i < 200; i++)
        many[i] = "SCRAM-SHA-1";
    assert_int_equal(select_with(ctx, &p, many, 200, NULL, 0, 0, &mech, NULL),
                     XMPP_SASL_E_TOO_LONG);
    assert_int_equal(select_with(ctx, &p, many, 1, many, 40, 0, &mech, NULL),
                     XMPP_SASL_E_TOO_LONG);
    assert_int_equal(select_with(ctx, &p, bad, 2, NULL, 0, 0, &mech, NULL),
                     XMPP_SASL_E_MALFORMED);
    assert_int_equal(select_with(ctx, &p, ctl, 1, NULL, 0, 0, &mech, NULL),
                     XMPP_SASL_E_MALFORMED);
    memset(longname, 'A', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    lng[0] = longname;
    assert_int_equal(select_with(ctx, &p, lng, 1, NULL, 0, 0, &mech, NULL),
                     XMPP_SASL_E_TOO_LONG);
    xmpp_ctx_free(ctx);
}

/* ---- channel binding (SASL-04, SASL-05, d.3 28) ----------------------- */

#define CB_ALL13 (XMPP_SASL_CB_EXPORTER | XMPP_SASL_CB_UNIQUE | XMPP_SASL_CB_ENDPOINT | XMPP_SASL_CB_TLS13)
#define CB_ALL12 (XMPP_SASL_CB_EXPORTER | XMPP_SASL_CB_UNIQUE | XMPP_SASL_CB_ENDPOINT)

/* Returns the select code; on success the gs2 header's first bytes of the
 * initial response go to gs2 (up to the second ','). */
static int cb_case(xmpp__sasl_params *p, const char *const *mechs, size_t n,
                   const char *const *cbt, size_t ncb, int sasl2, const char **mech,
                   char *gs2) {
    xmpp_ctx *ctx = new_ctx();
    xmpp__sasl *s = NULL;
    uint8_t *out;
    size_t len;
    int rc = select_with(ctx, p, mechs, n, cbt, ncb, sasl2, mech, &s);
    gs2[0] = '\0';
    if (rc == XMPP_OK && strncmp(*mech, "SCRAM", 5) == 0) {
        const char *second;
        assert_int_equal(xmpp__sasl_initial(s, &out, &len), XMPP_OK);
        second = memchr(out, ',', len);
        assert_non_null(second);
        second = memchr(second + 1, ',', len - (size_t)(second + 1 - (char *)out));
        assert_non_null(second);
        memcpy(gs2, out, (size_t)(second + 1 - (char *)out));
        gs2[second + 1 - (char *)out] = '\0';
        xmpp__sasl_buf_free(ctx, out, len);
    }
    xmpp__sasl_free(s);
    xmpp_ctx_free(ctx);
    return rc;
}

static void test_cb_flags(void **state) {
    xmpp__sasl_params p = cb_params(CB_ALL13);
    const char *plain_scram[] = {"SCRAM-SHA-256", "PLAIN"};
    const char *plus[] = {"SCRAM-SHA-256", "SCRAM-SHA-256-PLUS", "PLAIN"};
    const char *plusonly[] = {"SCRAM-SHA-256-PLUS", "PLAIN"};
    const char *plus3[] = {"SCRAM-SHA3-512-PLUS", "SCRAM-SHA-256"};
    const char *all3[] = {"tls-unique", "tls-server-end-point", "tls-exporter"};
    const char *tse[] = {"tls-server-end-point"};
    const char *foo[] = {"tls-foo"};
    const char *mech;
    char gs2[128];
    (void)state;
    /* we bind, the server shows no -PLUS and no types: 'y' (d.3 28) */
    assert_int_equal(cb_case(&p, plain_scram, 2, NULL, 0, 1, &mech, gs2), XMPP_OK);
    assert_string_equal(gs2, "y,,");
    /* we cannot bind (no provider): 'n', -PLUS ignored */
    p.get_cb = NULL;
    assert_int_equal(cb_case(&p, plus, 3, all3, 3, 1, &mech, gs2), XMPP_OK);
    assert_string_equal(mech, "SCRAM-SHA-256");
    assert_string_equal(gs2, "n,,");
    /* no TLS: no binding, 'n' */
    p = cb_params(CB_ALL13);
    p.flags = 0;
    assert_int_equal(cb_case(&p, plus, 3, all3, 3, 1, &mech, gs2), XMPP_OK);
    assert_string_equal(gs2, "n,,");
    /* app excludes -PLUS: 'n' */
    p = cb_params(CB_ALL13);
    {
        const char *allow[] = {"SCRAM-SHA-256"};
        p.mechs = allow;
        p.nmechs = 1;
        assert_int_equal(cb_case(&p, plus, 3, all3, 3, 1, &mech, gs2), XMPP_OK);
        assert_string_equal(gs2, "n,,");
    }
    /* -PLUS but no XEP-0440 list: abort under SASL2 */
    p = cb_params(CB_ALL13);
    assert_int_equal(cb_case(&p, plus, 3, NULL, 0, 1, &mech, gs2), XMPP_SASL_E_CB_NO_TYPES);
    /* ... under SASL1 the RFC default type: tls-exporter on TLS 1.3 */
    assert_int_equal(cb_case(&p, plus, 3, NULL, 0, 0, &mech, gs2), XMPP_OK);
    assert_string_equal(mech, "SCRAM-SHA-256-PLUS");
    assert_string_equal(gs2, "p=tls-exporter,,");
    /* ... tls-unique on TLS 1.2 */
    p = cb_params(CB_ALL12 | XMPP_SASL_CB_EMS);
    assert_int_equal(cb_case(&p, plus, 3, NULL, 0, 0, &mech, gs2), XMPP_OK);
    assert_string_equal(gs2, "p=tls-unique,,");
    /* ... tls-server-end-point when the default is unavailable */
    p = cb_params(XMPP_SASL_CB_ENDPOINT | XMPP_SASL_CB_TLS13);
    assert_int_equal(cb_case(&p, plus, 3, NULL, 0, 0, &mech, gs2), XMPP_OK);
    assert_string_equal(gs2, "p=tls-server-end-point,,");
    /* ... neither the default nor tls-server-end-point usable: abort
     * (TLS 1.2 with EMS, only tls-exporter available) */
    p = cb_params(XMPP_SASL_CB_EXPORTER | XMPP_SASL_CB_EMS);
    assert_int_equal(cb_case(&p, plus, 3, NULL, 0, 0, &mech, gs2), XMPP_SASL_E_CB_NO_TYPES);
    /* SASL-05: tls-unique on TLS 1.3 and tls-exporter on TLS 1.2 without
     * EMS are unusable, so we cannot bind at all: 'n', no abort */
    p = cb_params(XMPP_SASL_CB_UNIQUE | XMPP_SASL_CB_TLS13);
    assert_int_equal(cb_case(&p, plus, 3, NULL, 0, 1, &mech, gs2), XMPP_OK);
    assert_string_equal(gs2, "n,,");
    p = cb_params(XMPP_SASL_CB_EXPORTER);
    assert_int_equal(cb_case(&p, plus, 3, NULL, 0, 1, &mech, gs2), XMPP_OK);
    assert_string_equal(gs2, "n,,");
    /* d.3 28: types advertised, -PLUS stripped: abort (SASL1 and SASL2) */
    p = cb_params(CB_ALL13);
    assert_int_equal(cb_case(&p, plain_scram, 2, all3, 3, 1, &mech, gs2),
                     XMPP_SASL_E_CB_STRIPPED);
    assert_int_equal(cb_case(&p, plain_scram, 2, all3, 3, 0, &mech, gs2),
                     XMPP_SASL_E_CB_STRIPPED);
    /* only tls-server-end-point advertised, we cannot do it: 'n' */
    p = cb_params(XMPP_SASL_CB_EXPORTER | XMPP_SASL_CB_TLS13);
    assert_int_equal(cb_case(&p, plus, 3, tse, 1, 1, &mech, gs2), XMPP_OK);
    assert_string_equal(mech, "SCRAM-SHA-256");
    assert_string_equal(gs2, "n,,");
    /* no usable type and no tls-server-end-point: 'n' + SSDP required;
     * with only -PLUS SCRAM offered nothing can vouch: abort */
    assert_int_equal(cb_case(&p, plus, 3, foo, 1, 1, &mech, gs2), XMPP_OK);
    assert_string_equal(gs2, "n,,");
    assert_int_equal(cb_case(&p, plusonly, 2, foo, 1, 1, &mech, gs2),
                     XMPP_SASL_E_CB_NO_MUTUAL);
    /* -PLUS variants we do not implement: plain SCRAM with 'n' */
    p = cb_params(CB_ALL13);
    assert_int_equal(cb_case(&p, plus3, 2, all3, 3, 1, &mech, gs2), XMPP_OK);
    assert_string_equal(mech, "SCRAM-SHA-256");
    assert_string_equal(gs2, "n,,");
    /* an app order putting plain SCRAM first: 'n' (the server has -PLUS) */
    {
        const char *allow[] = {"SCRAM-SHA-256", "SCRAM-SHA-256-PLUS"};
        p.mechs = allow;
        p.nmechs = 2;
        assert_int_equal(cb_case(&p, plus, 3, all3, 3, 1, &mech, gs2), XMPP_OK);
        assert_string_equal(gs2, "n,,");
    }
}

static void test_cb_type_preference(void **state) {
    const char *plus[] = {"SCRAM-SHA-1-PLUS", "SCRAM-SHA-512-PLUS", "SCRAM-SHA-1"};
    const char *all3[] = {"tls-server-end-point", "tls-unique", "tls-exporter"};
    const char *ue[] = {"tls-unique", "tls-server-end-point"};
    static const struct { unsigned info; const char *gs2; } cases[] = {
        {CB_ALL13, "p=tls-exporter,,"},
        {CB_ALL12 | XMPP_SASL_CB_EMS, "p=tls-exporter,,"},
        {CB_ALL12, "p=tls-unique,,"}, /* SASL-05: no EMS, no exporter */
        {XMPP_SASL_CB_UNIQUE | XMPP_SASL_CB_ENDPOINT | XMPP_SASL_CB_TLS13,
         "p=tls-server-end-point,,"}, /* tls-unique undefined on 1.3 */
        {XMPP_SASL_CB_ENDPOINT, "p=tls-server-end-point,,"},
    };
    xmpp__sasl_params p;
    const char *mech;
    char gs2[128];
    size_t i;
    (void)state;
    for (i = 0; i < NELEM(cases); i++) {
        p = cb_params(cases[i].info);
        assert_int_equal(cb_case(&p, plus, 3, all3, 3, 1, &mech, gs2), XMPP_OK);
        assert_string_equal(mech, "SCRAM-SHA-512-PLUS");
        assert_string_equal(gs2, cases[i].gs2);
        assert_int_equal(strncmp(last_cb_type, cases[i].gs2 + 2, strlen(last_cb_type)), 0);
    }
    /* exporter not advertised: next best advertised */
    p = cb_params(CB_ALL13 & ~XMPP_SASL_CB_TLS13);
    assert_int_equal(cb_case(&p, plus, 3, ue, 2, 1, &mech, gs2), XMPP_OK);
    assert_string_equal(gs2, "p=tls-unique,,");
}

static void test_cb_provider_failure(void **state) {
    xmpp_ctx *ctx = new_ctx();
    xmpp__sasl_params p = cb_params(CB_ALL13);
    xmpp__sasl *s = NULL;
    const char *plus[] = {"SCRAM-SHA-256-PLUS"};
    const char *cbt[] = {"tls-exporter"};
    const char *mech;
    uint8_t *out;
    size_t len;
    (void)state;
    cb_fail = 1;
    assert_int_equal(select_with(ctx, &p, plus, 1, cbt, 1, 1, &mech, &s), XMPP_OK);
    assert_int_equal(xmpp__sasl_initial(s, &out, &len), XMPP_SASL_E_CB_DATA);
    assert_null(out);
    xmpp__sasl_free(s);
    cb_fail = 0;
    xmpp_ctx_free(ctx);
}

/* ---- XEP-0474 SSDP (SASL-06, d.3 33) ---------------------------------- */

static void ssdp_h(gnutls_digest_algorithm_t dig, const char *S, size_t n, char *out) {
    uint8_t h[64];
    gnutls_hash_fast(dig, S, n, h);
    strcpy(out, ",h=");
    xmpp__b64_encode(h, gnutls_hash_get_len(dig), out + 3);
}

/* The XEP-0474 §Full Example: SASL2, SCRAM-SHA-1-PLUS, tls-exporter. */
static void test_ssdp_xep_example(void **state) {
    static const char S474[] =
        "SCRAM-SHA-1\x1eSCRAM-SHA-1-PLUS\x1ftls-exporter\x1etls-server-end-point";
    xmpp_ctx *ctx = new_ctx();
    xmpp__sasl_params p = cb_params(XMPP_SASL_CB_EXPORTER | XMPP_SASL_CB_ENDPOINT |
                                    XMPP_SASL_CB_TLS13);
    xmpp__sasl *s = NULL;
    const char *mechs[] = {"SCRAM-SHA-1", "SCRAM-SHA-1-PLUS"};
    const char *cbt[] = {"tls-server-end-point", "tls-exporter"};
    const char *sfirst = "r=12C4CD5C-E38E-4A98-8F6D-15C38F51CCC6a09117a6-ac50-4f2f-93f1-"
                         "93799c2bddf6,s=QSXCR+Q6sek8bf92,i=4096,h=G6k/rBLDqgOhRRaCuuatSDFkJ08=";
    const char *mech;
    char h[64];
    uint8_t *out;
    size_t len;
    (void)state;
    /* the hash input exactly as the XEP states it */
    ssdp_h(GNUTLS_DIG_SHA1, S474, strlen(S474), h);
    assert_string_equal(h, ",h=G6k/rBLDqgOhRRaCuuatSDFkJ08=");
    assert_int_equal(select_with(ctx, &p, mechs, 2, cbt, 2, 1, &mech, &s), XMPP_OK);
    assert_string_equal(mech, "SCRAM-SHA-1-PLUS");
    assert_int_equal(xmpp__sasl_test_set_nonce(s, "12C4CD5C-E38E-4A98-8F6D-15C38F51CCC6"),
                     XMPP_OK);
    assert_int_equal(xmpp__sasl_initial(s, &out, &len), XMPP_OK);
    expect_bytes(out, len, "p=tls-exporter,,n=user,r=12C4CD5C-E38E-4A98-8F6D-15C38F51CCC6");
    xmpp__sasl_buf_free(ctx, out, len);
    assert_int_equal(xmpp__sasl_step(s, U(sfirst), strlen(sfirst), &out, &len), XMPP_OK);
    assert_int_equal(strncmp((char *)out, "c=cD10bHMtZXhwb3J0ZXIsLFRISVMgSVMgRkFLRSBDQiBEQVRB,r=", 53), 0);
    xmpp__sasl_buf_free(ctx, out, len);
    assert_true(xmpp__sasl_ssdp_verified(s));
    xmpp__sasl_free(s);
    xmpp_ctx_free(ctx);
}

/* d.3 33: the server hashed what it sent; the client saw a reduced list. */
static void test_ssdp_mismatch(void **state) {
    xmpp__sasl_params p = cb_params(XMPP_SASL_CB_EXPORTER | XMPP_SASL_CB_ENDPOINT |
                                    XMPP_SASL_CB_TLS13);
    const char *seen_m[] = {"SCRAM-SHA-256-PLUS", "SCRAM-SHA-256"};
    const char *seen_cb[] = {"tls-server-end-point"};
    const char *server = "SCRAM-SHA-256\x1eSCRAM-SHA-256-PLUS\x1eSCRAM-SHA-512\x1f"
                         "tls-exporter\x1etls-server-end-point";
    char h[128];
    exch e;
    (void)state;
    ssdp_h(GNUTLS_DIG_SHA256, server, strlen(server), h);
    /* MITM removed tls-exporter: client binds with tls-server-end-point */
    assert_int_equal(exch_start(&e, &p, seen_m, 2, seen_cb, 1, 1, h), XMPP_OK);
    assert_string_equal(e.cfirst, "p=tls-server-end-point,,n=user,r=cnonce");
    assert_int_equal(exch_step(&e), XMPP_SASL_E_SSDP_MISMATCH);
    exch_end(&e);
    /* the same lists on both sides, in another order: match */
    {
        const char *m[] = {"SCRAM-SHA-512", "SCRAM-SHA-256-PLUS", "SCRAM-SHA-256"};
        const char *c[] = {"tls-server-end-point", "tls-exporter"};
        assert_int_equal(exch_start(&e, &p, m, 3, c, 2, 1, h), XMPP_OK);
        assert_int_equal(exch_step(&e), XMPP_OK);
        assert_true(xmpp__sasl_ssdp_verified(e.s));
        assert_int_equal(xmpp__sasl_finish(e.s, U(e.v64), strlen(e.v64)), XMPP_OK);
        exch_end(&e);
    }
    /* without XEP-0440 there is no 0x1F part */
    {
        const char *m[] = {"SCRAM-SHA-1", "PLAIN"};
        xmpp__sasl_params q = base_params();
        ssdp_h(GNUTLS_DIG_SHA1, "PLAIN\x1eSCRAM-SHA-1", 17, h);
        assert_int_equal(exch_start(&e, &q, m, 2, NULL, 0, 0, h), XMPP_OK);
        assert_int_equal(exch_step(&e), XMPP_OK);
        assert_true(xmpp__sasl_ssdp_verified(e.s));
        exch_end(&e);
        ssdp_h(GNUTLS_DIG_SHA1, "PLAIN\x1eSCRAM-SHA-1\x1f", 18, h);
        assert_int_equal(exch_start(&e, &q, m, 2, NULL, 0, 0, h), XMPP_OK);
        assert_int_equal(exch_step(&e), XMPP_SASL_E_SSDP_MISMATCH);
        exch_end(&e);
    }
    /* h= twice */
    {
        const char *m[] = {"SCRAM-SHA-1"};
        xmpp__sasl_params q = base_params();
        char hh[256];
        ssdp_h(GNUTLS_DIG_SHA1, "SCRAM-SHA-1", 11, h);
        snprintf(hh, sizeof(hh), "%s%s", h, h);
        assert_int_equal(exch_start(&e, &q, m, 1, NULL, 0, 0, hh), XMPP_OK);
        assert_int_equal(exch_step(&e), XMPP_SASL_E_DUPLICATE_ATTR);
        exch_end(&e);
    }
}

/* XEP-0474 rule 6: no usable advertised type and no tls-server-end-point:
 * continue with 'n' only if h= vouches for the list. */
static void test_ssdp_rule6(void **state) {
    xmpp__sasl_params p = cb_params(XMPP_SASL_CB_EXPORTER | XMPP_SASL_CB_TLS13);
    const char *m[] = {"SCRAM-SHA-256-PLUS", "SCRAM-SHA-256"};
    const char *c[] = {"tls-foo"};
    char h[128];
    exch e;
    (void)state;
    assert_int_equal(exch_start(&e, &p, m, 2, c, 1, 1, NULL), XMPP_OK);
    assert_string_equal(e.cfirst, "n,,n=user,r=cnonce");
    assert_int_equal(exch_step(&e), XMPP_SASL_E_SSDP_MISSING);
    exch_end(&e);
    {
        static const char S6[] = "SCRAM-SHA-256\x1eSCRAM-SHA-256-PLUS\x1ftls-foo";
        ssdp_h(GNUTLS_DIG_SHA256, S6, strlen(S6), h);
    }
    assert_int_equal(exch_start(&e, &p, m, 2, c, 1, 1, h), XMPP_OK);
    assert_int_equal(exch_step(&e), XMPP_OK);
    assert_int_equal(xmpp__sasl_finish(e.s, U(e.v64), strlen(e.v64)), XMPP_OK);
    exch_end(&e);
}

/* ---- strerror --------------------------------------------------------- */

static void test_strerror(void **state) {
    int c;
    (void)state;
    for (c = XMPP_SASL_E_UNEXPECTED; c <= XMPP_SASL_E_NO_MECH; c++)
        assert_int_equal(strncmp(xmpp__sasl_strerror(c), "SASL_", 5), 0);
    assert_string_equal(xmpp__sasl_strerror(XMPP_SASL_E_DOWNGRADE), "SASL_DOWNGRADE");
    assert_string_equal(xmpp__sasl_strerror(12345), "UNKNOWN");
    assert_string_equal(xmpp__sasl_strerror(XMPP_ERR_NOMEM), "NOMEM");
}

/* ---- allocation-failure torture --------------------------------------- */

static int torture_scram(xmpp_ctx *ctx, void *arg) {
    xmpp__sasl_params p = cb_params(CB_ALL13);
    xmpp__sasl *s = NULL;
    const char *mechs[] = {"PLAIN", "SCRAM-SHA-256-PLUS", "SCRAM-SHA-256"};
    const char *cbt[] = {"tls-exporter", "tls-server-end-point"};
    const char *server = "PLAIN\x1eSCRAM-SHA-256\x1eSCRAM-SHA-256-PLUS\x1f"
                         "tls-exporter\x1etls-server-end-point";
    char sfirst[256], h[128], salt64[32], cfirst[256], cfinal[512], v64[128];
    const char *mech;
    uint8_t *out = NULL;
    size_t len = 0;
    tsrv t;
    int rc;
    (void)arg;
    tsrv_init(&t, "SCRAM-SHA-256");
    p.authzid = "admin";
    rc = xmpp__sasl_new(&s, ctx, &p);
    if (rc != XMPP_OK)
        return rc;
    rc = xmpp__sasl_select(s, mechs, 3, cbt, 2, 1, &mech);
    if (rc == XMPP_OK)
        rc = xmpp__sasl_test_set_nonce(s, "cnonce");
    if (rc == XMPP_OK)
        rc = xmpp__sasl_initial(s, &out, &len);
    if (rc != XMPP_OK)
        goto done;
    memcpy(cfirst, out, len);
    cfirst[len] = '\0';
    xmpp__sasl_buf_free(ctx, out, len);
    ssdp_h(GNUTLS_DIG_SHA256, server, strlen(server), h);
    xmpp__b64_encode(t.salt, sizeof(t.salt), salt64);
    snprintf(sfirst, sizeof(sfirst), "r=cnonceSRV,s=%s,i=4096%s", salt64, h);
    rc = xmpp__sasl_step(s, U(sfirst), strlen(sfirst), &out, &len);
    if (rc != XMPP_OK)
        goto done;
    memcpy(cfinal, out, len);
    cfinal[len] = '\0';
    xmpp__sasl_buf_free(ctx, out, len);
    tsrv_check(&t, cfirst, sfirst, cfinal, v64);
    rc = xmpp__sasl_finish(s, U(v64), strlen(v64));
done:
    xmpp__sasl_free(s);
    return rc;
}

static int torture_plain(xmpp_ctx *ctx, void *arg) {
    xmpp__sasl_params p = base_params();
    xmpp__sasl *s = NULL;
    const char *mechs[] = {"PLAIN"};
    const char *mech;
    uint8_t *out = NULL;
    size_t len = 0;
    int rc;
    (void)arg;
    p.authzid = "admin";
    rc = xmpp__sasl_new(&s, ctx, &p);
    if (rc == XMPP_OK)
        rc = xmpp__sasl_select(s, mechs, 1, NULL, 0, 0, &mech);
    if (rc == XMPP_OK)
        rc = xmpp__sasl_initial(s, &out, &len);
    xmpp__sasl_buf_free(ctx, out, len);
    if (rc == XMPP_OK)
        rc = xmpp__sasl_finish(s, NULL, 0);
    xmpp__sasl_free(s);
    return rc;
}

static void test_torture(void **state) {
    long n;
    (void)state;
    n = th_torture(torture_scram, NULL);
    assert_true(n > 10);
    n = th_torture(torture_plain, NULL);
    assert_true(n > 3);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_base64),
        cmocka_unit_test(test_rfc5802_vector),
        cmocka_unit_test(test_rfc7677_vector),
        cmocka_unit_test(test_saslprep_maps),
        cmocka_unit_test(test_saslprep_unassigned),
        cmocka_unit_test(test_username_escape),
        cmocka_unit_test(test_scram_sha512),
        cmocka_unit_test(test_scram_plus),
        cmocka_unit_test(test_final_in_challenge),
        cmocka_unit_test(test_bad_server_first),
        cmocka_unit_test(test_server_first_error_text),
        cmocka_unit_test(test_server_first_size),
        cmocka_unit_test(test_iteration_bounds),
        cmocka_unit_test(test_bad_server_final),
        cmocka_unit_test(test_server_final_extras),
        cmocka_unit_test(test_early_success),
        cmocka_unit_test(test_sequence),
        cmocka_unit_test(test_plain_external_anonymous),
        cmocka_unit_test(test_select_preference),
        cmocka_unit_test(test_select_plain_policy),
        cmocka_unit_test(test_select_limits),
        cmocka_unit_test(test_cb_flags),
        cmocka_unit_test(test_cb_type_preference),
        cmocka_unit_test(test_cb_provider_failure),
        cmocka_unit_test(test_ssdp_xep_example),
        cmocka_unit_test(test_ssdp_mismatch),
        cmocka_unit_test(test_ssdp_rule6),
        cmocka_unit_test(test_strerror),
        cmocka_unit_test(test_torture),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
