/* Unit tests for src/http/router.c and the daemon's route table (src/http/routes.c): which
 * route a method and path find, 404 and 405 with its allow list, and the numeric parameters. */
#include "config.h"

#include <check.h>

#include "check_main.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/router.h"

static int test_handler(struct wg_request *rq)
{
  (void)rq;
  return 0;
}

/* A small table with the same shapes as the daemon's: a literal next to a parameter, several
 * methods on one pattern, and two parameters in one path. */
static const struct wg_route table[] = {
  {"GET", "/items", test_handler, WG_ROLE_VIEWER, WG_BODY_NONE},                  /* 0 */
  {"POST", "/items", test_handler, WG_ROLE_ADMIN, WG_BODY_JSON},                  /* 1 */
  {"GET", "/items/{id}", test_handler, WG_ROLE_VIEWER, WG_BODY_NONE},             /* 2 */
  {"DELETE", "/items/{id}", test_handler, WG_ROLE_ADMIN, WG_BODY_NONE},           /* 3 */
  {"POST", "/items/new", test_handler, WG_ROLE_ADMIN, WG_BODY_JSON},              /* 4 */
  {"GET", "/items/{id}/parts/{part}", test_handler, WG_ROLE_VIEWER, WG_BODY_NONE}, /* 5 */
};
#define N_TABLE (sizeof table / sizeof table[0])

static struct wg_route_match m;

static enum wg_route_result find(const char *method, const char *path)
{
  return wg_route_find(table, N_TABLE, method, path, &m);
}

static enum wg_route_result find_real(const char *method, const char *path)
{
  return wg_route_find(wg_routes, wg_routes_count, method, path, &m);
}

/* The route of the real table with this method and pattern. */
static const struct wg_route *real_route(const char *method, const char *pattern)
{
  for (size_t i = 0; i < wg_routes_count; i++)
    if (strcmp(wg_routes[i].method, method) == 0 && strcmp(wg_routes[i].pattern, pattern) == 0)
      return &wg_routes[i];
  ck_abort_msg("no route %s %s in wg_routes", method, pattern);
  return NULL;
}

START_TEST(literal_paths)
{
  ck_assert_int_eq(find("GET", "/items"), WG_ROUTE_OK);
  ck_assert_ptr_eq(m.route, &table[0]);
  ck_assert_int_eq(find("POST", "/items"), WG_ROUTE_OK);
  ck_assert_ptr_eq(m.route, &table[1]);
  ck_assert_int_eq(find("POST", "/items/new"), WG_ROUTE_OK);
  ck_assert_ptr_eq(m.route, &table[4]);
}
END_TEST

START_TEST(parameters)
{
  ck_assert_int_eq(find("GET", "/items/5"), WG_ROUTE_OK);
  ck_assert_ptr_eq(m.route, &table[2]);
  ck_assert_int_eq(m.params[0], 5);
  ck_assert_int_eq(find("DELETE", "/items/17"), WG_ROUTE_OK);
  ck_assert_ptr_eq(m.route, &table[3]);
  ck_assert_int_eq(m.params[0], 17);
  ck_assert_int_eq(find("GET", "/items/0"), WG_ROUTE_OK);
  ck_assert_int_eq(m.params[0], 0);
  ck_assert_int_eq(find("GET", "/items/007"), WG_ROUTE_OK);
  ck_assert_int_eq(m.params[0], 7);
  ck_assert_int_eq(find("GET", "/items/9223372036854775807"), WG_ROUTE_OK);
  ck_assert(m.params[0] == INT64_MAX);
  ck_assert_int_eq(find("GET", "/items/12/parts/34"), WG_ROUTE_OK);
  ck_assert_ptr_eq(m.route, &table[5]);
  ck_assert_int_eq(m.params[0], 12);
  ck_assert_int_eq(m.params[1], 34);
}
END_TEST

/* A literal segment beats a parameter: /items/new is the POST route, so GET on it is a 405,
 * not GET /items/{id} with a bad id. */
START_TEST(literal_beats_parameter)
{
  ck_assert_int_eq(find("GET", "/items/new"), WG_ROUTE_BAD_METHOD);
  ck_assert_str_eq(m.allow, "POST");
  ck_assert_ptr_null(m.route);
}
END_TEST

