libwgserver_a_SOURCES += \
	src/http/server.h src/http/server.c src/http/request.c \
	src/http/router.h src/http/router.c \
	src/http/reply.c src/http/gzip.c src/http/budget.h src/http/budget.c \
	src/http/claim_wait.h src/http/claim_wait.c \
	src/http/endpoints.h src/http/routes.c src/http/job_json.c \
	src/http/endpoints/healthz_get.c \
	src/http/endpoints/readyz_get.c \
	src/http/endpoints/metrics_get.c \
	src/http/metrics.h src/http/metrics.c \
	src/http/endpoints/batches_witness_inputs_post.c \
	src/http/endpoints/jobs_claim_post.c \
	src/http/endpoints/jobs_witness_get.c \
	src/http/endpoints/jobs_heartbeat_post.c \
	src/http/endpoints/proofs_complete_post.c \
	src/http/endpoints/proofs_fail_post.c \
	src/http/endpoints/batches_get.c \
	src/http/endpoints/batch_get.c \
	src/http/endpoints/batch_jobs_get.c \
	src/http/endpoints/batch_proof_get.c \
	src/http/endpoints/job_get.c \
	src/http/endpoints/job_attempts_get.c \
	src/http/endpoints/batch_requeue_post.c \
	src/http/endpoints/batch_priority_post.c \
	src/http/endpoints/job_requeue_post.c \
	src/http/endpoints/witness_job_get.c \
	src/http/endpoints/witness_job_requeue_post.c \
	src/http/endpoints/batch_delete.c \
	src/http/endpoints/queue_get.c \
	src/http/queue_filter.c \
	src/http/endpoints/queue_pause_post.c \
	src/http/endpoints/queue_resume_post.c \
	src/http/endpoints/ui_get.c

# The dashboard page, built into the binary as a C string.
src/http/ui/dashboard_html.c: $(srcdir)/src/http/ui/dashboard.html $(srcdir)/src/http/ui/embed.awk
	$(AM_V_GEN)$(MKDIR_P) src/http/ui && $(AWK) -v name=wg_ui_dashboard_html -f $(srcdir)/src/http/ui/embed.awk \
	  $(srcdir)/src/http/ui/dashboard.html > $@.tmp && mv $@.tmp $@
BUILT_SOURCES += src/http/ui/dashboard_html.c
CLEANFILES += src/http/ui/dashboard_html.c
nodist_libwgserver_a_SOURCES += src/http/ui/dashboard_html.c
EXTRA_DIST += src/http/ui/dashboard.html src/http/ui/embed.awk

bin_PROGRAMS += witness-generator
witness_generator_SOURCES = src/http/daemon.c
witness_generator_LDADD = $(SERVER_LIBS)

# api/openapi.yaml is kept true to the route table by this test.
check_PROGRAMS += tests/unit/test_openapi
tests_unit_test_openapi_SOURCES = tests/unit/test_openapi.c
tests_unit_test_openapi_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_openapi_LDADD = $(UNIT_LIBS)
TESTS += tests/unit/test_openapi
