"""Reports: KPIs and report contexts (pure), and renderers (Markdown, Excel, CSV)
that turn a context into a file through a user-editable Jinja template."""
