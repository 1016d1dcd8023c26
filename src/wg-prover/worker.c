/* One wg-prover worker thread. The loop is claim → witness → prove (with heartbeats while it
 * takes time) → complete, the completion posted by a sender thread (the outbox below) while the
 * worker goes on, and the next claim sent ahead when a slow proof nears its end. Claims are batched: a thread that needs a job and finds none claimed
 * claims one for every thread then waiting that no other claim serves (at most --batch) in one
 * request, and the others take theirs from the shared list (take_job). Whatever goes wrong with one job, the thread drops that job (the
 * server takes it back when its lease expires, or at once through /fail) and claims the next;
 * only a claim the server refuses outright (bad token, wrong URL) stops the whole prover. */
#include "config.h"
#include "wg-prover/worker.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "prover/scheme.h"
#include "wg-prover/client.h"

#define NO_JOB_FIRST_WAIT_MS 50
#define NO_JOB_MAX_WAIT_MS 1000
#define DEFAULT_HEARTBEAT_MS 60000
/* A lease is an opaque string of at most this many characters (docs/api.md). */
#define WGP_LEASE_MAX 64

/* A claimed prover job, as far as the prover needs it. */
struct job {
  long long id, batch, sequence_number;
  int round, circuit_id, depth;
  char lease[WGP_LEASE_MAX + 1]; /* sent back in X-WG-Lease */
  long long heartbeat_ms;    /* interval between heartbeats for this job */
  long long claimed_at;      /* wgp_now_ms() right after the claim */
  long long started_at;      /* when a thread took it up: --prove-ms counts from here */
  long long last_contact;    /* the claim or the last heartbeat that extended the lease */
  char what[160];            /* "job 17 (batch 1 round 0 circuit 3 depth 0 #2)" for log lines */
};

void wgp_worker_init(struct wgp_worker *w, struct wgp_state *st, int index)
{
  const struct wgp_options *o = st->opt;
  *w = (struct wgp_worker){.st = st, .index = index};
  if (o->prover_id != NULL && o->concurrency == 1)
    snprintf(w->prover_id, sizeof w->prover_id, "%s", o->prover_id);
  else if (o->prover_id != NULL)
    snprintf(w->prover_id, sizeof w->prover_id, "%s-%d", o->prover_id, index);
  else {
    char host[65] = "";
    if (gethostname(host, sizeof host - 1) != 0 || host[0] == '\0')
      snprintf(host, sizeof host, "unknown");
    snprintf(w->prover_id, sizeof w->prover_id, "wg-prover-%s-%ld-%d", host, (long)getpid(), index);
  }
}

static void fatal(struct wgp_state *st)
{
  atomic_store(&st->exit_code, 1);
  wgp_request_stop(st, WGP_STOP_AFTER_JOB);
}

/* The claim body; only its "limit" changes between claims. */
static json_t *claim_body(const struct wgp_worker *w)
{
  const struct wgp_options *o = w->st->opt;
  json_t *b = json_pack("{s:s,s:i}", "prover_id", w->prover_id, "protocol_version", o->protocol_version);
  if (b == NULL)
    return NULL;
  if (o->n_rounds > 0) {
    json_t *a = json_array();
    for (size_t i = 0; i < o->n_rounds; i++)
      json_array_append_new(a, json_integer(o->rounds[i]));
    json_object_set_new(b, "rounds", a);
  }
  if (o->n_circuits > 0) {
    json_t *a = json_array();
    for (size_t i = 0; i < o->n_circuits; i++)
      json_array_append_new(a, json_integer(o->circuits[i]));
    json_object_set_new(b, "circuit_ids", a);
  }
  return b;
}

/* "2024-05-01T12:00:00.123Z" (the server's lease_expires_at) as Unix milliseconds, or -1. */
static long long parse_utc_ms(const char *s)
{
  struct tm tm = {0};
  int ms = 0, used = 0;
  if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
             &tm.tm_sec, &used) != 6)
    return -1;
  s += used;
  if (*s == '.') {
    int digits = 0;
    for (s++; *s >= '0' && *s <= '9'; s++, digits++)
      if (digits < 3)
        ms = ms * 10 + (*s - '0');
    for (; digits < 3; digits++)
      ms *= 10;
  }
  if (strcmp(s, "Z") != 0)
    return -1;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  time_t t = timegm(&tm);
  return t == (time_t)-1 ? -1 : (long long)t * 1000 + ms;
}

