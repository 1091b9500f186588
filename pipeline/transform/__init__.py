"""Transform: the runner of the SQL models under sql/ (one select per file; folder = schema),
which reads each model's dependencies from its SQL and rebuilds what changed."""
