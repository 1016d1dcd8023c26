/* Fault points: see fault.h. */
#include "config.h"
#include "common/fault.h"

#ifdef WG_FAULT_POINTS
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static atomic_long hits;

void wg_fault_point(const char *name)
{
  const char *spec = getenv("WG_FAULT");
  if (spec == NULL)
    return;
  size_t n = strcspn(spec, ":@");
  if (strlen(name) != n || strncmp(spec, name, n) != 0)
    return;
  if (spec[n] == '@') {
    long ms = atol(spec + n + 1);
    fprintf(stderr, "fault point %s reached: sleeping %ld ms\n", name, ms);
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
    return;
  }
  long want = spec[n] == ':' ? atol(spec + n + 1) : 1;
  if (atomic_fetch_add(&hits, 1) + 1 >= want) {
    fprintf(stderr, "fault point %s reached: exiting\n", name);
    _exit(WG_FAULT_EXIT_CODE);
  }
}
#endif
