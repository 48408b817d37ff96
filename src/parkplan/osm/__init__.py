"""OpenStreetMap input.

Reading files as they come (:mod:`.read`); what the tags say, without geometry (:mod:`.tags`); streets,
kerbs and hazards from the ways and nodes the tags pick (:mod:`.streets`).
"""
