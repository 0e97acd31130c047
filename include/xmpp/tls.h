/**
 * @file xmpp/tls.h
 * @brief TLS trust configuration and the certificate verification result.
 *
 * An ::xmpp_tls_config holds everything a TLS client needs to decide whether
 * to trust a server: trust anchors (the system store and/or CA files), an
 * optional client certificate (for SASL EXTERNAL, XEP-0178), SPKI pins, the
 * protocol floor and a verification callback. It is refcounted and meant to
 * be shared by every connection of a context, so that the system trust
 * store is parsed once and not once per login.
 *
 * Every handshake produces an ::xmpp_tls_verify_result: a bitmask of all the
 * reasons the server's certificate failed (not only the first one), the
 * reference identity checked (the JID domainpart, RFC 6120 §13.7.2.1), the
 * kind of identifier that matched, and the leaf certificate with its SPKI
 * fingerprint, so that an application can implement pinning or
 * trust-on-first-use.
 *
 * Verification is fail-closed: without a callback any failure rejects the
 * connection (RFC 6120 §13.7.2, RFC 7590).
 *
 * No GnuTLS type appears here. A configuration, like its context, is not
 * thread-safe.
 */
#ifndef XMPP_TLS_H
#define XMPP_TLS_H

#include <xmpp/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/** A shareable, refcounted TLS trust configuration. */
typedef struct xmpp_tls_config xmpp_tls_config;

/**
 * The outcome of one certificate verification. Owned by the TLS connection
 * that produced it; valid during the verify callback and, afterwards, until
 * that connection is freed.
 */
typedef struct xmpp_tls_verify_result xmpp_tls_verify_result;

/** TLS protocol versions usable as a floor (BCP 195: TLS 1.2 at least). */
typedef enum xmpp_tls_version {
    XMPP_TLS_VERSION_1_2 = 12, /**< TLS 1.2 (RFC 5246); the default floor. */
    XMPP_TLS_VERSION_1_3 = 13  /**< TLS 1.3 (RFC 8446). */
} xmpp_tls_version;

/**
 * Reasons a certificate failed verification; a result carries the bitwise
 * OR of all that apply. Zero means no failure.
 */
typedef enum xmpp_tls_verify_failure {
    /** No presented identifier matches the reference identity (RFC 6125 §6). */
    XMPP_TLS_VERIFY_NAME_MISMATCH = 1u << 0,
    /** A certificate in the chain has expired. */
    XMPP_TLS_VERIFY_EXPIRED = 1u << 1,
    /** A certificate in the chain is not yet valid. */
    XMPP_TLS_VERIFY_NOT_YET_VALID = 1u << 2,
    /** The server's certificate is self-signed and not a trust anchor. */
    XMPP_TLS_VERIFY_SELF_SIGNED = 1u << 3,
    /** The chain does not lead to a trust anchor (issuer not found). */
    XMPP_TLS_VERIFY_UNKNOWN_CA = 1u << 4,
    /** An issuer is not a CA: Basic Constraints CA:FALSE, or a version 1
     *  certificate (the CVE-2014-0363 / CVE-2014-3694 "leaf signs leaf"). */
    XMPP_TLS_VERIFY_SIGNER_NOT_CA = 1u << 5,
    /** A signature uses an algorithm considered insecure (MD5, SHA-1...). */
    XMPP_TLS_VERIFY_INSECURE_ALGORITHM = 1u << 6,
    /** A certificate is revoked, or its revocation data is unusable. */
    XMPP_TLS_VERIFY_REVOKED = 1u << 7,
    /** An issuer's name constraints (or other signer constraints) are violated. */
    XMPP_TLS_VERIFY_NAME_CONSTRAINTS = 1u << 8,
    /** SPKI pins are configured and the leaf's key matches none of them. */
    XMPP_TLS_VERIFY_PIN_MISMATCH = 1u << 9,
    /** The server sent no (X.509) certificate. */
    XMPP_TLS_VERIFY_NO_CERTIFICATE = 1u << 10,
    /** The Extended Key Usage does not allow TLS server authentication. */
    XMPP_TLS_VERIFY_PURPOSE_MISMATCH = 1u << 11,
    /** A signature in the chain does not verify. */
    XMPP_TLS_VERIFY_SIGNATURE_FAILURE = 1u << 12,
    /** Any other failure, including status bits this version does not know. */
    XMPP_TLS_VERIFY_OTHER = 1u << 30
} xmpp_tls_verify_failure;

