/* Unit tests for src/common: the hex codec and log level names. */
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
  tcase_add_test(tc, log_levels);
  suite_add_tcase(s, tc);
  return wg_check_run(s);
}
