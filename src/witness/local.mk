# Witness blobs: encoding and decoding (layout in api/witness-format.md).
libwgcore_a_SOURCES += src/witness/witness.c src/witness/witness.h

check_PROGRAMS += tests/unit/test_witness
tests_unit_test_witness_SOURCES = tests/unit/test_witness.c
tests_unit_test_witness_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_witness_LDADD = $(UNIT_LIBS)
TESTS += tests/unit/test_witness
