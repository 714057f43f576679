"""The data model: frozen values, events, transitions and replay. No I/O."""
