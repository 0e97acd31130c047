/* dualload: libxmpp in a process where libstrophe came first.
 *
 * libstrophe also exports functions named xmpp_* (xmpp_ctx_new,
 * xmpp_stanza_new, xmpp_jid_domain, xmpp_free, ...) with other signatures.
 * When libstrophe sits in the global symbol scope ahead of libxmpp
 * (dlopen'ed with RTLD_GLOBAL first, or LD_PRELOAD), any call that
 * libxmpp makes to one of its own exported functions through the PLT would
 * land in libstrophe. libxmpp is linked with -Bsymbolic-functions and a
 * version script so that its internal calls bind to itself; this program
 * checks that it works, calling libxmpp functions that call other exported
 * libxmpp functions internally, interleaved with libstrophe calls.
 *
 *   dualload dlopen  LIBXMPP [LIBSTROPHE]   opens LIBSTROPHE (RTLD_GLOBAL)
 *                                           first, then LIBXMPP
 *   dualload preload LIBXMPP [LIBSTROPHE]   LIBSTROPHE must already be
 *                                           loaded (LD_PRELOAD)
 *
 * LIBSTROPHE defaults to libstrophe.so.0. Every function of either library
 * is taken with dlsym() from that library's own handle: this program links
 * neither (a program that links libxmpp itself would have its own calls
 * bound to libstrophe's functions of the same name; see doc/versioning.md).
 *
 * Prints "ok: ..." / "FAIL: ..." lines. Exit: 0 pass, 1 fail, 77 when
 * libstrophe cannot be loaded, 99 for a setup error.
 */
#define _GNU_SOURCE /* dladdr, RTLD_DEFAULT */
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xmpp/xmpp.h> /* declarations only: nothing here links libxmpp */

static int failures;

static void check(int ok, const char *what, const char *got) {
    if (ok) {
        printf("ok: %s\n", what);
    } else {
        printf("FAIL: %s%s%s\n", what, got ? ": got " : "", got ? got : "");
        failures++;
    }
    fflush(stdout);
}

static void *need(void *handle, const char *lib, const char *name) {
    void *p = dlsym(handle, name);
    if (p == NULL) {
        fprintf(stderr, "dualload: %s has no %s: %s\n", lib, name, dlerror());
        exit(99);
    }
    return p;
}

/* libxmpp's functions, typed from its header, taken from its handle */
#define X(name) ((__typeof__(&name))need(xh, "libxmpp", #name))

/* libstrophe's functions (its header would clash with ours) */
typedef void (*s_void_fn)(void);
typedef void *(*s_ctx_new_fn)(const void *mem, const void *log);
typedef void (*s_ctx_free_fn)(void *ctx);
typedef void *(*s_stanza_new_fn)(void *ctx);
typedef int (*s_stanza_set_name_fn)(void *st, const char *name);
typedef int (*s_stanza_set_attr_fn)(void *st, const char *key, const char *value);
typedef int (*s_stanza_to_text_fn)(void *st, char **buf, size_t *len);
typedef int (*s_stanza_release_fn)(void *st);
typedef char *(*s_jid_fn)(void *ctx, const char *jid);
typedef void (*s_free_fn)(const void *ctx, void *p);
#define S(type, name) ((type)need(sh, "libstrophe", name))

/* the library that defines the symbol the global scope resolves */
static const char *owner(const char *name) {
    Dl_info info;
    void *p = dlsym(RTLD_DEFAULT, name);
    if (p == NULL || dladdr(p, &info) == 0 || info.dli_fname == NULL)
        return "(none)";
    return info.dli_fname;
}