START_TEST(method_not_allowed)
{
  ck_assert_int_eq(find("PUT", "/items"), WG_ROUTE_BAD_METHOD);
  ck_assert_str_eq(m.allow, "GET, POST");
  ck_assert_int_eq(find("PATCH", "/items/5"), WG_ROUTE_BAD_METHOD);
  ck_assert_str_eq(m.allow, "GET, DELETE");
  ck_assert_int_eq(find("POST", "/items/1/parts/2"), WG_ROUTE_BAD_METHOD);
  ck_assert_str_eq(m.allow, "GET");
  /* Methods are case-sensitive (RFC 9110). */
  ck_assert_int_eq(find("get", "/items"), WG_ROUTE_BAD_METHOD);
  ck_assert_str_eq(m.allow, "GET, POST");
}
END_TEST

START_TEST(not_found)
{
  const char *paths[] = {
    "/nothing", "/items/5/other", "/items/1/parts", "/items/1/parts/2/3", "/item", "/itemsx", "/ITEMS",
    "/",        "",               "items",          "/items/",            /* trailing slash */
    "/items/5/", "//items",       "/items//5",      "/items//",           "/items/1//parts/2",
  };
  for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
    enum wg_route_result r = find("GET", paths[i]);
    ck_assert_msg(r == WG_ROUTE_NOT_FOUND, "GET \"%s\": result %d, expected WG_ROUTE_NOT_FOUND", paths[i], r);
    ck_assert_ptr_null(m.route);
  }
}
END_TEST

static void assert_bad_param(const struct wg_route *routes, size_t n, const char *path, const char *bad_prefix)
{
  enum wg_route_result r = wg_route_find(routes, n, "GET", path, &m);
  ck_assert_msg(r == WG_ROUTE_BAD_PARAM, "GET %s: result %d, expected WG_ROUTE_BAD_PARAM", path, r);
  ck_assert_msg(strncmp(m.bad, bad_prefix, strlen(bad_prefix)) == 0, "GET %s: bad is \"%s\", expected \"%s...\"",
                path, m.bad, bad_prefix);
}

START_TEST(bad_parameters)
{
  assert_bad_param(table, N_TABLE, "/items/abc", "abc");
  ck_assert_str_eq(m.bad, "abc");
  assert_bad_param(table, N_TABLE, "/items/-1", "-1");
  assert_bad_param(table, N_TABLE, "/items/+1", "+1");
  assert_bad_param(table, N_TABLE, "/items/1e3", "1e3");
  assert_bad_param(table, N_TABLE, "/items/0x10", "0x10");
  assert_bad_param(table, N_TABLE, "/items/%201", "%201");
  assert_bad_param(table, N_TABLE, "/items/9223372036854775808", "9223372036854775808"); /* 2^63 */
  assert_bad_param(table, N_TABLE, "/items/18446744073709551616", "18446744073709551616");
  assert_bad_param(table, N_TABLE, "/items/99999999999999999999", "99999999999999999999"); /* 20 digits */
  /* Longer than the router copies: still refused, never truncated into a valid number. */
  assert_bad_param(table, N_TABLE, "/items/1234567890123456789012345", "12345678901234567890123");
  assert_bad_param(table, N_TABLE, "/items/abc/parts/1", "abc");
  assert_bad_param(table, N_TABLE, "/items/1/parts/x", "x");
}
END_TEST

/* With two parameters, the one reported is the one that is wrong. */
START_TEST(bad_second_parameter_is_named)
{
  assert_bad_param(table, N_TABLE, "/items/1/parts/1234567890123456789012345", "12345678901234567890123");
}
END_TEST

/* Every route of the daemon's table finds itself, with its parameters. */
START_TEST(real_table_every_route)
{
  for (size_t i = 0; i < wg_routes_count; i++) {
    char path[256], *o = path;
    for (const char *p = wg_routes[i].pattern; *p;) {
      if (*p == '{') {
        o += sprintf(o, "42");
        p = strchr(p, '}') + 1;
      } else {
        *o++ = *p++;
      }
    }
    *o = '\0';
    enum wg_route_result r = find_real(wg_routes[i].method, path);
    ck_assert_msg(r == WG_ROUTE_OK && m.route == &wg_routes[i], "%s %s (from %s) did not find its route",
                  wg_routes[i].method, path, wg_routes[i].pattern);
    if (strchr(wg_routes[i].pattern, '{') != NULL)
      ck_assert_int_eq(m.params[0], 42);
    ck_assert_ptr_nonnull(wg_routes[i].handler);
  }
}
END_TEST

