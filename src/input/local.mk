# The basic witness input (docs/input-format.md): parsing and validation, circuit counts, and the
# canonical JSON encoding.
libwgcore_a_SOURCES += \
	src/input/generate.c src/input/generate.h \
	src/input/input.h \
	src/input/input.c \
	src/input/to_json.c

check_PROGRAMS += tests/unit/test_input
tests_unit_test_input_SOURCES = tests/unit/test_input.c
tests_unit_test_input_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_input_LDADD = $(UNIT_LIBS)
TESTS += tests/unit/test_input
