"""The results page (docs/benchmarks.md) and its scaling chart, rendered from the suite's kept
figures (<out>/suite-<mode>.json) alone: pure functions, `page.render(state, args)`. One module
per part of the page:

    page       the page in order: machine and run, targets, the sections below, failures, commands
    figures    what the page computes from the kept runs (medians, rates, the quietest run) and how
               it prints them
    targets    the issue's targets evaluated: MET, NOT MET or INCONCLUSIVE, with the figures
    ingest     the ingest tables per size, the rows explained, the scaling table and its reading
    chart      the scaling chart (plain SVG, no plotting library)
    warehouse  incremental runs, the mart rebuild and `tlsrpt rebuild`
    dashboard  the dashboard queries
    profiling  where the ingest time goes, and what the targets ask in µs per report
"""
