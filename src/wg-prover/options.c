/* wg-prover's command line and environment. One table lists every setting once: its flag, its
 * environment variable (derived from the flag) and how its value is parsed, so the two sources
 * cannot drift apart. A setting given as a flag ignores its environment variable. */
#include "config.h"
#include "wg-prover/options.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum value_kind { V_STRING, V_INT, V_SECONDS, V_LIST, V_FLAG };

struct setting {
  const char *flag; /* without the leading "--" */
  enum value_kind kind;
  long long min, max; /* V_INT: range; V_LIST: range of each entry */
  const char *help;
};

/* Indices into this table are the getopt_long values (offset by OPT_BASE). */
static const struct setting settings[] = {
  {"url", V_STRING, 0, 0, "base URL of the witness generator (http://host:port)"},
  {"token", V_STRING, 0, 0, "prover bearer token (prefer the environment: argv is visible to ps)"},
  {"rounds", V_LIST, 0, 3, "comma-separated aggregation rounds to claim (default: all)"},
  {"circuits", V_LIST, 0, 255, "comma-separated circuit ids to claim (default: all)"},
  {"concurrency", V_INT, 1, 256, "worker threads, each with its own connection (default 2)"},
  {"batch", V_INT, 1, 256, "jobs claimed per request, handed to idle threads (default: up to --concurrency)"},
  {"senders", V_INT, 0, 256, "threads that post proofs, so that a thread starts its next job while its last proof uploads (default with --prove-ms: a quarter of --concurrency, at least 1; else 0: each thread posts its own)"},
  {"until-idle", V_FLAG, 0, 0, "exit once every thread has seen no job for --idle-seconds"},
  {"idle-seconds", V_SECONDS, 0, 0, "idle time before --until-idle exits (default 3)"},
  {"wait-seconds", V_SECONDS, 0, 0, "how long a claim waits at the server for work to come (default 10, at most 30; 0 polls)"},
  {"protocol-version", V_INT, 0, 65535, "protocol version to claim (default 24)"},
  {"prover-id", V_STRING, 0, 0, "prover id sent with claims (default wg-prover-HOST-PID-THREAD)"},
  {"max-jobs", V_INT, 0, 1000000000000LL, "stop after this many proved jobs in total (default 0: no limit)"},
  {"corrupt-every", V_INT, 0, 1000000000000LL, "testing aid: first post a corrupted copy of every Nth proof"},
  {"prove-ms", V_INT, 0, 86400000LL, "testing aid: extra milliseconds spent on each proof (default 0)"},
  {"claim-ahead-ms", V_INT, 0, 60000, "a thread claims its next job this long before its proof is done, so the job is in hand when it is (default 250; 0: once done)"},
  {"heartbeat-seconds", V_SECONDS, 0, 0, "lease heartbeat interval (default: a third of the lease, at most 60)"},
  {"timeout", V_SECONDS, 0, 0, "per-request timeout in seconds (default 60)"},
  {"cacert", V_STRING, 0, 0, "PEM file of the CA that signed the daemon's certificate (https)"},
  {"verbose", V_FLAG, 0, 0, "log one line per job to stderr"},
};
#define N_SETTINGS (sizeof settings / sizeof settings[0])
enum { OPT_BASE = 256, OPT_HELP = 'h', OPT_VERSION = 'V' };

static void usage(FILE *f)
{
  fprintf(f, "usage: wg-prover --url URL --token TOKEN [OPTION]...\n\n"
             "Claims circuits from a witness generator over its HTTP API, proves them with the\n"
             "reference scheme and posts the proofs. Prints a summary line on stdout at exit.\n\n");
  for (size_t i = 0; i < N_SETTINGS; i++) {
    const struct setting *s = &settings[i];
    const char *arg = s->kind == V_FLAG ? "" : s->kind == V_LIST ? " LIST" : s->kind == V_STRING ? " VALUE" : s->kind == V_SECONDS ? " SECONDS" : " N";
    char left[64];
    snprintf(left, sizeof left, "--%s%s", s->flag, arg);
    fprintf(f, "  %-26s %s\n", left, s->help);
  }
  fprintf(f, "  %-26s %s\n  %-26s %s\n\n", "-h, --help", "show this help", "--version", "show the version");
  fprintf(f, "Every option can also be set in the environment as WG_PROVER_ followed by its name in\n"
             "capitals with '-' as '_' (WG_PROVER_URL, WG_PROVER_TOKEN, WG_PROVER_UNTIL_IDLE=1, ...);\n"
             "a flag wins over its variable.\n");
}

static void env_name(const struct setting *s, char *out, size_t n)
{
  size_t used = (size_t)snprintf(out, n, "WG_PROVER_");
  for (const char *p = s->flag; *p && used + 1 < n; p++)
    out[used++] = *p == '-' ? '_' : (char)toupper((unsigned char)*p);
  out[used] = '\0';
}

static bool parse_int(const char *v, long long min, long long max, long long *out)
{
  char *end;
  errno = 0;
  long long x = strtoll(v, &end, 10);
  if (*v == '\0' || *end != '\0' || errno != 0 || x < min || x > max)
    return false;
  *out = x;
  return true;
}

