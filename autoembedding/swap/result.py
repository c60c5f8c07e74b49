"""What a swap did: :class:`SwapResult`, and its one-line summary with the follow-up commands."""

from __future__ import annotations

from dataclasses import dataclass

from autoembedding.record import ModelRecord

__all__ = ["SwapResult"]


@dataclass(frozen=True)
class SwapResult:
    """What :func:`~autoembedding.swap.swap` did.

    Attributes:
        name: The collection name, now holding the new model's vectors.
        record: The model record written into the new collection's metadata.
        backup: Name of the kept original, or ``None`` if it was dropped.
        docs: Records in the collection.
        embedded: Records embedded by this run (less than ``docs`` when resumed).
        resumed_from: Offset this run resumed copying from (0 for a fresh run).
        seconds: Wall time of this run.
        docs_per_s: ``embedded / seconds`` for the copy phase.
        verified_vectors: Vectors re-embedded and compared during verification.
        already_done: True when the collection was already on this model and nothing was done.
        caught_up: Records re-embedded or deleted before the switch because the source changed
            during the copy.
        synced: Records carried over from the backup after the switch (writes that landed in
            the original during the switch window or through handles opened before it).
        switch_window_s: Seconds from the last catch-up round to the end of the renames.
        connection: The ``--chroma-*`` options of the follow-up commands in :meth:`summary`.
        retrieval: How the collection is searched now: ``"dense"``, ``"lexical"`` or
            ``"hybrid"`` (the record's ``retrieval``).
        tokenizer: The BM25 tokenizer's spec (lexical and hybrid).
        fusion: A hybrid's fusion, ``"convex"`` or ``"rrf"``.
        fusion_weight: A convex hybrid's dense weight.
        mode_swap: Whether this was a retrieval-mode swap (``--undo`` restores the record before
            it, and undoes the re-embedding too when a hybrid's dense part was another model).
        index_s: Seconds to build (read, tokenize, index and save) the BM25 index.
        index_bytes: Size of the saved BM25 index folder, in bytes.
        index_docs: Documents in the BM25 index.
        notes: What was chosen for the user (a default weight, a detected language), one
            sentence each.
        batch_size: The batch size the copy chose by measured throughput (``None``: not
            searched, e.g. given with ``batch_size=``, or the copy had too few pages).
        reembedded: Whether this retrieval-mode swap began by re-embedding the collection (a
            hybrid of a model it did not hold); ``embedded`` is 0 on a rerun that found that
            part done.
    """

    name: str
    record: ModelRecord
    backup: str | None
    docs: int
    embedded: int
    resumed_from: int
    seconds: float
    docs_per_s: float
    verified_vectors: int
    already_done: bool = False
    caught_up: int = 0
    synced: int = 0
    switch_window_s: float = 0.0
    connection: str = "--chroma-path DB"
    retrieval: str = "dense"
    tokenizer: str = ""
    fusion: str = ""
    fusion_weight: float | None = None
    mode_swap: bool = False
    index_s: float | None = None
    index_bytes: int | None = None
    index_docs: int | None = None
    notes: tuple[str, ...] = ()
    batch_size: int | None = None
    reembedded: bool = False

    def _command(self, flag: str) -> str:
        return f"autoembed swap {flag} {self.connection} --collection {self.name}"

    def summary(self) -> str:
        """One human-readable line, as the CLI prints it (with complete follow-up commands)."""
        if self.mode_swap:
            return self._mode_summary()
        if self.already_done:
            return self._already_summary()
        if self.backup:
            after = (
                f"Carry over writes made through handles opened before the switch with: "
                f"{self._command('--sync')} ; undo with: {self._command('--undo')}"
            )
        else:
            after = "The original was dropped, so this swap cannot be undone."
        kept = f"original kept as {self.backup!r}" if self.backup else "original dropped"
        resumed = f", resumed at {self.resumed_from}" if self.resumed_from else ""
        if self.batch_size:
            resumed += f", batch size {self.batch_size} by measured throughput"
        moved = ""
        if self.caught_up or self.synced:
            moved = (
                f"; {self.caught_up} written during the copy caught up, {self.synced} carried "
                "over after the switch"
            )
        if self.switch_window_s:
            moved += f"; switch window {self.switch_window_s * 1000:.0f} ms"
        notes = "".join(f" {note}" for note in self.notes)
        return (
            f"Swapped {self.name!r} to {self.record.describe()}: {self.docs} docs, "
            f"{self.embedded} embedded in {self.seconds:.1f} s ({self.docs_per_s:.1f} docs/s"
            f"{resumed}); {self.verified_vectors} vectors re-checked{moved}; {kept}.{notes} "
            f"{after}"
        )

    def _already_summary(self) -> str:
        """The line of a swap to the model the collection already holds: a no-op."""
        text = f"{self.name!r} already holds {self.record.describe()}; nothing to do"
        text += " (no swap made)."
        if self.synced:
            text += f" {self.synced} write(s) made to its backup were carried over."
        if self.backup:  # an earlier swap's original is still kept
            text += (
                f" An earlier swap's original is kept as {self.backup!r}: carry over writes made "
                f"through handles opened before that switch with: {self._command('--sync')} ; "
                f"undo that swap with: {self._command('--undo')}"
            )
        return text

    def _mode_summary(self) -> str:
        """The line of a retrieval-mode swap (to or from BM25 or a hybrid)."""
        notes = "".join(f" {note}" for note in self.notes)
        undo = f"Undo with: {self._command('--undo')}"
        if self.already_done:
            return f"{self.name!r} already serves {self.record.describe()}; nothing to do.{notes}"
        if self.reembedded:
            kept = f"original kept as {self.backup!r}" if self.backup else "original dropped"
            if self.embedded or self.resumed_from:
                vectors = (
                    f"re-embedded {self.embedded} docs with {self.record.model_id} in the same "
                    f"swap ({self.verified_vectors} vectors re-checked; {kept})"
                )
            else:  # a rerun: the re-embedding was done by the interrupted run
                vectors = f"re-embedded with {self.record.model_id} by the interrupted run ({kept})"
        else:
            vectors = f"no re-embedding (the vectors of {self.record.model_id} stay)"
        if self.index_s is not None:
            size = (self.index_bytes or 0) / 1024
            index = (
                f"BM25 index of {self.index_docs} docs ({self.tokenizer} tokens) built in "
                f"{self.index_s:.1f} s, {size:.1f} KiB on disk"
            )
        else:
            index = "BM25 index dropped (dense retrieval needs none)"
        return (
            f"Swapped {self.name!r} to {self.record.describe()}: {index}; {vectors}; "
            f"{self.seconds:.1f} s in all.{notes} {undo}"
        )
