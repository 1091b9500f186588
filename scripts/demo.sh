#!/usr/bin/env bash
# The README's first command: set up, fill the demo inbox, run the pipeline, say where it all is.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

DATA=${TLSRPT_DATA_DIR:-data}
if [ ! -e "$DATA/lake/catalog.sqlite" ] && [ -z "$(ls -A "$DATA/inbox" 2>/dev/null)" ]; then
    # Deterministic demo corpus: 4 domains, 90 days, five reporter styles, every result type.
    rm -rf "$DATA/.demo-corpus"
    .venv/bin/tlsrpt generate --domains 4 --days 90 --seed 8460 "$DATA/.demo-corpus"
    mkdir -p "$DATA/inbox"
    mv "$DATA/.demo-corpus/files" "$DATA/inbox/files"
    mv "$DATA/.demo-corpus/eml" "$DATA/inbox/eml"
    rm -rf "$DATA/.demo-corpus"
fi

.venv/bin/tlsrpt run --data-dir "$DATA"
cat <<MSG

Warehouse: the lake under $DATA/lake/ (catalog.sqlite + Parquet files under data/; marts: docs/marts.md)
Explore it with the DuckDB shell installed in .venv (it works while the pipeline writes), for example:
  .venv/bin/duckdb -c "set extension_directory='$DATA/duckdb_extensions'; load ducklake; load sqlite_scanner; attach 'ducklake:sqlite:$DATA/lake/catalog.sqlite' as lake (read_only); use lake; select result_type, sum(failed_session_count) from failure_details group by all"
Load your own reports:   .venv/bin/tlsrpt ingest PATH...   (files, folders, mbox, Maildir)
Orchestration UI:        DAGSTER_HOME=\$PWD/$DATA/dagster .venv/bin/dagster dev -w workspace.yaml -h 127.0.0.1
MSG

# Last: the dashboard, in the foreground (its address is printed first; Ctrl-C stops it).
# TLSRPT_NO_DASHBOARD=1 skips it (for scripted runs).
if [ -z "${TLSRPT_NO_DASHBOARD:-}" ]; then
    exec .venv/bin/tlsrpt dashboard --data-dir "$DATA"
fi