static bool json_int_field(json_t *o, const char *key, long long *out)
{
  json_t *v = json_object_get(o, key);
  if (!json_is_integer(v))
    return false;
  *out = json_integer_value(v);
  return true;
}

/* Heartbeat three times per lease so that one late or lost heartbeat does not cost the job; the
 * lease length is what remains of it now, as the server's clock tells it (doc: a job's JSON). A
 * claim's first lease is the server's claim grace, which the witness download turns into the full
 * lease: the interval is taken again from each heartbeat's answer. */
static long long heartbeat_interval(const struct wgp_options *o, json_t *doc)
{
  if (o->heartbeat_ms > 0)
    return o->heartbeat_ms;
  json_t *exp = json_object_get(doc, "lease_expires_at");
  long long until = json_is_string(exp) ? parse_utc_ms(json_string_value(exp)) : -1;
  if (until <= 0)
    return DEFAULT_HEARTBEAT_MS;
  long long third = (until - wgp_wall_ms()) / 3;
  return third < 1000 ? 1000 : third > DEFAULT_HEARTBEAT_MS ? DEFAULT_HEARTBEAT_MS : third;
}

/* Reads a claimed job. */
static bool parse_job(struct wgp_worker *w, json_t *doc, struct job *j)
{
  const struct wgp_options *o = w->st->opt;
  long long round = 0, circuit = 0, depth = 0;
  const char *lease = json_string_value(json_object_get(doc, "lease"));
  bool ok = json_is_object(doc) && json_int_field(doc, "id", &j->id) &&
            json_int_field(doc, "l1_batch_number", &j->batch) && json_int_field(doc, "aggregation_round", &round) &&
            json_int_field(doc, "circuit_id", &circuit) && json_int_field(doc, "depth", &depth) &&
            json_int_field(doc, "sequence_number", &j->sequence_number) && lease != NULL &&
            strlen(lease) <= WGP_LEASE_MAX && round >= 0 && round <= 3;
  if (ok) {
    j->round = (int)round;
    j->circuit_id = (int)circuit;
    j->depth = (int)depth;
    snprintf(j->lease, sizeof j->lease, "%s", lease);
    j->claimed_at = j->last_contact = wgp_now_ms();
    snprintf(j->what, sizeof j->what, "job %lld (batch %lld round %d circuit %d depth %d #%lld)", j->id, j->batch,
             j->round, j->circuit_id, j->depth, j->sequence_number);
    j->heartbeat_ms = heartbeat_interval(o, doc);
  }
  return ok;
}

enum take { TAKE_JOB, TAKE_NONE, TAKE_STOP };

/* The "wait_ms" of a claim: --wait-seconds, within the request timeout (with room for the reply)
 * and, with --until-idle, within the idle time. */
static long long claim_wait_ms(const struct wgp_options *o)
{
  long long wait = o->wait_ms, room = o->timeout_ms - 2000;
  wait = wait < room ? wait : room;
  if (o->until_idle)
    wait = wait < o->idle_ms ? wait : o->idle_ms;
  return wait > 0 ? wait : 0;
}

/* Sends one claim for n jobs and adds what it brought to the shared list. Called with
 * claim_lock released; returns TAKE_JOB when jobs were added. A claim ahead (see claim_ahead)
 * does not wait at the server, and its empty answer tells the waiting threads nothing. */
