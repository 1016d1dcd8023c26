libwgcore_a_SOURCES += src/config/settings.c src/config/settings.h src/config/secrets.c src/config/secrets.h
