"""The Ray engine of a swap: the copy phase on Ray Data (see :mod:`.engine`).

Journal, verification and switch are the local swap's; only the copy runs on Ray: read
tasks (:mod:`.datasource`), an actor pool of encoders and parallel writes (:mod:`.pipeline`),
resumable through the page ranges the journal records (:mod:`.journal`).
"""
