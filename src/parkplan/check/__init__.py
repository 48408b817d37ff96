"""Layout checker: every bay measured against the rules on its own (see docs)."""
