"""Kerb geometry.

Kerbs from lines and street areas (:mod:`.kerbs`) and the room in front of them (:mod:`.carriageway`).
"""
