"""The only code that touches files, YAML and git (plus the disposable index)."""
