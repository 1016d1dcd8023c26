/* Unit tests for src/input: parsing and validation of the basic witness input, circuit counts,
 * and the canonical JSON encoding. Every document is built here, in C. */
#include "config.h"

#include <check.h>

#include "check_main.h"
#include <jansson.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "circuits/circuits.h"
#include "common/hex.h"
#include "input/input.h"

#define BATCH 42

/* 32-byte hashes, bare and as JSON strings. */
#define ZERO64 "0000000000000000000000000000000000000000000000000000000000000000"
#define ONE64 "1111111111111111111111111111111111111111111111111111111111111111"
#define TWO64 "2222222222222222222222222222222222222222222222222222222222222222"
#define KEY64 "abababababababababababababababababababababababababababababababab"
#define Q_ZERO "\"0x" ZERO64 "\""
#define Q_ONE "\"0x" ONE64 "\""
#define Q_TWO "\"0x" TWO64 "\""
#define Q_KEY "\"0x" KEY64 "\""

/* Storage log fields. */
#define F_KEY(h) "\"hashed_key\":" h
#define F_IDX(n) "\"leaf_index\":" n
#define F_W(b) "\"is_write\":" b
#define F_FW(b) "\"first_write\":" b
#define F_VR(h) "\"value_read\":" h
#define F_VW(h) "\"value_written\":" h
#define F_PATH(p) "\"merkle_path\":[" p "]"
#define F_ROOT(h) "\"root_hash\":" h

/* A first write at leaf 1, and a read of an existing key. */
#define LOG_WRITE                                                                                        \
  "{" F_KEY(Q_KEY) "," F_IDX("1") "," F_W("true") "," F_FW("true") "," F_VR(Q_ZERO) "," F_VW(Q_ONE) "," \
    F_PATH(Q_TWO "," Q_ONE) "," F_ROOT(Q_TWO) "}"
#define LOG_READ "{" F_KEY(Q_KEY) "," F_IDX("5") "," F_W("false") "," F_FW("false") "," F_VR(Q_ONE) "," F_PATH("") "}"
/* A write log with some fields replaced. */
#define WRITE_WITH(key, idx, fw, vr, vw, path)                                                    \
  "{" F_KEY(key) "," F_IDX(idx) "," F_W("true") "," F_FW(fw) "," F_VR(vr) "," F_VW(vw) "," F_PATH(path) "}"
#define READ_WITH(idx, fw, vr, extra)                                                               \
  "{" F_KEY(Q_KEY) "," F_IDX(idx) "," F_W("false") "," F_FW(fw) "," F_VR(vr) "," F_PATH("") extra "}"
/* storage_logs whose second entry (index 1) is `bad`. */
#define LOGS_BAD(bad) "[" LOG_WRITE "," bad "]"

/* ---- building documents --------------------------------------------------------------------- */

/* The fields of a document as JSON text. NULL means the default, OMIT leaves the field out. */
static const char OMIT[] = "(omit)";
struct doc {
  const char *batch, *version, *prev, *next, *logs, *workload;
  const char *extra; /* more members, appended as is */
  const char *raw;   /* when set, the whole body, ignoring the rest */
};

static void add_field(FILE *f, bool *first, const char *name, const char *value, const char *dflt)
{
  if (value == OMIT)
    return;
  fprintf(f, "%s\"%s\":%s", *first ? "" : ",", name, value != NULL ? value : dflt);
  *first = false;
}

static char *build_doc(const struct doc *d)
{
  if (d->raw != NULL)
    return strdup(d->raw);
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  ck_assert_ptr_nonnull(f);
  bool first = true;
  fputc('{', f);
  add_field(f, &first, "l1_batch_number", d->batch, "42");
  add_field(f, &first, "protocol_version", d->version, "24");
  add_field(f, &first, "previous_root_hash", d->prev, Q_ONE);
  add_field(f, &first, "new_root_hash", d->next, Q_TWO);
  add_field(f, &first, "storage_logs", d->logs, "[" LOG_WRITE "," LOG_READ "]");
  add_field(f, &first, "circuit_workload", d->workload, "{\"main_vm\":1}");
  if (d->extra != NULL)
    fprintf(f, "%s%s", first ? "" : ",", d->extra);
  fputc('}', f);
  fclose(f);
  return text;
}

static bool parse_text(const char *text, struct wg_input *in, struct wg_input_error *err)
{
  return wg_input_parse(text, strlen(text), BATCH, in, err);
}

static bool parse_doc(const struct doc *d, struct wg_input *in, struct wg_input_error *err)
{
  char *text = build_doc(d);
  bool ok = parse_text(text, in, err);
  free(text);
  return ok;
}

static void assert_empty(const struct wg_input *in)
{
  struct wg_input zero;
  memset(&zero, 0, sizeof zero);
  ck_assert_mem_eq(in, &zero, sizeof zero);
}

static void assert_valid_utf8(const char *s)
{
  json_t *j = json_string(s); /* jansson refuses invalid UTF-8 */
  ck_assert_msg(j != NULL, "not valid UTF-8: %s", s);
  json_decref(j);
}

