"""Fixed caps on hostile input (TESTBED.md section 4). Real reports are tiny (the largest decoded
real report is 2.1 KB), so every cap here is generous for them and small for an attacker."""

MAX_INPUT_BYTES = 25 * 1024 * 1024  # one file or message as read from disk (mox: 15 MB messages)
MAX_INFLATED_BYTES = 20 * 1024 * 1024  # after gunzip / unzip (mox: 20 MB inflated)
MAX_ZIP_ENTRIES = 10  # checked before any entry is read
MAX_MIME_PARTS = 100  # counted from raw boundary lines before the parser runs
MAX_MIME_DEPTH = 20
MAX_JSON_DEPTH = 32  # a report nests 4 levels deep; 32 leaves room for odd extensions
MAX_NUMBER_DIGITS = 19  # fits a DuckDB BIGINT; longer literals are refused before conversion
MAX_COUNT = 2**63 - 1
MAX_STRING_CHARS = 64 * 1024
MAX_REPORT_ID_CHARS = 255  # part of the identity key
MAX_POLICIES = 1_000
MAX_FAILURE_DETAILS = 10_000  # per policy
MAX_POLICY_STRINGS = 1_000
MAX_MX_HOSTS = 1_000
MAX_MBOX_MESSAGES = 1_000_000
