libwgcore_a_SOURCES += src/config/settings.c src/config/settings.h
