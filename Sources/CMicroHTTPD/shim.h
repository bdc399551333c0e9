#ifndef RECORDONCE_CMICROHTTPD_SHIM_H
#define RECORDONCE_CMICROHTTPD_SHIM_H
#include <stdarg.h>
#include <stdint.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <microhttpd.h>
#include <stdlib.h>
#include <netinet/in.h>
#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>

/* Typed wrappers for MHD's variadic functions, which Swift cannot call. */

/* Receives each message MHD logs, already formatted (MHD hands out a printf format and a va_list). */
typedef void (*ro_mhd_message_sink)(void *context, const char *message);

/* Where MHD's messages go; must outlive the daemon. */
struct ro_mhd_log_target {
    ro_mhd_message_sink sink;
    void *context;
};

static inline void ro_mhd_format_message(void *cls, const char *format, va_list arguments) {
    const struct ro_mhd_log_target *target = (const struct ro_mhd_log_target *)cls;
    char message[512];
    vsnprintf(message, sizeof message, format, arguments);
    size_t length = strlen(message);
    while (length > 0 && (message[length - 1] == '\n' || message[length - 1] == '\r')) {
        message[--length] = '\0';
    }
    target->sink(target->context, message);
}

/* Leaves the URL path and the query arguments percent-encoded: the Swift side decodes each path
   segment on its own, so an encoded "/" (%2F) inside a segment does not split it. */
static inline size_t ro_mhd_keep_escaped(void *cls, struct MHD_Connection *connection, char *text) {
    (void)cls;
    (void)connection;
    return strlen(text);
}

/* Starts a daemon bound to `address` with the options the HTTP module uses. NULL on failure;
   the reason was sent to `log_target`. */
static inline struct MHD_Daemon *ro_mhd_start_daemon(unsigned int flags,
                                                     const struct sockaddr *address,
                                                     MHD_AccessHandlerCallback handler,
                                                     void *handler_context,
                                                     MHD_RequestCompletedCallback completed,
                                                     void *completed_context,
                                                     unsigned int thread_pool_size,
                                                     unsigned int connection_timeout_seconds,
                                                     unsigned int connection_limit,
                                                     struct ro_mhd_log_target *log_target,
                                                     gnutls_certificate_retrieve_function2 *certificate_callback) {
    /* The logger comes first so that messages about later options reach it too. A pool size
       of 0 or 1 means one internal thread; MHD warns if it is given explicitly. With a
       certificate callback the daemon speaks TLS (flags must include MHD_USE_TLS) and asks the
       callback for the certificate at every handshake, so certificates can change while it runs. */
    if (certificate_callback != NULL && thread_pool_size > 1) {
        return MHD_start_daemon(flags, 0, NULL, NULL, handler, handler_context,
                                MHD_OPTION_EXTERNAL_LOGGER, ro_mhd_format_message, (void *)log_target,
                                MHD_OPTION_SOCK_ADDR, address,
                                MHD_OPTION_HTTPS_CERT_CALLBACK, certificate_callback,
                                MHD_OPTION_THREAD_POOL_SIZE, thread_pool_size,
                                MHD_OPTION_NOTIFY_COMPLETED, completed, completed_context,
                                MHD_OPTION_CONNECTION_TIMEOUT, connection_timeout_seconds,
                                MHD_OPTION_CONNECTION_LIMIT, connection_limit,
                                MHD_OPTION_UNESCAPE_CALLBACK, ro_mhd_keep_escaped, (void *)NULL,
                                MHD_OPTION_END);
    }
    if (certificate_callback != NULL) {
        return MHD_start_daemon(flags, 0, NULL, NULL, handler, handler_context,
                                MHD_OPTION_EXTERNAL_LOGGER, ro_mhd_format_message, (void *)log_target,
                                MHD_OPTION_SOCK_ADDR, address,
                                MHD_OPTION_HTTPS_CERT_CALLBACK, certificate_callback,
                                MHD_OPTION_NOTIFY_COMPLETED, completed, completed_context,
                                MHD_OPTION_CONNECTION_TIMEOUT, connection_timeout_seconds,
                                MHD_OPTION_CONNECTION_LIMIT, connection_limit,
                                MHD_OPTION_UNESCAPE_CALLBACK, ro_mhd_keep_escaped, (void *)NULL,
                                MHD_OPTION_END);
    }
    if (thread_pool_size > 1) {
        return MHD_start_daemon(flags, 0, NULL, NULL, handler, handler_context,
                                MHD_OPTION_EXTERNAL_LOGGER, ro_mhd_format_message, (void *)log_target,
                                MHD_OPTION_SOCK_ADDR, address,
                                MHD_OPTION_THREAD_POOL_SIZE, thread_pool_size,
                                MHD_OPTION_NOTIFY_COMPLETED, completed, completed_context,
                                MHD_OPTION_CONNECTION_TIMEOUT, connection_timeout_seconds,
                                MHD_OPTION_CONNECTION_LIMIT, connection_limit,
                                MHD_OPTION_UNESCAPE_CALLBACK, ro_mhd_keep_escaped, (void *)NULL,
                                MHD_OPTION_END);
    }
    return MHD_start_daemon(flags, 0, NULL, NULL, handler, handler_context,
                            MHD_OPTION_EXTERNAL_LOGGER, ro_mhd_format_message, (void *)log_target,
                            MHD_OPTION_SOCK_ADDR, address,
                            MHD_OPTION_NOTIFY_COMPLETED, completed, completed_context,
                            MHD_OPTION_CONNECTION_TIMEOUT, connection_timeout_seconds,
                            MHD_OPTION_CONNECTION_LIMIT, connection_limit,
                            MHD_OPTION_UNESCAPE_CALLBACK, ro_mhd_keep_escaped, (void *)NULL,
                            MHD_OPTION_END);
}

/* The port the daemon listens on (useful after binding port 0); 0 if unknown. */
static inline uint16_t ro_mhd_bound_port(struct MHD_Daemon *daemon) {
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(daemon, MHD_DAEMON_INFO_BIND_PORT);
    return info == NULL ? 0 : info->port;
}

/* MHD_CONTENT_READER_END_OF_STREAM is a cast macro that Swift does not import. */
static inline ssize_t ro_mhd_content_reader_end_of_stream(void) {
    return MHD_CONTENT_READER_END_OF_STREAM;
}

/* MHD_CONTENT_READER_END_WITH_ERROR, likewise: ends the response by closing the connection. */
static inline ssize_t ro_mhd_content_reader_end_with_error(void) {
    return MHD_CONTENT_READER_END_WITH_ERROR;
}

/* The connection's socket (non-blocking in MHD's epoll mode), for streams that write to it
   directly while the connection is suspended; -1 if unknown. */
static inline int ro_mhd_connection_socket(struct MHD_Connection *connection) {
    const union MHD_ConnectionInfo *info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);
    return info == NULL ? -1 : (int)info->connect_fd;
}

/* ---- TLS certificates (GnuTLS, the TLS library Debian's libmicrohttpd is built with) ---- */

/* A certificate chain and its private key, loaded once and handed to GnuTLS at each handshake. */
struct ro_tls_credentials {
    gnutls_pcert_st certificates[16];
    unsigned int count;
    gnutls_privkey_t key;
};

enum ro_tls_load_result {
    RO_TLS_LOADED = 0,
    RO_TLS_BAD_CERTIFICATE = 1,
    RO_TLS_BAD_KEY = 2,
    RO_TLS_KEY_MISMATCH = 3,
    RO_TLS_NO_MEMORY = 4
};

static inline void ro_tls_credentials_free(struct ro_tls_credentials *credentials) {
    if (credentials == NULL) return;
    for (unsigned int i = 0; i < credentials->count; i++) gnutls_pcert_deinit(&credentials->certificates[i]);
    if (credentials->key != NULL) gnutls_privkey_deinit(credentials->key);
    free(credentials);
}

/* Loads a PEM certificate chain (leaf first) and a PEM private key and checks that the key
   belongs to the leaf certificate. Returns a ro_tls_load_result; *library_error gets GnuTLS's code. */
static inline int ro_tls_credentials_load(const unsigned char *certificate_pem, unsigned int certificate_length,
                                          const unsigned char *key_pem, unsigned int key_length,
                                          struct ro_tls_credentials **loaded, int *library_error) {
    *loaded = NULL;
    *library_error = 0;
    struct ro_tls_credentials *credentials = calloc(1, sizeof *credentials);
    if (credentials == NULL) return RO_TLS_NO_MEMORY;
    gnutls_datum_t certificate_data = { (unsigned char *)certificate_pem, certificate_length };
    unsigned int count = 16;
    int status = gnutls_pcert_list_import_x509_raw(credentials->certificates, &count, &certificate_data,
                                                   GNUTLS_X509_FMT_PEM, 0);
    if (status < 0 || count == 0) {
        *library_error = status;
        free(credentials);
        return RO_TLS_BAD_CERTIFICATE;
    }
    credentials->count = count;
    status = gnutls_privkey_init(&credentials->key);
    if (status >= 0) {
        gnutls_datum_t key_data = { (unsigned char *)key_pem, key_length };
        status = gnutls_privkey_import_x509_raw(credentials->key, &key_data, GNUTLS_X509_FMT_PEM, NULL, 0);
    }
    if (status < 0) {
        *library_error = status;
        ro_tls_credentials_free(credentials);
        return RO_TLS_BAD_KEY;
    }
    /* The key matches when its public half is the leaf certificate's public key. */
    gnutls_pubkey_t from_key = NULL;
    gnutls_datum_t key_public = { NULL, 0 }, certificate_public = { NULL, 0 };
    int matches = 0;
    if (gnutls_pubkey_init(&from_key) >= 0
        && gnutls_pubkey_import_privkey(from_key, credentials->key, 0, 0) >= 0
        && gnutls_pubkey_export2(from_key, GNUTLS_X509_FMT_DER, &key_public) >= 0
        && gnutls_pubkey_export2(credentials->certificates[0].pubkey, GNUTLS_X509_FMT_DER, &certificate_public) >= 0) {
        matches = key_public.size == certificate_public.size
            && memcmp(key_public.data, certificate_public.data, key_public.size) == 0;
    }
    if (from_key != NULL) gnutls_pubkey_deinit(from_key);
    gnutls_free(key_public.data);
    gnutls_free(certificate_public.data);
    if (!matches) {
        ro_tls_credentials_free(credentials);
        return RO_TLS_KEY_MISMATCH;
    }
    *loaded = credentials;
    return RO_TLS_LOADED;
}

/* The local port of a TLS session's socket (MHD gives GnuTLS the socket descriptor); 0 if unknown.
   The certificate callback has no context argument: the port tells which server is asking. */
static inline int ro_tls_session_local_port(gnutls_session_t session) {
    int socket = gnutls_transport_get_int(session);
    struct sockaddr_storage address;
    socklen_t length = sizeof address;
    if (socket < 0 || getsockname(socket, (struct sockaddr *)&address, &length) != 0) return 0;
    if (address.ss_family == AF_INET) return ntohs(((struct sockaddr_in *)&address)->sin_port);
    if (address.ss_family == AF_INET6) return ntohs(((struct sockaddr_in6 *)&address)->sin6_port);
    return 0;
}

static inline const char *ro_tls_error_text(int library_error) { return gnutls_strerror(library_error); }

#endif
