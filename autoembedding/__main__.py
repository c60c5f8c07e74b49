"""``python -m autoembedding`` runs ``autoembed``."""

import sys

from autoembedding.cli import main

sys.exit(main())
