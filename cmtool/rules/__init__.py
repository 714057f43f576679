"""rules.yaml: taxonomy, priority rules, routing, SLA policies. Pure; no I/O here
except in ``loader``, which reads the file."""