static void hash_of(const char *hex64, uint8_t out[WG_HASH_LEN])
{
  char text[2 * WG_HASH_LEN + 3] = "0x";
  memcpy(text + 2, hex64, 2 * WG_HASH_LEN + 1);
  ck_assert(wg_hex_decode_fixed(text, out, WG_HASH_LEN));
}

/* ---- valid inputs ----------------------------------------------------------------------------- */

START_TEST(valid_minimal_input)
{
  struct wg_input in;
  struct wg_input_error err;
  struct doc d = {0};
  ck_assert_msg(parse_doc(&d, &in, &err), "%s: %s", err.path, err.message);

  uint8_t zero[WG_HASH_LEN] = {0}, one[WG_HASH_LEN], two[WG_HASH_LEN], key[WG_HASH_LEN];
  hash_of(ONE64, one);
  hash_of(TWO64, two);
  hash_of(KEY64, key);
  ck_assert_uint_eq(in.l1_batch_number, BATCH);
  ck_assert_uint_eq(in.protocol_version, 24);
  ck_assert_mem_eq(in.previous_root, one, WG_HASH_LEN);
  ck_assert_mem_eq(in.new_root, two, WG_HASH_LEN);
  ck_assert_uint_eq(in.n_logs, 2);

  const struct wg_storage_log *w = &in.logs[0], *r = &in.logs[1];
  ck_assert_mem_eq(w->hashed_key, key, WG_HASH_LEN);
  ck_assert_uint_eq(w->leaf_index, 1);
  ck_assert(w->is_write);
  ck_assert(w->first_write);
  ck_assert_mem_eq(w->value_read, zero, WG_HASH_LEN);
  ck_assert_mem_eq(w->value_written, one, WG_HASH_LEN);
  ck_assert_uint_eq(w->path_len, 2);
  ck_assert_ptr_eq(w->path, in.paths);
  ck_assert_mem_eq(w->path[0], two, WG_HASH_LEN);
  ck_assert_mem_eq(w->path[1], one, WG_HASH_LEN);
  ck_assert(w->has_root_hash);
  ck_assert_mem_eq(w->root_hash, two, WG_HASH_LEN);

  ck_assert_uint_eq(r->leaf_index, 5);
  ck_assert(!r->is_write);
  ck_assert(!r->first_write);
  ck_assert_mem_eq(r->value_read, one, WG_HASH_LEN);
  ck_assert_mem_eq(r->value_written, zero, WG_HASH_LEN); /* absent reads as zero */
  ck_assert_uint_eq(r->path_len, 0);
  ck_assert(!r->has_root_hash);

  ck_assert_uint_eq(in.workload[1], 1);
  ck_assert_uint_eq(in.workload[WG_STORAGE_APPLICATION_ID], 2);
  for (int id = 2; id <= WG_MAX_CIRCUIT_ID; id++)
    if (id != WG_STORAGE_APPLICATION_ID)
      ck_assert_uint_eq(in.workload[id], 0);
  wg_input_free(&in);
  assert_empty(&in);
  wg_input_free(&in); /* twice is harmless */
}
END_TEST

START_TEST(valid_variants)
{
  /* Upper-case hex and prefix, explicit null optional fields, a zero value_written on a read,
   * extreme integers, batch 0, and logs with no work beyond storage_application. */
  struct wg_input in;
  struct wg_input_error err;
  const char *logs =
    "[{" F_KEY("\"0XABABABABABABABABABABABABABABABABABABABABABABABABABABABABABABABAB\"") "," F_IDX(
      "9223372036854775807") "," F_W("true") "," F_FW("false") "," F_VR(Q_ONE) "," F_VW(Q_TWO) "," F_PATH("") "},"
    "{" F_KEY(Q_KEY) "," F_IDX("0") "," F_W("false") "," F_FW("false") "," F_VR(Q_ZERO) "," F_VW(
      Q_ZERO) "," F_PATH(Q_ONE) "," F_ROOT("null") "},"
    "{" F_KEY(Q_KEY) "," F_IDX("3") "," F_W("false") "," F_FW("false") "," F_VR(Q_ONE) "," F_VW("null") "," F_PATH(
      "") "}]";
  struct doc d = {.logs = logs, .workload = "{\"keccak256\":0}", .next = "\"0x" ZERO64 "\""};
  ck_assert_msg(parse_doc(&d, &in, &err), "%s: %s", err.path, err.message);
  uint8_t key[WG_HASH_LEN];
  hash_of(KEY64, key);
  ck_assert_uint_eq(in.n_logs, 3);
  ck_assert_mem_eq(in.logs[0].hashed_key, key, WG_HASH_LEN);
  ck_assert_uint_eq(in.logs[0].leaf_index, 9223372036854775807ULL);
  ck_assert(!in.logs[1].has_root_hash);
  ck_assert_uint_eq(in.logs[1].path_len, 1);
  ck_assert_ptr_eq(in.logs[1].path, in.paths);
  ck_assert_uint_eq(in.workload[5], 0);
  wg_input_free(&in);

  /* Batch 0 against the path's 0. */
  char *text = build_doc(&(struct doc){.batch = "0"});
  ck_assert_msg(wg_input_parse(text, strlen(text), 0, &in, &err), "%s: %s", err.path, err.message);
  ck_assert_uint_eq(in.l1_batch_number, 0);
  wg_input_free(&in);
  free(text);

  /* Workload alone, no storage logs. */
  ck_assert(parse_doc(&(struct doc){.logs = "[]", .workload = "{\"sha256\":1}"}, &in, &err));
  ck_assert_uint_eq(in.n_logs, 0);
  ck_assert_ptr_null(in.logs);
  ck_assert_ptr_null(in.paths);
  wg_input_free(&in);

  /* err may be NULL. */
  ck_assert(!parse_text("{", &in, NULL));
  assert_empty(&in);
}
END_TEST

