"""Check that a speed change keeps every output: dump one checkout's outputs, compare two dumps.

    python tests/same_outputs.py inputs  /tmp/same/inputs.pkl   # once: the pages to compare on
    python tests/same_outputs.py dump    /tmp/same/inputs.pkl /tmp/same/main.pkl --checkout ../main
    python tests/same_outputs.py dump    /tmp/same/inputs.pkl /tmp/same/mine.pkl --checkout .
    python tests/same_outputs.py compare /tmp/same/main.pkl /tmp/same/mine.pkl

The pages: the first 300 held-out pages of ``--data`` (as ``make bench`` reads them) and
300 other pages drawn with a fixed seed, each as raw HTML (HTML mode) and as text
(html-text for the held-out ones, the five renderers in turn for the others), plus the
fixture pages. A dump holds, per page, its lines and structure rows, the feature rows
of the page alone and of batches of 32 pages, and, from the shipped model (or
``--model``), the labels and probabilities of ``label_many`` and of ``label`` one page
at a time, and the cleaned text. ``compare`` wants them all bit for bit
(``np.array_equal`` with NaN equal to NaN) and exits 1 on any difference. Pickles: for
files this script writes itself, never for files from elsewhere.
"""

from __future__ import annotations

import argparse
import pickle
import random
import sys
import time
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent / "fixtures"
BATCH = 32


def make_inputs(data: str, out: str, sample: int = 300) -> None:
    from cleaner.decode import decode_bytes
    from cleaner.training.corpus import read_all
    from cleaner.training.render import EVAL_RENDERER, RENDERERS

    pages = list(read_all(data))
    held = [page for page in pages if page.held_out][:sample]
    others = random.Random(11).sample([page for page in pages if not page.held_out], sample)
    names = list(RENDERERS)
    items = []
    for i, page in enumerate(held + others):
        html = decode_bytes(page.html_bytes())
        renderer = EVAL_RENDERER if i < len(held) else names[i % len(names)]
        items.append((f"{page.corpus}/{page.page_id}", "html", html))
        items.append((f"{page.corpus}/{page.page_id}:{renderer}", "text",
                      RENDERERS[renderer](html)))
    for path in sorted(FIXTURES.rglob("*")):
        if path.is_file() and path.suffix in (".html", ".htm", ".txt"):
            text = decode_bytes(path.read_bytes())
            items.append((str(path.relative_to(FIXTURES)), "text", text))
            if path.suffix.startswith(".htm"):
                items.append((str(path.relative_to(FIXTURES)), "html", text))
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_bytes(pickle.dumps(items))
    print(f"{len(items)} inputs written to {out}")


def dump(inputs: str, out: str, model: str | None) -> None:
    import numpy as np

    import cleaner.features as features
    from cleaner.api import Cleaner
    from cleaner.page import make_page

    items = pickle.loads(Path(inputs).read_bytes())
    cleaner = Cleaner(model)
    started = time.perf_counter()
    result: dict = {}
    pages = {}
    for name, kind, text in items:
        page = pages[name, kind] = make_page(text, kind)
        matrix, kept = features.page_features(page)
        result[name, kind, "lines"] = list(page.lines)
        result[name, kind, "structure"] = page.structure
        result[name, kind, "features"] = matrix
        result[name, kind, "kept"] = kept
    for kind in ("text", "html"):
        keys = [key for key in pages if key[1] == kind]
        for start in range(0, len(keys), BATCH):
            batch = [pages[key] for key in keys[start:start + BATCH]]
            if hasattr(features, "pages_features"):
                result["batch", kind, start] = features.pages_features(batch)[0]
            else:  # a checkout from before batched features
                result["batch", kind, start] = np.vstack(
                    [features.page_features(page)[0] for page in batch])
        for key, lines in zip(keys, cleaner.label_many([pages[key] for key in keys]),
                              strict=True):
            result[key[0], kind, "labels"] = [line.label for line in lines]
            result[key[0], kind, "probabilities"] = np.array([line.probability for line in lines])
            result[key[0], kind, "clean"] = cleaner.render(pages[key], lines)
        for key in keys[::7]:
            lines = cleaner.label(pages[key])
            result[key[0], kind, "labels alone"] = [line.label for line in lines]
            result[key[0], kind, "probabilities alone"] = np.array(
                [line.probability for line in lines])
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_bytes(pickle.dumps(result))
    print(f"{len(items)} pages dumped to {out} in {time.perf_counter() - started:.1f} s "
          f"(cleaner from {Path(features.__file__).parent})")


def compare(first: str, second: str) -> int:
    import numpy as np

    a = pickle.loads(Path(first).read_bytes())
    b = pickle.loads(Path(second).read_bytes())
    if a.keys() != b.keys():
        print(f"different entries: {len(a.keys() ^ b.keys())} in one dump only")
        return 1
    differ = []
    for key, x in a.items():
        y = b[key]
        if isinstance(x, np.ndarray) or isinstance(y, np.ndarray):
            same = (isinstance(x, np.ndarray) and isinstance(y, np.ndarray)
                    and x.shape == y.shape and x.dtype == y.dtype
                    and np.array_equal(x, y, equal_nan=True))
        else:
            same = x == y
        if not same:
            differ.append(key)
    for key in differ[:20]:
        print("differs:", key)
    print(f"{len(a)} entries compared, {len(differ)} differ")
    return 1 if differ else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    make = sub.add_parser("inputs")
    make.add_argument("out")
    make.add_argument("--data", default="../shared/data")
    run = sub.add_parser("dump")
    run.add_argument("inputs")
    run.add_argument("out")
    run.add_argument("--checkout", default=".", help="the checkout whose cleaner to import")
    run.add_argument("--model", default=None)
    check = sub.add_parser("compare")
    check.add_argument("first")
    check.add_argument("second")
    args = parser.parse_args()
    if args.command == "compare":
        return compare(args.first, args.second)
    if args.command == "dump":
        sys.path.insert(0, str(Path(args.checkout).resolve()))
        dump(args.inputs, args.out, args.model)
        return 0
    make_inputs(args.data, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
