# The proof scheme interface, the reference scheme and proof naming.
libwgcore_a_SOURCES += \
	src/prover/scheme.h \
	src/prover/scheme_reference.c \
	src/prover/proof_hash.c

check_PROGRAMS += tests/unit/test_scheme
tests_unit_test_scheme_SOURCES = tests/unit/test_scheme.c
tests_unit_test_scheme_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_scheme_LDADD = $(UNIT_LIBS)
TESTS += tests/unit/test_scheme