START_TEST(scheduler_cap_boundary)
{
  struct wg_input in;
  struct wg_input_error err;
  /* One storage log (one circuit) plus 27999 main_vm circuits: exactly the cap. */
  ck_assert_msg(parse_doc(&(struct doc){.logs = "[" LOG_WRITE "]", .workload = "{\"main_vm\":150914610}"}, &in, &err),
                "%s: %s", err.path, err.message);
  uint64_t counts[WG_MAX_CIRCUIT_ID + 1];
  ck_assert_uint_eq(wg_input_circuit_counts(&in, counts), WG_SCHEDULER_CAPACITY);
  wg_input_free(&in);
  /* One unit more of main_vm work: one circuit too many. */
  ck_assert(!parse_doc(&(struct doc){.logs = "[" LOG_WRITE "]", .workload = "{\"main_vm\":150914611}"}, &in, &err));
  ck_assert_str_eq(err.path, "$");
  ck_assert_str_eq(err.message, "batch needs 28001 basic circuits, more than the scheduler capacity of 28000");
  assert_empty(&in);
}
END_TEST

/* ---- invalid inputs, table-driven ------------------------------------------------------------ */

struct bad_case {
  const char *name;
  struct doc doc;
  const char *path;    /* expected error path */
  bool bad_json;       /* expected flag */
  const char *message; /* a substring the message must hold, or NULL */
};

/* 80 bytes: the longest key quoted in full. */
#define KEY80 "k123456789k123456789k123456789k123456789k123456789k123456789k123456789k123456789"

