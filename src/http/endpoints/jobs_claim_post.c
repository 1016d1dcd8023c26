/* POST /jobs/claim: a prover takes the next queued circuit, optionally filtered by round and
 * circuit id, for its protocol version; with "limit": N, up to N of them at once, claimed by one
 * statement, each with its own lease. 204 when there is none; with "wait_ms", once none has come
 * for that long (the claim is parked meanwhile, http/claim_wait.h). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "circuits/circuits.h"
#include "common/log.h"
#include "common/text.h"
#include "config/settings.h"
#include "db/claimer.h"
#include "db/job_cache.h"
#include "db/prover_jobs.h"
#include "http/claim_wait.h"
#include "http/endpoints.h"

#define CLAIM_LIMIT_MAX 256
#define CLAIM_WAIT_MAX_MS 30000

/* The keys a claim body may hold (api/openapi.yaml, ClaimRequest). */
static const char *const claim_keys[] = {"prover_id", "protocol_version", "rounds", "circuit_ids", "limit", "wait_ms", NULL};

/* A version this daemon does not serve can never have a job queued, so a 204 would leave the
 * prover polling forever; refuse it so that the misconfiguration shows at once. */
static bool protocol_served(struct wg_request *rq, uint32_t version)
{
  size_t n;
  if (wg_circuit_table(version, &n) != NULL)
    return true;
  char served[64];
  wg_protocol_versions_text(served, sizeof served);
  wg_reply_error(rq, 400, "invalid_input",
                 "$.protocol_version: this daemon serves protocol version %s, not %u; no job of version %u will ever"
                 " be queued here",
                 served, (unsigned)version, (unsigned)version);
  return false;
}

/* What a claim handed over, for the end of the request. */
struct handed {
  struct wg_prover_job *jobs;
  size_t n;
};

static void give_back(struct wg_request *rq, struct wg_prover_job *jobs, size_t n)
{
  struct wg_dbconn *c = wg_request_db(rq);
  enum wg_status s = c ? wg_prover_jobs_give_back(c, jobs, n) : WG_E_UNAVAILABLE;
  if (s == WG_OK)
    wg_info("a claim of %zu job(s) (first %lld) never reached its prover; given back", n, (long long)jobs[0].id);
  else
    wg_warn("a claim of %zu job(s) (first %lld) never reached its prover and could not be given back (%s); they"
            " come back when their claim grace runs out",
            n, (long long)jobs[0].id, wg_status_name(s));
}

/* A claim reply that did not reach its prover whole gives its jobs back at once. */
static void claim_ended(struct wg_request *rq, bool delivered)
{
  struct handed *h = rq->on_end_arg;
  if (!delivered)
    give_back(rq, h->jobs, h->n);
  free(h->jobs);
  free(h);
  rq->on_end_arg = NULL;
}

/* The reply to a claim with its outcome; takes jobs. */
static int hand_over(struct wg_request *rq, enum wg_status s, struct wg_prover_job *jobs, size_t n, bool as_list)
{
  int r;
  struct handed *h = n > 0 ? malloc(sizeof *h) : NULL;
  if (s != WG_OK)
    r = wg_reply_status(rq, s, "could not claim a job");
  else if (n == 0)
    r = wg_reply_empty(rq, 204);
  else if (h == NULL || wg_request_client_gone(rq)) {
    /* The prover stopped waiting while the claim ran (or there is no memory to hand it over):
     * nobody will ever learn these leases. */
    give_back(rq, jobs, n);
    r = wg_reply_status(rq, WG_E_UNAVAILABLE, "the claim could not be handed over");
  } else {
    for (size_t i = 0; i < n; i++)
      wg_job_cache_put(rq->app->jobs, &jobs[i]); /* where the prover's proof will be checked */
    if (!as_list)
      r = wg_reply_json(rq, 200, wg_prover_job_json(&jobs[0]));
    else {
      json_t *list = json_array();
      for (size_t i = 0; i < n; i++)
        json_array_append_new(list, wg_prover_job_json(&jobs[i]));
      r = wg_reply_json(rq, 200, json_pack("{s:o}", "jobs", list));
    }
    h->jobs = jobs;
    h->n = n;
    jobs = NULL;
    rq->on_end = claim_ended;
    rq->on_end_arg = h;
    h = NULL;
  }
  free(h);
  free(jobs);
  return r;
}

static char *copy(const char *s) { return s != NULL && s[0] != '\0' ? strdup(s) : NULL; }

