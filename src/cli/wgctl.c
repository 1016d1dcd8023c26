/* wgctl: the operator's command line. Speaks to the database directly (it must work while no
 * daemon runs, e.g. to migrate or to create the first tokens). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

#include "auth/auth.h"
#include "cli/table.h"
#include "common/hex.h"
#include "common/log.h"
#include "common/text.h"
#include "config/settings.h"
#include "db/db.h"
#include "db/batch_locks.h"
#include "db/job_views.h"
#include "db/batches.h"
#include "db/priorities.h"
#include "db/queue.h"
#include "db/repairs.h"
#include "db/stats.h"
#include "db/store_config.h"
#include "db/tokens.h"
#include "input/generate.h"
#include "store/store.h"
#include "store/sweep.h"

/* --json, anywhere on the command line: every command then prints exactly one JSON document on
 * stdout (and its errors still on stderr), for scripts; without it, tables for people. */
static bool json_output;

static void usage(FILE *f)
{
  fprintf(f, "usage: wgctl [--db CONNINFO] [--store URL] [--config FILE] [--json] COMMAND\n\n"
             "commands:\n"
             "  migrate                               apply pending schema migrations\n"
             "  token add --role ROLE [--name NAME]   create a token (tree, prover, viewer, admin);\n"
             "                                        prints it once on stdout\n"
             "  token list                            list tokens (never their values)\n"
             "  token revoke NAME                     revoke a token\n"
             "  status [BATCH]                        every batch with its progress, or one batch per round\n"
             "  requeue JOB | --job ID | --witness-job ROUND/ID | --batch N | --failed\n"
             "                                        failed jobs back to queued: one prover job, one\n"
             "                                        witness job of a round (0-3), those of a batch, or\n"
             "                                        those of every batch\n"
             "  priority BATCH N                      set a batch's priority, -100 to 100 (default 0):\n"
             "                                        its jobs are claimed before lower ones\n"
             "  attempts JOB                          every claim of a prover job: who, when, how it ended\n"
             "  restart BATCH                         start a batch over from its stored input\n"
             "                                        (in the store the daemons recorded)\n"
             "  delete BATCH                          remove a batch, its jobs, proofs and blobs\n"
             "                                        (in the store the daemons recorded)\n"
             "  stats [--since DURATION]              batches proven, jobs per round, failures, mean and\n"
             "                                        p95 times; DURATION like 90s, 15m, 2h, 7d\n"
             "  archive --older-than SECONDS          move prover jobs of long-proven batches to the archive\n"
             "  queue                                 prover jobs queued, in progress and in backoff per\n"
             "                                        protocol version, round and circuit id\n"
             "  queue pause|resume [--protocol-version V] [--rounds R,...] [--circuit-ids C,...]\n"
             "                                        stop claims of the jobs the filter names (none:\n"
             "                                        every job), or remove the pauses it covers\n"
             "  gen-input --batch N [--logs L] [--workload key=value,...] [--initial K] [--seed S]\n"
             "                                        print a valid synthetic witness input (JSON);\n"
             "                                        wgctl gen-input --help explains the options\n\n"
             "--json makes any command print one JSON document on stdout instead of a table.\n"
             "Exit status: 0 success, 1 the operation failed, 2 bad usage.\n");
}

/* One JSON document on stdout. Reals keep 10 significant digits: enough for microsecond timings,
 * and no binary noise such as 0.27435900000000002. Plain ASCII (common/text.h), so that no
 * control byte of a stored error reaches a terminal even through --json. */
