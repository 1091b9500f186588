"""SQL text literals, for the few values a statement must carry as constants, not parameters."""


def sql_text(text: str) -> str:
    """`text` as a SQL string literal: in single quotes, each quote doubled."""
    return "'" + text.replace("'", "''") + "'"