static const struct bad_case bad_cases[] = {
  /* Not JSON at all. */
  {"truncated", {.raw = "{\"l1_batch_number\":42,"}, "$", true, "invalid JSON"},
  {"empty body", {.raw = ""}, "$", true, NULL},
  {"trailing garbage", {.raw = "{} {}"}, "$", true, NULL},
  {"duplicate top-level key", {.extra = "\"l1_batch_number\":42"}, "$", true, "duplicate"},
  {"duplicate key in a log", {.logs = "[{" F_KEY(Q_KEY) "," F_KEY(Q_KEY) "}]"}, "$", true, "duplicate"},
  {"integer beyond int64", {.logs = LOGS_BAD(WRITE_WITH(Q_KEY, "99999999999999999999999", "true", Q_ZERO, Q_ONE, ""))},
   "$", true, NULL},
  {"real overflow", {.workload = "{\"main_vm\":1e400}"}, "$", true, NULL},
  {"batch beyond int64", {.batch = "9223372036854775808"}, "$", true, NULL},
  {"invalid UTF-8", {.raw = "{\"\xff\":1}"}, "$", true, NULL},
  /* The top level. */
  {"array", {.raw = "[]"}, "$", false, "expected a JSON object, got an array"},
  {"bare number", {.raw = "42"}, "$", false, "got an integer"},
  {"bare string", {.raw = "\"x\""}, "$", false, "got a string"},
  {"unknown top-level field", {.extra = "\"l1_batch_numbr\":42"}, "$.l1_batch_numbr", false, "unknown field"},
  {"unknown field that needs quoting", {.extra = "\"a b\":1"}, "$[\"a b\"]", false, "unknown field \"a b\""},
  {"unknown field with a control character", {.extra = "\"\\u0001\\\"\":1"}, "$[\"\\u0001\\\"\"]", false, NULL},
  {"unknown long field", {.extra = "\"" KEY80 "k123456789\":1"}, "$[\"" KEY80 "...\"]", false, NULL},
  {"unknown field beats a wrong batch", {.batch = "41", .extra = "\"x\":1"}, "$.x", false, NULL},
  {"missing l1_batch_number", {.batch = OMIT}, "$.l1_batch_number", false, "missing"},
  {"missing protocol_version", {.version = OMIT}, "$.protocol_version", false, "missing"},
  {"missing previous_root_hash", {.prev = OMIT}, "$.previous_root_hash", false, "missing"},
  {"missing new_root_hash", {.next = OMIT}, "$.new_root_hash", false, "missing"},
  {"missing storage_logs", {.logs = OMIT}, "$.storage_logs", false, "missing"},
  {"missing circuit_workload", {.workload = OMIT}, "$.circuit_workload", false, "missing"},
  {"wrong batch number", {.batch = "41"}, "$.l1_batch_number", false, "must equal 42, the batch number in the path"},
  {"negative batch number", {.batch = "-42"}, "$.l1_batch_number", false, "non-negative integer, got -42"},
  {"batch number as string", {.batch = "\"42\""}, "$.l1_batch_number", false, "got a string"},
  {"batch number as real", {.batch = "42.0"}, "$.l1_batch_number", false, "got a real number"},
  {"unknown protocol version", {.version = "23"}, "$.protocol_version", false, "unknown protocol version 23"},
  {"protocol version that aliases 24 in 32 bits", {.version = "4294967320"}, "$.protocol_version", false, "unknown"},
  {"protocol version as real", {.version = "24.5"}, "$.protocol_version", false, "real number"},
  {"wrong batch beats bad version", {.batch = "41", .version = "1"}, "$.l1_batch_number", false, NULL},
  {"bad version beats bad roots", {.version = "1", .prev = "1"}, "$.protocol_version", false, NULL},
  {"root without 0x", {.prev = "\"" ZERO64 "\""}, "$.previous_root_hash", false,
   "expected a 0x-prefixed 32-byte hex string: the 0x prefix is missing"},
  {"root with 62 digits", {.next = "\"0x00000000000000000000000000000000000000000000000000000000000000\""},
   "$.new_root_hash", false, "it has 62 hex digits instead of 64"},
  {"root with 66 digits", {.next = "\"0x" ZERO64 "00\""}, "$.new_root_hash", false, "66 hex digits"},
  {"root with a non-hex character",
   {.next = "\"0x" "g" "000000000000000000000000000000000000000000000000000000000000000\""},
   "$.new_root_hash", false, "not a hex digit"},
  {"root as integer", {.prev = "0"}, "$.previous_root_hash", false,
   "expected a 0x-prefixed 32-byte hex string, got an integer"},
  {"storage_logs not an array", {.logs = "{}"}, "$.storage_logs", false, "got an object"},
  /* Storage logs. */
  {"log not an object", {.logs = "[" LOG_WRITE ",7]"}, "$.storage_logs[1]", false, "expected an object"},
  {"unknown log field", {.logs = LOGS_BAD("{\"valu_read\":1}")}, "$.storage_logs[1].valu_read", false,
   "unknown storage log field"},
  {"missing hashed_key", {.logs = LOGS_BAD("{" F_IDX("1") "}")}, "$.storage_logs[1].hashed_key", false, "missing"},
  {"missing leaf_index", {.logs = LOGS_BAD("{" F_KEY(Q_KEY) "}")}, "$.storage_logs[1].leaf_index", false, "missing"},
  {"missing merkle_path",
   {.logs = LOGS_BAD("{" F_KEY(Q_KEY) "," F_IDX("1") "," F_W("true") "," F_FW("true") "," F_VR(Q_ZERO) ","
                     F_VW(Q_ONE) "}")},
   "$.storage_logs[1].merkle_path", false, "missing"},
  {"write without value_written",
   {.logs = LOGS_BAD("{" F_KEY(Q_KEY) "," F_IDX("1") "," F_W("true") "," F_FW("true") "," F_VR(Q_ZERO) ","
                     F_PATH("") "}")},
   "$.storage_logs[1].value_written", false, "missing"},
  {"bad hashed_key", {.logs = LOGS_BAD(WRITE_WITH("\"0x12\"", "1", "true", Q_ZERO, Q_ONE, ""))},
   "$.storage_logs[1].hashed_key", false, "2 hex digits"},
  {"first problem in a log wins", {.logs = LOGS_BAD(WRITE_WITH("\"0x12\"", "-1", "true", Q_ZERO, Q_ONE, ""))},
   "$.storage_logs[1].hashed_key", false, NULL},
  {"first bad log wins",
   {.logs = "[" LOG_WRITE "," WRITE_WITH(Q_KEY, "-1", "true", Q_ZERO, Q_ONE, "") ","
            WRITE_WITH("1", "1", "true", Q_ZERO, Q_ONE, "") "]"},
   "$.storage_logs[1].leaf_index", false, NULL},
  {"negative leaf_index", {.logs = LOGS_BAD(WRITE_WITH(Q_KEY, "-1", "true", Q_ZERO, Q_ONE, ""))},
   "$.storage_logs[1].leaf_index", false, "non-negative integer, got -1"},
  {"real leaf_index", {.logs = LOGS_BAD(WRITE_WITH(Q_KEY, "1.5", "true", Q_ZERO, Q_ONE, ""))},
   "$.storage_logs[1].leaf_index", false, "real number"},
  {"leaf_index in exponent form", {.logs = LOGS_BAD(WRITE_WITH(Q_KEY, "1e3", "true", Q_ZERO, Q_ONE, ""))},
   "$.storage_logs[1].leaf_index", false, "real number"},
  {"string where a bool is expected", {.logs = LOGS_BAD(WRITE_WITH(Q_KEY, "1", "\"true\"", Q_ZERO, Q_ONE, ""))},
   "$.storage_logs[1].first_write", false, "expected true or false, got a string"},
  {"number where a bool is expected",
   {.logs = LOGS_BAD("{" F_KEY(Q_KEY) "," F_IDX("1") "," F_W("1") "}")}, "$.storage_logs[1].is_write", false,
   "expected true or false, got an integer"},
  {"bad value_read", {.logs = LOGS_BAD(WRITE_WITH(Q_KEY, "1", "false", "\"0x" ONE64 "1\"", Q_ONE, ""))},
   "$.storage_logs[1].value_read", false, "65 hex digits"},
  {"bad value_written", {.logs = LOGS_BAD(WRITE_WITH(Q_KEY, "1", "false", Q_ONE, "true", ""))},
   "$.storage_logs[1].value_written", false, "got true"},
  {"merkle_path not an array",
   {.logs = LOGS_BAD("{" F_KEY(Q_KEY) "," F_IDX("1") "," F_W("true") "," F_FW("false") "," F_VR(Q_ONE) "," F_VW(
     Q_ONE) ",\"merkle_path\":\"0x\"}")},
   "$.storage_logs[1].merkle_path", false, "got a string"},
  {"bad merkle_path entry", {.logs = LOGS_BAD(WRITE_WITH(Q_KEY, "1", "false", Q_ONE, Q_ONE, Q_ONE ",\"0x1\"," Q_ONE))},
   "$.storage_logs[1].merkle_path[1]", false, "it has 1 hex digit instead of 64"},
  {"bad root_hash", {.logs = LOGS_BAD(READ_WITH("5", "false", Q_ONE, "," F_ROOT("\"0x\"")))},
   "$.storage_logs[1].root_hash", false, "0 hex digits"},
  {"read with first_write", {.logs = LOGS_BAD(READ_WITH("5", "true", Q_ONE, ""))}, "$.storage_logs[1].first_write",
   false, "must be false for a read"},
  {"read with nonzero value_written", {.logs = LOGS_BAD(READ_WITH("5", "false", Q_ONE, "," F_VW(Q_ONE)))},
   "$.storage_logs[1].value_written", false, "must be zero"},
  {"read of a missing key with nonzero value_read", {.logs = LOGS_BAD(READ_WITH("0", "false", Q_ONE, ""))},
   "$.storage_logs[1].value_read", false, "missing key"},
  {"write at leaf_index 0", {.logs = LOGS_BAD(WRITE_WITH(Q_KEY, "0", "true", Q_ZERO, Q_ONE, ""))},
   "$.storage_logs[1].leaf_index", false, "at least 1"},
  {"first_write with nonzero value_read", {.logs = LOGS_BAD(WRITE_WITH(Q_KEY, "3", "true", Q_ONE, Q_ONE, ""))},
   "$.storage_logs[1].value_read", false, "must be zero for a first_write"},
  {"bad log beats bad workload", {.logs = LOGS_BAD("3"), .workload = "{\"nope\":1}"}, "$.storage_logs[1]", false, NULL},
  /* The workload. */
  {"circuit_workload not an object", {.workload = "[]"}, "$.circuit_workload", false, "got an array"},
  {"unknown workload key", {.workload = "{\"main_vm\":1,\"main_vmm\":1}"}, "$.circuit_workload.main_vmm", false,
   "unknown circuit_workload key \"main_vmm\"; valid keys for protocol version 24: main_vm, decommitments_sorter,"
   " code_decommitter, log_demuxer, keccak256, sha256, ecrecover, ram_permutation, storage_sorter, events_sorter,"
   " l1_messages_sorter, l1_messages_hasher, transient_storage_sorter, secp256r1_verify (storage_application work is"
   " counted from storage_logs)"},
  {"storage_application in the workload", {.workload = "{\"storage_application\":3}"},
   "$.circuit_workload.storage_application", false, "storage_application work is counted from storage_logs"},
  {"negative workload", {.workload = "{\"keccak256\":-5}"}, "$.circuit_workload.keccak256", false, "got -5"},
  {"real workload", {.workload = "{\"keccak256\":5.0}"}, "$.circuit_workload.keccak256", false, "real number"},
  {"string workload", {.workload = "{\"keccak256\":\"5\"}"}, "$.circuit_workload.keccak256", false, "got a string"},
  {"bad workload beats the cap", {.workload = "{\"main_vm\":150925390,\"sha256\":null}"}, "$.circuit_workload.sha256",
   false, "got null"},
  /* The batch as a whole. */
  {"no work at all", {.logs = "[]", .workload = "{}"}, "$", false, "batch has no work"},
  {"zero work", {.logs = "[]", .workload = "{\"main_vm\":0,\"ecrecover\":0}"}, "$", false, "batch has no work"},
  {"over the scheduler cap", {.logs = "[]", .workload = "{\"main_vm\":150925390}"}, "$", false,
   "batch needs 28001 basic circuits, more than the scheduler capacity of 28000"},
  {"far over the cap",
   {.logs = "[]", .workload = "{\"ecrecover\":9223372036854775807,\"secp256r1_verify\":9223372036854775807}"},
   "$", false, "more than the scheduler capacity of 28000"},
};

