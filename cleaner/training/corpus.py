"""Read the labelled HTML corpora (``DATA/<corpus>/html/<id>.html.gz`` + ``gold.jsonl``).

The held-out split is fixed by a hash of ``corpus/id``, so it never depends
on file order, machine or run, and training never sees those pages.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

#: Share of pages per corpus held out for evaluation.
HELD_OUT_PERCENT = 20
#: Share of the training pages set aside to choose features and settings on, so that
#: decisions never look at the held-out pages (``make train`` still uses them all).
VALIDATION_PERCENT = 15


@dataclass
class GoldPage:
    corpus: str
    page_id: str
    html_path: Path
    body: str
    title: str = ""
    segments: dict[str, list[str]] = field(default_factory=dict)
    #: Extra fields of the gold record (wcxb: page_type, with, without, url).
    extra: dict = field(default_factory=dict)

    @property
    def held_out(self) -> bool:
        return is_held_out(self.corpus, self.page_id)

    @property
    def validation(self) -> bool:
        return is_validation(self.corpus, self.page_id)

    def html_bytes(self) -> bytes:
        with gzip.open(self.html_path, "rb") as handle:
            return handle.read()


_EXTRA_FIELDS = ("page_type", "with", "without", "url")


def page_digest(corpus: str, page_id: str) -> bytes:
    """A fixed digest of a page's name: the split and per-page random streams derive from it."""
    return hashlib.sha1(f"{corpus}/{page_id}".encode()).digest()


def is_held_out(corpus: str, page_id: str) -> bool:
    return int.from_bytes(page_digest(corpus, page_id)[:4], "big") % 100 < HELD_OUT_PERCENT


def is_validation(corpus: str, page_id: str) -> bool:
    """A training page set aside for decisions (never a held-out page)."""
    digest = page_digest(corpus, page_id)
    return (not is_held_out(corpus, page_id)
            and int.from_bytes(digest[4:8], "big") % 100 < VALIDATION_PERCENT)


def corpora(data_dir: str | Path) -> list[str]:
    """Names of the corpus folders under ``data_dir`` (those with a gold.jsonl)."""
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise FileNotFoundError(f"{data_dir}: data directory not found")
    return sorted(p.parent.name for p in data_dir.glob("*/gold.jsonl"))


def read_corpus(data_dir: str | Path, corpus: str) -> Iterator[GoldPage]:
    """Pages of one corpus, in gold.jsonl order, skipping those without HTML."""
    folder = Path(data_dir) / corpus
    with open(folder / "gold.jsonl", encoding="utf-8") as handle:
        for row in handle:
            if not row.strip():
                continue
            record = json.loads(row)
            page_id = str(record["id"])
            html_path = folder / "html" / f"{page_id}.html.gz"
            if not html_path.exists():
                continue
            extra = {key: record[key] for key in _EXTRA_FIELDS if key in record}
            yield GoldPage(corpus, page_id, html_path, record.get("body") or "",
                           record.get("title") or "", record.get("segments") or {}, extra)


def read_all(data_dir: str | Path) -> Iterator[GoldPage]:
    for corpus in corpora(data_dir):
        yield from read_corpus(data_dir, corpus)
