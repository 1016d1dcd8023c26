/* Unit tests for src/common: the hex codec, hex text detection, log level names, and the cleaning
 * and escaping of text. */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <unistd.h>

#include "check_main.h"
#include <stdlib.h>
#include <string.h>

#include "common/hex.h"
#include "common/log.h"
#include "common/text.h"

START_TEST(hex_round_trip)
{
  uint8_t in[4] = {0x00, 0xab, 0x7f, 0xff}, out[4];
  char text[11];
  wg_hex_encode_0x(in, 4, text);
  ck_assert_str_eq(text, "0x00ab7fff");
  ck_assert(wg_hex_decode_fixed("0x00AB7fFF", out, 4));
  ck_assert_mem_eq(in, out, 4);
}
END_TEST

START_TEST(hex_rejects_bad_input)
{
  uint8_t out[2];
  ck_assert(!wg_hex_decode_fixed("00ab", out, 2));   /* no prefix */
  ck_assert(!wg_hex_decode_fixed("0xab", out, 2));   /* too short */
  ck_assert(!wg_hex_decode_fixed("0xabcde", out, 2)); /* odd and long */
  ck_assert(!wg_hex_decode_fixed("0xabcg", out, 2)); /* not a digit */
  ck_assert(!wg_hex_decode_fixed(NULL, out, 2));
}
END_TEST

/* What earns a hex-encoded proof its hint, and what must not (a raw proof can start with "0x"
 * or be all hex digits only by chance of length and content). */
#define LOOKS_HEX(s) wg_hex_looks_like_text((const uint8_t *)(s), sizeof(s) - 1)
START_TEST(hex_text_detection)
{
  ck_assert(LOOKS_HEX("574752454631abcd"));
  ck_assert(LOOKS_HEX("0x574752454631ABCD"));
  ck_assert(LOOKS_HEX("574752454631abcd\n"));
  ck_assert(LOOKS_HEX("574752454631abcd\r\n "));
  ck_assert(!LOOKS_HEX(""));
  ck_assert(!LOOKS_HEX("0x"));
  ck_assert(!LOOKS_HEX("\n"));
  ck_assert(!LOOKS_HEX("574752454631abc"));  /* odd */
  ck_assert(!LOOKS_HEX("WGREF1abcd"));       /* raw prefix */
  ck_assert(!LOOKS_HEX("5747 5245"));        /* inner space */
  const uint8_t raw[] = {'W', 'G', 'R', 'E', 'F', '1', 0x00, 0xff};
  ck_assert(!wg_hex_looks_like_text(raw, sizeof raw));
}
END_TEST

START_TEST(log_levels)
{
  ck_assert_int_eq(wg_log_parse_level("debug"), WG_LOG_DEBUG);
  ck_assert_int_eq(wg_log_parse_level("error"), WG_LOG_ERROR);
  ck_assert_int_eq(wg_log_parse_level("loud"), -1);
}
END_TEST

/* in is a string literal, which may hold NUL bytes. */
#define CLEAN_IS(in, want) clean_is(in, sizeof in - 1, want)
static void clean_is(const char *in, size_t len, const char *want)
{
  char *got = wg_text_clean(in, len);
  ck_assert_str_eq(got, want);
  free(got);
}

START_TEST(text_clean_strips_controls)
{
  /* The terminal attack of issue 15: retitle, clear, colour, with BEL and an 8-bit CSI. */
  static const char attack[] = "\x1b]0;owned\x07\x1b[2J\x1b[31mFAKE: all good\xc2\x9b" "1m\x7f";
  clean_is(attack, sizeof attack - 1, "]0;owned[2J[31mFAKE: all good1m");
  CLEAN_IS("a\tb\nc\r\nd\ve\ff", "a b c  d e f");
  CLEAN_IS("nul\0inside", "nulinside");
  CLEAN_IS("", "");
  /* Printable UTF-8 is kept: Latin-1 letters, a euro sign, U+00A0, an emoji. */
  CLEAN_IS("caf\xc3\xa9 \xe2\x82\xac\xc2\xa0\xf0\x9f\x98\x80", "caf\xc3\xa9 \xe2\x82\xac\xc2\xa0\xf0\x9f\x98\x80");
  /* U+0085 (NEL) and U+009F are C1 controls; U+00A0 is the first printable after them. */
  CLEAN_IS("\xc2\x85x\xc2\x9fy", "xy");
}
END_TEST

