/* api/openapi.yaml describes exactly the daemon's route table: every route is documented with
 * its method, the role it requires, its security and the refusals the server can give before
 * any handler runs; and every documented operation is a route. (What the handlers themselves
 * return is checked against the document on a live daemon: t_openapi_responses.sh.) */
#include "config.h"

#include <check.h>

#include "check_main.h"
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth.h"
#include "http/router.h"

#define MAX_OPS 64

struct op {
  char method[16];
  char path[128];
  char summary[256]; /* names the role: "(role viewer)", or "(open)" */
  bool open;         /* "security: []" */
  char statuses[256]; /* the documented status codes, each followed by a space */
};

static struct op ops[MAX_OPS];
static int n_ops;

/* Reads the "paths:" section: two-space-indented path keys, four-space-indented methods. */
static void load_spec(void)
{
  const char *srcdir = getenv("WG_SRCDIR");
  char file[1024];
  snprintf(file, sizeof file, "%s/api/openapi.yaml", srcdir ? srcdir : ".");
  FILE *f = fopen(file, "r");
  ck_assert_msg(f != NULL, "cannot open %s", file);
  char line[1024], path[128] = "";
  bool in_paths = false;
  n_ops = 0;
  while (fgets(line, sizeof line, f) != NULL) {
    if (strncmp(line, "paths:", 6) == 0) {
      in_paths = true;
      continue;
    }
    if (in_paths && isalpha((unsigned char)line[0]))
      break;
    if (!in_paths)
      continue;
    if (strncmp(line, "  /", 3) == 0) {
      sscanf(line + 2, "%127[^:]", path);
    } else if (strncmp(line, "    ", 4) == 0 && line[4] != ' ') {
      char m[16];
      if (sscanf(line + 4, "%15[a-z]:", m) == 1 && n_ops < MAX_OPS &&
          (strcmp(m, "get") == 0 || strcmp(m, "post") == 0 || strcmp(m, "delete") == 0 || strcmp(m, "put") == 0)) {
        for (char *p = m; *p; p++)
          *p = (char)toupper((unsigned char)*p);
        snprintf(ops[n_ops].method, sizeof ops[n_ops].method, "%s", m);
        snprintf(ops[n_ops].path, sizeof ops[n_ops].path, "%s", path);
        ops[n_ops].summary[0] = '\0';
        ops[n_ops].open = false;
        ops[n_ops].statuses[0] = '\0';
        n_ops++;
      }
    } else if (n_ops > 0 && strncmp(line, "      summary:", 14) == 0) {
      snprintf(ops[n_ops - 1].summary, sizeof ops[n_ops - 1].summary, "%.200s", line + 14);
    } else if (n_ops > 0 && strncmp(line, "      security: []", 18) == 0) {
      ops[n_ops - 1].open = true;
    } else if (n_ops > 0 && strncmp(line, "        \"", 9) == 0 && isdigit((unsigned char)line[9])) {
      struct op *o = &ops[n_ops - 1];
      size_t used = strlen(o->statuses);
      snprintf(o->statuses + used, sizeof o->statuses - used, "%.3s ", line + 9);
    }
  }
  fclose(f);
}

START_TEST(every_route_is_documented)
{
  load_spec();
  ck_assert_int_gt(n_ops, 5);
  for (size_t i = 0; i < wg_routes_count; i++) {
    bool found = false;
    for (int k = 0; k < n_ops; k++)
      found = found || (strcmp(ops[k].method, wg_routes[i].method) == 0 && strcmp(ops[k].path, wg_routes[i].pattern) == 0);
    ck_assert_msg(found, "%s %s is not in api/openapi.yaml", wg_routes[i].method, wg_routes[i].pattern);
  }
}
END_TEST

START_TEST(every_documented_operation_is_a_route)
{
  load_spec();
  for (int k = 0; k < n_ops; k++) {
    bool found = false;
    for (size_t i = 0; i < wg_routes_count; i++)
      found = found || (strcmp(ops[k].method, wg_routes[i].method) == 0 && strcmp(ops[k].path, wg_routes[i].pattern) == 0);
    ck_assert_msg(found, "api/openapi.yaml documents %s %s, which the daemon does not serve", ops[k].method,
                  ops[k].path);
  }
}
END_TEST

START_TEST(every_route_documents_its_role)
{
  load_spec();
  for (size_t i = 0; i < wg_routes_count; i++) {
    char want[64];
    if (wg_routes[i].role == WG_ROLE_ANYONE)
      snprintf(want, sizeof want, "(open)");
    else
      snprintf(want, sizeof want, "(role %s)", wg_role_name(wg_routes[i].role));
    for (int k = 0; k < n_ops; k++)
      if (strcmp(ops[k].method, wg_routes[i].method) == 0 && strcmp(ops[k].path, wg_routes[i].pattern) == 0)
        ck_assert_msg(strstr(ops[k].summary, want) != NULL, "%s %s: the summary \"%s\" does not say %s",
                      wg_routes[i].method, wg_routes[i].pattern, ops[k].summary, want);
  }
}
END_TEST

static const struct op *find_op(const struct wg_route *r)
{
  for (int k = 0; k < n_ops; k++)
    if (strcmp(ops[k].method, r->method) == 0 && strcmp(ops[k].path, r->pattern) == 0)
      return &ops[k];
  return NULL;
}

static bool lists(const struct op *o, const char *status)
{
  char want[8];
  snprintf(want, sizeof want, "%s ", status);
  return strstr(o->statuses, want) != NULL;
}

/* What the server answers before the handler (http/server.c), so a client generator must know
 * each route can get it: per route, from its role, its body and its path ids. */
START_TEST(every_route_documents_the_server_refusals)
{
  load_spec();
  for (size_t i = 0; i < wg_routes_count; i++) {
    const struct wg_route *r = &wg_routes[i];
    const struct op *o = find_op(r);
    ck_assert_msg(o != NULL, "%s %s is not in api/openapi.yaml", r->method, r->pattern);
    bool open = r->role == WG_ROLE_ANYONE;
    ck_assert_msg(o->open == open, "%s %s: security should be %s", r->method, r->pattern,
                  open ? "[] (open)" : "bearer, the default");
    static const char *const always[] = {"200", "405", "414", "431", "500", "503"};
    for (size_t k = 0; k < sizeof always / sizeof always[0]; k++)
      ck_assert_msg(lists(o, always[k]), "%s %s does not document %s", r->method, r->pattern, always[k]);
    if (!open)
      ck_assert_msg(lists(o, "401") && lists(o, "403"), "%s %s needs a token: document 401 and 403", r->method,
                    r->pattern);
    else
      ck_assert_msg(!lists(o, "401") && !lists(o, "403"), "%s %s is open: no 401 or 403", r->method, r->pattern);
    if (r->body != WG_BODY_NONE)
      ck_assert_msg(lists(o, "400") && lists(o, "413") && lists(o, "415"),
                    "%s %s takes a body: document 400, 413 and 415", r->method, r->pattern);
    if (strchr(r->pattern, '{') != NULL)
      ck_assert_msg(lists(o, "400"), "%s %s has path ids: document 400", r->method, r->pattern);
  }
}
END_TEST

int main(void)
{
  Suite *s = suite_create("openapi");
  TCase *tc = tcase_create("openapi");
  tcase_add_test(tc, every_route_is_documented);
  tcase_add_test(tc, every_documented_operation_is_a_route);
  tcase_add_test(tc, every_route_documents_its_role);
  tcase_add_test(tc, every_route_documents_the_server_refusals);
  suite_add_tcase(s, tc);
  return wg_check_run(s);
}
