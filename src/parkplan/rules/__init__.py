"""Jurisdiction rules.

The rule dataclasses and their loading (:mod:`.loading`), the presets (``presets/*.toml``), the hazard
kinds' defaults (``kinds.toml``) and the rules as tables (:mod:`.table`).
"""

from parkplan.rules.loading import (
    BayType,
    Clearance,
    Grouping,
    Rules,
    list_presets,
    load_rules,
)

__all__ = ["BayType", "Clearance", "Grouping", "Rules", "list_presets", "load_rules"]
