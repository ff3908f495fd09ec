"""The corpus-row cache key covers every module that shapes the rows."""

from __future__ import annotations

import ast
from pathlib import Path

from cleaner.training.train import _ROW_CODE

PACKAGE = Path(__file__).resolve().parent.parent / "cleaner"


def _cleaner_imports(relative: str) -> set[str]:
    tree = ast.parse((PACKAGE / relative).read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("cleaner."):
            found.add(node.module.removeprefix("cleaner.").replace(".", "/") + ".py")
    return found


def test_row_cache_key_covers_the_modules_dataset_uses() -> None:
    needed, todo = set(), ["training/dataset.py"]
    while todo:
        module = todo.pop()
        if module in needed:
            continue
        needed.add(module)
        todo += sorted(_cleaner_imports(module))
    # labels.py and files.py only read and write labelled files; they do not shape rows.
    missing = needed - set(_ROW_CODE) - {"labels.py", "files.py"}
    assert not missing, f"add to _ROW_CODE: {sorted(missing)}"