START_TEST(bad_inputs)
{
  const struct bad_case *c = &bad_cases[_i];
  struct wg_input in;
  struct wg_input_error err;
  memset(&in, 0xa5, sizeof in); /* garbage: the parser must clear it */
  char *text = build_doc(&c->doc);
  bool ok = parse_text(text, &in, &err);
  ck_assert_msg(!ok, "%s: accepted %s", c->name, text);
  free(text);
  ck_assert_msg(strcmp(err.path, c->path) == 0, "%s: path %s, expected %s (%s)", c->name, err.path, c->path,
                err.message);
  ck_assert_msg(err.bad_json == c->bad_json, "%s: bad_json %d (%s)", c->name, err.bad_json, err.message);
  ck_assert(!err.internal);
  if (c->message != NULL)
    ck_assert_msg(strstr(err.message, c->message) != NULL, "%s: message \"%s\" lacks \"%s\"", c->name, err.message,
                  c->message);
  ck_assert_msg(err.message[0] != '\0', "%s: empty message", c->name);
  assert_valid_utf8(err.path);
  assert_valid_utf8(err.message);
  assert_empty(&in);
  wg_input_free(&in);
}
END_TEST

/* A storage_logs array of one first write whose path has n siblings. */
static char *logs_with_path(size_t n)
{
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  fputs("[{" F_KEY(Q_KEY) "," F_IDX("1") "," F_W("true") "," F_FW("true") "," F_VR(Q_ZERO) "," F_VW(Q_ONE) ","
        "\"merkle_path\":[", f);
  for (size_t i = 0; i < n; i++)
    fprintf(f, "%s\"0x%064zx\"", i ? "," : "", i);
  fputs("]}]", f);
  fclose(f);
  return text;
}