/** The kind of presented identifier that matched the reference identity. */
typedef enum xmpp_tls_id_type {
    XMPP_TLS_ID_NONE = 0, /**< Nothing matched. */
    XMPP_TLS_ID_DNS = 1,  /**< SAN dNSName (DNS-ID, RFC 6125 §6.4). */
    XMPP_TLS_ID_SRV = 2,  /**< SAN otherName SRVName (SRV-ID, RFC 4985, RFC 6120 §13.7.1.2.1). */
    XMPP_TLS_ID_XMPPADDR = 3, /**< SAN otherName id-on-xmppAddr (RFC 6120 §13.7.1.4). */
    XMPP_TLS_ID_CN = 4        /**< Subject commonName fallback (RFC 6125 §6.4.4). */
} xmpp_tls_id_type;

/**
 * The verification callback.
 *
 * Called once per handshake, after the library has checked the chain, the
 * identity and the pins, whether or not anything failed (so it can also add
 * policy, such as trust-on-first-use). Runs inside the TLS handshake: it
 * must not call any function on the connection being verified.
 *
 * @param res the result; valid only during the call unless the connection
 *        is kept (see ::xmpp_tls_verify_result).
 * @param user_data as given to xmpp_tls_config_set_verify_callback().
 * @return 1 to accept the certificate (even despite failures), 0 to reject
 *         it. Any other value rejects.
 */
typedef int (*xmpp_tls_verify_fn)(const xmpp_tls_verify_result *res, void *user_data);

/**
 * Creates a configuration with secure defaults: the system trust store
 * (loaded lazily, when the first connection uses the configuration), TLS 1.2
 * as the floor, no pins, no client certificate, no callback.
 * @param out receives the configuration (refcount 1); release it with
 *        xmpp_tls_config_unref().
 * @param ctx the context whose allocator and log are used; it must outlive
 *        the configuration.
 * @return ::XMPP_OK, ::XMPP_ERR_INVALID (NULL argument) or ::XMPP_ERR_NOMEM.
 */
XMPP_EXTERN int xmpp_tls_config_new(xmpp_tls_config **out, xmpp_ctx *ctx);

/**
 * Takes a reference.
 * @return @p cfg (NULL if @p cfg is NULL).
 */
XMPP_EXTERN xmpp_tls_config *xmpp_tls_config_ref(xmpp_tls_config *cfg);

/**
 * Drops a reference; the configuration is freed with the last one. Each
 * connection holds its own reference. Accepts NULL.
 */
XMPP_EXTERN void xmpp_tls_config_unref(xmpp_tls_config *cfg);

/**
 * Enables or disables the system trust store (on by default).
 *
 * The trust anchors are frozen once the first connection has used the
 * configuration (connections share them): this call, xmpp_tls_config_add_cafile(),
 * xmpp_tls_config_add_ca_pem() and xmpp_tls_config_set_client_cert() then
 * return ::XMPP_ERR_STATE. Make a new configuration to change them.
 * @param cfg the configuration.
 * @param on non-zero to use the system store, zero not to.
 * @return ::XMPP_OK, ::XMPP_ERR_INVALID or ::XMPP_ERR_STATE.
 */
XMPP_EXTERN int xmpp_tls_config_use_system_trust(xmpp_tls_config *cfg, int on);

/**
 * Adds the trust anchors of a PEM file (reads the file now).
 * @param cfg the configuration.
 * @param path a NUL-terminated file name.
 * @return ::XMPP_OK; ::XMPP_ERR_INVALID (NULL argument, or no certificate
 *         could be parsed); ::XMPP_ERR_NOT_FOUND (the file cannot be read);
 *         ::XMPP_ERR_STATE (frozen); ::XMPP_ERR_NOMEM.
 */
XMPP_EXTERN int xmpp_tls_config_add_cafile(xmpp_tls_config *cfg, const char *path);

/**
 * Adds the trust anchors of PEM data held in memory (no file I/O).
 * @param cfg the configuration.
 * @param pem the PEM text.
 * @param len its length in bytes.
 * @return as xmpp_tls_config_add_cafile(), without ::XMPP_ERR_NOT_FOUND.
 */
XMPP_EXTERN int xmpp_tls_config_add_ca_pem(xmpp_tls_config *cfg, const char *pem, size_t len);

/**
 * Sets the client certificate and key presented when the server asks for
 * one (SASL EXTERNAL, XEP-0178). Both files are PEM and are read now.
 * @param cfg the configuration.
 * @param certfile the certificate chain, leaf first.
 * @param keyfile the unencrypted private key.
 * @return ::XMPP_OK; ::XMPP_ERR_INVALID (NULL argument, unparsable data or a
 *         key that does not match); ::XMPP_ERR_NOT_FOUND (a file cannot be
 *         read); ::XMPP_ERR_STATE (frozen); ::XMPP_ERR_NOMEM.
 */
XMPP_EXTERN int xmpp_tls_config_set_client_cert(xmpp_tls_config *cfg, const char *certfile,
                                                const char *keyfile);