int main(int argc, char **argv) {
    const char *mode, *xpath, *spath;
    void *xh, *sh;
    char what[256];

    if (argc < 3 || argc > 4 ||
        (strcmp(argv[1], "dlopen") != 0 && strcmp(argv[1], "preload") != 0)) {
        fprintf(stderr, "usage: dualload dlopen|preload LIBXMPP [LIBSTROPHE]\n");
        return 99;
    }
    mode = argv[1];
    xpath = argv[2];
    spath = argc > 3 ? argv[3] : "libstrophe.so.0";

    /* 1. libstrophe first, in the global scope */
    if (strcmp(mode, "preload") == 0) {
        sh = dlopen(spath, RTLD_NOW | RTLD_NOLOAD);
        if (sh == NULL) {
            fprintf(stderr, "dualload: %s is not preloaded (run with LD_PRELOAD=%s)\n", spath,
                    spath);
            return 99;
        }
    } else {
        sh = dlopen(spath, RTLD_NOW | RTLD_GLOBAL);
        if (sh == NULL) {
            printf("SKIP: cannot load libstrophe (%s): install the Debian package "
                   "libstrophe-dev\n",
                   dlerror());
            return 77;
        }
    }
    /* 2. then libxmpp, also global: the later one wins nothing */
    xh = dlopen(xpath, RTLD_NOW | RTLD_GLOBAL);
    if (xh == NULL) {
        fprintf(stderr, "dualload: cannot load %s: %s\n", xpath, dlerror());
        return 99;
    }
    /* the premise: in the global scope, the clashing names are libstrophe's */
    snprintf(what, sizeof(what), "[%s] the global scope resolves xmpp_ctx_new to libstrophe",
             mode);
    check(strstr(owner("xmpp_ctx_new"), "strophe") != NULL, what, owner("xmpp_ctx_new"));
    if (failures)
        return 99; /* nothing below would test anything */

    {
        /* libstrophe: initialise it and keep a context alive throughout */
        s_void_fn s_initialize = S(s_void_fn, "xmpp_initialize");
        s_void_fn s_shutdown = S(s_void_fn, "xmpp_shutdown");
        s_ctx_new_fn s_ctx_new = S(s_ctx_new_fn, "xmpp_ctx_new");
        s_ctx_free_fn s_ctx_free = S(s_ctx_free_fn, "xmpp_ctx_free");
        s_stanza_new_fn s_stanza_new = S(s_stanza_new_fn, "xmpp_stanza_new");
        s_stanza_set_name_fn s_set_name = S(s_stanza_set_name_fn, "xmpp_stanza_set_name");
        s_stanza_set_attr_fn s_set_attr = S(s_stanza_set_attr_fn, "xmpp_stanza_set_attribute");
        s_stanza_to_text_fn s_to_text = S(s_stanza_to_text_fn, "xmpp_stanza_to_text");
        s_stanza_release_fn s_release = S(s_stanza_release_fn, "xmpp_stanza_release");
        s_jid_fn s_jid_domain = S(s_jid_fn, "xmpp_jid_domain");
        s_free_fn s_free = S(s_free_fn, "xmpp_free");
        void *sctx, *sst;
        char *sbuf = NULL, *sdom;
        size_t slen = 0;

        xmpp_ctx *ctx = NULL;
        xmpp_stanza *msg = NULL, *copy = NULL, *iq = NULL, *res = NULL;
        xmpp_jid *jid = NULL, *bare = NULL;
        xmpp_session_options *o = NULL;
        xmpp_session *s = NULL;
        char *xml = NULL, *text = NULL;
        const void *out = NULL;
        size_t outlen = 0;
        int rc;

        s_initialize();
        sctx = s_ctx_new(NULL, NULL);
        check(sctx != NULL, "libstrophe: xmpp_ctx_new", NULL);

        /* libxmpp: a context and a message (the builder creates its
         * elements with xmpp_stanza_new, which libstrophe also exports) */
        rc = X(xmpp_ctx_new)(&ctx, NULL);
        check(rc == XMPP_OK && ctx != NULL, "libxmpp: xmpp_ctx_new", X(xmpp_strerror)(rc));
        if (ctx == NULL)
            return 1;
        rc = X(xmpp_message_new)(&msg, ctx, "chat", "Juliet@Example.COM", "m1", "hi <&>");
        check(rc == XMPP_OK, "libxmpp: xmpp_message_new", X(xmpp_strerror)(rc));
        rc = X(xmpp_stanza_serialize)(msg, XMPP_NS_CLIENT, &xml, NULL);
        check(rc == XMPP_OK && xml != NULL &&
                  strcmp(xml, "<message type=\"chat\" to=\"Juliet@Example.COM\" id=\"m1\">"
                              "<body>hi &lt;&amp;&gt;</body></message>") == 0,
              "libxmpp: the message serialises", xml);
        X(xmpp_free)(ctx, xml); /* libstrophe's xmpp_free takes its own ctx */
        xml = NULL;

        /* a deep copy (xmpp_stanza_copy, xmpp_stanza_is_text inside) */
        rc = X(xmpp_stanza_copy)(&copy, msg);
        if (rc == XMPP_OK)
            rc = X(xmpp_stanza_serialize)(copy, XMPP_NS_CLIENT, &xml, NULL);
        check(rc == XMPP_OK && xml != NULL && strstr(xml, "<body>hi &lt;&amp;&gt;</body>"),
              "libxmpp: xmpp_stanza_copy", xml);
        X(xmpp_free)(ctx, xml);
        xml = NULL;
        rc = X(xmpp_stanza_text)(X(xmpp_stanza_child)(copy, "body", NULL), &text, NULL);
        check(rc == XMPP_OK && text && strcmp(text, "hi <&>") == 0, "libxmpp: xmpp_stanza_text",
              text);
        X(xmpp_free)(ctx, text);

        /* libstrophe in between: its own stanza and JID functions */
        sst = s_stanza_new(sctx);
        if (sst != NULL) {
            s_set_name(sst, "message");
            s_set_attr(sst, "to", "romeo@example.net");
            s_to_text(sst, &sbuf, &slen);
        }
        check(sbuf != NULL && strcmp(sbuf, "<message to=\"romeo@example.net\"/>") == 0,
              "libstrophe: xmpp_stanza_new/xmpp_stanza_to_text", sbuf);
        if (sbuf)
            s_free(sctx, sbuf);
        if (sst)
            s_release(sst);
        sdom = s_jid_domain(sctx, "romeo@example.net/orchard");
        check(sdom != NULL && strcmp(sdom, "example.net") == 0, "libstrophe: xmpp_jid_domain",
              sdom);
        if (sdom)
            s_free(sctx, sdom);

        /* an IQ result (xmpp_iq_new inside) */
        rc = X(xmpp_iq_new)(&iq, ctx, "get", NULL, "q1");
        if (rc == XMPP_OK)
            rc = X(xmpp_stanza_set_attr)(iq, "from", "romeo@example.net/orchard");
        if (rc == XMPP_OK)
            rc = X(xmpp_iq_result_new)(&res, iq);
        if (rc == XMPP_OK)
            rc = X(xmpp_stanza_serialize)(res, XMPP_NS_CLIENT, &xml, NULL);
        check(rc == XMPP_OK && xml &&
                  strcmp(xml, "<iq type=\"result\" to=\"romeo@example.net/orchard\" id=\"q1\"/>") == 0,
              "libxmpp: xmpp_iq_result_new", xml);
        X(xmpp_free)(ctx, xml);
        xml = NULL;

        /* JIDs (xmpp_jid_bare, xmpp_jid_domain, xmpp_jid_resource) */
        rc = X(xmpp_jid_parse)(&jid, ctx, "Juliet@Example.COM/balcony");
        check(rc == XMPP_OK && strcmp(X(xmpp_jid_full)(jid), "juliet@example.com/balcony") == 0,
              "libxmpp: xmpp_jid_parse", rc == XMPP_OK ? X(xmpp_jid_full)(jid) : NULL);
        if (rc == XMPP_OK) {
            rc = X(xmpp_jid_to_bare)(&bare, jid);
            check(rc == XMPP_OK && strcmp(X(xmpp_jid_bare)(bare), "juliet@example.com") == 0 &&
                      X(xmpp_jid_resource)(bare) == NULL &&
                      strcmp(X(xmpp_jid_domain)(jid), "example.com") == 0 &&
                      X(xmpp_jid_bare_equal)(jid, bare) == 1,
                  "libxmpp: xmpp_jid_to_bare, bare, domain, resource", NULL);
        }

        /* a sans-I/O session: start queues the stream header, written with
         * xmpp_jid_domain() of the account */
        rc = X(xmpp_session_options_new)(&o, ctx);
        if (rc == XMPP_OK)
            rc = X(xmpp_session_options_set_jid)(o, "Romeo@Example.NET/orchard");
        if (rc == XMPP_OK)
            rc = X(xmpp_session_options_set_password)(o, "secret");
        if (rc == XMPP_OK)
            rc = X(xmpp_session_new)(&s, ctx, o);
        if (rc == XMPP_OK)
            rc = X(xmpp_session_start)(s, 0);
        if (rc == XMPP_OK)
            rc = X(xmpp_session_drain)(s, &out, &outlen);
        {
            static const char head[] = "<?xml version='1.0'?><stream:stream to='example.net' "
                                       "version='1.0'";
            char got[160];
            size_t n = outlen < sizeof(got) - 1 ? outlen : sizeof(got) - 1;
            memcpy(got, out ? out : "", out ? n : 0);
            got[out ? n : 0] = '\0';
            check(rc == XMPP_OK && outlen > sizeof(head) - 1 &&
                      memcmp(out, head, sizeof(head) - 1) == 0 &&
                      strstr(got, "xmlns='jabber:client'") != NULL,
                  "libxmpp: xmpp_session_start queues the stream header", got);
        }
        check(X(xmpp_session_get_state)(s) == XMPP_STATE_NEGOTIATING,
              "libxmpp: the session is negotiating", NULL);
        X(xmpp_session_free)(s);
        X(xmpp_session_options_free)(o);

        X(xmpp_jid_free)(bare);
        X(xmpp_jid_free)(jid);
        X(xmpp_stanza_unref)(res);
        X(xmpp_stanza_unref)(iq);
        X(xmpp_stanza_unref)(copy);
        X(xmpp_stanza_unref)(msg);
        X(xmpp_ctx_free)(ctx);
        s_ctx_free(sctx);
        s_shutdown();
        check(1, "both contexts freed", NULL);
    }
    printf("dualload (%s): %s\n", mode, failures ? "FAILED" : "passed");
    return failures ? 1 : 0;
}
