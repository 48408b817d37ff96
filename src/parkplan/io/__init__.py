"""Files in and out.

Reading and checking inputs (:mod:`.read`), paths and layers (:mod:`.paths`), writing outputs
(:mod:`.write`) and the all-or-nothing output plan (:mod:`.targets`).
"""
