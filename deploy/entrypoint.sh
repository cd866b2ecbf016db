#!/bin/sh
# The image's entry point: bring the schema to the code's (once, even when several replicas start
# together: `commissions db upgrade` takes a lock, the others wait and find nothing to do), then run
# the command (the app by default, `commissions worker` for the worker).
# MIGRATE_ON_START=0 skips the migration (when a separate one-shot job runs it, as compose.yaml does).
set -eu
if [ "${MIGRATE_ON_START:-1}" = "1" ]; then
  commissions db upgrade
fi
exec "$@"