/* Seconds, fractions allowed, stored as milliseconds. */
static bool parse_seconds(const char *v, long long *out_ms)
{
  char *end;
  errno = 0;
  double x = strtod(v, &end);
  if (*v == '\0' || *end != '\0' || errno != 0 || !isfinite(x) || x < 0 || x > 1e7)
    return false;
  *out_ms = (long long)(x * 1000.0 + 0.5);
  return true;
}

/* "0,2,3" into out; an empty string is an empty list (no filter). */
static bool parse_list(const char *v, long long min, long long max, int *out, size_t cap, size_t *n)
{
  *n = 0;
  if (*v == '\0')
    return true;
  for (const char *p = v;;) {
    const char *comma = strchr(p, ',');
    size_t len = comma ? (size_t)(comma - p) : strlen(p);
    char item[24];
    long long x;
    if (len == 0 || len >= sizeof item || *n == cap)
      return false;
    memcpy(item, p, len);
    item[len] = '\0';
    if (!parse_int(item, min, max, &x))
      return false;
    out[(*n)++] = (int)x;
    if (comma == NULL)
      return true;
    p = comma + 1;
  }
}

static bool parse_flag_value(const char *v, bool *out)
{
  static const char *const yes[] = {"1", "true", "yes", "on"}, *const no[] = {"", "0", "false", "no", "off"};
  for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
    if (strcasecmp(v, yes[i]) == 0)
      return *out = true, true;
  for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
    if (strcasecmp(v, no[i]) == 0)
      return *out = false, true;
  return false;
}

static void set_string(char **field, const char *v)
{
  free(*field);
  *field = strdup(v);
  if (*field == NULL) {
    fprintf(stderr, "wg-prover: out of memory\n");
    exit(1);
  }
}

/* Applies one value of setting i. source names where it came from, for the error message; the
 * token's value is never echoed. */
static bool apply(struct wgp_options *o, size_t i, const char *v, const char *source)
{
  const struct setting *s = &settings[i];
  const char *name = s->flag;
  long long x = 0;
  bool ok = true;
  if (s->kind == V_INT)
    ok = parse_int(v, s->min, s->max, &x);
  else if (s->kind == V_SECONDS)
    ok = parse_seconds(v, &x);

  if (!ok) {
    fprintf(stderr, "wg-prover: %s: expected %s from %lld to %lld, got \"%.40s\"\n", source,
            s->kind == V_INT ? "an integer" : "seconds", s->kind == V_INT ? s->min : 0,
            s->kind == V_INT ? s->max : 10000000LL, v);
    return false;
  }
  if (strcmp(name, "url") == 0) {
    if (strncmp(v, "http://", 7) != 0 && strncmp(v, "https://", 8) != 0) {
      fprintf(stderr, "wg-prover: %s: expected an http:// or https:// URL, got \"%.200s\"\n", source, v);
      return false;
    }
    set_string(&o->url, v);
    size_t len = strlen(o->url);
    while (len > 0 && o->url[len - 1] == '/')
      o->url[--len] = '\0';
  } else if (strcmp(name, "cacert") == 0) {
    set_string(&o->cacert, v);
  } else if (strcmp(name, "token") == 0) {
    for (const char *p = v; *p; p++)
      if ((unsigned char)*p <= ' ' || *p == 0x7f) {
        fprintf(stderr, "wg-prover: %s: the token contains whitespace or control characters\n", source);
        return false;
      }
    set_string(&o->token, v);
  } else if (strcmp(name, "prover-id") == 0) {
    if (*v == '\0' || strlen(v) > 190) {
      fprintf(stderr, "wg-prover: %s: expected 1 to 190 characters\n", source);
      return false;
    }
    set_string(&o->prover_id, v);
  } else if (strcmp(name, "rounds") == 0) {
    if (!parse_list(v, s->min, s->max, o->rounds, WGP_MAX_ROUNDS, &o->n_rounds)) {
      fprintf(stderr, "wg-prover: %s: expected comma-separated rounds from 0 to 3, got \"%.40s\"\n", source, v);
      return false;
    }
  } else if (strcmp(name, "circuits") == 0) {
    if (!parse_list(v, s->min, s->max, o->circuits, WGP_MAX_CIRCUITS, &o->n_circuits)) {
      fprintf(stderr, "wg-prover: %s: expected up to %d comma-separated circuit ids from 0 to 255, got \"%.40s\"\n",
              source, WGP_MAX_CIRCUITS, v);
      return false;
    }
  } else if (strcmp(name, "concurrency") == 0)
    o->concurrency = (int)x;
  else if (strcmp(name, "batch") == 0)
    o->batch = (int)x;
  else if (strcmp(name, "senders") == 0)
    o->senders = (int)x;
  else if (strcmp(name, "idle-seconds") == 0)
    o->idle_ms = x;
  else if (strcmp(name, "wait-seconds") == 0) {
    if (x > 30000) {
      fprintf(stderr, "wg-prover: %s: a claim waits at most 30 seconds\n", source);
      return false;
    }
    o->wait_ms = x;
  }
  else if (strcmp(name, "protocol-version") == 0)
    o->protocol_version = (int)x;
  else if (strcmp(name, "max-jobs") == 0)
    o->max_jobs = x;
  else if (strcmp(name, "corrupt-every") == 0)
    o->corrupt_every = x;
  else if (strcmp(name, "prove-ms") == 0)
    o->prove_ms = x;
  else if (strcmp(name, "claim-ahead-ms") == 0)
    o->claim_ahead_ms = x;
  else if (strcmp(name, "heartbeat-seconds") == 0) {
    if (x < 100) {
      fprintf(stderr, "wg-prover: %s: the heartbeat interval must be at least 0.1 seconds\n", source);
      return false;
    }
    o->heartbeat_ms = x;
  } else if (strcmp(name, "timeout") == 0) {
    if (x < 100) {
      fprintf(stderr, "wg-prover: %s: the timeout must be at least 0.1 seconds\n", source);
      return false;
    }
    o->timeout_ms = x;
  } else if (s->kind == V_FLAG) {
    bool b = true;
    if (v != NULL && !parse_flag_value(v, &b)) {
      fprintf(stderr, "wg-prover: %s: expected 1/0, true/false, yes/no or on/off, got \"%.40s\"\n", source, v);
      return false;
    }
    if (strcmp(name, "until-idle") == 0)
      o->until_idle = b;
    else
      o->verbose = b;
  }
  return true;
}

