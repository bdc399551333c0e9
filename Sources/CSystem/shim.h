#ifndef RECORDONCE_CSYSTEM_SHIM_H
#define RECORDONCE_CSYSTEM_SHIM_H
#include <spawn.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#include <malloc.h>
/* glibc declares this only under _GNU_SOURCE; PostgreSQL's postmaster must not inherit our pipes. */
extern int posix_spawn_file_actions_addclosefrom_np(posix_spawn_file_actions_t *actions, int from);
#endif
