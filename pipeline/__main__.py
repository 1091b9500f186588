"""`python -m pipeline ...` is the `tlsrpt` command (used by tests and before installation)."""

from pipeline.cli import main

main()
