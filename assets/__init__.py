"""The Dagster side, and only here: assets one module per layer (ingest: inbox -> landing ->
core tables; warehouse: one asset per SQL model; checks), the resources, the sensors and
schedules (automation), the one `Definitions` (definitions) and `tlsrpt run` (run). The
`pipeline` package never imports Dagster or this package."""
