#ifndef RECORDONCE_CLIBPQ_SHIM_H
#define RECORDONCE_CLIBPQ_SHIM_H
#include <libpq-fe.h>
#endif
