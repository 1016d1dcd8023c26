/* wgctl: the operator's command line. Speaks to the database directly (it must work while no
 * daemon runs, e.g. to migrate or to create the first tokens). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

#include "auth/auth.h"
#include "common/hex.h"
#include "common/log.h"
#include "config/settings.h"
#include "db/db.h"
#include "db/batches.h"
#include "db/repairs.h"
#include "db/tokens.h"
#include "input/generate.h"

static void usage(FILE *f)
{
  fprintf(f, "usage: wgctl [--db CONNINFO] [--config FILE] COMMAND\n\n"
             "commands:\n"
             "  migrate                               apply pending schema migrations\n"
             "  token add --role ROLE [--name NAME]   create a token (tree, prover, viewer, admin);\n"
             "                                        prints it once on stdout\n"
             "  token list                            list tokens (never their values)\n"
             "  token revoke NAME                     revoke a token\n"
             "  status [BATCH]                        batches and their status, or one batch in detail\n"
             "  requeue --batch N | --job ID | --witness-job ROUND/ID\n"
             "                                        failed jobs of a batch, or one prover job, or one\n"
             "                                        witness job of a round (0-3), back to queued\n"
             "  archive --older-than SECONDS          move prover jobs of long-proven batches to the archive\n"
             "  gen-input --batch N [--logs L] [--workload key=value,...] [--initial K] [--seed S]\n"
             "                                        print a valid synthetic witness input (JSON);\n"
             "                                        wgctl gen-input --help explains the options\n");
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
  printf("%-32s %-7s %-8s %s\n", "NAME", "ROLE", "STATE", "CREATED");
  for (int i = 0; i < PQntuples(r); i++)
    printf("%-32s %-7s %-8s %s\n", PQgetvalue(r, i, 0), PQgetvalue(r, i, 1),
           wg_db_isnull(r, i, 3) ? "active" : "revoked", PQgetvalue(r, i, 2));
  PQclear(r);
  wg_db_disconnect(c);
  return 0;
}

static int cmd_token_revoke(const struct wg_config *cfg, const char *name)
{
  struct wg_dbconn *c = connect_or_die(cfg);
  enum wg_status s = wg_tokens_revoke(c, name);
  wg_db_disconnect(c);
  if (s == WG_E_NOT_FOUND) {
    fprintf(stderr, "wgctl: no active token named \"%s\"\n", name);
    return 1;
  }
  if (s != WG_OK) {
    fprintf(stderr, "wgctl: token revoke failed (%s)\n", wg_status_name(s));
    return 1;
  }
  fprintf(stderr, "revoked token \"%s\"\n", name);
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

static int print_json(json_t *j)
{
  char *text = json_dumps(j, JSON_INDENT(2));
  json_decref(j);
  if (text == NULL)
    return 1;
  puts(text);
  free(text);
  return 0;
}

static int cmd_status(const struct wg_config *cfg, int argc, char **argv)
{
  uint64_t batch;
  if (argc > 1 || (argc == 1 && !parse_u64(argv[0], &batch))) {
    fprintf(stderr, "wgctl: status takes at most one batch number\n");
    return 2;
  }
  struct wg_dbconn *c = connect_or_die(cfg);
  json_t *j = NULL;
  enum wg_status s;
  if (argc == 0) {
    s = wg_batches_list(c, -1, 1000000, &j);
    if (s == WG_OK) {
      printf("%-12s %-12s %-8s %s\n", "BATCH", "STATUS", "VERSION", "CREATED");
      size_t i;
      json_t *b;
      json_array_foreach(j, i, b)
      printf("%-12lld %-12s %-8lld %s\n", (long long)json_integer_value(json_object_get(b, "l1_batch_number")),
             json_string_value(json_object_get(b, "status")),
             (long long)json_integer_value(json_object_get(b, "protocol_version")),
             json_string_value(json_object_get(b, "created_at")));
      json_decref(j);
    }
  } else {
    s = wg_batch_get(c, (int64_t)batch, &j);
    if (s == WG_OK)
      print_json(j);
  }
  wg_db_disconnect(c);
  if (s == WG_E_NOT_FOUND) {
    fprintf(stderr, "wgctl: no batch %llu\n", (unsigned long long)batch);
    return 1;
  }
  if (s != WG_OK) {
    fprintf(stderr, "wgctl: status failed (%s)\n", wg_status_name(s));
    return 1;
  }
  return 0;
}

/* Requeue names a job the way the HTTP API does: --job ID is a prover job, --witness-job ROUND/ID
 * a witness job (their ids are separate spaces, per round for witness jobs). */
