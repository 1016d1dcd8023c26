bin_PROGRAMS += wgctl
wgctl_SOURCES = src/cli/wgctl.c
wgctl_LDADD = $(SERVER_LIBS)
