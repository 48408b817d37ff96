"""The optimisation: every CP-SAT model of parkplan lives here, and nothing here touches geometry.

:mod:`.stretches` (bays on one free stretch), :mod:`.presolve` (exact presolve), :mod:`.solve` (a whole
district, decomposed).
"""