void wgp_options_free(struct wgp_options *opt)
{
  free(opt->url);
  free(opt->token);
  free(opt->prover_id);
  free(opt->cacert);
  opt->url = opt->token = opt->prover_id = opt->cacert = NULL;
}

enum wgp_parse_result wgp_options_parse(int argc, char **argv, struct wgp_options *o)
{
  *o = (struct wgp_options){.concurrency = 2, .senders = -1, .protocol_version = 24, .idle_ms = 3000, .wait_ms = 10000,
                             .timeout_ms = 60000, .claim_ahead_ms = 250};

  struct option longopts[N_SETTINGS + 3];
  for (size_t i = 0; i < N_SETTINGS; i++)
    longopts[i] = (struct option){settings[i].flag, settings[i].kind == V_FLAG ? no_argument : required_argument,
                                  NULL, OPT_BASE + (int)i};
  longopts[N_SETTINGS] = (struct option){"help", no_argument, NULL, OPT_HELP};
  longopts[N_SETTINGS + 1] = (struct option){"version", no_argument, NULL, OPT_VERSION};
  longopts[N_SETTINGS + 2] = (struct option){NULL, 0, NULL, 0};

  bool flag_seen[N_SETTINGS] = {0};
  const char *flag_value[N_SETTINGS] = {0};
  opterr = 0;
  optind = 1;
  for (;;) {
    int prev = optind;
    int c = getopt_long(argc, argv, ":h", longopts, NULL);
    if (c == -1)
      break;
    if (c == OPT_HELP) {
      usage(stdout);
      wgp_options_free(o);
      return WGP_PARSE_EXIT;
    }
    if (c == OPT_VERSION) {
      printf("wg-prover (%s) %s\n", PACKAGE_NAME, PACKAGE_VERSION);
      wgp_options_free(o);
      return WGP_PARSE_EXIT;
    }
    if (c == ':' || c == '?') {
      const char *arg = prev < argc ? argv[prev] : "?";
      fprintf(stderr, "wg-prover: %s option \"%.60s\"\n", c == ':' ? "missing value for" : "unknown", arg);
      fprintf(stderr, "Try 'wg-prover --help'.\n");
      goto fail;
    }
    size_t i = (size_t)(c - OPT_BASE);
    flag_seen[i] = true;
    flag_value[i] = optarg; /* the last of repeated flags wins */
  }
  if (optind < argc) {
    fprintf(stderr, "wg-prover: unexpected argument \"%.60s\"\nTry 'wg-prover --help'.\n", argv[optind]);
    goto fail;
  }
  /* The environment only for what no flag set, so a flag can override a bad variable too. */
  for (size_t i = 0; i < N_SETTINGS; i++) {
    char name[64];
    if (flag_seen[i]) {
      snprintf(name, sizeof name, "--%s", settings[i].flag);
      if (!apply(o, i, flag_value[i], name))
        goto fail;
      continue;
    }
    env_name(&settings[i], name, sizeof name);
    const char *v = getenv(name);
    if (v != NULL && !apply(o, i, v, name))
      goto fail;
  }
  if (o->url == NULL || o->token == NULL || o->token[0] == '\0') {
    fprintf(stderr, "wg-prover: %s is required (or set %s)\nTry 'wg-prover --help'.\n",
            o->url == NULL ? "--url" : "--token", o->url == NULL ? "WG_PROVER_URL" : "WG_PROVER_TOKEN");
    goto fail;
  }
  return WGP_PARSE_OK;

fail:
  wgp_options_free(o);
  return WGP_PARSE_ERROR;
}
