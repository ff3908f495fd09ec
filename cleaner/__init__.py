"""cleaner: keep the article body of scraped news pages, drop the page chrome."""

from cleaner.api import Cleaner, clean, label
from cleaner.labels import (
    LABELS,
    Line,
    format_labelled,
    parse_labelled,
    read_labelled,
    write_labelled,
)
from cleaner.model import LineModel, ModelError
from cleaner.page import Page, make_page
from cleaner.reader import InputError, Limits, read_page

__all__ = [
    "Cleaner", "clean", "label", "Line", "LABELS", "LineModel", "ModelError", "Page",
    "make_page", "format_labelled", "parse_labelled", "read_labelled", "write_labelled",
    "InputError", "Limits", "read_page",
]
__version__ = "1.0.0"
