# Turns sql/NNNN_name.sql files into a C array of migrations, so that the binaries carry their
# schema and an installed daemon needs no source tree.
BEGIN {
  print "/* Generated from the sql directory by sql/embed.awk; do not edit. */"
  print "#include \"config.h\""
  print "#include \"db/migrations.h\""
  print "const struct wg_migration wg_migrations[] = {"
}
FNR == 1 {
  if (open) print "  },"
  name = FILENAME; sub(/.*\//, "", name); sub(/\.sql$/, "", name)
  version = name; sub(/_.*/, "", version)
  printf "  {%d, \"%s\",\n", version + 0, name
  open = 1
}
{
  line = $0
  gsub(/\\/, "\\\\", line)
  gsub(/"/, "\\\"", line)
  printf "    \"%s\\n\"\n", line
}
END {
  if (open) print "  },"
  print "};"
  print "const int wg_migrations_count = sizeof wg_migrations / sizeof wg_migrations[0];"
}
