"""Corpus loaders: Wikipedia paragraphs (``wikipedia.py``) and FewRel relations (``fewrel.py``)."""

from .common import DataError, local_file, open_text
from .fewrel import FewRelSplit, RelationInstance, load_fewrel, parse_fewrel
from .wikipedia import Paragraphs, load_paragraphs, read_paragraphs

__all__ = [
    "DataError",
    "FewRelSplit",
    "Paragraphs",
    "RelationInstance",
    "load_fewrel",
    "local_file",
    "load_paragraphs",
    "open_text",
    "parse_fewrel",
    "read_paragraphs",
]