START_TEST(path_length_limit)
{
  struct wg_input in;
  struct wg_input_error err;
  char *logs = logs_with_path(256);
  ck_assert_msg(parse_doc(&(struct doc){.logs = logs}, &in, &err), "%s: %s", err.path, err.message);
  ck_assert_uint_eq(in.logs[0].path_len, 256);
  ck_assert_uint_eq(in.logs[0].path[255][31], 255);
  ck_assert_uint_eq(in.logs[0].path[255][30], 0);
  wg_input_free(&in);
  free(logs);

  logs = logs_with_path(257);
  ck_assert(!parse_doc(&(struct doc){.logs = logs}, &in, &err));
  ck_assert_str_eq(err.path, "$.storage_logs[0].merkle_path");
  ck_assert_ptr_nonnull(strstr(err.message, "257"));
  ck_assert(!err.bad_json);
  assert_empty(&in);
  free(logs);
}
END_TEST

START_TEST(error_messages_are_utf8)
{
  /* A valid multi-byte key long enough to be cut inside a character stays valid UTF-8. */
  struct wg_input in;
  struct wg_input_error err;
  char extra[600];
  strcpy(extra, "\"");
  for (int i = 0; i < 60; i++)
    strcat(extra, "\xc3\xa9"); /* é */
  strcat(extra, "x\":1");
  ck_assert(!parse_doc(&(struct doc){.extra = extra}, &in, &err));
  ck_assert(!err.bad_json);
  ck_assert_ptr_nonnull(strstr(err.message, "unknown field"));
  assert_valid_utf8(err.path);
  assert_valid_utf8(err.message);
}
END_TEST

/* ---- counts ----------------------------------------------------------------------------------- */

/* storage_logs holding n reads of missing keys. */
static char *missing_reads(size_t n)
{
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  fputc('[', f);
  for (size_t i = 0; i < n; i++)
    fprintf(f, "%s" READ_WITH("0", "false", Q_ZERO, ""), i ? "," : "");
  fputc(']', f);
  fclose(f);
  return text;
}

START_TEST(circuit_counts)
{
  struct wg_input in;
  struct wg_input_error err;
  char *logs = missing_reads(34);
  struct doc d = {.logs = logs,
                  .workload = "{\"main_vm\":5391,\"keccak256\":293,\"ecrecover\":15,\"secp256r1_verify\":4,"
                              "\"ram_permutation\":0}"};
  ck_assert_msg(parse_doc(&d, &in, &err), "%s: %s", err.path, err.message);
  free(logs);
  uint64_t counts[WG_MAX_CIRCUIT_ID + 1];
  memset(counts, 0xff, sizeof counts);
  ck_assert_uint_eq(wg_input_circuit_counts(&in, counts), 2 + 1 + 3 + 1 + 2);
  uint64_t expected[WG_MAX_CIRCUIT_ID + 1] = {[1] = 2, [5] = 1, [7] = 3, [10] = 2, [15] = 1};
  for (int id = 0; id <= WG_MAX_CIRCUIT_ID; id++)
    ck_assert_msg(counts[id] == expected[id], "circuit %d: %llu, expected %llu", id, (unsigned long long)counts[id],
                  (unsigned long long)expected[id]);
  ck_assert_uint_eq(in.workload[WG_STORAGE_APPLICATION_ID], 34);
  ck_assert_uint_eq(in.workload[1], 5391);
  ck_assert_uint_eq(in.workload[8], 0);
  wg_input_free(&in);

  /* Storage application follows n_logs: 33 logs fit one circuit. */
  logs = missing_reads(33);
  ck_assert(parse_doc(&(struct doc){.logs = logs, .workload = "{}"}, &in, &err));
  free(logs);
  ck_assert_uint_eq(wg_input_circuit_counts(&in, counts), 1);
  ck_assert_uint_eq(counts[WG_STORAGE_APPLICATION_ID], 1);
  wg_input_free(&in);
}
END_TEST