START_TEST(real_table_claim_vs_job)
{
  ck_assert_int_eq(find_real("POST", "/jobs/claim"), WG_ROUTE_OK);
  ck_assert_ptr_eq(m.route, real_route("POST", "/jobs/claim"));
  ck_assert_int_eq(find_real("GET", "/jobs/claim"), WG_ROUTE_BAD_METHOD);
  ck_assert_msg(strstr(m.allow, "POST") != NULL, "allow is \"%s\"", m.allow);
  ck_assert_msg(strstr(m.allow, "GET") == NULL, "allow is \"%s\"", m.allow);

  ck_assert_int_eq(find_real("GET", "/jobs/0"), WG_ROUTE_OK);
  ck_assert_ptr_eq(m.route, real_route("GET", "/jobs/{id}"));
  ck_assert_int_eq(m.params[0], 0);
  ck_assert_int_eq(find_real("GET", "/jobs/9223372036854775807"), WG_ROUTE_OK);
  ck_assert(m.params[0] == INT64_MAX);
  ck_assert_int_eq(find_real("GET", "/jobs/8/attempts"), WG_ROUTE_OK);
  ck_assert_ptr_eq(m.route, real_route("GET", "/jobs/{id}/attempts"));
  ck_assert_int_eq(m.params[0], 8);
  ck_assert_int_eq(find_real("POST", "/jobs/8/attempts"), WG_ROUTE_BAD_METHOD);
  ck_assert_str_eq(m.allow, "GET");
  ck_assert_int_eq(find_real("GET", "/jobs/77/witness"), WG_ROUTE_OK);
  ck_assert_ptr_eq(m.route, real_route("GET", "/jobs/{id}/witness"));
  ck_assert_int_eq(m.params[0], 77);
  ck_assert_int_eq(find_real("POST", "/proofs/5/complete"), WG_ROUTE_OK);
  ck_assert_ptr_eq(m.route, real_route("POST", "/proofs/{id}/complete"));
  ck_assert_int_eq(m.params[0], 5);
}
END_TEST

START_TEST(real_table_errors)
{
  assert_bad_param(wg_routes, wg_routes_count, "/jobs/abc", "abc");
  assert_bad_param(wg_routes, wg_routes_count, "/jobs/-1", "-1");
  assert_bad_param(wg_routes, wg_routes_count, "/jobs/9223372036854775808", "9223372036854775808");
  assert_bad_param(wg_routes, wg_routes_count, "/jobs/1234567890123456789012345", "12345678901234567890123");
  assert_bad_param(wg_routes, wg_routes_count, "/batches/x", "x");
  assert_bad_param(wg_routes, wg_routes_count, "/batches/x/jobs", "x");

  ck_assert_int_eq(find_real("POST", "/batches"), WG_ROUTE_BAD_METHOD);
  ck_assert_str_eq(m.allow, "GET");
  ck_assert_int_eq(find_real("GET", "/batches/1/witness-inputs"), WG_ROUTE_BAD_METHOD);
  ck_assert_str_eq(m.allow, "POST");
  ck_assert_int_eq(find_real("POST", "/healthz"), WG_ROUTE_BAD_METHOD);
  ck_assert_str_eq(m.allow, "GET");
  ck_assert_int_eq(find_real("GET", "/proofs/1/complete"), WG_ROUTE_BAD_METHOD);
  ck_assert_str_eq(m.allow, "POST");

  const char *missing[] = {"/", "", "/nope", "/healthz/", "/batches/", "/jobs/", "/jobs//witness", "//jobs/1",
                           "/jobs/1/", "/jobs/1/witness/", "/proofs/1", "/proofs"};
  for (size_t i = 0; i < sizeof missing / sizeof missing[0]; i++) {
    enum wg_route_result r = find_real("GET", missing[i]);
    ck_assert_msg(r == WG_ROUTE_NOT_FOUND, "GET \"%s\": result %d, expected WG_ROUTE_NOT_FOUND", missing[i], r);
  }
}
END_TEST

