"""OpenStreetMap input.

Reading files as they come (:mod:`.read`); streets, kerbs and hazards from their tags (:mod:`.streets`).
"""