/* ---- the canonical JSON ------------------------------------------------------------------------ */

static void assert_same_input(const struct wg_input *a, const struct wg_input *b)
{
  ck_assert_uint_eq(a->l1_batch_number, b->l1_batch_number);
  ck_assert_uint_eq(a->protocol_version, b->protocol_version);
  ck_assert_mem_eq(a->previous_root, b->previous_root, WG_HASH_LEN);
  ck_assert_mem_eq(a->new_root, b->new_root, WG_HASH_LEN);
  ck_assert_uint_eq(a->n_logs, b->n_logs);
  for (size_t i = 0; i < a->n_logs; i++) {
    const struct wg_storage_log *x = &a->logs[i], *y = &b->logs[i];
    ck_assert_mem_eq(x->hashed_key, y->hashed_key, WG_HASH_LEN);
    ck_assert_uint_eq(x->leaf_index, y->leaf_index);
    ck_assert_int_eq(x->is_write, y->is_write);
    ck_assert_int_eq(x->first_write, y->first_write);
    ck_assert_mem_eq(x->value_read, y->value_read, WG_HASH_LEN);
    ck_assert_mem_eq(x->value_written, y->value_written, WG_HASH_LEN);
    ck_assert_uint_eq(x->path_len, y->path_len);
    if (x->path_len > 0)
      ck_assert_mem_eq(x->path, y->path, x->path_len * WG_HASH_LEN);
    ck_assert_int_eq(x->has_root_hash, y->has_root_hash);
    if (x->has_root_hash)
      ck_assert_mem_eq(x->root_hash, y->root_hash, WG_HASH_LEN);
  }
  for (int id = 1; id <= WG_MAX_CIRCUIT_ID; id++)
    ck_assert_uint_eq(a->workload[id], b->workload[id]);
}

START_TEST(canonical_json_shape)
{
  struct wg_input in;
  struct wg_input_error err;
  struct doc d = {.prev = "\"0X" ONE64 "\"",
                  .logs = "[" LOG_WRITE "," LOG_READ "]",
                  .workload = "{\"keccak256\":7,\"main_vm\":0,\"code_decommitter\":3}"};
  ck_assert(parse_doc(&d, &in, &err));
  char *json = wg_input_to_json(&in);
  ck_assert_ptr_nonnull(json);
  ck_assert_str_eq(json, "{\"l1_batch_number\":42,\"protocol_version\":24,\"previous_root_hash\":" Q_ONE
                         ",\"new_root_hash\":" Q_TWO ",\"storage_logs\":["
                         "{" F_KEY(Q_KEY) "," F_IDX("1") "," F_W("true") "," F_FW("true") "," F_VR(Q_ZERO) "," F_VW(
                           Q_ONE) "," F_PATH(Q_TWO "," Q_ONE) "," F_ROOT(Q_TWO) "},"
                         "{" F_KEY(Q_KEY) "," F_IDX("5") "," F_W("false") "," F_FW("false") "," F_VR(Q_ONE) "," F_VW(
                           Q_ZERO) "," F_PATH("") "}],"
                         "\"circuit_workload\":{\"code_decommitter\":3,\"keccak256\":7}}");
  free(json);
  wg_input_free(&in);
}
END_TEST

