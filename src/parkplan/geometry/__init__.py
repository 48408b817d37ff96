"""Kerb geometry.

Kerbs from lines and street areas (:mod:`.kerbs`), the chainage lookup along them (:mod:`.chainage`),
the room in front of them (:mod:`.carriageway`) and the rays across the carriageway (:mod:`.rays`).
"""
