libwgcore_a_SOURCES += \
	src/common/fault.c src/common/fault.h \
	src/common/hex.c src/common/hex.h \
	src/common/histogram.c src/common/histogram.h \
	src/common/clock.c src/common/clock.h \
	src/common/log.c src/common/log.h \
	src/common/status.c src/common/status.h \
	src/common/strbuf.c src/common/strbuf.h \
	src/common/text.c src/common/text.h
