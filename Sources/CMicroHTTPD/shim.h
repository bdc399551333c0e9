#ifndef RECORDONCE_CMICROHTTPD_SHIM_H
#define RECORDONCE_CMICROHTTPD_SHIM_H
#include <stdint.h>
#include <stddef.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <microhttpd.h>
/* Typed wrappers for MHD's variadic functions, which Swift cannot call, are added here. */
#endif
