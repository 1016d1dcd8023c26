/* Named fault points for crash and stall tests. They are compiled into every build and armed only
 * by the environment variable WG_FAULT, read once at the first point reached; unarmed, a point
 * costs one well-predicted branch on a flag. WG_FAULT is a comma-separated list of entries:
 *   NAME        the first time the daemon reaches NAME it exits at once with _exit(86), as a
 *               kill -9 would stop it: no cleanup, no reply;
 *   NAME:N      the same, the Nth time;
 *   NAME@MS     every time, it sleeps MS milliseconds there (to let a lease expire);
 *   NAME@MS:N   it sleeps MS milliseconds the Nth time only;
 *   NAME!N      wg_fault_fails(NAME) says true the first N times it is asked (an operation that
 *               is made to fail, as a deadlock or an unreachable store would fail it).
 * Operators never set WG_FAULT; the daemon logs a warning at start when it is set. */
#ifndef WG_FAULT_H
#define WG_FAULT_H

#include <stdbool.h>

/* 0 before the first point is reached, then 1 (unarmed) or 2 (armed). */
extern int wg_fault_state;

void wg_fault_point(const char *name);

#define WG_FAULT(name)                                                                                       \
  do {                                                                                                       \
    if (__atomic_load_n(&wg_fault_state, __ATOMIC_RELAXED) != 1)                                             \
      wg_fault_point(name);                                                                                  \
  } while (0)

/* Whether the operation at fault point NAME is to fail this time (NAME!N). */
bool wg_fault_point_fails(const char *name);
static inline bool wg_fault_fails(const char *name)
{
  return __atomic_load_n(&wg_fault_state, __ATOMIC_RELAXED) != 1 && wg_fault_point_fails(name);
}

#define WG_FAULT_EXIT_CODE 86

#endif
