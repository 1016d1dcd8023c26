/* Parsing and validation of the basic witness input (docs/input-format.md), and the circuit counts it
 * implies.
 *
 * Checks run in the document order of the example in docs/input-format.md (l1_batch_number,
 * protocol_version, the roots, storage_logs, circuit_workload) and then the scheduler cap; the
 * first problem wins. In every object, unknown keys are reported before anything else, so that a
 * misspelt field is named as such instead of showing up as a missing one.
 *
 * Inputs reach tens of MB, so the parser is linear, builds strings only when it has an error to
 * report, and makes exactly two allocations for the result (all logs; all path siblings). The
 * jansson tree is freed as soon as the fields are copied out, before the whole-batch checks.
 * Peak memory is the body, plus the tree (about twice the body), plus the result (about half the
 * body). Releasing each log's JSON early was measured to make no difference to the peak: glibc
 * keeps the freed small blocks, and the result lives in its own large mappings. */
#include "config.h"
#include "input/input.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/hex.h"

#define FORMAT(a, b) __attribute__((format(printf, a, b)))

static const char *const top_fields[] = {
  "l1_batch_number", "protocol_version", "previous_root_hash", "new_root_hash",
  "storage_logs",    "circuit_workload", NULL,
};

static const char *const log_fields[] = {
  "hashed_key",    "leaf_index",  "is_write",  "first_write", "value_read",
  "value_written", "merkle_path", "root_hash", NULL,
};

/* ---- error reporting ---------------------------------------------------------------------- */

/* Replaces every byte that is not part of valid UTF-8, or is a control character, with '?'. Error
 * texts end up in JSON replies (which must be UTF-8) and may quote input bytes or have been cut
 * in the middle of a character by snprintf. */
static void sanitize_text(char *s)
{
  unsigned char *p = (unsigned char *)s;
  while (*p) {
    unsigned c = *p;
    size_t n = 0;
    unsigned lo = 0x80, hi = 0xbf;
    if (c < 0x80) {
      if (c < 0x20 || c == 0x7f)
        *p = '?';
      p++;
      continue;
    }
    if (c >= 0xc2 && c <= 0xdf)
      n = 1;
    else if (c >= 0xe0 && c <= 0xef) {
      n = 2;
      if (c == 0xe0)
        lo = 0xa0;
      else if (c == 0xed)
        hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      n = 3;
      if (c == 0xf0)
        lo = 0x90;
      else if (c == 0xf4)
        hi = 0x8f;
    }
    bool valid = n > 0;
    for (size_t i = 1; valid && i <= n; i++) {
      unsigned cc = p[i];
      if (i == 1 ? (cc < lo || cc > hi) : (cc < 0x80 || cc > 0xbf))
        valid = false;
    }
    if (!valid) {
      *p++ = '?';
      continue;
    }
    p += n + 1;
  }
}

static void set_message(struct wg_input_error *err, const char *fmt, ...) FORMAT(2, 3);
static void set_message(struct wg_input_error *err, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err->message, sizeof err->message, fmt, ap);
  va_end(ap);
  sanitize_text(err->message);
}

static void set_path_v(struct wg_input_error *err, const char *fmt, va_list ap)
{
  err->bad_json = false;
  vsnprintf(err->path, sizeof err->path, fmt, ap);
  sanitize_text(err->path);
}

static void set_path(struct wg_input_error *err, const char *fmt, ...) FORMAT(2, 3);
static void set_path(struct wg_input_error *err, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  set_path_v(err, fmt, ap);
  va_end(ap);
}

/* Writes key as a JSON string literal (quotes included) into buf, escaping what JSON requires
 * and cutting keys longer than 80 bytes short with "...". */
static void quote_key(char *buf, size_t cap, const char *key)
{
  static const char digits[] = "0123456789abcdef";
  const size_t max_key = 80;
  size_t o = 0, i = 0;
  buf[o++] = '"';
  for (; key[i] != '\0' && i < max_key && o + 8 < cap; i++) {
    unsigned char c = (unsigned char)key[i];
    if (c == '"' || c == '\\') {
      buf[o++] = '\\';
      buf[o++] = (char)c;
    } else if (c < 0x20) {
      memcpy(buf + o, "\\u00", 4);
      buf[o + 4] = digits[c >> 4];
      buf[o + 5] = digits[c & 15];
      o += 6;
    } else {
      buf[o++] = (char)c;
    }
  }
  if (key[i] != '\0') {
    memcpy(buf + o, "...", 3);
    o += 3;
  }
  buf[o++] = '"';
  buf[o] = '\0';
}

