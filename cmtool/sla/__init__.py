"""SLA clocks: deadlines computed from a case's events and the rules (never stored)."""
