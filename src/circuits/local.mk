libwgcore_a_SOURCES += src/circuits/circuits.c src/circuits/circuits.h
