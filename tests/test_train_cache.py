"""The corpus-row cache key covers every module that shapes the rows."""

from __future__ import annotations

from cleaner.training.train import row_code


def test_row_cache_key_covers_the_modules_dataset_uses_however_deep() -> None:
    covered = set(row_code())
    # imported by dataset.py itself and through other modules
    assert {"training/dataset.py", "training/chrome.py", "training/align.py", "html_blocks.py",
            "deep_html.py", "training/metric.py", "features.py", "page.py"} <= covered
    assert "cli.py" not in covered and "training/train.py" not in covered
