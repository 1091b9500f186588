"""The SQL models (folder = DuckDB schema, file = table), shipped with the code as package data
so an installed wheel finds them where the editable checkout does."""
