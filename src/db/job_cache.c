/* The witness location cache (see job_cache.h). One lock: an entry is a few dozen bytes copied
 * in or out. */
#include "config.h"
#include "db/job_cache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct entry {
  int64_t id; /* 0: empty (job ids start at 1) */
  int64_t l1_batch_number, sequence_number, witness_offset, witness_length, witness_pack_id;
  int protocol_version, aggregation_round, circuit_id, depth, witness_pack;
  uint8_t lease_hash[32];
};

struct wg_job_cache {
  pthread_mutex_t lock;
  size_t slots;
  struct entry *entries;
};

struct wg_job_cache *wg_job_cache_new(size_t slots)
{
  struct wg_job_cache *c = calloc(1, sizeof *c);
  if (c == NULL || (c->entries = calloc(slots, sizeof *c->entries)) == NULL) {
    free(c);
    return NULL;
  }
  c->slots = slots;
  pthread_mutex_init(&c->lock, NULL);
  return c;
}

void wg_job_cache_free(struct wg_job_cache *c)
{
  if (c == NULL)
    return;
  pthread_mutex_destroy(&c->lock);
  free(c->entries);
  free(c);
}

static struct entry *slot_of(struct wg_job_cache *c, int64_t id) { return &c->entries[(uint64_t)id % c->slots]; }

void wg_job_cache_put(struct wg_job_cache *c, const struct wg_prover_job *j)
{
  if (c == NULL || j->id <= 0)
    return;
  struct entry e = {j->id,           j->l1_batch_number,   j->sequence_number, j->witness_offset,
                    j->witness_length, j->witness_pack_id,   j->protocol_version, j->aggregation_round,
                    j->circuit_id,   j->depth,             j->witness_pack,    {0}};
  memcpy(e.lease_hash, j->lease_hash, 32);
  pthread_mutex_lock(&c->lock);
  *slot_of(c, j->id) = e;
  pthread_mutex_unlock(&c->lock);
}

bool wg_job_cache_get(struct wg_job_cache *c, int64_t id, const uint8_t lease_hash[32], struct wg_prover_job *j)
{
  if (c == NULL || id <= 0)
    return false;
  pthread_mutex_lock(&c->lock);
  struct entry e = *slot_of(c, id);
  pthread_mutex_unlock(&c->lock);
  if (e.id != id || memcmp(e.lease_hash, lease_hash, 32) != 0)
    return false;
  memset(j, 0, sizeof *j);
  j->id = e.id;
  j->l1_batch_number = e.l1_batch_number;
  j->sequence_number = e.sequence_number;
  j->witness_offset = e.witness_offset;
  j->witness_length = e.witness_length;
  j->protocol_version = e.protocol_version;
  j->aggregation_round = e.aggregation_round;
  j->circuit_id = e.circuit_id;
  j->depth = e.depth;
  j->witness_pack = e.witness_pack;
  j->witness_pack_id = e.witness_pack_id;
  return true;
}

void wg_job_cache_forget(struct wg_job_cache *c, int64_t id)
{
  if (c == NULL)
    return;
  pthread_mutex_lock(&c->lock);
  struct entry *e = slot_of(c, id);
  if (e->id == id)
    e->id = 0;
  pthread_mutex_unlock(&c->lock);
}

void wg_job_cache_clear(struct wg_job_cache *c)
{
  if (c == NULL)
    return;
  pthread_mutex_lock(&c->lock);
  memset(c->entries, 0, c->slots * sizeof *c->entries);
  pthread_mutex_unlock(&c->lock);
}