static enum take claim_for(struct wgp_worker *w, struct wgp_client *c, json_t *claim, int n, bool ahead)
{
  struct wgp_state *st = w->st;
  bool batched = st->opt->batch != 1;
  char text[320];
  if (batched)
    json_object_set_new(claim, "limit", json_integer(n));
  long long wait = ahead ? 0 : claim_wait_ms(st->opt);
  if (wait > 0)
    json_object_set_new(claim, "wait_ms", json_integer(wait));
  else
    json_object_del(claim, "wait_ms");
  char *body = json_dumps(claim, JSON_COMPACT);
  if (body == NULL)
    return TAKE_STOP;
  /* A claim waiting at the server is cut off by the first stop request: the server gives back
   * whatever it claims for a prover that left. */
  c->abort_on_stop = wait > 0;
  long long started = wgp_now_ms();
  long status = wgp_call(c, "POST", "/jobs/claim", "application/json", NULL, body, strlen(body), WGP_STOP_AFTER_JOB);
  c->abort_on_stop = false;
  free(body);
  if (status == 204) {
    /* The server waited for work: ask again at once. A quick 204 (a daemon stopping) backs off. */
    if (!ahead)
      atomic_store(&st->waited_for_work, wait > 0 && wgp_now_ms() - started >= wait / 2);
    return TAKE_NONE;
  }
  if (status != 200) {
    if (status != WGP_GAVE_UP) {
      if (status != WGP_LOCAL_ERROR)
        wg_error("the server refused to hand out jobs: HTTP %ld %s", status, wgp_client_body_text(c, text, sizeof text));
      fatal(st);
    }
    return TAKE_STOP;
  }
  json_t *doc = json_loadb((const char *)c->body, c->len, 0, NULL);
  json_t *list = batched ? json_object_get(doc, "jobs") : NULL;
  size_t count = batched ? json_array_size(list) : 1;
  if (doc == NULL || (batched && (!json_is_array(list) || count == 0 || count > (size_t)n))) {
    wg_error("the claim answered 200 with something that is not a list of jobs: %s",
             wgp_client_body_text(c, text, sizeof text));
    json_decref(doc);
    fatal(st);
    return TAKE_STOP;
  }
  pthread_mutex_lock(&st->claim_lock);
  if (st->n_jobs + count > st->cap_jobs) {
    size_t cap = st->cap_jobs ? st->cap_jobs * 2 : 64;
    while (cap < st->n_jobs + count)
      cap *= 2;
    void **bigger = realloc(st->jobs, cap * sizeof *bigger);
    if (bigger == NULL) {
      pthread_mutex_unlock(&st->claim_lock);
      json_decref(doc);
      fatal(st);
      return TAKE_STOP;
    }
    st->jobs = bigger;
    st->cap_jobs = cap;
  }
  bool ok = true;
  for (size_t i = 0; i < count && ok; i++) {
    struct job *j = malloc(sizeof *j);
    ok = j != NULL && parse_job(w, batched ? json_array_get(list, i) : doc, j);
    if (ok)
      st->jobs[st->n_jobs++] = j;
    else
      free(j);
  }
  pthread_mutex_unlock(&st->claim_lock);
  if (!ok) {
    wg_error("the claim answered 200 with something that is not a job: %s", wgp_client_body_text(c, text, sizeof text));
    fatal(st);
  }
  json_decref(doc);
  return ok ? TAKE_JOB : TAKE_STOP;
}

/* Waits for a claimed job in the shared list, claiming when the threads waiting outnumber the
 * jobs that claims in flight will bring: --batch jobs at a time (default: one per thread), so a
 * claim serves every thread that finishes before the next one. Jobs already claimed are handed
 * out even after a first stop request (they are in hand); none are claimed then. TAKE_NONE when a
 * claim came back empty (the caller backs off), TAKE_STOP when the prover is stopping. */
static enum take take_job(struct wgp_worker *w, struct wgp_client *c, json_t *claim, struct job *j)
{
  struct wgp_state *st = w->st;
  const struct wgp_options *o = st->opt;
  enum take result;
  pthread_mutex_lock(&st->claim_lock);
  st->waiting++;
  if (w->expecting) {
    st->expecting--;
    w->expecting = false;
  }
  unsigned long long empty_seen = st->empty_claims;
  for (;;) {
    if (st->n_jobs > 0 && wgp_stopping(st) < WGP_STOP_NOW) {
      /* First in, first out: jobs are handed out in the server's claim order. */
      struct job *first = st->jobs[0];
      memmove(st->jobs, st->jobs + 1, --st->n_jobs * sizeof *st->jobs);
      *j = *first;
      free(first);
      j->started_at = wgp_now_ms();
      result = TAKE_JOB;
      break;
    }
    if (wgp_stopping(st) != WGP_RUNNING) {
      result = TAKE_STOP;
      break;
    }
    if (st->empty_claims != empty_seen) {
      result = TAKE_NONE;
      break;
    }
    if (st->waiting > st->requested) {
      long long n = o->batch > 0 ? o->batch : o->concurrency;
      if (o->max_jobs > 0) {
        /* Never more than --max-jobs leaves room for: waiting threads hold a reservation each. */
        long long room = o->max_jobs - atomic_load(&st->reserved) + st->waiting - st->requested;
        n = n < room ? n : room;
      }
      n = n < 1 ? 1 : n;
      st->requested += (int)n;
      pthread_mutex_unlock(&st->claim_lock);
      enum take got = claim_for(w, c, claim, (int)n, false);
      pthread_mutex_lock(&st->claim_lock);
      st->requested -= (int)n;
      if (got == TAKE_NONE)
        st->empty_claims++;
      pthread_cond_broadcast(&st->claimed);
      if (got == TAKE_STOP) {
        result = TAKE_STOP;
        break;
      }
      continue;
    }
    pthread_cond_wait(&st->claimed, &st->claim_lock);
  }
  st->waiting--;
  pthread_mutex_unlock(&st->claim_lock);
  return result;
}

