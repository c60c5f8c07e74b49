"""Environment variables that steer the integrations without touching code.

* ``AUTOEMBEDDING_MODEL``: the model to use wherever none is given (``AutoEmbedding()`` in
  LangChain and LlamaIndex, ``AutoEmbeddingFunction()``, a new collection of
  ``get_or_create_collection``). It replaces auto-selection; a collection's model record still
  wins, since its vectors were made by that model.
* ``AUTOEMBEDDING_AUTO``: ``0`` (or ``false``/``no``/``off``) turns auto-selection off: the
  offline default is used without probing, with one :class:`AutoSelectionWarning`.

``AUTOEMBEDDING_CHOICE_PATH`` and ``AUTOEMBEDDING_CHOICE_DIR`` (where an auto-selected choice
is saved, never the working directory; see :mod:`autoembedding.integrations.choice`) and
``AUTOEMBEDDING_CACHE`` (see :func:`autoembedding.offline.cache_dir`) are read where they are used.

Example:
    >>> import os
    >>> os.environ.pop(MODEL_ENV, None) and None
    >>> env_model() is None
    True
"""

from __future__ import annotations

import os

from autoembedding.errors import InvalidArgumentError

__all__ = ["AUTO_ENV", "MODEL_ENV", "auto_enabled", "env_model"]

#: Pins the model wherever none is given.
MODEL_ENV = "AUTOEMBEDDING_MODEL"
#: ``0`` turns auto-selection off (the offline default is used, without probing).
AUTO_ENV = "AUTOEMBEDDING_AUTO"

_OFF = frozenset({"0", "false", "no", "off"})
_ON = frozenset({"", "1", "true", "yes", "on"})


def env_model() -> str | None:
    """The model ``$AUTOEMBEDDING_MODEL`` names, or ``None`` when it is unset or blank."""
    value = os.environ.get(MODEL_ENV, "").strip()
    return value or None


def auto_enabled() -> bool:
    """Whether auto-selection may probe (``$AUTOEMBEDDING_AUTO`` is not ``0``).

    Raises:
        InvalidArgumentError: If the variable holds something other than 0/1, true/false,
            yes/no or on/off.
    """
    value = os.environ.get(AUTO_ENV, "").strip().lower()
    if value in _OFF:
        return False
    if value in _ON:
        return True
    raise InvalidArgumentError(
        f"${AUTO_ENV}={value!r} is not understood; use 0 to turn auto-selection off or 1 "
        "(or unset it) to keep it on.",
        argument=AUTO_ENV,
    )
