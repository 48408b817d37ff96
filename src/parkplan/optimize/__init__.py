"""The optimisation: every CP-SAT model of parkplan lives here, and nothing here touches geometry.

:mod:`.stretches` (bays on one free stretch), :mod:`.presolve` (exact presolve), :mod:`.solve` (a whole
district, decomposed), :mod:`.sides` (the choice of sides and depths), :mod:`.keep` (existing bays kept)
and :mod:`._cpsat` (the one solver setup, the stoppable solve and the :data:`~._cpsat.Status` ranking).
OR-Tools is imported here only; the models get plain numbers and numpy arrays, never shapely, GeoPandas
or pyproj objects.
"""