void *wgp_keeper_run(void *arg)
{
  struct wgp_state *st = arg;
  struct wgp_client c;
  if (wgp_client_init(&c, st) != 0) {
    wg_error("cannot set up the heartbeat thread's HTTP client");
    fatal(st);
    return NULL;
  }
  while (!atomic_load(&st->keeper_stop)) {
    wgp_sleep_ms(st, 250, WGP_STOP_NOW);
    /* The jobs claimed and waiting for a thread whose lease needs extending. */
    long long ids[64];
    char leases[64][WGP_LEASE_MAX + 1];
    int due = 0;
    long long now = wgp_now_ms();
    pthread_mutex_lock(&st->claim_lock);
    for (size_t i = 0; i < st->n_jobs && due < 64; i++) {
      struct job *j = st->jobs[i];
      if (now - j->last_contact >= j->heartbeat_ms) {
        ids[due] = j->id;
        memcpy(leases[due++], j->lease, sizeof j->lease);
      }
    }
    pthread_mutex_unlock(&st->claim_lock);
    for (int k = 0; k < due && wgp_stopping(st) < WGP_STOP_NOW; k++) {
      char path[64];
      snprintf(path, sizeof path, "/jobs/%lld/heartbeat", ids[k]);
      long status = wgp_call(&c, "POST", path, NULL, leases[k], NULL, 0, WGP_STOP_NOW);
      pthread_mutex_lock(&st->claim_lock);
      for (size_t i = 0; i < st->n_jobs; i++) {
        struct job *j = st->jobs[i];
        if (j->id != ids[k])
          continue;
        if (status == 200) {
          j->last_contact = wgp_now_ms();
        } else if (status == 404 || status == 409) {
          wg_warn("%s: lost while waiting for a thread (HTTP %ld); dropping it", j->what, status);
          atomic_fetch_add(&st->stats.lost_leases, 1);
          free(j);
          memmove(st->jobs + i, st->jobs + i + 1, (--st->n_jobs - i) * sizeof *st->jobs);
        }
        break;
      }
      pthread_mutex_unlock(&st->claim_lock);
    }
  }
  /* Jobs still waiting were abandoned by a second stop request: their leases expire. */
  pthread_mutex_lock(&st->claim_lock);
  for (size_t i = 0; i < st->n_jobs; i++) {
    wg_warn("%s: abandoned while stopping; its lease will expire on the server", ((struct job *)st->jobs[i])->what);
    atomic_fetch_add(&st->stats.abandoned, 1);
    free(st->jobs[i]);
  }
  st->n_jobs = 0;
  pthread_mutex_unlock(&st->claim_lock);
  wgp_client_free(&c);
  return NULL;
}

/* The "code" of an error reply, or "" when the body is not one. */
static void error_code(struct wgp_client *c, char *out, size_t n)
{
  json_t *doc = json_loadb((const char *)c->body, c->len, 0, NULL);
  const char *code = json_string_value(json_object_get(json_object_get(doc, "error"), "code"));
  snprintf(out, n, "%s", code ? code : "");
  json_decref(doc);
}

