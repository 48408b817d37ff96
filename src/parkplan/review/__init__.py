"""Review outputs for people who decide on a plan.

A self-contained HTML map of a plan or a check (:mod:`.html`) and a PNG overview for reports
(:mod:`.png`), sharing one style (:mod:`.style`).
"""
