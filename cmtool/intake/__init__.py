"""Ways in beside the CLI: e-mail (``cmtool intake mail``) and the web (``cmtool serve``)."""
