"""Fixed caps on hostile input. Real reports are tiny (the largest decoded
real report is 2.1 KB), so every cap here is generous for them and small for an attacker."""

MAX_INPUT_BYTES = 25 * 1024 * 1024  # one file or message as read from disk (mox: 15 MB messages)
MAX_INFLATED_BYTES = 20 * 1024 * 1024  # after gunzip / unzip (mox: 20 MB inflated), all entries of a zip together
# Inflating is the work an input can multiply: a mail of 100 zip bombs took 43 s of CPU when
# each attachment had its own cap. One input may inflate this much in all its attachments.
MAX_INFLATED_PER_INPUT = 4 * MAX_INFLATED_BYTES
MAX_ZIP_ENTRIES = 10  # checked before any entry is read
MAX_MIME_PARTS = 100  # counted from raw boundary lines before the parser runs
MAX_MIME_DEPTH = 20
# Objects and arrays in one report, counted in the raw bytes before any is built: a 20 KB gzip
# of 20 MB of `{},` would otherwise become millions of objects (~1 GB) before the caps below
# could look at them. A report has ~3 per policy plus one per failure detail (real: under 50).
MAX_JSON_CONTAINERS = 100_000
MAX_JSON_DEPTH = 32  # a report nests 4 levels deep; 32 leaves room for odd extensions
MAX_NUMBER_DIGITS = 19  # fits a DuckDB BIGINT; longer literals are refused before conversion
# Session counts: the biggest senders report ~10^8 sessions a day for one domain, so 10^12 is
# far above any real report. Bounded here, where counts enter, every per-report sum stays far
# inside a 64-bit integer (1,000 policies x 10^12 = 10^15 < 9.2 x 10^18): a count above it, or a
# report whose stated or detailed sessions add up past it, is refused (count_too_large).
MAX_COUNT = 10**12
MAX_SESSIONS_PER_REPORT = 10**12
# Plausible report dates: none before the first TLS-RPT drafts (2016); none after tomorrow
# (UTC), so a report dated 9999 cannot move the dashboard's window (report_date_implausible).
EARLIEST_REPORT_DATE = (2016, 1, 1)
MAX_STRING_CHARS = 64 * 1024
MAX_REPORT_ID_CHARS = 255  # part of the identity key
MAX_POLICIES = 1_000
MAX_FAILURE_DETAILS = 10_000  # per policy
MAX_POLICY_STRINGS = 1_000
MAX_MX_HOSTS = 1_000
MAX_MBOX_MESSAGES = 1_000_000
# Memory a parser worker may take beyond what it starts with. The worst input the caps above
# let through needs ~200 MB (25 MiB read, 20 MiB inflated, 100,000 JSON containers decoded);
# a chunk's results a few MB more. Past it, MemoryError costs one input, not the machine.
MAX_WORKER_MEMORY_GROWTH = 1024 * 1024 * 1024
