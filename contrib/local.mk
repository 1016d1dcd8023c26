# Helper scripts: throwaway PostgreSQL clusters, build dependencies, the CI entry point.
dist_noinst_SCRIPTS += \
	contrib/pg-cluster.sh \
	contrib/install-deps.sh \
	contrib/wg-test.sh \
	contrib/wg-demo.sh \
	contrib/wg-check-variant.sh \
	contrib/wg-distcheck.sh

# Installed beside the programs: a man page for each, an example configuration and a hardened
# systemd unit. The unit names the installed paths, so it is written at install time: then
# `make install prefix=...` gets the paths it installs to, not those configure chose.
dist_man_MANS = doc/witness-generator.8 doc/wgctl.8 doc/wg-prover.1
dist_doc_DATA += contrib/witness-generator.conf.example
EXTRA_DIST += contrib/witness-generator.service.in
systemdunitdir = $(prefix)/lib/systemd/system

install-data-local:
	$(MKDIR_P) '$(DESTDIR)$(systemdunitdir)'
	sed -e 's|@bindir[@]|$(bindir)|g' -e 's|@sysconfdir[@]|$(sysconfdir)|g' \
		'$(srcdir)/contrib/witness-generator.service.in' >'$(DESTDIR)$(systemdunitdir)/witness-generator.service'

uninstall-local:
	rm -f '$(DESTDIR)$(systemdunitdir)/witness-generator.service'

# Monitoring: Prometheus alert rules (with their promtool unit tests) and a Grafana dashboard,
# installed as examples for the operator to copy (docs/guide-operator.md, "Alerts", "Dashboard").
monitoringdir = $(docdir)/monitoring
dist_monitoring_DATA = contrib/prometheus/witness-generator.rules.yml \
	contrib/prometheus/witness-generator.rules.test.yml
dist_monitoring_DATA += contrib/grafana/witness-generator.json
