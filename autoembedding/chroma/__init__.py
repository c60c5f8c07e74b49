"""The one door to Chroma: connecting, translating its errors, paging, and the model record.

Nothing here imports chromadb at module import time; the functions that need it import it and
raise :class:`~autoembedding.errors.MissingExtraError` naming the ``[chroma]`` extra.
"""
