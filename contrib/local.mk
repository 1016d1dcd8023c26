# Helper scripts: throwaway PostgreSQL clusters, build dependencies, the CI entry point.
dist_noinst_SCRIPTS += \
	contrib/pg-cluster.sh \
	contrib/install-deps.sh \
	contrib/wg-test.sh \
	contrib/wg-demo.sh \
	contrib/wg-check-variant.sh