/**
 * Adds an SPKI pin: the SHA-256 of the DER SubjectPublicKeyInfo of an
 * acceptable server key (the RFC 7469 pin-sha256 value, not base64).
 * When at least one pin is set, the leaf's key must match one of them, in
 * addition to the other checks; a mismatch sets
 * ::XMPP_TLS_VERIFY_PIN_MISMATCH. Pins are read when a verification runs.
 * @param cfg the configuration.
 * @param spki_sha256 32 bytes.
 * @return ::XMPP_OK, ::XMPP_ERR_INVALID or ::XMPP_ERR_NOMEM.
 */
XMPP_EXTERN int xmpp_tls_config_add_pin_sha256(xmpp_tls_config *cfg,
                                               const unsigned char spki_sha256[32]);

/**
 * Sets the lowest protocol version negotiated (default TLS 1.2). SSL 3,
 * TLS 1.0 and TLS 1.1 cannot be enabled. Applies to connections created
 * afterwards.
 * @return ::XMPP_OK or ::XMPP_ERR_INVALID (unknown version).
 */
XMPP_EXTERN int xmpp_tls_config_set_min_version(xmpp_tls_config *cfg, xmpp_tls_version version);

/**
 * Sets the highest protocol version negotiated (default: the newest, TLS
 * 1.3). Capping at TLS 1.2 is for servers whose TLS 1.3 channel binding is
 * broken, and for tests of the TLS 1.2 paths (tls-unique). Applies to
 * connections created afterwards.
 * @param cfg the configuration.
 * @param version ::XMPP_TLS_VERSION_1_2 or ::XMPP_TLS_VERSION_1_3.
 * @return ::XMPP_OK or ::XMPP_ERR_INVALID (unknown version, or below the
 *         minimum).
 */
XMPP_EXTERN int xmpp_tls_config_set_max_version(xmpp_tls_config *cfg, xmpp_tls_version version);

/**
 * Sets (or, with a NULL @p fn, removes) the verification callback. Without
 * one, any failure rejects the certificate. Read when a verification runs.
 * @return ::XMPP_OK or ::XMPP_ERR_INVALID.
 */
XMPP_EXTERN int xmpp_tls_config_set_verify_callback(xmpp_tls_config *cfg, xmpp_tls_verify_fn fn,
                                                    void *user_data);

/**
 * The failure reasons.
 * @return a bitwise OR of ::xmpp_tls_verify_failure values; 0 when the
 *         certificate passed every check.
 */
XMPP_EXTERN unsigned xmpp_tls_verify_result_failures(const xmpp_tls_verify_result *res);

/**
 * The reference identity checked: the JID domainpart as an A-label.
 * @return a string owned by the result; "" when @p res is NULL.
 */
XMPP_EXTERN const char *xmpp_tls_verify_result_reference(const xmpp_tls_verify_result *res);

/** The kind of identifier that matched, ::XMPP_TLS_ID_NONE if none did. */
XMPP_EXTERN xmpp_tls_id_type xmpp_tls_verify_result_matched_type(const xmpp_tls_verify_result *res);

/**
 * The presented identifier that matched, as written in the certificate
 * (for example "*.example.com" or "_xmpp-client.example.com").
 * @return a string owned by the result, or NULL when nothing matched.
 */
XMPP_EXTERN const char *xmpp_tls_verify_result_matched_name(const xmpp_tls_verify_result *res);

/**
 * The number of certificates the server sent (0 when none).
 */
XMPP_EXTERN unsigned xmpp_tls_verify_result_chain_length(const xmpp_tls_verify_result *res);

/**
 * The DER encoding of the server's leaf certificate.
 * @param res the result.
 * @param der receives a pointer to bytes owned by the result.
 * @param len receives their length.
 * @return ::XMPP_OK, ::XMPP_ERR_INVALID (NULL argument) or
 *         ::XMPP_ERR_NOT_FOUND (no certificate was sent).
 */
XMPP_EXTERN int xmpp_tls_verify_result_leaf_der(const xmpp_tls_verify_result *res,
                                                const unsigned char **der, size_t *len);

/**
 * The SHA-256 of the leaf's DER SubjectPublicKeyInfo (the same value as
 * xmpp_tls_config_add_pin_sha256() takes).
 * @param res the result.
 * @param out receives 32 bytes.
 * @return ::XMPP_OK, ::XMPP_ERR_INVALID or ::XMPP_ERR_NOT_FOUND.
 */
XMPP_EXTERN int xmpp_tls_verify_result_spki_sha256(const xmpp_tls_verify_result *res,
                                                   unsigned char out[32]);

/**
 * A short English name of one failure bit ("name mismatch", ...).
 * @param failure a single ::xmpp_tls_verify_failure value.
 * @return a static string; "unknown" for anything else.
 */
XMPP_EXTERN const char *xmpp_tls_verify_failure_name(unsigned failure);

#ifdef __cplusplus
}
#endif

#endif /* XMPP_TLS_H */
