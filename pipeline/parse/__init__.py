"""Parse: bytes in, validated rows out. Sniff the bytes, undo gzip/zip/MIME under fixed caps
(limits), decode JSON safely, validate against the RFC 8460 models (the fast path for clean
reports, pydantic for the rest), flag quirks, flatten into rows shaped like the core tables
(frames), or refuse with a reason code (rejection). `worker` runs all of it in a parser process.
Pure functions: nothing here writes a file or opens the warehouse."""
