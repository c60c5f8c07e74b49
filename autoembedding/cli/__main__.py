"""``python -m autoembedding.cli`` runs ``autoembed``."""

import sys

from autoembedding.cli import main

sys.exit(main())