/* Gives up a job after a request about it got answer status (or none). Always false. */
static bool drop(struct wgp_worker *w, struct wgp_client *c, const struct job *j, const char *doing, long status)
{
  struct wgp_stats *s = &w->st->stats;
  char text[320], code[40];
  if (status == 409) {
    error_code(c, code, sizeof code);
    atomic_fetch_add(&s->lost_leases, 1);
    wg_warn("%s: could not %s: %s (%s); dropping the job", j->what, doing,
            strcmp(code, "conflict") == 0 ? "another proof was accepted first" : "the lease was lost",
            code[0] ? code : "409");
    return false;
  }
  atomic_fetch_add(&s->abandoned, 1);
  if (status == WGP_GAVE_UP)
    wg_warn("%s: abandoned while stopping; its lease will expire on the server", j->what);
  else if (status == WGP_LOCAL_ERROR)
    wg_error("%s: could not %s; dropping the job", j->what, doing);
  else if (status == 404)
    wg_warn("%s: could not %s: the job no longer exists", j->what, doing);
  else
    wg_error("%s: could not %s: HTTP %ld %s; dropping the job", j->what, doing, status,
             wgp_client_body_text(c, text, sizeof text));
  return false;
}

/* Hands a job back with a reason, through POST /proofs/{id}/fail, so it need not wait for its
 * lease to expire. */
static void report_failure(struct wgp_worker *w, struct wgp_client *c, const struct job *j, const char *reason)
{
  char path[64], text[320];
  json_t *b = json_pack("{s:s}", "error", reason);
  char *body = b ? json_dumps(b, JSON_COMPACT) : NULL;
  json_decref(b);
  if (body == NULL) {
    wg_error("%s: out of memory reporting its failure", j->what);
    return;
  }
  snprintf(path, sizeof path, "/proofs/%lld/fail", j->id);
  long status = wgp_call(c, "POST", path, "application/json", j->lease, body, strlen(body), WGP_STOP_NOW);
  free(body);
  atomic_fetch_add(&w->st->stats.abandoned, 1);
  if (status == 200)
    wg_warn("%s: reported as failed", j->what);
  else if (status > 0)
    wg_warn("%s: reporting the failure got HTTP %ld %s", j->what, status, wgp_client_body_text(c, text, sizeof text));
}

/* --claim-ahead-ms: a thread whose proof ends within that time counts as expecting a job, and
 * claims (without waiting at the server) when the threads waiting or expecting outnumber the jobs
 * in hand and on their way, so that its next job is there when its proof is done. Not with
 * --max-jobs (a thread reserves its next job only once it has finished this one) nor once
 * stopping. */
static void claim_ahead(struct wgp_worker *w, struct wgp_client *c)
{
  struct wgp_state *st = w->st;
  const struct wgp_options *o = st->opt;
  if (o->max_jobs > 0 || wgp_stopping(st) != WGP_RUNNING)
    return;
  pthread_mutex_lock(&st->claim_lock);
  w->expecting = true;
  st->expecting++;
  long long short_by = st->waiting + st->expecting - st->requested - (long long)st->n_jobs;
  if (short_by <= 0) {
    pthread_mutex_unlock(&st->claim_lock);
    return;
  }
  int n = o->batch > 0 ? o->batch : o->concurrency;
  st->requested += n;
  pthread_mutex_unlock(&st->claim_lock);
  claim_for(w, c, w->claim, n, true); /* an empty or failed claim ahead leaves it to take_job */
  pthread_mutex_lock(&st->claim_lock);
  st->requested -= n;
  pthread_cond_broadcast(&st->claimed);
  pthread_mutex_unlock(&st->claim_lock);
}

/* Spends the rest of --prove-ms from when the thread took the job, sending a heartbeat each
 * heartbeat interval since the claim or the last heartbeat, and claiming ahead (claim_ahead)
 * once the end is near. */
static bool wait_with_heartbeats(struct wgp_worker *w, struct wgp_client *c, const struct job *j)
{
  const struct wgp_options *o = w->st->opt;
  long long deadline = j->started_at + o->prove_ms, last_contact = j->last_contact, interval = j->heartbeat_ms;
  bool ahead = o->claim_ahead_ms <= 0;
  char path[64];
  snprintf(path, sizeof path, "/jobs/%lld/heartbeat", j->id);
  for (;;) {
    long long now = wgp_now_ms(), next_heartbeat = last_contact + interval;
    if (now >= deadline)
      return true;
    if (!ahead && now >= deadline - o->claim_ahead_ms) {
      ahead = true;
      claim_ahead(w, c);
      continue;
    }
    if (now >= next_heartbeat) {
      long status = wgp_call(c, "POST", path, NULL, j->lease, NULL, 0, WGP_STOP_NOW);
      if (status != 200)
        return drop(w, c, j, "extend its lease", status);
      wg_debug("%s: lease extended", j->what);
      last_contact = wgp_now_ms();
      json_t *doc = json_loadb((const char *)c->body, c->len, 0, NULL);
      interval = heartbeat_interval(w->st->opt, doc);
      json_decref(doc);
      continue;
    }
    long long until = deadline < next_heartbeat ? deadline : next_heartbeat;
    if (!ahead && deadline - o->claim_ahead_ms < until)
      until = deadline - o->claim_ahead_ms;
    if (!wgp_sleep_ms(w->st, until - now, WGP_STOP_NOW))
      return drop(w, c, j, "finish", WGP_GAVE_UP);
  }
}

static long post_complete(struct wgp_client *c, const struct job *j, const uint8_t *proof, size_t len)
{
  char path[64];
  snprintf(path, sizeof path, "/proofs/%lld/complete", j->id);
  return wgp_call(c, "POST", path, "application/octet-stream", j->lease, proof, len, WGP_STOP_NOW);
}

/* --corrupt-every: posts the proof with one byte flipped, which the server must refuse with 400
 * and leave the job leased to us. False when the job is lost on the way. */
static bool post_corrupted(struct wgp_worker *w, struct wgp_client *c, const struct job *j, const uint8_t *proof,
                           size_t len)
{
  uint8_t *bad = malloc(len ? len : 1);
  if (bad == NULL)
    return true; /* skip the exercise, not the job */
  memcpy(bad, proof, len);
  if (len > 0)
    bad[len - 1] ^= 0xff;
  long status = post_complete(c, j, bad, len);
  free(bad);
  if (status == 400) {
    atomic_fetch_add(&w->st->stats.rejected, 1);
    if (w->st->opt->verbose)
      wg_info("%s: corrupted proof rejected, as it should be", j->what);
    return true;
  }
  if (status == 200) {
    /* The server stored a wrong proof: exactly what --corrupt-every exists to catch. */
    wg_error("%s: the server ACCEPTED a corrupted proof", j->what);
    atomic_store(&w->st->exit_code, 1);
    atomic_fetch_add(&w->st->stats.abandoned, 1);
    return false;
  }
  return drop(w, c, j, "post a corrupted proof", status);
}

/* Everything between the claim and the proof's post: the witness, the proof and the rest of
 * --prove-ms with heartbeats. True with the proof in *proof (the caller frees it); false when the
 * job was given up (logged). */
static bool prove(struct wgp_worker *w, struct wgp_client *c, const struct job *j, uint8_t **proof, size_t *len)
{
  char path[64];
  snprintf(path, sizeof path, "/jobs/%lld/witness", j->id);
  long status = wgp_call(c, "GET", path, NULL, j->lease, NULL, 0, WGP_STOP_NOW);
  if (status != 200)
    return drop(w, c, j, "download its witness", status);
  *proof = NULL;
  *len = 0;
  if (wg_scheme_reference.prove(c->body, c->len, proof, len) != 0) {
    wg_error("%s: the %s scheme could not prove its witness", j->what, wg_scheme_reference.name);
    report_failure(w, c, j, "wg-prover: the proof scheme could not prove the witness");
    return false;
  }
  if (!wait_with_heartbeats(w, c, j)) {
    free(*proof);
    *proof = NULL;
    return false;
  }
  return true;
}

/* Posts a proof (after a corrupted copy when corrupt is set). True when the server accepted it.
 * Runs on the worker's thread or on a sender's, with that thread's client. */
static bool deliver(struct wgp_worker *w, struct wgp_client *c, const struct job *j, const uint8_t *proof,
                    size_t len, bool corrupt)
{
  char text[320], reason[400];
  if (corrupt && !post_corrupted(w, c, j, proof, len))
    return false;
  long status = post_complete(c, j, proof, len);
  if (status == 200) {
    if (w->st->opt->verbose)
      wg_info("%s: proved in %lld ms", j->what, wgp_now_ms() - j->claimed_at);
    return true;
  }
  if (status == 400) {
    /* Our own scheme disagrees with the server's: nothing a retry can fix. */
    atomic_fetch_add(&w->st->stats.rejected, 1);
    wgp_client_body_text(c, text, sizeof text);
    wg_error("%s: the server rejected our proof: %s", j->what, text);
    snprintf(reason, sizeof reason, "wg-prover: proof rejected by the server: %s", text);
    report_failure(w, c, j, reason);
  } else
    drop(w, c, j, "post its proof", status);
  return false;
}