static int cmd_requeue(const struct wg_config *cfg, int argc, char **argv)
{
  static const char usage_text[] = "wgctl: usage: requeue --batch N | --job ID | --witness-job ROUND/ID\n"
                                   "  --job ID              a failed prover job (GET /jobs/ID)\n"
                                   "  --witness-job R/ID    a failed witness job of round R, 0 basic .. 3 scheduler\n"
                                   "                        (GET /witness-jobs/R/ID)\n";
  uint64_t n = 0, round = 0;
  bool ok = argc == 2;
  if (ok && strcmp(argv[0], "--witness-job") == 0) {
    char rbuf[24];
    const char *slash = strchr(argv[1], '/');
    ok = slash != NULL && slash > argv[1] && (size_t)(slash - argv[1]) < sizeof rbuf;
    if (ok) {
      snprintf(rbuf, sizeof rbuf, "%.*s", (int)(slash - argv[1]), argv[1]);
      ok = parse_u64(rbuf, &round) && round <= 3 && parse_u64(slash + 1, &n);
    }
  } else if (ok) {
    ok = (strcmp(argv[0], "--batch") == 0 || strcmp(argv[0], "--job") == 0) && parse_u64(argv[1], &n);
  }
  if (!ok) {
    fputs(usage_text, stderr);
    return 2;
  }
  struct wg_dbconn *c = connect_or_die(cfg);
  enum wg_status s;
  char what[64], status[24] = "";
  if (strcmp(argv[0], "--batch") == 0) {
    snprintf(what, sizeof what, "batch %llu", (unsigned long long)n);
    int requeued = 0;
    s = wg_repair_requeue_batch(c, (int64_t)n, &requeued);
    if (s == WG_OK)
      printf("requeued %d failed jobs of batch %llu\n", requeued, (unsigned long long)n);
  } else {
    if (strcmp(argv[0], "--job") == 0) {
      snprintf(what, sizeof what, "job %llu", (unsigned long long)n);
      s = wg_repair_requeue_job(c, (int64_t)n, status);
    } else {
      snprintf(what, sizeof what, "witness job %llu of round %llu", (unsigned long long)n, (unsigned long long)round);
      s = wg_repair_requeue_witness_job(c, (int)round, (int64_t)n, status);
    }
    if (s == WG_OK)
      printf("requeued %s\n", what);
    else if (s == WG_E_CONFLICT)
      fprintf(stderr, "wgctl: %s is %s; only failed jobs can be requeued\n", what, status);
  }
  wg_db_disconnect(c);
  if (s == WG_E_NOT_FOUND)
    fprintf(stderr, "wgctl: no such %s\n", what);
  else if (s != WG_OK && s != WG_E_CONFLICT)
    fprintf(stderr, "wgctl: requeue failed (%s)\n", wg_status_name(s));
  return s == WG_OK ? 0 : 1;
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
  printf("archived %d prover jobs\n", archived);
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
  int n = argc - rest;
  char **args = argv + rest;
  int rc = 2;
  if (n >= 1 && strcmp(args[0], "gen-input") == 0)
    rc = cmd_gen_input(n - 1, args + 1);
  else if (n >= 1 && strcmp(args[0], "status") == 0)
    rc = cmd_status(&cfg, n - 1, args + 1);
  else if (n >= 1 && strcmp(args[0], "requeue") == 0)
    rc = cmd_requeue(&cfg, n - 1, args + 1);
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
  wg_config_free(&cfg);
  return rc;
}