static int print_json(json_t *j)
{
  char *text = wg_json_dumps_plain(j, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
  json_decref(j);
  if (text == NULL)
    return 1;
  puts(text);
  free(text);
  return 0;
}

static struct wg_dbconn *connect_or_die(const struct wg_config *cfg)
{
  char err[512];
  struct wg_dbconn *c = wg_db_connect(cfg->db, err, sizeof err);
  if (c == NULL) {
    fprintf(stderr, "wgctl: cannot connect to the database: %s\n", err);
    exit(1);
  }
  return c;
}

static int cmd_migrate(const struct wg_config *cfg)
{
  char err[512];
  PGconn *pg = wg_db_open_raw(cfg->db, err, sizeof err);
  if (pg == NULL) {
    fprintf(stderr, "wgctl: cannot connect to the database: %s\n", err);
    return 1;
  }
  enum wg_status s = wg_db_migrate(pg, err, sizeof err);
  PQfinish(pg);
  if (s != WG_OK) {
    fprintf(stderr, "wgctl: migrate: %s\n", err);
    return 1;
  }
  if (json_output)
    return print_json(json_pack("{s:i}", "schema_version", wg_db_schema_version()));
  fprintf(stderr, "schema is at version %d\n", wg_db_schema_version());
  return 0;
}

static int cmd_token_add(const struct wg_config *cfg, int argc, char **argv)
{
  const char *role_name = NULL, *name = NULL;
  for (int i = 0; i < argc; i++) {
    if (strcmp(argv[i], "--role") == 0 && i + 1 < argc)
      role_name = argv[++i];
    else if (strcmp(argv[i], "--name") == 0 && i + 1 < argc)
      name = argv[++i];
    else {
      fprintf(stderr, "wgctl: token add: unexpected argument \"%s\"\n", argv[i]);
      return 2;
    }
  }
  enum wg_role role = wg_role_parse(role_name);
  if (role == WG_ROLE_NONE) {
    fprintf(stderr, "wgctl: token add: --role must be tree, prover, viewer or admin\n");
    return 2;
  }
  /* Jobs are bound to the name of the token that claimed them: names are whole, short and
   * printable (valid UTF-8 without any C0 or C1 control), so that the daemon never confuses two
   * of them nor prints a control byte. */
  if (name != NULL) {
    if (*name == '\0' || strlen(name) > WG_TOKEN_NAME_MAX || wg_text_needs_escape(name, 0)) {
      fprintf(stderr, "wgctl: token add: --name must be 1 to %d printable characters\n", WG_TOKEN_NAME_MAX);
      return 2;
    }
  }
  char token[WG_TOKEN_LEN + 1], generated_name[64];
  if (!wg_token_generate(token)) {
    fprintf(stderr, "wgctl: no random source\n");
    return 1;
  }
  if (name == NULL) {
    /* A default name that is unique and says what the token is for. Its suffix is drawn apart
     * from the token: names are listed, and any digits of the token in them would be a part of
     * the secret given away. */
    uint8_t suffix[4];
    char suffix_hex[2 * sizeof suffix + 1];
    if (RAND_bytes(suffix, sizeof suffix) != 1) {
      fprintf(stderr, "wgctl: no random source\n");
      return 1;
    }
    wg_hex_encode(suffix, sizeof suffix, suffix_hex);
    snprintf(generated_name, sizeof generated_name, "%s-%ld-%s", role_name, (long)time(NULL), suffix_hex);
    name = generated_name;
  }
  uint8_t hash[32];
  wg_token_hash(token, hash);
  struct wg_dbconn *c = connect_or_die(cfg);
  enum wg_status s = wg_tokens_add(c, name, role, hash);
  wg_db_disconnect(c);
  if (s == WG_E_CONFLICT) {
    fprintf(stderr, "wgctl: a token named \"%s\" already exists\n", name);
    return 1;
  }
  if (s != WG_OK) {
    fprintf(stderr, "wgctl: token add failed (%s); has the schema been migrated?\n", wg_status_name(s));
    return 1;
  }
  if (json_output)
    return print_json(json_pack("{s:s,s:s,s:s}", "name", name, "role", role_name, "token", token));
  printf("%s\n", token);
  fprintf(stderr, "created %s token \"%s\"; it is shown only this once\n", role_name, name);
  return 0;
}

static int cmd_token_list(const struct wg_config *cfg)
{
  struct wg_dbconn *c = connect_or_die(cfg);
  PGresult *r;
  enum wg_status s = wg_tokens_list(c, &r);
  if (s != WG_OK) {
    wg_db_disconnect(c);
    fprintf(stderr, "wgctl: token list failed (%s)\n", wg_status_name(s));
    return 1;
  }
  static const char *const headers[] = {"NAME", "ROLE", "STATE", "CREATED", NULL};
  struct wg_table *t = json_output ? NULL : wg_table_new(headers, 0);
  json_t *list = json_array();
  for (int i = 0; i < PQntuples(r); i++) {
    const char *state = wg_db_isnull(r, i, 3) ? "active" : "revoked";
    if (t != NULL)
      wg_table_row(t, PQgetvalue(r, i, 0), PQgetvalue(r, i, 1), state, PQgetvalue(r, i, 2));
    json_array_append_new(list, json_pack("{s:s,s:s,s:s,s:s,s:s?}", "name", PQgetvalue(r, i, 0), "role",
                                          PQgetvalue(r, i, 1), "state", state, "created_at", PQgetvalue(r, i, 2),
                                          "revoked_at", wg_db_isnull(r, i, 3) ? NULL : PQgetvalue(r, i, 3)));
  }
  PQclear(r);
  wg_db_disconnect(c);
  if (json_output)
    return print_json(list);
  json_decref(list);
  wg_table_print(t, stdout);
  return 0;
}

static int cmd_token_revoke(const struct wg_config *cfg, const char *name)
{
  struct wg_dbconn *c = connect_or_die(cfg);
  enum wg_status s = wg_tokens_revoke(c, name);
  wg_db_disconnect(c);
  if (s == WG_E_NOT_FOUND) {
    char *shown = wg_cli_text(name);
    fprintf(stderr, "wgctl: no active token named \"%s\"\n", shown);
    free(shown);
    return 1;
  }
  if (s != WG_OK) {
    fprintf(stderr, "wgctl: token revoke failed (%s)\n", wg_status_name(s));
    return 1;
  }
  if (json_output)
    return print_json(json_pack("{s:s,s:b}", "name", name, "revoked", 1));
  char *shown = wg_cli_text(name);
  fprintf(stderr, "revoked token \"%s\"\n", shown);
  free(shown);
  return 0;
}

static bool parse_u64(const char *s, uint64_t *out)
{
  char *end;
  if (s == NULL || *s == '\0' || *s == '-')
    return false;
  unsigned long long v = strtoull(s, &end, 10);
  *out = v;
  return *end == '\0' && v <= INT64_MAX;
}

/* A count cell: blank when zero, so that the columns that matter stand out. */
static void count_cell(json_t *counts, const char *status, char *out, size_t n)
{
  json_int_t v = json_integer_value(json_object_get(counts, status));
  snprintf(out, n, v == 0 ? "" : "%lld", (long long)v);
}

static json_int_t count_all(json_t *counts)
{
  json_int_t total = 0;
  const char *k;
  json_t *v;
  json_object_foreach(counts, k, v)
  total += json_integer_value(v);
  return total;
}

static void progress_cell(json_int_t done, json_int_t total, char *out, size_t n)
{
  if (total == 0)
    snprintf(out, n, "-");
  else
    snprintf(out, n, "%lld/%lld %3lld%%", (long long)done, (long long)total, (long long)(100 * done / total));
}

static double json_seconds(json_t *v) { return json_is_number(v) ? json_number_value(v) : -1; }

static void print_batch_list(json_t *list)
{
  static const char *const headers[] = {"BATCH", "STATUS", "VERSION", "CREATED", "PROVER JOBS", "ELAPSED", NULL};
  struct wg_table *t = wg_table_new(headers, 1u << 0 | 1u << 2 | 1u << 4 | 1u << 5);
  size_t i;
  json_t *b;
  json_array_foreach(list, i, b)
  {
    char number[24], version[16], progress[48], elapsed[32];
    json_t *jobs = json_object_get(b, "prover_jobs");
    snprintf(number, sizeof number, "%lld", (long long)json_integer_value(json_object_get(b, "l1_batch_number")));
    snprintf(version, sizeof version, "%lld", (long long)json_integer_value(json_object_get(b, "protocol_version")));
    progress_cell(json_integer_value(json_object_get(jobs, "successful")),
                  json_integer_value(json_object_get(jobs, "total")), progress, sizeof progress);
    wg_format_duration(json_seconds(json_object_get(b, "elapsed_seconds")), elapsed, sizeof elapsed);
    wg_table_row(t, number, json_string_value(json_object_get(b, "status")), version,
                 json_string_value(json_object_get(b, "created_at")), progress, elapsed);
  }
  wg_table_print(t, stdout);
}

static void print_batch(json_t *b)
{
  static const char *const round_names[] = {"0 basic", "1 leaf", "2 node", "3 scheduler"};
  static const char *const headers[] = {"ROUND",   "W.WAIT", "W.QUEUED", "W.RUNNING", "W.DONE", "W.FAILED",
                                        "P.QUEUED", "P.RUNNING", "P.DONE",  "P.FAILED", "PROGRESS", "STARTED",
                                        "ELAPSED", NULL};
  char *status = wg_cli_text(json_string_value(json_object_get(b, "status")));
  char *created = wg_cli_text(json_string_value(json_object_get(b, "created_at")));
  printf("batch %lld: %s, protocol version %lld, created %s, input %lld bytes\n\n",
         (long long)json_integer_value(json_object_get(b, "l1_batch_number")), status,
         (long long)json_integer_value(json_object_get(b, "protocol_version")), created,
         (long long)json_integer_value(json_object_get(b, "input_bytes")));
  free(status);
  free(created);
  /* Counts and progress (columns 1 to 10) right-aligned, like numbers. */
  struct wg_table *t = wg_table_new(headers, ((1u << 11) - 1) & ~1u);
  size_t i;
  json_t *r;
  json_array_foreach(json_object_get(b, "rounds"), i, r)
  {
    json_t *w = json_object_get(r, "witness_jobs"), *p = json_object_get(r, "prover_jobs");
    char cells[9][24], progress[48], elapsed[32];
    count_cell(w, "waiting_for_proofs", cells[0], sizeof cells[0]);
    count_cell(w, "queued", cells[1], sizeof cells[1]);
    count_cell(w, "in_progress", cells[2], sizeof cells[2]);
    count_cell(w, "successful", cells[3], sizeof cells[3]);
    count_cell(w, "failed", cells[4], sizeof cells[4]);
    count_cell(p, "queued", cells[5], sizeof cells[5]);
    count_cell(p, "in_progress", cells[6], sizeof cells[6]);
    count_cell(p, "successful", cells[7], sizeof cells[7]);
    count_cell(p, "failed", cells[8], sizeof cells[8]);
    progress_cell(json_integer_value(json_object_get(p, "successful")), count_all(p), progress, sizeof progress);
    wg_format_duration(json_seconds(json_object_get(r, "elapsed_seconds")), elapsed, sizeof elapsed);
    wg_table_row(t, i < 4 ? round_names[i] : "?", cells[0], cells[1], cells[2], cells[3], cells[4], cells[5],
                 cells[6], cells[7], cells[8], progress, json_string_value(json_object_get(r, "started_at")),
                 elapsed);
  }
  wg_table_print(t, stdout);
  json_t *errors = json_object_get(b, "errors");
  if (json_array_size(errors) > 0) {
    printf("\nerrors:\n");
    json_t *e;
    json_array_foreach(errors, i, e)
    {
      /* The error is what a prover sent: escaped like every text wgctl did not write. */
      char *href = wg_cli_text(json_string_value(json_object_get(e, "href")));
      char *st = wg_cli_text(json_string_value(json_object_get(e, "status")));
      char *error = wg_cli_text(json_string_value(json_object_get(e, "error")));
      printf("  %s  %s: %s\n", href, st, error);
      free(href);
      free(st);
      free(error);
    }
  }
}

static int cmd_status(const struct wg_config *cfg, int argc, char **argv)
{
  uint64_t batch = 0;
  if (argc > 1 || (argc == 1 && !parse_u64(argv[0], &batch))) {
    fprintf(stderr, "wgctl: status takes at most one batch number\n");
    return 2;
  }
  struct wg_dbconn *c = connect_or_die(cfg);
  json_t *j = NULL;
  enum wg_status s;
  if (argc == 0) {
    s = wg_batches_list(c, -1, false, 1000000, &j);
    if (s == WG_OK)
      s = wg_stats_batch_progress(c, j);
  } else {
    s = wg_batch_get(c, (int64_t)batch, cfg->max_circuits_in_flight, &j);
  }
  wg_db_disconnect(c);
  if (s == WG_E_NOT_FOUND) {
    fprintf(stderr, "wgctl: no batch %llu\n", (unsigned long long)batch);
    return 1;
  }
  if (s != WG_OK) {
    json_decref(j);
    fprintf(stderr, "wgctl: status failed (%s)\n", wg_status_name(s));
    return 1;
  }
  if (json_output)
    return print_json(j);
  if (argc == 0)
    print_batch_list(j);
  else
    print_batch(j);
  json_decref(j);
  return 0;
}

static int requeue_failed(struct wg_dbconn *c)
{
  int64_t *batches = NULL;
  int n = 0, total = 0;
  enum wg_status s = wg_repair_failed_batches(c, &batches, &n);
  json_t *per_batch = json_array();
  /* A transaction per batch, as POST /batches/{n}/requeue does: one batch deleted meanwhile
   * (not found) does not stop the others. */
  for (int i = 0; s == WG_OK && i < n; i++) {
    int requeued = 0;
    enum wg_status bs = wg_repair_requeue_batch(c, batches[i], &requeued);
    if (bs == WG_E_NOT_FOUND)
      continue;
    s = bs;
    total += requeued;
    json_array_append_new(per_batch, json_pack("{s:I,s:i}", "l1_batch_number", (json_int_t)batches[i],
                                               "requeued", requeued));
    if (!json_output)
      printf("requeued %d failed jobs of batch %lld\n", requeued, (long long)batches[i]);
  }
  free(batches);
  if (s != WG_OK) {
    json_decref(per_batch);
    fprintf(stderr, "wgctl: requeue --failed failed (%s)\n", wg_status_name(s));
    return 1;
  }
  if (json_output)
    return print_json(json_pack("{s:i,s:o}", "requeued", total, "batches", per_batch));
  json_decref(per_batch);
  printf("requeued %d failed jobs in %d batches\n", total, n);
  return 0;
}

/* Requeue names a job the way the HTTP API does: JOB or --job ID is a prover job, --witness-job
 * ROUND/ID a witness job (their ids are separate spaces, per round for witness jobs). */
static int cmd_requeue(const struct wg_config *cfg, int argc, char **argv)
{
  static const char usage_text[] = "wgctl: usage: requeue JOB | --job ID | --witness-job ROUND/ID | --batch N | --failed\n"
                                   "  JOB, --job ID         a failed prover job (GET /jobs/ID)\n"
                                   "  --witness-job R/ID    a failed witness job of round R, 0 basic .. 3 scheduler\n"
                                   "                        (GET /witness-jobs/R/ID)\n"
                                   "  --batch N             every failed job of batch N\n"
                                   "  --failed              every failed job of every batch\n";
  uint64_t n = 0, round = 0;
  const char *kind = argc >= 1 ? argv[0] : "";
  const char *value = argc >= 2 ? argv[1] : NULL;
  bool ok;
  if (argc == 1 && strcmp(kind, "--failed") == 0) {
    ok = true;
  } else if (argc == 1 && parse_u64(kind, &n)) {
    ok = true;
    kind = "--job";
  } else if (argc == 2 && strcmp(kind, "--witness-job") == 0) {
    char rbuf[24];
    const char *slash = strchr(value, '/');
    ok = slash != NULL && slash > value && (size_t)(slash - value) < sizeof rbuf;
    if (ok) {
      snprintf(rbuf, sizeof rbuf, "%.*s", (int)(slash - value), value);
      ok = parse_u64(rbuf, &round) && round <= 3 && parse_u64(slash + 1, &n);
    }
  } else {
    ok = argc == 2 && (strcmp(kind, "--batch") == 0 || strcmp(kind, "--job") == 0) && parse_u64(value, &n);
  }
  if (!ok) {
    fputs(usage_text, stderr);
    return 2;
  }
  struct wg_dbconn *c = connect_or_die(cfg);
  if (strcmp(kind, "--failed") == 0) {
    int rc = requeue_failed(c);
    wg_db_disconnect(c);
    return rc;
  }
  enum wg_status s;
  char what[64], status[24] = "";
  json_t *out = NULL;
  if (strcmp(kind, "--batch") == 0) {
    snprintf(what, sizeof what, "batch %llu", (unsigned long long)n);
    int requeued = 0;
    s = wg_repair_requeue_batch(c, (int64_t)n, &requeued);
    if (s == WG_OK && json_output)
      out = json_pack("{s:I,s:i}", "l1_batch_number", (json_int_t)n, "requeued", requeued);
    else if (s == WG_OK)
      printf("requeued %d failed jobs of batch %llu\n", requeued, (unsigned long long)n);
  } else {
    if (strcmp(kind, "--job") == 0) {
      snprintf(what, sizeof what, "job %llu", (unsigned long long)n);
      s = wg_repair_requeue_job(c, (int64_t)n, status);
    } else {
      snprintf(what, sizeof what, "witness job %llu of round %llu", (unsigned long long)n, (unsigned long long)round);
      s = wg_repair_requeue_witness_job(c, (int)round, (int64_t)n, status);
    }
    if (s == WG_OK && json_output)
      out = strcmp(kind, "--job") == 0
              ? json_pack("{s:s,s:I,s:s}", "kind", "prover", "id", (json_int_t)n, "status", status)
              : json_pack("{s:s,s:I,s:I,s:s}", "kind", "witness", "aggregation_round", (json_int_t)round, "id",
                          (json_int_t)n, "status", status);
    else if (s == WG_OK)
      printf("requeued %s\n", what);
    else if (s == WG_E_CONFLICT) {
      char *shown = wg_cli_text(status);
      fprintf(stderr, "wgctl: %s is %s; only failed jobs can be requeued\n", what, shown);
      free(shown);
    }
  }
  wg_db_disconnect(c);
  if (s == WG_E_NOT_FOUND)
    fprintf(stderr, "wgctl: no such %s\n", what);
  else if (s != WG_OK && s != WG_E_CONFLICT)
    fprintf(stderr, "wgctl: requeue failed (%s)\n", wg_status_name(s));
  if (out != NULL)
    return print_json(out);
  return s == WG_OK ? 0 : 1;
}

/* priority BATCH N: what POST /batches/{n}/priority does, through the same operation. */
static int cmd_priority(const struct wg_config *cfg, int argc, char **argv)
{
  uint64_t batch;
  char *end = NULL;
  long priority = argc == 2 ? strtol(argv[1], &end, 10) : 0;
  if (argc != 2 || !parse_u64(argv[0], &batch) || end == argv[1] || *end != '\0' || priority < WG_PRIORITY_MIN ||
      priority > WG_PRIORITY_MAX) {
    fprintf(stderr, "wgctl: usage: priority BATCH N   (N an integer from %d to %d)\n", WG_PRIORITY_MIN,
            WG_PRIORITY_MAX);
    return 2;
  }
  struct wg_dbconn *c = connect_or_die(cfg);
  enum wg_status s = wg_priority_set(c, (int64_t)batch, (int)priority);
  wg_db_disconnect(c);
  if (s == WG_E_NOT_FOUND) {
    fprintf(stderr, "wgctl: no such batch %llu\n", (unsigned long long)batch);
    return 1;
  }
  if (s != WG_OK) {
    fprintf(stderr, "wgctl: priority failed (%s)\n", wg_status_name(s));
    return 1;
  }
  if (json_output)
    return print_json(json_pack("{s:I,s:i}", "l1_batch_number", (json_int_t)batch, "priority", (int)priority));
  printf("batch %llu: priority %ld\n", (unsigned long long)batch, priority);
  return 0;
}

/* attempts JOB: every claim of a prover job, oldest first (GET /jobs/{id}/attempts). */
static int cmd_attempts(const struct wg_config *cfg, int argc, char **argv)
{
  uint64_t id;
  if (argc != 1 || !parse_u64(argv[0], &id)) {
    fprintf(stderr, "wgctl: usage: attempts JOB   (a prover job id)\n");
    return 2;
  }
  struct wg_dbconn *c = connect_or_die(cfg);
  json_t *doc = NULL;
  enum wg_status s = wg_prover_job_attempts(c, (int64_t)id, &doc);
  wg_db_disconnect(c);
  if (s == WG_E_NOT_FOUND) {
    fprintf(stderr, "wgctl: no prover job %llu\n", (unsigned long long)id);
    return 1;
  }
  if (s != WG_OK) {
    fprintf(stderr, "wgctl: attempts failed (%s)\n", wg_status_name(s));
    return 1;
  }
  if (json_output)
    return print_json(doc);
  static const char *const headers[] = {"ATTEMPT", "PROVER", "TOKEN", "CLAIMED", "ENDED", "OUTCOME", "ERROR", NULL};
  struct wg_table *t = wg_table_new(headers, 1u);
  json_t *a;
  size_t i;
  json_array_foreach(json_object_get(doc, "attempts"), i, a)
  {
    char attempt[24];
    snprintf(attempt, sizeof attempt, "%lld", (long long)json_integer_value(json_object_get(a, "attempt")));
    wg_table_row(t, attempt, json_string_value(json_object_get(a, "prover_id")),
                 json_string_value(json_object_get(a, "token_name")), json_string_value(json_object_get(a, "claimed_at")),
                 json_string_value(json_object_get(a, "ended_at")), json_string_value(json_object_get(a, "outcome")),
                 json_string_value(json_object_get(a, "error")));
  }
  wg_table_print(t, stdout);
  json_decref(doc);
  return 0;
}

/* restart and delete change blobs as well as rows, so they open the object store the daemons use,
 * which each daemon records in the database at start (db/store_config.h): that one when no --store
 * is given (nor WG_STORE, nor a config file's), and a different one is refused with the name of the
 * one in use. Never the default ./var/store, and never a directory made here: a wrong store would
 * leave the batch's blobs behind while the command reported success. NULL after saying why on
 * stderr, with *rc 2 for a --store that is not the daemons', else 1. */
static struct wg_store *open_daemons_store(const struct wg_config *cfg, struct wg_db *db, struct wg_dbconn *c,
                                           const char *command, int *rc)
{
  char recorded[4200], by[256], at[64], given[4200], err[512];
  *rc = 1;
  enum wg_status s = wg_store_config_get(c, recorded, sizeof recorded, by, sizeof by, at, sizeof at);
  if (s != WG_OK && s != WG_E_NOT_FOUND) {
    fprintf(stderr, "wgctl: %s: cannot read the daemons' store from the database (%s)\n", command, wg_status_name(s));
    return NULL;
  }
  bool have = s == WG_OK;
  const char *url = recorded;
  if (cfg->store_given) {
    enum wg_status g = wg_store_identity(cfg->store, given, sizeof given);
    if (have && strcmp(given, recorded) != 0) {
      fprintf(stderr,
              "wgctl: %s: --store %s is not the store the daemons use: they use %s (recorded by %s at %s); run again"
              " without --store to use it\n",
              command, cfg->store, recorded, by, at);
      *rc = 2;
      return NULL;
    }
    if (g == WG_E_INVALID) {
      fprintf(stderr, "wgctl: %s: --store must be file:DIR, postgres or s3://BUCKET/PREFIX, got \"%s\"\n", command,
              cfg->store);
      *rc = 2;
      return NULL;
    }
    url = given;
  } else if (!have) {
    fprintf(stderr,
            "wgctl: %s: no daemon has recorded its store in this database yet (each records it at start); give the"
            " daemons' store with --store\n",
            command);
    return NULL;
  }
  if (strncmp(url, "file:", 5) == 0 && wg_store_identity(url, given, sizeof given) == WG_E_NOT_FOUND) {
    if (cfg->store_given)
      fprintf(stderr, "wgctl: %s: the store %s does not exist\n", command, url);
    else
      fprintf(stderr, "wgctl: %s: the daemons' store %s is not on this machine (no such directory); run wgctl"
                      " where it is\n", command, url);
    return NULL;
  }
  struct wg_config with_store = *cfg;
  with_store.store = (char *)url;
  struct wg_store *store = wg_store_open(&with_store, db, err, sizeof err);
  if (store == NULL)
    fprintf(stderr, "wgctl: %s: cannot open the store %s: %s\n", command, url, err);
  return store;
}

struct batch_change {
  struct wg_store *store;
  int64_t batch;
  bool restart;
};

/* Like DELETE /batches/{n} (http/endpoints/batch_delete.c): a delete removes the rows under the
 * exclusive batch lock and commits, then the blobs (store/sweep.h), so that no store call is made
 * under the batch lock or the rows' locks. A restart keeps the batch and its input blob, which
 * lies outside the rounds' prefixes; its derived blobs go in the transaction, under the batch
 * lock, since the restarted basic round may write new ones under the same keys at once. */
static enum wg_status batch_change_tx(struct wg_dbconn *c, void *arg)
{
  struct batch_change *a = arg;
  enum wg_status s = wg_batch_lock(c, a->batch, true);
  if (s == WG_OK)
    s = a->restart ? wg_repair_restart_batch(c, a->batch) : wg_repair_delete_batch(c, a->batch);
  char prefix[64];
  for (int round = 0; s == WG_OK && a->restart && round < 4; round++) {
    wg_key_round_prefix(prefix, sizeof prefix, a->batch, round);
    s = wg_store_delete_prefix(a->store, c, prefix);
  }
  return s;
}

static int cmd_batch_change(const struct wg_config *cfg, bool restart, int argc, char **argv)
{
  const char *name = restart ? "restart" : "delete";
  uint64_t batch;
  if (argc != 1 || !parse_u64(argv[0], &batch)) {
    fprintf(stderr, "wgctl: usage: %s BATCH\n", name);
    return 2;
  }
  struct wg_db *db = wg_db_open(cfg->db, 1);
  struct wg_dbconn *c = db ? wg_db_acquire(db, 5000) : NULL;
  int rc = 1;
  struct wg_store *store = c ? open_daemons_store(cfg, db, c, name, &rc) : NULL;
  enum wg_status s = WG_E_UNAVAILABLE;
  if (c == NULL)
    fprintf(stderr, "wgctl: cannot connect to the database\n");
  else if (store != NULL) {
    struct batch_change a = {store, (int64_t)batch, restart};
    s = wg_db_tx(c, batch_change_tx, &a);
    if (s == WG_OK && !restart && wg_sweep_batch(store, c, (int64_t)batch, true, NULL) != WG_OK)
      fprintf(stderr, "wgctl: batch %llu deleted; its blobs could not be removed now and are left to the daemons'"
                      " sweeper\n", (unsigned long long)batch);
    if (s == WG_E_NOT_FOUND)
      fprintf(stderr, "wgctl: no batch %llu\n", (unsigned long long)batch);
    else if (s != WG_OK)
      fprintf(stderr, "wgctl: %s of batch %llu failed (%s)\n", name, (unsigned long long)batch, wg_status_name(s));
  }
  if (store != NULL)
    wg_store_close(store);
  if (c != NULL)
    wg_db_release(c);
  if (db != NULL)
    wg_db_close(db);
  if (s != WG_OK)
    return rc;
  if (json_output)
    return print_json(json_pack("{s:I,s:b}", "l1_batch_number", (json_int_t)batch, restart ? "restarted" : "deleted", 1));
  printf(restart ? "restarted batch %llu from its input\n" : "deleted batch %llu\n", (unsigned long long)batch);
  return 0;
}

/* "90", "90s", "15m", "2h", "7d", "1.5h": seconds. */
static bool parse_duration(const char *s, double *out)
{
  char *end;
  double v = strtod(s, &end);
  if (end == s || !(v >= 0) || v > 1e10)
    return false;
  double unit = 1;
  if (strcmp(end, "m") == 0 || strcmp(end, "min") == 0)
    unit = 60;
  else if (strcmp(end, "h") == 0)
    unit = 3600;
  else if (strcmp(end, "d") == 0)
    unit = 86400;
  else if (*end != '\0' && strcmp(end, "s") != 0)
    return false;
  *out = v * unit;
  return true;
}

static void stats_row(struct wg_table *t, const char *round, const char *kind, json_t *f)
{
  char done[24], failed[24], mean[32], p95[32];
  snprintf(done, sizeof done, "%lld", (long long)json_integer_value(json_object_get(f, "successful")));
  snprintf(failed, sizeof failed, "%lld", (long long)json_integer_value(json_object_get(f, "failed")));
  wg_format_duration(json_seconds(json_object_get(f, "mean_seconds")), mean, sizeof mean);
  wg_format_duration(json_seconds(json_object_get(f, "p95_seconds")), p95, sizeof p95);
  wg_table_row(t, round, kind, done, failed, mean, p95);
}

static int cmd_stats(const struct wg_config *cfg, int argc, char **argv)
{
  double since = -1;
  if (!(argc == 0 || (argc == 2 && strcmp(argv[0], "--since") == 0 && parse_duration(argv[1], &since)))) {
    fprintf(stderr, "wgctl: usage: stats [--since DURATION]   (DURATION like 90s, 15m, 2h, 7d)\n");
    return 2;
  }
  struct wg_dbconn *c = connect_or_die(cfg);
  json_t *st = NULL;
  enum wg_status s = wg_stats(c, since, &st);
  wg_db_disconnect(c);
  if (s != WG_OK) {
    fprintf(stderr, "wgctl: stats failed (%s)\n", wg_status_name(s));
    return 1;
  }
  if (json_output)
    return print_json(st);
  char window[32], mean[32], p95[32];
  json_t *b = json_object_get(st, "batches");
  wg_format_duration(since, window, sizeof window);
  wg_format_duration(json_seconds(json_object_get(b, "mean_seconds")), mean, sizeof mean);
  wg_format_duration(json_seconds(json_object_get(b, "p95_seconds")), p95, sizeof p95);
  printf("%s%s: %lld batches proven, upload to proof mean %s, p95 %s\n\n", since < 0 ? "all time" : "last ",
         since < 0 ? "" : window, (long long)json_integer_value(json_object_get(b, "proven")), mean, p95);
  static const char *const headers[] = {"ROUND", "JOBS", "DONE", "FAILED", "MEAN", "P95", NULL};
  static const char *const round_names[] = {"0 basic", "1 leaf", "2 node", "3 scheduler"};
  struct wg_table *t = wg_table_new(headers, 1u << 2 | 1u << 3 | 1u << 4 | 1u << 5);
  size_t i;
  json_t *r;
  json_array_foreach(json_object_get(st, "rounds"), i, r)
  {
    stats_row(t, i < 4 ? round_names[i] : "?", "witness", json_object_get(r, "witness_jobs"));
    stats_row(t, "", "prover", json_object_get(r, "prover_jobs"));
  }
  wg_table_print(t, stdout);
  json_decref(st);
  return 0;
}

static int cmd_archive(const struct wg_config *cfg, int argc, char **argv)
{
  uint64_t age;
  if (argc != 2 || strcmp(argv[0], "--older-than") != 0 || !parse_u64(argv[1], &age)) {
    fprintf(stderr, "wgctl: usage: archive --older-than SECONDS\n");
    return 2;
  }
  struct wg_dbconn *c = connect_or_die(cfg);
  int archived = 0;
  enum wg_status s = wg_repair_archive(c, (int64_t)age, &archived);
  wg_db_disconnect(c);
  if (s != WG_OK) {
    fprintf(stderr, "wgctl: archive failed (%s)\n", wg_status_name(s));
    return 1;
  }
  if (json_output)
    return print_json(json_pack("{s:i}", "archived", archived));
  printf("archived %d prover jobs\n", archived);
  return 0;
}

/* "0,1,3" as the PostgreSQL array literal "{0,1,3}" of integers from 0 to max. */
static bool parse_int_list(const char *s, int max, char *out, size_t n)
{
  size_t used = (size_t)snprintf(out, n, "{");
  const char *p = s;
  do {
    char *end;
    errno = 0;
    long v = strtol(p, &end, 10);
    if (end == p || errno != 0 || v < 0 || v > max || (*end != ',' && *end != '\0') || used + 8 >= n)
      return false;
    used += (size_t)snprintf(out + used, n - used, "%s%ld", used > 1 ? "," : "", v);
    p = *end == ',' ? end + 1 : end;
  } while (*p != '\0');
  snprintf(out + used, n - used, "}");
  return true;
}

static void print_pauses(json_t *pauses)
{
  if (json_array_size(json_object_get(pauses, "pauses")) == 0) {
    printf("no pause in force\n");
    return;
  }
  static const char *const headers[] = {"ID", "PROTOCOL", "ROUNDS", "CIRCUIT IDS", "SINCE", NULL};
  struct wg_table *t = wg_table_new(headers, 1u << 0);
  size_t i;
  json_t *p;
  json_array_foreach(json_object_get(pauses, "pauses"), i, p)
  {
    char id[24], pv[24];
    json_t *v = json_object_get(p, "protocol_version");
    snprintf(id, sizeof id, "%lld", (long long)json_integer_value(json_object_get(p, "id")));
    snprintf(pv, sizeof pv, json_is_integer(v) ? "%lld" : "all", (long long)json_integer_value(v));
    json_t *r = json_object_get(p, "rounds"), *c = json_object_get(p, "circuit_ids");
    char *rounds = json_is_array(r) ? json_dumps(r, JSON_COMPACT) : NULL,
         *circuits = json_is_array(c) ? json_dumps(c, JSON_COMPACT) : NULL;
    wg_table_row(t, id, pv, rounds ? rounds : "all", circuits ? circuits : "all",
                 json_string_value(json_object_get(p, "created_at")));
    free(rounds);
    free(circuits);
  }
  wg_table_print(t, stdout);
}

static int cmd_queue_pause(const struct wg_config *cfg, bool pause, int argc, char **argv)
{
  struct wg_pause_filter f = {.protocol_version = -1};
  char rounds[512], circuits[512];
  for (int i = 0; i < argc; i++) {
    uint64_t v;
    if (i + 1 < argc && strcmp(argv[i], "--protocol-version") == 0 && parse_u64(argv[i + 1], &v) && v <= 65535)
      f.protocol_version = (int64_t)v;
    else if (i + 1 < argc && strcmp(argv[i], "--rounds") == 0 && parse_int_list(argv[i + 1], 3, rounds, sizeof rounds))
      f.rounds = rounds;
    else if (i + 1 < argc && strcmp(argv[i], "--circuit-ids") == 0 &&
             parse_int_list(argv[i + 1], 255, circuits, sizeof circuits))
      f.circuit_ids = circuits;
    else {
      fprintf(stderr, "wgctl: usage: queue %s [--protocol-version V] [--rounds R,...] [--circuit-ids C,...]"
                      "   (rounds 0-3, circuit ids 0-255)\n",
              pause ? "pause" : "resume");
      return 2;
    }
    i++;
  }
  struct wg_dbconn *c = connect_or_die(cfg);
  json_t *pauses = NULL;
  enum wg_status s = pause ? wg_queue_pause(c, &f, &pauses) : wg_queue_resume(c, &f, &pauses);
  wg_db_disconnect(c);
  if (s != WG_OK) {
    fprintf(stderr, "wgctl: queue %s failed (%s)\n", pause ? "pause" : "resume", wg_status_name(s));
    return 1;
  }
  if (json_output)
    return print_json(pauses);
  print_pauses(pauses);
  json_decref(pauses);
  return 0;
}

static int cmd_queue(const struct wg_config *cfg, int argc, char **argv)
{
  if (argc >= 1 && (strcmp(argv[0], "pause") == 0 || strcmp(argv[0], "resume") == 0))
    return cmd_queue_pause(cfg, strcmp(argv[0], "pause") == 0, argc - 1, argv + 1);
  if (argc != 0) {
    fprintf(stderr, "wgctl: usage: queue | queue pause|resume [--protocol-version V] [--rounds R,...]"
                    " [--circuit-ids C,...]\n");
    return 2;
  }
  struct wg_dbconn *c = connect_or_die(cfg);
  json_t *report = NULL;
  enum wg_status s = wg_queue_report_json(c, &report);
  wg_db_disconnect(c);
  if (s != WG_OK) {
    fprintf(stderr, "wgctl: queue failed (%s)\n", wg_status_name(s));
    return 1;
  }
  if (json_output)
    return print_json(report);
  static const char *const headers[] = {"PROTOCOL", "ROUND", "CIRCUIT", "QUEUED", "IN PROGRESS", "BACKOFF",
                                        "OLDEST QUEUED", "DONE/60S", "PAUSED", NULL};
  struct wg_table *t = wg_table_new(headers, 0x1ffu & ~(1u << 6) & ~(1u << 8));
  size_t i;
  json_t *q;
  json_array_foreach(json_object_get(report, "queues"), i, q)
  {
    char cell[7][32], age[32];
    static const char *const keys[7] = {"protocol_version", "aggregation_round", "circuit_id", "queued",
                                        "in_progress", "backoff", "completed_last_60s"};
    for (int k = 0; k < 7; k++)
      snprintf(cell[k], sizeof cell[k], "%lld", (long long)json_integer_value(json_object_get(q, keys[k])));
    wg_format_duration(json_number_value(json_object_get(q, "oldest_queued_age_s")), age, sizeof age);
    bool queued = json_integer_value(json_object_get(q, "queued")) > 0;
    wg_table_row(t, cell[0], cell[1], cell[2], cell[3], cell[4], cell[5], queued ? age : "-", cell[6],
                 json_is_true(json_object_get(q, "paused")) ? "paused" : "no");
  }
  wg_table_print(t, stdout);
  json_decref(report);
  return 0;
}

static void gen_input_usage(FILE *f)
{
  fprintf(f, "usage: wgctl gen-input --batch N [--logs L] [--workload key=value,...] [--initial K] [--seed S]\n\n"
             "Prints on stdout a valid basic witness input for batch N (the body of\n"
             "POST /batches/N/witness-inputs), built from a synthetic state tree: its storage logs carry\n"
             "correct merkle paths and roots, so the batch proves end to end. Needs no database.\n\n"
             "  --batch N        l1_batch_number of the input (required)\n"
             "  --logs L         storage logs in the batch (default 40); each is a write, a first write\n"
             "                   or a read, and adds storage_application work\n"
             "  --workload SPEC  circuit_workload, e.g. main_vm=6000,keccak256=100 (keys: docs/circuits.md)\n"
             "  --initial K      keys already in the tree before the batch (default 16): the tree that\n"
             "                   previous_root_hash describes; reads and updates pick among them\n"
             "  --seed S         seed of the pseudo-random keys and values (default 1): the same seed and\n"
             "                   options give byte-identical output; vary it for distinct inputs\n");
}

static int cmd_gen_input(int argc, char **argv)
{
  for (int i = 0; i < argc; i++)
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      gen_input_usage(stdout);
      return 0;
    }
  struct wg_gen_options o = {.protocol_version = 24, .initial_keys = 16, .logs = 40, .seed = 1};
  bool have_batch = false;
  char err[256];
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    bool ok = v != NULL;
    if (strcmp(a, "--batch") == 0)
      ok = ok && parse_u64(v, &o.l1_batch_number), have_batch = true;
    else if (strcmp(a, "--logs") == 0)
      ok = ok && parse_u64(v, &o.logs);
    else if (strcmp(a, "--initial") == 0)
      ok = ok && parse_u64(v, &o.initial_keys);
    else if (strcmp(a, "--seed") == 0)
      ok = ok && parse_u64(v, &o.seed);
    else if (strcmp(a, "--workload") == 0) {
      ok = ok && wg_generate_parse_workload(v, o.protocol_version, o.workload, err, sizeof err);
      if (v != NULL && !ok) {
        fprintf(stderr, "wgctl: gen-input: %s\n", err);
        return 2;
      }
    } else
      ok = false;
    if (!ok) {
      fprintf(stderr, "wgctl: gen-input: bad or incomplete option \"%s\"\n", a);
      gen_input_usage(stderr);
      return 2;
    }
    i++;
  }
  if (!have_batch) {
    fprintf(stderr, "wgctl: gen-input: --batch is required\n");
    return 2;
  }
  struct wg_input in;
  if (!wg_generate_input(&o, &in)) {
    fprintf(stderr, "wgctl: gen-input: out of memory\n");
    return 1;
  }
  char *json = wg_input_to_json(&in);
  wg_input_free(&in);
  if (json == NULL)
    return 1;
  fputs(json, stdout);
  fputc('\n', stdout);
  free(json);
  return 0;
}