/* The path segment that selects key in an object: ".key" for a plain identifier, else
 * ["key"]. */
static void key_segment(char *buf, size_t cap, const char *key)
{
  bool plain = (key[0] >= 'a' && key[0] <= 'z') || (key[0] >= 'A' && key[0] <= 'Z') || key[0] == '_';
  for (const char *k = key; plain && *k; k++)
    plain = (*k >= 'a' && *k <= 'z') || (*k >= 'A' && *k <= 'Z') || (*k >= '0' && *k <= '9') || *k == '_';
  if (plain && strlen(key) < 80) {
    snprintf(buf, cap, ".%s", key);
  } else {
    char quoted[512];
    quote_key(quoted, sizeof quoted, key);
    snprintf(buf, cap, "[%s]", quoted);
  }
}

/* Reports key of the object at `where` as not allowed there. */
static void fail_key(struct wg_input_error *err, const char *where, const char *key, const char *what)
{
  char segment[600], quoted[512];
  key_segment(segment, sizeof segment, key);
  quote_key(quoted, sizeof quoted, key);
  set_path(err, "%s%s", where, segment);
  set_message(err, "%s %s", what, quoted);
}

/* Checks that every key of obj is one of allowed (NULL-terminated); obj sits at `where`. */
static bool check_keys(const json_t *obj, const char *const *allowed, const char *where,
                       const char *what, struct wg_input_error *err)
{
  const char *key;
  json_t *value;
  json_object_foreach((json_t *)obj, key, value) {
    const char *const *a = allowed;
    while (*a != NULL && strcmp(*a, key) != 0)
      a++;
    if (*a == NULL) {
      fail_key(err, where, key, what);
      return false;
    }
  }
  return true;
}

static const char *json_kind(const json_t *v)
{
  switch (json_typeof(v)) {
  case JSON_OBJECT:
    return "an object";
  case JSON_ARRAY:
    return "an array";
  case JSON_STRING:
    return "a string";
  case JSON_INTEGER:
    return "an integer";
  case JSON_REAL:
    return "a real number";
  case JSON_TRUE:
    return "true";
  case JSON_FALSE:
    return "false";
  case JSON_NULL:
    return "null";
  }
  return "an unknown value";
}

/* ---- typed field readers -------------------------------------------------------------------
 * Each takes the value (NULL when the field is absent) and the printf-style JSON path of the
 * field, which is formatted only when the value is rejected. */

static bool read_uint(const json_t *v, uint64_t *out, struct wg_input_error *err, const char *path_fmt,
                      ...) FORMAT(4, 5);
static bool read_uint(const json_t *v, uint64_t *out, struct wg_input_error *err, const char *path_fmt, ...)
{
  if (json_is_integer(v) && json_integer_value(v) >= 0) {
    *out = (uint64_t)json_integer_value(v);
    return true;
  }
  va_list ap;
  va_start(ap, path_fmt);
  set_path_v(err, path_fmt, ap);
  va_end(ap);
  if (v == NULL)
    set_message(err, "required field is missing");
  else if (json_is_integer(v))
    set_message(err, "expected a non-negative integer, got %" JSON_INTEGER_FORMAT, json_integer_value(v));
  else
    set_message(err, "expected a non-negative integer, got %s", json_kind(v));
  return false;
}

static bool read_bool(const json_t *v, bool *out, struct wg_input_error *err, const char *path_fmt, ...)
  FORMAT(4, 5);
static bool read_bool(const json_t *v, bool *out, struct wg_input_error *err, const char *path_fmt, ...)
{
  if (json_is_boolean(v)) {
    *out = json_is_true(v);
    return true;
  }
  va_list ap;
  va_start(ap, path_fmt);
  set_path_v(err, path_fmt, ap);
  va_end(ap);
  if (v == NULL)
    set_message(err, "required field is missing");
  else
    set_message(err, "expected true or false, got %s", json_kind(v));
  return false;
}