/* Every route declares the role of docs/api.md and the body it takes. */
START_TEST(real_table_roles)
{
  static const struct {
    const char *method, *pattern;
    enum wg_role role;
    enum wg_body body;
  } want[] = {
    {"GET", "/healthz", WG_ROLE_ANYONE, WG_BODY_NONE},
    {"GET", "/readyz", WG_ROLE_ANYONE, WG_BODY_NONE},
    {"POST", "/batches/{n}/witness-inputs", WG_ROLE_TREE, WG_BODY_INPUT},
    {"POST", "/jobs/claim", WG_ROLE_PROVER, WG_BODY_JSON},
    {"GET", "/jobs/{id}/witness", WG_ROLE_HOLDER, WG_BODY_NONE},
    {"POST", "/jobs/{id}/heartbeat", WG_ROLE_PROVER, WG_BODY_NONE},
    {"POST", "/proofs/{id}/complete", WG_ROLE_PROVER, WG_BODY_OCTET},
    {"POST", "/proofs/{id}/fail", WG_ROLE_PROVER, WG_BODY_JSON},
    {"GET", "/batches", WG_ROLE_VIEWER, WG_BODY_NONE},
    {"GET", "/batches/{n}", WG_ROLE_VIEWER, WG_BODY_NONE},
    {"GET", "/batches/{n}/jobs", WG_ROLE_VIEWER, WG_BODY_NONE},
    {"GET", "/batches/{n}/proof", WG_ROLE_VIEWER, WG_BODY_NONE},
    {"GET", "/jobs/{id}", WG_ROLE_VIEWER, WG_BODY_NONE},
    {"GET", "/jobs/{id}/attempts", WG_ROLE_VIEWER, WG_BODY_NONE},
    {"GET", "/queue", WG_ROLE_VIEWER, WG_BODY_NONE},
    {"POST", "/queue/pause", WG_ROLE_ADMIN, WG_BODY_JSON},
    {"POST", "/queue/resume", WG_ROLE_ADMIN, WG_BODY_JSON},
    {"POST", "/batches/{n}/priority", WG_ROLE_ADMIN, WG_BODY_JSON},
  };
  for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
    const struct wg_route *r = real_route(want[i].method, want[i].pattern);
    ck_assert_msg(r->role == want[i].role, "%s %s: role %d", want[i].method, want[i].pattern, r->role);
    ck_assert_msg(r->body == want[i].body, "%s %s: body %d", want[i].method, want[i].pattern, r->body);
  }
  /* Only the probes and the dashboard page (which holds no data) are open; every other route names
   * a real role. */
  for (size_t i = 0; i < wg_routes_count; i++) {
    const struct wg_route *r = &wg_routes[i];
    ck_assert_msg(r->role != WG_ROLE_NONE, "%s %s has no role", r->method, r->pattern);
    if (r->role == WG_ROLE_ANYONE)
      ck_assert_msg(strcmp(r->pattern, "/healthz") == 0 || strcmp(r->pattern, "/readyz") == 0 ||
                      strcmp(r->pattern, "/metrics") == 0 || strcmp(r->pattern, "/ui") == 0,
                    "%s %s is open to anyone", r->method, r->pattern);
    if (r->role == WG_ROLE_ADMIN)
      ck_assert_msg(strcmp(r->method, "GET") != 0, "GET %s needs admin, but viewers may GET", r->pattern);
  }
}
END_TEST

int main(void)
{
  Suite *s = suite_create("router");
  TCase *tc = tcase_create("router");
  tcase_add_test(tc, literal_paths);
  tcase_add_test(tc, parameters);
  tcase_add_test(tc, literal_beats_parameter);
  tcase_add_test(tc, method_not_allowed);
  tcase_add_test(tc, not_found);
  tcase_add_test(tc, bad_parameters);
  tcase_add_test(tc, bad_second_parameter_is_named);
  tcase_add_test(tc, real_table_every_route);
  tcase_add_test(tc, real_table_claim_vs_job);
  tcase_add_test(tc, real_table_errors);
  tcase_add_test(tc, real_table_roles);
  suite_add_tcase(s, tc);
  return wg_check_run(s);
}