START_TEST(text_clean_replaces_invalid_utf8)
{
  /* A lone continuation byte, a truncated sequence, an overlong '/', a surrogate, past U+10FFFF. */
  CLEAN_IS("a\x80" "b", "a\xef\xbf\xbd" "b");
  CLEAN_IS("a\xe2\x82", "a\xef\xbf\xbd\xef\xbf\xbd");
  CLEAN_IS("\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd");
  CLEAN_IS("\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
  CLEAN_IS("\xf4\x90\x80\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
  /* A raw C1 byte (an 8-bit CSI) is not UTF-8 either: replaced, never passed on. */
  CLEAN_IS("\x9b" "2J", "\xef\xbf\xbd" "2J");
}
END_TEST

static void escape_is(const char *in, unsigned flags, const char *want)
{
  struct wg_strbuf b = {0};
  wg_text_escape(&b, in, flags);
  ck_assert_str_eq(b.s, want);
  ck_assert(wg_text_needs_escape(in, flags) == (strcmp(in, want) != 0));
  free(b.s);
}

START_TEST(text_escape_controls)
{
  escape_is("plain text, caf\xc3\xa9", 0, "plain text, caf\xc3\xa9");
  escape_is("", 0, "");
  escape_is("\x1b]0;t\x07\x1b[2J", 0, "\\x1b]0;t\\x07\\x1b[2J");
  escape_is("a\nb\tc\rd\x7f", 0, "a\\nb\\tc\\rd\\x7f");
  escape_is("csi\xc2\x9b" "1m", 0, "csi\\u{9b}1m");
  escape_is("bad\x9b\xff", 0, "bad\\x9b\\xff");
  escape_is("say \"hi\" \\ there", 0, "say \"hi\" \\ there");
  escape_is("say \"hi\" \\ there", WG_ESCAPE_QUOTES, "say \\\"hi\\\" \\\\ there");
  escape_is("caf\xc3\xa9 \xe2\x82\xac", WG_ESCAPE_ASCII, "caf\\u{e9} \\u{20ac}");
}
END_TEST

START_TEST(json_dumps_plain_has_no_control_byte)
{
  json_t *j = json_pack("{s:s}", "e", "\x1b[2J\x7f\xc2\x9b\xc3\xa9");
  char *text = wg_json_dumps_plain(j, JSON_COMPACT);
  ck_assert_str_eq(text, "{\"e\":\"\\u001B[2J\\u007F\\u009B\\u00E9\"}");
  json_t *back = json_loads(text, 0, NULL);
  ck_assert(json_equal(j, back));
  json_decref(back);
  json_decref(j);
  free(text);
}
END_TEST

/* The text log's line for a message and fields, read back from stderr. */
static char *log_line(const char *msg, const struct wg_log_field *f, size_t n)
{
  FILE *tmp = tmpfile();
  ck_assert_ptr_nonnull(tmp);
  fflush(stderr);
  int saved = dup(2);
  dup2(fileno(tmp), 2);
  if (f != NULL)
    wg_log_fields(WG_LOG_WARN, msg, f, n);
  else
    wg_warn("%s", msg);
  fflush(stderr);
  dup2(saved, 2);
  close(saved);
  static char line[1024];
  rewind(tmp);
  ck_assert_ptr_nonnull(fgets(line, sizeof line, tmp));
  ck_assert_ptr_null(fgets(line + strlen(line), (int)(sizeof line - strlen(line)), tmp)); /* one line */
  fclose(tmp);
  /* Past the timestamp and the level. */
  char *rest = strstr(line, "warn  ");
  ck_assert_ptr_nonnull(rest);
  return rest + 6;
}

START_TEST(log_text_escapes_values)
{
  struct wg_log_field f[] = {
    {"method", "GET\"x=1", false},
    {"token_name", "a \\ b", false},
    {"route", "/jobs/{id}", false},
    {"status", "405", true},
    {"empty", "", false},
    {"error", "\x1b[2J\xc2\x9b" "fake\nline", false},
  };
  ck_assert_str_eq(log_line("access", f, sizeof f / sizeof f[0]),
                   "access method=\"GET\\\"x=1\" token_name=\"a \\\\ b\" route=/jobs/{id} status=405 empty=\"\""
                   " error=\"\\x1b[2J\\u{9b}fake\\nline\"\n");
  ck_assert_str_eq(log_line("title \x1b]0;x\x07 end\n", NULL, 0), "title \\x1b]0;x\\x07 end\n");
}
END_TEST

int main(void)
{
  Suite *s = suite_create("common");
  TCase *tc = tcase_create("common");
  tcase_add_test(tc, hex_round_trip);
  tcase_add_test(tc, hex_rejects_bad_input);
  tcase_add_test(tc, hex_text_detection);
  tcase_add_test(tc, log_levels);
  tcase_add_test(tc, text_clean_strips_controls);
  tcase_add_test(tc, text_clean_replaces_invalid_utf8);
  tcase_add_test(tc, text_escape_controls);
  tcase_add_test(tc, json_dumps_plain_has_no_control_byte);
  tcase_add_test(tc, log_text_escapes_values);
  suite_add_tcase(s, tc);
  return wg_check_run(s);
}
