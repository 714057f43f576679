"""cmtool: consumer-complaint management on a git repository of YAML files."""

__version__ = "0.1.0"
