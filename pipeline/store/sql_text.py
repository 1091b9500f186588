"""SQL text literals, for the few values a statement must carry as constants, not parameters."""


def sql_text(text: str) -> str:
    """`text` as a constant SQL string: in single quotes, each quote doubled. DuckDB's parser ends
    a quoted string at a NUL character, so one (typed into a search box, say) joins the parts as
    `chr(0)`: still a constant expression, folded before any row is read."""
    return " || chr(0) || ".join("'" + part.replace("'", "''") + "'" for part in text.split("\x00"))
