/* Unit tests for src/common: the hex codec, hex text detection and log level names. */
#include "config.h"

#include <check.h>

#include "check_main.h"
#include <stdlib.h>
#include <string.h>

#include "common/hex.h"
#include "common/log.h"

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

int main(void)
{
  Suite *s = suite_create("common");
  TCase *tc = tcase_create("common");
  tcase_add_test(tc, hex_round_trip);
  tcase_add_test(tc, hex_rejects_bad_input);
  tcase_add_test(tc, hex_text_detection);
  tcase_add_test(tc, log_levels);
  suite_add_tcase(s, tc);
  return wg_check_run(s);
}
