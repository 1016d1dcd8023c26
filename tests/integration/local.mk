# Integration tests: executable bash scripts that start a throwaway PostgreSQL
# cluster and the real daemon and speak HTTP to it (harness: lib.sh, which
# documents its helpers). Each test is run directly and makes its own cluster on
# its own port, so `make -jN check` runs them in parallel.
#
# To add a test, write tests/integration/t_NAME.sh (mode 755, sourcing lib.sh)
# and list it here; it is then both run by `make check` and distributed.
INTEGRATION_TESTS = \
	tests/integration/t_harness.sh

EXTRA_DIST += tests/integration/lib.sh
dist_noinst_SCRIPTS += $(INTEGRATION_TESTS)
TESTS += $(INTEGRATION_TESTS)