/* Counts a delivered proof towards the summary and --max-jobs, or gives back the --max-jobs slot
 * of one that was not. */
static void settle(struct wgp_state *st, const struct job *j, bool proved)
{
  if (!proved) {
    wgp_release_job(st);
    return;
  }
  long long n = atomic_fetch_add(&st->stats.proved, 1) + 1;
  atomic_fetch_add(&st->stats.proved_by_round[j->round], 1);
  if (st->opt->max_jobs > 0 && n >= st->opt->max_jobs)
    wgp_request_stop(st, WGP_STOP_AFTER_JOB);
}

/* Proofs on their way to the server. A worker hands its proof to the sender threads and goes on
 * to its next job at once, the way a GPU starts its next circuit while the last proof uploads; it
 * waits only when its previous proof is still unsent, so the list never holds more than one proof
 * per worker. */
struct outgoing {
  struct wgp_worker *w;
  struct job j;
  uint8_t *proof;
  size_t len;
  bool corrupt;
};

struct wgp_outbox {
  struct wgp_state *st;
  pthread_mutex_t lock;
  pthread_cond_t ready; /* a proof was added, or the outbox closed */
  pthread_cond_t *sent; /* per worker (by index): its proof was posted */
  struct outgoing *items; /* a ring of cap items */
  size_t head, n, cap;
  bool closed;
  int n_senders, n_clients;
  struct wgp_client *clients; /* one per sender */
  pthread_t *threads;
};

struct sender_arg {
  struct wgp_outbox *ob;
  int index;
};

static void *sender_run(void *arg)
{
  struct wgp_outbox *ob = ((struct sender_arg *)arg)->ob;
  struct wgp_client *c = &ob->clients[((struct sender_arg *)arg)->index];
  free(arg);
  for (;;) {
    pthread_mutex_lock(&ob->lock);
    while (ob->n == 0 && !ob->closed)
      pthread_cond_wait(&ob->ready, &ob->lock);
    if (ob->n == 0) {
      pthread_mutex_unlock(&ob->lock);
      return NULL;
    }
    struct outgoing o = ob->items[ob->head];
    ob->head = (ob->head + 1) % ob->cap;
    ob->n--;
    pthread_mutex_unlock(&ob->lock);
    bool ok = deliver(o.w, c, &o.j, o.proof, o.len, o.corrupt);
    free(o.proof);
    settle(ob->st, &o.j, ok);
    pthread_mutex_lock(&ob->lock);
    o.w->sending = false;
    pthread_cond_signal(&ob->sent[o.w->index]); /* only its worker waits on it */
    pthread_mutex_unlock(&ob->lock);
  }
}

/* Takes the proof (freed by the sender); waits first while w's previous proof is unsent. */
static void outbox_put(struct wgp_outbox *ob, struct wgp_worker *w, const struct job *j, uint8_t *proof, size_t len,
                       bool corrupt)
{
  pthread_mutex_lock(&ob->lock);
  while (w->sending)
    pthread_cond_wait(&ob->sent[w->index], &ob->lock);
  w->sending = true;
  ob->items[(ob->head + ob->n) % ob->cap] = (struct outgoing){w, *j, proof, len, corrupt};
  ob->n++;
  pthread_cond_signal(&ob->ready);
  pthread_mutex_unlock(&ob->lock);
}

static void outbox_free(struct wgp_outbox *ob)
{
  for (int i = 0; i < ob->n_clients; i++)
    wgp_client_free(&ob->clients[i]);
  for (size_t i = 0; ob->sent != NULL && i < ob->cap; i++)
    pthread_cond_destroy(&ob->sent[i]);
  pthread_cond_destroy(&ob->ready);
  pthread_mutex_destroy(&ob->lock);
  free(ob->sent);
  free(ob->clients);
  free(ob->threads);
  free(ob->items);
  free(ob);
}