static void hash_problem(const json_t *v, struct wg_input_error *err)
{
  static const char expected[] = "expected a 0x-prefixed 32-byte hex string";
  if (v == NULL) {
    set_message(err, "required field is missing");
  } else if (!json_is_string(v)) {
    set_message(err, "%s, got %s", expected, json_kind(v));
  } else {
    const char *s = json_string_value(v);
    size_t len = json_string_length(v);
    if (len < 2 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
      set_message(err, "%s: the 0x prefix is missing", expected);
    else if (len - 2 != 2 * WG_HASH_LEN)
      set_message(err, "%s: it has %zu hex digit%s instead of %d", expected, len - 2, len == 3 ? "" : "s",
                  2 * WG_HASH_LEN);
    else
      set_message(err, "%s: it contains a character that is not a hex digit", expected);
  }
}

static bool read_hash(const json_t *v, uint8_t out[WG_HASH_LEN], struct wg_input_error *err,
                      const char *path_fmt, ...) FORMAT(4, 5);
static bool read_hash(const json_t *v, uint8_t out[WG_HASH_LEN], struct wg_input_error *err,
                      const char *path_fmt, ...)
{
  if (json_is_string(v) && wg_hex_decode_fixed(json_string_value(v), out, WG_HASH_LEN))
    return true;
  va_list ap;
  va_start(ap, path_fmt);
  set_path_v(err, path_fmt, ap);
  va_end(ap);
  hash_problem(v, err);
  return false;
}

static bool is_zero(const uint8_t h[WG_HASH_LEN])
{
  uint8_t acc = 0;
  for (size_t i = 0; i < WG_HASH_LEN; i++)
    acc |= h[i];
  return acc == 0;
}

/* ---- storage logs -------------------------------------------------------------------------- */

/* Reads storage_logs[i] into *log; its path siblings go to paths[*cursor...] and advance
 * *cursor. */
static bool parse_log(const json_t *obj, size_t i, struct wg_storage_log *log, uint8_t (*paths)[WG_HASH_LEN],
                      size_t *cursor, struct wg_input_error *err)
{
  if (!json_is_object(obj)) {
    set_path(err, "$.storage_logs[%zu]", i);
    set_message(err, "expected an object, got %s", json_kind(obj));
    return false;
  }
  char where[64];
  snprintf(where, sizeof where, "$.storage_logs[%zu]", i);
  if (!check_keys(obj, log_fields, where, "unknown storage log field", err))
    return false;

  if (!read_hash(json_object_get(obj, "hashed_key"), log->hashed_key, err, "%s.hashed_key", where) ||
      !read_uint(json_object_get(obj, "leaf_index"), &log->leaf_index, err, "%s.leaf_index", where) ||
      !read_bool(json_object_get(obj, "is_write"), &log->is_write, err, "%s.is_write", where) ||
      !read_bool(json_object_get(obj, "first_write"), &log->first_write, err, "%s.first_write", where) ||
      !read_hash(json_object_get(obj, "value_read"), log->value_read, err, "%s.value_read", where))
    return false;

  /* value_written may be left out (or null) for a read; it then reads as zero. */
  const json_t *written = json_object_get(obj, "value_written");
  if (json_is_null(written))
    written = NULL;
  if (written == NULL && log->is_write) {
    set_path(err, "%s.value_written", where);
    set_message(err, "required field is missing (it is optional only for a read)");
    return false;
  }
  if (written != NULL && !read_hash(written, log->value_written, err, "%s.value_written", where))
    return false;

  const json_t *path = json_object_get(obj, "merkle_path");
  if (!json_is_array(path)) {
    set_path(err, "%s.merkle_path", where);
    if (path == NULL)
      set_message(err, "required field is missing");
    else
      set_message(err, "expected an array of 0x-prefixed 32-byte hex strings, got %s", json_kind(path));
    return false;
  }
  size_t path_len = json_array_size(path);
  if (path_len > WG_TREE_DEPTH) {
    set_path(err, "%s.merkle_path", where);
    set_message(err, "has %zu entries, more than the tree depth of %d", path_len, WG_TREE_DEPTH);
    return false;
  }
  for (size_t k = 0; k < path_len; k++)
    if (!read_hash(json_array_get(path, k), paths[*cursor + k], err, "%s.merkle_path[%zu]", where, k))
      return false;
  log->path = path_len > 0 ? (const uint8_t(*)[WG_HASH_LEN])paths + *cursor : NULL;
  log->path_len = path_len;
  *cursor += path_len;

  const json_t *root = json_object_get(obj, "root_hash");
  if (root != NULL && !json_is_null(root)) {
    if (!read_hash(root, log->root_hash, err, "%s.root_hash", where))
      return false;
    log->has_root_hash = true;
  }

  /* Consistency between the fields (docs/input-format.md). */
  if (!log->is_write) {
    if (log->first_write) {
      set_path(err, "%s.first_write", where);
      set_message(err, "must be false for a read (is_write is false)");
      return false;
    }
    if (!is_zero(log->value_written)) {
      set_path(err, "%s.value_written", where);
      set_message(err, "must be zero (or absent) for a read (is_write is false)");
      return false;
    }
    if (log->leaf_index == 0 && !is_zero(log->value_read)) {
      set_path(err, "%s.value_read", where);
      set_message(err, "must be zero for a read of a missing key (leaf_index 0)");
      return false;
    }
  } else if (log->leaf_index == 0) {
    set_path(err, "%s.leaf_index", where);
    set_message(err, "must be at least 1 for a write (leaf indices are 1-based)");
    return false;
  }
  if (log->first_write && !is_zero(log->value_read)) {
    set_path(err, "%s.value_read", where);
    set_message(err, "must be zero for a first_write (the key was not in the tree)");
    return false;
  }
  return true;
}

static bool parse_logs(const json_t *arr, struct wg_input *in, struct wg_input_error *err)
{
  size_t n = json_array_size(arr);
  if (n == 0)
    return true;

  /* Count the siblings first so that all paths fit in one allocation. A path longer than the
   * tree is an error that parse_log reports before it copies anything, so it counts as full. */
  size_t siblings = 0;
  for (size_t i = 0; i < n; i++) {
    const json_t *path = json_object_get(json_array_get(arr, i), "merkle_path");
    if (json_is_array(path)) {
      size_t len = json_array_size(path);
      siblings += len < WG_TREE_DEPTH ? len : WG_TREE_DEPTH;
    }
  }

  in->logs = calloc(n, sizeof *in->logs);
  if (siblings > 0)
    in->paths = calloc(siblings, sizeof *in->paths);
  if (in->logs == NULL || (siblings > 0 && in->paths == NULL)) {
    err->internal = true;
    set_path(err, "$.storage_logs");
    set_message(err, "out of memory for %zu storage logs with %zu path entries", n, siblings);
    return false;
  }

  size_t cursor = 0;
  for (size_t i = 0; i < n; i++) {
    if (!parse_log(json_array_get(arr, i), i, &in->logs[i], in->paths, &cursor, err))
      return false;
  }
  in->n_logs = n;
  return true;
}

/* ---- the document ---------------------------------------------------------------------------- */

/* Appends the keys a workload may use, so that a refused key comes with the list to pick from. */
static void append_workload_keys(struct wg_input_error *err, uint32_t protocol_version)
{
  size_t n, used = strlen(err->message);
  const struct wg_circuit_type *t = wg_circuit_table(protocol_version, &n);
  used += (size_t)snprintf(err->message + used, sizeof err->message - used, "; valid keys for protocol version %u:",
                           (unsigned)protocol_version);
  for (size_t i = 0; i < n && used < sizeof err->message; i++)
    if (t[i].id != WG_STORAGE_APPLICATION_ID)
      used += (size_t)snprintf(err->message + used, sizeof err->message - used, "%s %s", i ? "," : "", t[i].workload_key);
  if (used < sizeof err->message)
    snprintf(err->message + used, sizeof err->message - used,
             " (storage_application work is counted from storage_logs)");
}

static bool parse_workload(const json_t *obj, struct wg_input *in, struct wg_input_error *err)
{
  const char *key;
  json_t *value;
  json_object_foreach((json_t *)obj, key, value) {
    const struct wg_circuit_type *t = wg_circuit_by_key(in->protocol_version, key);
    if (t == NULL) {
      fail_key(err, "$.circuit_workload", key, "unknown circuit_workload key");
      append_workload_keys(err, in->protocol_version);
      return false;
    }
    if (t->id == WG_STORAGE_APPLICATION_ID) {
      set_path(err, "$.circuit_workload.%s", key);
      set_message(err, "storage_application work is counted from storage_logs");
      return false;
    }
    if (!read_uint(value, &in->workload[t->id], err, "$.circuit_workload.%s", key))
      return false;
  }
  return true;
}

static bool parse_document(const json_t *doc, uint64_t expected_batch, struct wg_input *in, struct wg_input_error *err)
{
  if (!json_is_object(doc)) {
    set_path(err, "$");
    set_message(err, "expected a JSON object, got %s", json_kind(doc));
    return false;
  }
  if (!check_keys(doc, top_fields, "$", "unknown field", err))
    return false;

  if (!read_uint(json_object_get(doc, "l1_batch_number"), &in->l1_batch_number, err, "$.l1_batch_number"))
    return false;
  if (in->l1_batch_number != expected_batch) {
    set_path(err, "$.l1_batch_number");
    set_message(err, "must equal %" PRIu64 ", the batch number in the path (got %" PRIu64 ")", expected_batch,
                in->l1_batch_number);
    return false;
  }

  uint64_t version;
  size_t n_types;
  if (!read_uint(json_object_get(doc, "protocol_version"), &version, err, "$.protocol_version"))
    return false;
  if (version > UINT32_MAX || wg_circuit_table((uint32_t)version, &n_types) == NULL) {
    set_path(err, "$.protocol_version");
    char served[64];
    wg_protocol_versions_text(served, sizeof served);
    set_message(err, "unknown protocol version %" PRIu64 "; this daemon serves %s", version, served);
    return false;
  }
  in->protocol_version = (uint32_t)version;

  if (!read_hash(json_object_get(doc, "previous_root_hash"), in->previous_root, err, "$.previous_root_hash") ||
      !read_hash(json_object_get(doc, "new_root_hash"), in->new_root, err, "$.new_root_hash"))
    return false;

  const json_t *logs = json_object_get(doc, "storage_logs");
  if (!json_is_array(logs)) {
    set_path(err, "$.storage_logs");
    if (logs == NULL)
      set_message(err, "required field is missing");
    else
      set_message(err, "expected an array of storage logs, got %s", json_kind(logs));
    return false;
  }
  if (!parse_logs(logs, in, err))
    return false;

  const json_t *workload = json_object_get(doc, "circuit_workload");
  if (!json_is_object(workload)) {
    set_path(err, "$.circuit_workload");
    if (workload == NULL)
      set_message(err, "required field is missing");
    else
      set_message(err, "expected an object, got %s", json_kind(workload));
    return false;
  }
  if (!parse_workload(workload, in, err))
    return false;
  in->workload[WG_STORAGE_APPLICATION_ID] = in->n_logs;
  return true;
}

/* The checks on the batch as a whole, once every field is known. */
static bool check_work(const struct wg_input *in, struct wg_input_error *err)
{
  uint64_t counts[WG_MAX_CIRCUIT_ID + 1];
  uint64_t total = wg_input_circuit_counts(in, counts);
  if (total == 0) {
    set_path(err, "$");
    set_message(err, "batch has no work: storage_logs is empty and circuit_workload holds no work");
    return false;
  }
  if (total > WG_SCHEDULER_CAPACITY) {
    set_path(err, "$");
    set_message(err, "batch needs %" PRIu64 " basic circuits, more than the scheduler capacity of %d", total,
                WG_SCHEDULER_CAPACITY);
    return false;
  }
  return true;
}

bool wg_input_parse(const char *body, size_t len, uint64_t expected_batch, struct wg_input *out,
                    struct wg_input_error *err)
{
  struct wg_input_error scratch;
  if (err == NULL)
    err = &scratch;
  memset(err, 0, sizeof *err);
  memset(out, 0, sizeof *out);

  /* JSON_DECODE_ANY: a bare scalar is valid JSON, so it is an invalid input, not a bad body. */
  json_error_t jerr;
  json_t *doc = json_loadb(body, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
  if (doc == NULL) {
    err->bad_json = true;
    err->internal = json_error_code(&jerr) == json_error_out_of_memory;
    snprintf(err->path, sizeof err->path, "$");
    set_message(err, "invalid JSON at line %d, column %d: %s", jerr.line, jerr.column, jerr.text);
    return false;
  }

  struct wg_input in;
  memset(&in, 0, sizeof in);
  bool ok = parse_document(doc, expected_batch, &in, err);
  json_decref(doc);
  if (ok)
    ok = check_work(&in, err);
  if (!ok) {
    wg_input_free(&in);
    return false;
  }
  *out = in;
  return true;
}

void wg_input_free(struct wg_input *in)
{
  if (in == NULL)
    return;
  free(in->logs);
  free(in->paths);
  memset(in, 0, sizeof *in);
}

uint64_t wg_input_circuit_counts(const struct wg_input *in, uint64_t counts[WG_MAX_CIRCUIT_ID + 1])
{
  size_t n;
  const struct wg_circuit_type *table = wg_circuit_table(in->protocol_version, &n);
  uint64_t total = 0;
  memset(counts, 0, (WG_MAX_CIRCUIT_ID + 1) * sizeof counts[0]);
  for (size_t i = 0; i < n; i++) {
    int id = table[i].id;
    if (id < 1 || id > WG_MAX_CIRCUIT_ID)
      continue;
    /* storage_application work is the number of logs, whatever workload[10] says. */
    uint64_t work = id == WG_STORAGE_APPLICATION_ID ? (uint64_t)in->n_logs : in->workload[id];
    counts[id] = wg_circuits_needed(work, table[i].capacity);
    /* Saturate: the caller compares the total against a cap of thousands. */
    total = counts[id] > UINT64_MAX - total ? UINT64_MAX : total + counts[id];
  }
  return total;
}
