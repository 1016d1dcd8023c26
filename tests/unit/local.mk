# Unit tests with check: pure code, no database.
UNIT_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
UNIT_LIBS = $(SERVER_LIBS) $(CHECK_LIBS)

check_PROGRAMS += tests/unit/test_common
tests_unit_test_common_SOURCES = tests/unit/test_common.c
tests_unit_test_common_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_common_LDADD = $(UNIT_LIBS)
TESTS += tests/unit/test_common

check_PROGRAMS += tests/unit/test_config
tests_unit_test_config_SOURCES = tests/unit/test_config.c
tests_unit_test_config_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_config_LDADD = $(UNIT_LIBS)
TESTS += tests/unit/test_config

check_PROGRAMS += tests/unit/test_router
tests_unit_test_router_SOURCES = tests/unit/test_router.c
tests_unit_test_router_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_router_LDADD = $(UNIT_LIBS)
TESTS += tests/unit/test_router

check_PROGRAMS += tests/unit/test_reply
tests_unit_test_reply_SOURCES = tests/unit/test_reply.c
tests_unit_test_reply_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_reply_LDADD = $(UNIT_LIBS)
TESTS += tests/unit/test_reply

check_PROGRAMS += tests/unit/test_auth
tests_unit_test_auth_SOURCES = tests/unit/test_auth.c
tests_unit_test_auth_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_auth_LDADD = $(UNIT_LIBS)
TESTS += tests/unit/test_auth
EXTRA_DIST += tests/unit/check_main.h

# The database layer's pure parts (issue 14): the witness-location cache, the combiner and the
# claimer's grouping, with no database (the claimer's share-out needs one: t_claimer.sh).
check_PROGRAMS += tests/unit/test_job_cache
tests_unit_test_job_cache_SOURCES = tests/unit/test_job_cache.c
tests_unit_test_job_cache_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_job_cache_LDADD = $(UNIT_LIBS)
TESTS += tests/unit/test_job_cache

check_PROGRAMS += tests/unit/test_combiner
tests_unit_test_combiner_SOURCES = tests/unit/test_combiner.c
tests_unit_test_combiner_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_combiner_LDADD = $(UNIT_LIBS)
TESTS += tests/unit/test_combiner

check_PROGRAMS += tests/unit/test_claimer
tests_unit_test_claimer_SOURCES = tests/unit/test_claimer.c
tests_unit_test_claimer_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_claimer_LDADD = $(UNIT_LIBS)
TESTS += tests/unit/test_claimer

# The store's retries inside the round (issue 16 item 6), against a fake backend.
check_PROGRAMS += tests/unit/test_store_retry
tests_unit_test_store_retry_SOURCES = tests/unit/test_store_retry.c
tests_unit_test_store_retry_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_store_retry_LDADD = $(UNIT_LIBS)
TESTS += tests/unit/test_store_retry
