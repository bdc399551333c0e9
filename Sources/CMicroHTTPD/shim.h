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
                                                     struct ro_mhd_log_target *log_target) {
    /* The logger comes first so that messages about later options reach it too. A pool size
       of 0 or 1 means one internal thread; MHD warns if it is given explicitly. */
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

#endif
