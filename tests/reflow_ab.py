"""Validation A/B of text-mode reflow (``cleaner/reflow.py``): the same model with and
without it, on every text rendering, including two that nothing else uses.

    python tests/reflow_ab.py --model build/noval/cleaner.npz --sample 0.6

Prints shingle F1 per corpus and rendering as ``without/with``. The pages are the
validation split (a seeded ``--sample`` of it); renderings: html-text and inscriptis
(trained on), text nodes and html-text wrapped at 79 (evaluation's unseen ones),
inscriptis wrapped at 72 and html-text wrapped at 100 (used nowhere else).
"""

from __future__ import annotations

import argparse
import multiprocessing
import random
from collections import defaultdict

import numpy as np

import cleaner.api as api
from cleaner.api import Cleaner
from cleaner.decode import decode_bytes
from cleaner.model import LineModel, one_thread
from cleaner.reflow import reflow
from cleaner.training.corpus import read_all
from cleaner.training.metric import score_pages
from cleaner.training.render import RENDERERS, hard_wrap

NAMES = ("html-text", "inscriptis", "text-nodes", "wrapped", "inscriptis@72", "html-text@100")
_cleaner: dict[str, Cleaner] = {}


def unchanged(page):
    return page, np.arange(len(page.lines))


def init(model: str) -> None:
    one_thread()
    _cleaner["text"] = Cleaner(LineModel.load(model), input_format="text")


def outputs(page) -> tuple[str, str, dict]:
    html = decode_bytes(page.html_bytes())
    texts = {name: RENDERERS[name](html) for name in NAMES[:4]}
    texts["inscriptis@72"] = hard_wrap(texts["inscriptis"], 72)
    texts["html-text@100"] = hard_wrap(texts["html-text"], 100)
    out = {}
    for with_reflow in (False, True):
        api.reflow = reflow if with_reflow else unchanged
        for name, text in texts.items():
            out[name, with_reflow] = _cleaner["text"].clean(text)
    return page.corpus, page.body, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default="../shared/data")
    parser.add_argument("--model", required=True)
    parser.add_argument("--sample", type=float, default=1.0)
    parser.add_argument("--processes", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(1)
    pages = [p for p in read_all(args.data) if p.validation and rng.random() < args.sample]
    with multiprocessing.get_context("spawn").Pool(
            args.processes, initializer=init, initargs=(args.model,)) as pool:
        results = pool.map(outputs, pages, chunksize=4)
    pairs: dict[tuple, list] = defaultdict(list)
    for corpus, gold, out in results:
        for key, text in out.items():
            pairs[(corpus, *key)].append((text, gold))
            pairs[("all", *key)].append((text, gold))
    print("corpus pages " + " ".join(f"{name}:without/with" for name in NAMES))
    for corpus in sorted({key[0] for key in pairs}):
        cells = [f"{score_pages(pairs[corpus, n, False]).f1:.3f}/"
                 f"{score_pages(pairs[corpus, n, True]).f1:.3f}" for n in NAMES]
        print(corpus, len(pairs[corpus, "html-text", False]), " ".join(cells))


if __name__ == "__main__":
    main()