struct wgp_outbox *wgp_outbox_start(struct wgp_state *st, int senders, int workers)
{
  struct wgp_outbox *ob = calloc(1, sizeof *ob);
  if (ob == NULL)
    return NULL;
  *ob = (struct wgp_outbox){.st = st, .cap = (size_t)workers};
  ob->items = calloc((size_t)workers, sizeof *ob->items);
  ob->clients = calloc((size_t)senders, sizeof *ob->clients);
  ob->threads = calloc((size_t)senders, sizeof *ob->threads);
  pthread_mutex_init(&ob->lock, NULL);
  pthread_cond_init(&ob->ready, NULL);
  ob->sent = calloc((size_t)workers, sizeof *ob->sent);
  for (int i = 0; ob->sent != NULL && i < workers; i++)
    pthread_cond_init(&ob->sent[i], NULL);
  if (ob->items != NULL && ob->sent != NULL && ob->clients != NULL && ob->threads != NULL)
    while (ob->n_clients < senders && wgp_client_init(&ob->clients[ob->n_clients], st) == 0)
      ob->n_clients++;
  if (ob->n_clients < senders) {
    outbox_free(ob);
    return NULL;
  }
  for (; ob->n_senders < senders; ob->n_senders++) {
    struct sender_arg *a = malloc(sizeof *a);
    if (a != NULL)
      *a = (struct sender_arg){ob, ob->n_senders};
    if (a == NULL || pthread_create(&ob->threads[ob->n_senders], NULL, sender_run, a) != 0) {
      free(a);
      wgp_outbox_finish(ob);
      return NULL;
    }
  }
  return ob;
}

void wgp_outbox_finish(struct wgp_outbox *ob)
{
  if (ob == NULL)
    return;
  pthread_mutex_lock(&ob->lock);
  ob->closed = true;
  pthread_cond_broadcast(&ob->ready);
  pthread_mutex_unlock(&ob->lock);
  for (int i = 0; i < ob->n_senders; i++)
    pthread_join(ob->threads[i], NULL);
  outbox_free(ob);
}

void *wgp_worker_run(void *arg)
{
  struct wgp_worker *w = arg;
  struct wgp_state *st = w->st;
  const struct wgp_options *o = st->opt;
  struct wgp_client c;
  json_t *claim = claim_body(w);
  w->claim = claim;
  if (claim == NULL || wgp_client_init(&c, st) != 0) {
    wg_error("thread %d: cannot set up its HTTP client", w->index);
    json_decref(claim);
    fatal(st);
    return NULL;
  }
  long long idle_since = -1, no_job_wait = NO_JOB_FIRST_WAIT_MS;
  while (wgp_stopping(st) < WGP_STOP_NOW && wgp_reserve_job(st)) {
    struct job j;
    enum take got = take_job(w, &c, claim, &j);
    if (got == TAKE_NONE) {
      wgp_release_job(st);
      long long now = wgp_now_ms();
      if (idle_since < 0)
        idle_since = now;
      long long wait = atomic_load(&st->waited_for_work) ? 0 : no_job_wait;
      if (o->until_idle) {
        long long left = idle_since + o->idle_ms - now;
        if (left <= 0)
          break;
        wait = wait < left ? wait : left;
      }
      wgp_sleep_ms(st, wait, WGP_STOP_AFTER_JOB);
      no_job_wait = no_job_wait * 2 > NO_JOB_MAX_WAIT_MS ? NO_JOB_MAX_WAIT_MS : no_job_wait * 2;
      continue;
    }
    if (got != TAKE_JOB) {
      wgp_release_job(st);
      break;
    }
    idle_since = -1;
    no_job_wait = NO_JOB_FIRST_WAIT_MS;
    uint8_t *proof;
    size_t len;
    if (!prove(w, &c, &j, &proof, &len)) {
      wgp_release_job(st);
      continue;
    }
    w->proofs_made++;
    bool corrupt = o->corrupt_every > 0 && w->proofs_made % o->corrupt_every == 0;
    if (w->outbox != NULL) {
      outbox_put(w->outbox, w, &j, proof, len, corrupt);
      continue;
    }
    bool ok = deliver(w, &c, &j, proof, len, corrupt);
    free(proof);
    settle(st, &j, ok);
  }
  if (w->expecting) { /* claimed ahead for a job this thread will not take */
    pthread_mutex_lock(&st->claim_lock);
    st->expecting--;
    w->expecting = false;
    pthread_mutex_unlock(&st->claim_lock);
  }
  if (o->verbose)
    wg_info("thread %d (%s): done", w->index, w->prover_id);
  wgp_client_free(&c);
  json_decref(claim);
  return NULL;
}
