"""``python -m ssb``: the ``ssb`` command."""

from .cli import main

raise SystemExit(main())
