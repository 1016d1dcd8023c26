# The state tree (docs/tree.md): BLAKE2s, the tree's hashes and folds, the storage log replay.
libwgcore_a_SOURCES += \
	src/tree/tree.h \
	src/tree/blake2s.c \
	src/tree/tree.c \
	src/tree/replay.c

check_PROGRAMS += tests/unit/test_tree
tests_unit_test_tree_SOURCES = tests/unit/test_tree.c
tests_unit_test_tree_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_tree_LDADD = $(UNIT_LIBS)
TESTS += tests/unit/test_tree