int main(int argc, char **argv)
{
  /* --json is taken out before the options are parsed, so it may stand anywhere. */
  int kept = 0;
  for (int i = 0; i < argc; i++) {
    if (i > 0 && strcmp(argv[i], "--json") == 0)
      json_output = true;
    else
      argv[kept++] = argv[i];
  }
  argc = kept;
  argv[argc] = NULL;
  struct wg_config cfg;
  char err[512];
  int rest = argc;
  enum wg_config_result cr = wg_config_load(&cfg, argc, argv, &rest, err, sizeof err);
  if (cr == WG_CONFIG_HELP) {
    usage(stdout);
    wg_config_free(&cfg);
    return 0;
  }
  if (cr == WG_CONFIG_ERROR) {
    fprintf(stderr, "wgctl: %s\n", err);
    wg_config_free(&cfg);
    return 2;
  }
  wg_log_set_level(WG_LOG_WARN);
  wg_cli_text_init();
  wg_db_set_deadline_ms((int)cfg.db_deadline_ms);
  /* The same secret files as the daemon's (its TLS key excepted), with the same checks. */
  if (!wg_secrets_load(&cfg, WG_SECRET_DB_PASSWORD | WG_SECRET_S3, err, sizeof err)) {
    fprintf(stderr, "wgctl: %s\n", err);
    wg_config_free(&cfg);
    return 2;
  }
  wg_db_set_password(cfg.secrets.db_password);
  int n = argc - rest;
  char **args = argv + rest;
  int rc = 2;
  if (n >= 1 && strcmp(args[0], "gen-input") == 0)
    rc = cmd_gen_input(n - 1, args + 1);
  else if (n >= 1 && strcmp(args[0], "status") == 0)
    rc = cmd_status(&cfg, n - 1, args + 1);
  else if (n >= 1 && strcmp(args[0], "requeue") == 0)
    rc = cmd_requeue(&cfg, n - 1, args + 1);
  else if (n >= 1 && strcmp(args[0], "priority") == 0)
    rc = cmd_priority(&cfg, n - 1, args + 1);
  else if (n >= 1 && strcmp(args[0], "attempts") == 0)
    rc = cmd_attempts(&cfg, n - 1, args + 1);
  else if (n >= 1 && strcmp(args[0], "restart") == 0)
    rc = cmd_batch_change(&cfg, true, n - 1, args + 1);
  else if (n >= 1 && strcmp(args[0], "delete") == 0)
    rc = cmd_batch_change(&cfg, false, n - 1, args + 1);
  else if (n >= 1 && strcmp(args[0], "stats") == 0)
    rc = cmd_stats(&cfg, n - 1, args + 1);
  else if (n >= 1 && strcmp(args[0], "queue") == 0)
    rc = cmd_queue(&cfg, n - 1, args + 1);
  else if (n >= 1 && strcmp(args[0], "archive") == 0)
    rc = cmd_archive(&cfg, n - 1, args + 1);
  else if (n >= 1 && strcmp(args[0], "migrate") == 0 && n == 1)
    rc = cmd_migrate(&cfg);
  else if (n >= 2 && strcmp(args[0], "token") == 0 && strcmp(args[1], "add") == 0)
    rc = cmd_token_add(&cfg, n - 2, args + 2);
  else if (n == 2 && strcmp(args[0], "token") == 0 && strcmp(args[1], "list") == 0)
    rc = cmd_token_list(&cfg);
  else if (n == 3 && strcmp(args[0], "token") == 0 && strcmp(args[1], "revoke") == 0)
    rc = cmd_token_revoke(&cfg, args[2]);
  else
    usage(stderr);
  wg_db_set_password(NULL);
  wg_config_free(&cfg);
  return rc;
}