/* A claim that found nothing and may wait: parked until a job comes or its wait runs out. False
 * when it cannot wait here (the daemon is stopping, or too many wait): it answers 204 now. */
static bool park(struct wg_request *rq, const struct wg_claim *x, bool as_list, int64_t wait_ms)
{
  struct wg_parked_claim *p = calloc(1, sizeof *p);
  if (p == NULL)
    return false;
  p->prover_id = strdup(x->prover_id);
  p->rounds = copy(x->filter->rounds);
  p->circuit_ids = copy(x->filter->circuit_ids);
  if (p->prover_id == NULL || (x->filter->rounds != NULL && p->rounds == NULL) ||
      (x->filter->circuit_ids != NULL && p->circuit_ids == NULL)) {
    wg_parked_claim_free(p);
    return false;
  }
  p->filter = (struct wg_claim_filter){x->filter->protocol_version, p->rounds, p->circuit_ids};
  p->claim = (struct wg_claim){p->prover_id, rq->token_name, &p->filter, x->limit, WG_OK, NULL, 0};
  p->as_list = as_list;
  p->deadline_ms = rq->started_us / 1000 + wait_ms;
  p->rq = rq;
  p->reply = hand_over;
  p->give_back = give_back;
  if (atomic_load(&rq->app->closing) || rq->app->waiters == NULL || !wg_claim_waiters_park(rq->app->waiters, p)) {
    wg_parked_claim_free(p);
    return false;
  }
  return true;
}

int wg_h_jobs_claim_post(struct wg_request *rq)
{
  json_t *body;
  if (!wg_request_json(rq, claim_keys, &body))
    return 1;
  char rounds[512], circuits[512];
  json_t *prover = json_object_get(body, "prover_id"), *pv = json_object_get(body, "protocol_version"),
         *limit = json_object_get(body, "limit"), *wait = json_object_get(body, "wait_ms");
  /* The prover's name is shown to operators (picked_by, the attempts): stored without control
   * characters (common/text.h). */
  char *prover_id =
    json_is_string(prover) ? wg_text_clean(json_string_value(prover), json_string_length(prover)) : NULL;
  int r;
  if (prover_id == NULL || prover_id[0] == '\0' || json_string_length(prover) > 200)
    r = wg_reply_error(rq, 400, "invalid_input",
                       "$.prover_id: expected a string of 1 to 200 characters, not all of them control characters");
  else if (!json_is_integer(pv) || json_integer_value(pv) < 0 || json_integer_value(pv) > 65535)
    r = wg_reply_error(rq, 400, "invalid_input", "$.protocol_version: expected the prover's protocol version");
  else if (limit != NULL && (!json_is_integer(limit) || json_integer_value(limit) < 1 ||
                             json_integer_value(limit) > CLAIM_LIMIT_MAX))
    r = wg_reply_error(rq, 400, "invalid_input", "$.limit: expected an integer from 1 to %d (jobs to claim at once)",
                       CLAIM_LIMIT_MAX);
  else if (wait != NULL && (!json_is_integer(wait) || json_integer_value(wait) < 0 ||
                            json_integer_value(wait) > CLAIM_WAIT_MAX_MS))
    r = wg_reply_error(rq, 400, "invalid_input",
                       "$.wait_ms: expected an integer from 0 to %d (milliseconds to wait for a job)",
                       CLAIM_WAIT_MAX_MS);
  else if (!protocol_served(rq, (uint32_t)json_integer_value(pv)))
    r = 1;
  else if (!wg_request_int_list(rq, body, "rounds", 3, rounds, sizeof rounds) ||
           !wg_request_int_list(rq, body, "circuit_ids", 255, circuits, sizeof circuits))
    r = 1;
  else {
    struct wg_claim_filter f = {(int)json_integer_value(pv), rounds[0] ? rounds : NULL, circuits[0] ? circuits : NULL};
    /* Claims arriving together share one statement (db/claimer.h). */
    struct wg_claim x = {prover_id, rq->token_name, &f, limit ? (int)json_integer_value(limit) : 1,
                         WG_OK, NULL, 0};
    wg_claimer_submit(rq->app->claimer, &x);
    int64_t wait_ms = wait != NULL ? json_integer_value(wait) : 0;
    if (x.status == WG_OK && x.n == 0 && wait_ms > 0 && park(rq, &x, limit != NULL, wait_ms))
      r = 1; /* answered when woken */
    else
      r = hand_over(rq, x.status, x.jobs, x.n, limit != NULL);
  }
  free(prover_id);
  json_decref(body);
  return r;
}
