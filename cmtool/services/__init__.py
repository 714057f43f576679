"""The actions: each reads cases, builds events, and commits through the store."""
