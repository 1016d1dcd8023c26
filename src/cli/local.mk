bin_PROGRAMS += wgctl
wgctl_SOURCES = src/cli/wgctl.c src/cli/table.h src/cli/table.c
wgctl_LDADD = $(SERVER_LIBS)