/* A deterministic generator for inputs that follow every rule. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;
static uint64_t rng(void)
{
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return rng_state;
}

static void rng_hash(uint8_t out[WG_HASH_LEN])
{
  for (size_t i = 0; i < WG_HASH_LEN; i++)
    out[i] = (uint8_t)rng();
}

START_TEST(round_trip)
{
  enum { N = 300 };
  struct wg_storage_log logs[N];
  size_t total_path = 0;
  memset(logs, 0, sizeof logs);
  size_t lens[N];
  for (size_t i = 0; i < N; i++) {
    lens[i] = i == 0 ? 256 : i == 1 ? 0 : (size_t)(rng() % 257);
    total_path += lens[i];
  }
  uint8_t(*paths)[WG_HASH_LEN] = malloc(total_path * WG_HASH_LEN);
  size_t cursor = 0;
  for (size_t i = 0; i < N; i++) {
    struct wg_storage_log *l = &logs[i];
    rng_hash(l->hashed_key);
    l->is_write = rng() & 1;
    if (l->is_write) {
      l->first_write = rng() & 1;
      l->leaf_index = 1 + rng() % 1000000;
      if (!l->first_write)
        rng_hash(l->value_read);
      rng_hash(l->value_written);
    } else if (rng() & 1) {
      l->leaf_index = (rng() >> 1) | 1; /* up to INT64_MAX */
      rng_hash(l->value_read);
    }
    for (size_t k = 0; k < lens[i]; k++)
      rng_hash(paths[cursor + k]);
    l->path = (const uint8_t(*)[WG_HASH_LEN])paths + cursor;
    l->path_len = lens[i];
    cursor += lens[i];
    l->has_root_hash = rng() & 1;
    if (l->has_root_hash)
      rng_hash(l->root_hash);
  }
  struct wg_input made = {.l1_batch_number = BATCH, .protocol_version = 24, .logs = logs, .n_logs = N, .paths = paths};
  rng_hash(made.previous_root);
  rng_hash(made.new_root);
  made.workload[1] = 123456;
  made.workload[13] = 1;
  made.workload[WG_STORAGE_APPLICATION_ID] = N;

  char *json = wg_input_to_json(&made);
  ck_assert_ptr_nonnull(json);
  struct wg_input parsed;
  struct wg_input_error err;
  ck_assert_msg(parse_text(json, &parsed, &err), "%s: %s", err.path, err.message);
  assert_same_input(&made, &parsed);
  /* All paths share one allocation, in order. */
  for (size_t i = 0; i + 1 < N; i++)
    if (parsed.logs[i].path_len > 0 && parsed.logs[i + 1].path_len > 0)
      ck_assert_ptr_eq(parsed.logs[i].path + parsed.logs[i].path_len, parsed.logs[i + 1].path);

  /* The encoding is canonical: encoding the parsed input gives the same bytes. */
  char *again = wg_input_to_json(&parsed);
  ck_assert_str_eq(json, again);
  free(again);
  /* The canonical digest is the SHA-256 of those bytes, made without them. */
  uint8_t digest[32], expected[32];
  ck_assert(wg_input_canonical_sha256(&parsed, digest));
  SHA256((const unsigned char *)json, strlen(json), expected);
  ck_assert_mem_eq(digest, expected, 32);
  free(json);
  wg_input_free(&parsed);
  free(paths);
}
END_TEST

/* The canonical digest names the input, not its spelling: a merkle path with its leaf-level empty
 * subtrees spelt out is the same log as the path without them. */
START_TEST(canonical_digest_of_paths)
{
  uint8_t paths[4][WG_HASH_LEN];
  memcpy(paths[0], wg_tree_empty(WG_TREE_DEPTH - 4), WG_HASH_LEN);
  memcpy(paths[1], wg_tree_empty(WG_TREE_DEPTH - 3), WG_HASH_LEN);
  memset(paths[2], 0x11, WG_HASH_LEN);
  memset(paths[3], 0x22, WG_HASH_LEN);
  struct wg_storage_log log = {.leaf_index = 1, .is_write = true, .first_write = true};
  memset(log.hashed_key, 0xab, WG_HASH_LEN);
  memset(log.value_written, 0x01, WG_HASH_LEN);
  struct wg_input in = {.l1_batch_number = BATCH, .protocol_version = 24, .logs = &log, .n_logs = 1};
  in.workload[WG_STORAGE_APPLICATION_ID] = 1;
  uint8_t full[32], shortest[32], one_empty[32], other[32];
  log.path = (const uint8_t(*)[WG_HASH_LEN])paths;
  log.path_len = 4;
  ck_assert(wg_input_canonical_sha256(&in, full));
  log.path = (const uint8_t(*)[WG_HASH_LEN])paths + 1;
  log.path_len = 3;
  ck_assert(wg_input_canonical_sha256(&in, one_empty));
  log.path = (const uint8_t(*)[WG_HASH_LEN])paths + 2;
  log.path_len = 2;
  ck_assert(wg_input_canonical_sha256(&in, shortest));
  ck_assert_mem_eq(full, shortest, 32);
  ck_assert_mem_eq(one_empty, shortest, 32);
  /* The same hashes one level lower are another path: not the same input. */
  log.path = (const uint8_t(*)[WG_HASH_LEN])paths + 1;
  log.path_len = 2;
  ck_assert(wg_input_canonical_sha256(&in, other));
  ck_assert(memcmp(other, shortest, 32) != 0);
  paths[3][0] = 0x23;
  log.path = (const uint8_t(*)[WG_HASH_LEN])paths;
  log.path_len = 4;
  ck_assert(wg_input_canonical_sha256(&in, other));
  ck_assert(memcmp(other, full, 32) != 0);
}
END_TEST

int main(void)
{
  Suite *s = suite_create("input");
  TCase *tc = tcase_create("input");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, valid_minimal_input);
  tcase_add_test(tc, valid_variants);
  tcase_add_test(tc, scheduler_cap_boundary);
  tcase_add_loop_test(tc, bad_inputs, 0, (int)(sizeof bad_cases / sizeof bad_cases[0]));
  tcase_add_test(tc, path_length_limit);
  tcase_add_test(tc, error_messages_are_utf8);
  tcase_add_test(tc, circuit_counts);
  tcase_add_test(tc, canonical_json_shape);
  tcase_add_test(tc, round_trip);
  tcase_add_test(tc, canonical_digest_of_paths);
  suite_add_tcase(s, tc);
  return wg_check_run(s);
}
