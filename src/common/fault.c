/* Fault points: see fault.h. The spec is parsed once; each entry keeps its own hit counter, so
 * that several points can be armed at once (a stall in one place and a crash in another). */
#include "config.h"
#include "common/fault.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_ENTRIES 8

struct fault_entry {
  char name[64];
  long nth;      /* 0: every time (sleep) or the first time (exit) */
  long sleep_ms; /* -1: exit */
  long fails;    /* > 0: a failing point (NAME!N), failing this many times */
  atomic_long hits;
};

int wg_fault_state;
static struct fault_entry entries[MAX_ENTRIES];
static int n_entries;
static pthread_once_t parse_once = PTHREAD_ONCE_INIT;

static void parse_spec(void)
{
  const char *spec = getenv("WG_FAULT");
  for (const char *p = spec; p != NULL && *p != '\0' && n_entries < MAX_ENTRIES;) {
    size_t len = strcspn(p, ",");
    size_t name_len = strcspn(p, ":@!,");
    if (name_len > 0 && name_len < sizeof entries[0].name) {
      struct fault_entry *e = &entries[n_entries++];
      memcpy(e->name, p, name_len);
      e->sleep_ms = -1;
      const char *q = p + name_len;
      if (*q == '!') {
        e->fails = atol(q + 1);
        q += 1 + strcspn(q + 1, ":,");
      }
      if (*q == '@') {
        e->sleep_ms = atol(q + 1);
        q += 1 + strcspn(q + 1, ":,");
      }
      if (*q == ':')
        e->nth = atol(q + 1);
    }
    p += len;
    if (*p == ',')
      p++;
  }
  __atomic_store_n(&wg_fault_state, n_entries > 0 ? 2 : 1, __ATOMIC_RELAXED);
}

void wg_fault_point(const char *name)
{
  pthread_once(&parse_once, parse_spec);
  for (int i = 0; i < n_entries; i++) {
    struct fault_entry *e = &entries[i];
    if (strcmp(e->name, name) != 0)
      continue;
    if (e->fails > 0)
      continue; /* asked by wg_fault_point_fails only */
    long hit = atomic_fetch_add(&e->hits, 1) + 1;
    if (e->sleep_ms >= 0) {
      if (e->nth != 0 && hit != e->nth)
        continue;
      fprintf(stderr, "fault point %s reached: sleeping %ld ms\n", name, e->sleep_ms);
      struct timespec ts = {e->sleep_ms / 1000, (e->sleep_ms % 1000) * 1000000L};
      nanosleep(&ts, NULL);
      continue;
    }
    if (hit >= (e->nth > 0 ? e->nth : 1)) {
      fprintf(stderr, "fault point %s reached: exiting\n", name);
      _exit(WG_FAULT_EXIT_CODE);
    }
  }
}

bool wg_fault_point_fails(const char *name)
{
  pthread_once(&parse_once, parse_spec);
  for (int i = 0; i < n_entries; i++) {
    struct fault_entry *e = &entries[i];
    if (e->fails <= 0 || strcmp(e->name, name) != 0)
      continue;
    long hit = atomic_fetch_add(&e->hits, 1) + 1;
    if (hit <= e->fails) {
      fprintf(stderr, "fault point %s reached: failing (%ld of %ld)\n", name, hit, e->fails);
      return true;
    }
  }
  return false;
}
