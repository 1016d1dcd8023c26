/* Named fault points for crash tests (./configure --enable-fault-points). The environment
 * variable WG_FAULT selects one point and what happens there:
 *   WG_FAULT=NAME      the first time the daemon reaches NAME it exits at once with _exit(86), as
 *                      a kill -9 would stop it: no cleanup, no reply;
 *   WG_FAULT=NAME:N    the same, the Nth time;
 *   WG_FAULT=NAME@MS   every time, it sleeps MS milliseconds there (to let a lease expire).
 * Without --enable-fault-points the points compile to nothing. */
#ifndef WG_FAULT_H
#define WG_FAULT_H

#include "config.h"

#ifdef WG_FAULT_POINTS
void wg_fault_point(const char *name);
#define WG_FAULT(name) wg_fault_point(name)
#else
#define WG_FAULT(name) ((void)0)
#endif

#define WG_FAULT_EXIT_CODE 86

#endif
