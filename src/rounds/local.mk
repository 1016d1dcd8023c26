libwgserver_a_SOURCES += \
	src/rounds/rounds.h src/rounds/workers.c \
	src/rounds/basic.c src/rounds/aggregate.c \
	src/rounds/leaf_node.c src/rounds/scheduler.c
