"""The probe step of :class:`~autoembedding.integrations.auto.ModelResolver`: race, then pin.

:class:`Prober` runs the probe on a collection or a first batch and pins the winner (or the
offline default, with a warning). Without ``candidates=``, what is raced and the sample size
come from :func:`~autoembedding.integrations._zero_config.plan_zero_config`, fixed before the
probe, so the clock does not decide the pick; a probe that ``probe_budget_s`` cut or stopped
anyway is reported (:func:`warn_if_budget_decided`). The probe's progress is logged
(:func:`~autoembedding.integrations._progress.probe_log`).
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Callable, Sequence
from typing import Any

from autoembedding.adapters.base import BaseAdapter
from autoembedding.errors import AutoSelectionWarning, CollectionError, ModelMismatchError
from autoembedding.integrations._pinning import AdapterHolder
from autoembedding.integrations._progress import probe_log
from autoembedding.integrations._zero_config import PROBE_SAMPLE_SIZE, plan_zero_config
from autoembedding.integrations.choice import save_choice
from autoembedding.warn import warn_user

__all__ = ["Prober", "warn_if_budget_decided"]

logger = logging.getLogger("autoembedding")


class Prober(AdapterHolder):
    """The probe and the pinning of its winner (a base of ``ModelResolver``).

    Subclasses set ``candidates``, ``targets``, ``probe_budget_s``, ``progress`` and ``report``,
    and define ``_pin_default``.
    """

    candidates: list[Any] | None
    targets: Any
    probe_budget_s: float | None
    progress: bool | Callable[[str, float], None]
    report: Any

    def _pin_default(self, why: str, *, save: bool = True) -> None:
        raise NotImplementedError

    def _probe(
        self,
        *,
        source_desc: str,
        n_docs: int,
        collection: Any = None,
        documents: Any = None,
        save: bool = True,
    ) -> None:
        """Probe and pin the winner (or the default); ``save=False`` leaves saving to the caller."""
        from autoembedding.probe import probe

        candidates: Sequence[Any] | None = self.candidates
        sample_size = PROBE_SAMPLE_SIZE if n_docs >= PROBE_SAMPLE_SIZE else None
        try:
            if candidates is None:  # zero config: what is raced is fixed now, not by the clock
                plan = plan_zero_config(n_docs)
                if plan.candidates:  # none available: the probe says what to install
                    logger.info(
                        "AutoEmbedding auto-selection on %s: %s", source_desc, plan.describe()
                    )
                    candidates, sample_size = plan.candidates, plan.sample_size
            with probe_log(self.progress, source_desc) as progress:
                report = probe(
                    collection=collection,
                    candidates=candidates,
                    targets=self.targets,
                    budget_s=self.probe_budget_s,
                    documents=documents,
                    progress=progress,
                    sample_size=sample_size,
                    lexical=False,  # an embedding needs an embedding model, not BM25
                )
        except (CollectionError, ModelMismatchError):
            raise
        except Exception as exc:  # noqa: BLE001 - any probe failure falls back, with a warning
            self._pin_default(
                f"the probe on {source_desc} failed ({type(exc).__name__}: {exc})", save=save
            )
            return
        finally:
            gc.collect()  # release the candidates' models before the winner loads
        self.report = report
        warn_if_budget_decided(report)
        if report.winner is None:
            self._pin_default(
                f"no candidate met the targets on {source_desc}: {report.reason}", save=save
            )
            return
        reason = f"probe on {source_desc} picked it: {report.reason}"
        winner = report.winner.candidate
        given = self._given_adapter(winner)
        if given is not None:
            self._pin(given, "probe", reason, None)
            if save:
                self._save_choice()
            return
        options = {
            "truncate_dim": winner.truncate_dim,
            "precision": winner.precision,
            **self._non_vector_options(),
            **dict(winner.options),
        }
        self._pin_built(winner.model_id, options, "probe", reason, save=save)

    def _save_choice(self) -> None:
        """Save the choice made (when saving is on), so a restart reuses it."""
        if self.save and self.choice is not None:
            path = save_choice(self.choice, self.choice_path, self._choice_key())
            logger.info("AutoEmbedding saved its choice to %s", path)

    def _given_adapter(self, candidate: Any) -> BaseAdapter | None:
        """The adapter instance passed as a candidate, if the winner is one (keeps its options)."""
        for item in self.candidates or []:
            if (
                isinstance(item, BaseAdapter)
                and item.model_id == candidate.model_id
                and item.truncate_dim == candidate.truncate_dim
                and item.precision == candidate.precision
            ):
                return item
        return None


def warn_if_budget_decided(report: Any) -> None:
    """Warn when ``probe_budget_s`` cut or stopped the probe: a rerun may then pick another."""
    cut = [n for n in report.notes if "budget" in n or n.startswith(("Stage ", "Before stage "))]
    timed_out = [r.candidate.label for r in report.results if "timed out" in str(r.error or "")]
    if not cut and not timed_out:
        return
    what = "; ".join(cut + [f"{label} timed out" for label in timed_out])
    warn_user(
        f"AutoEmbedding's probe was stopped by its time budget (probe_budget_s): {what}. The "
        "pick is then the clock's, and a rerun may pick another model; raise probe_budget_s, "
        "or pin the model with model=... .",
        AutoSelectionWarning,
    )
