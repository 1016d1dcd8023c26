/* The one way unit tests run their suite: every check, then the exit status make check reads. */
#ifndef WG_CHECK_MAIN_H
#define WG_CHECK_MAIN_H

#include <check.h>
#include <stdlib.h>

static inline int wg_check_run(Suite *s)
{
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif
