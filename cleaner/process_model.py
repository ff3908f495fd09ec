"""One loaded model per process, for engines that call cleaner many times per process.

datatrove runs a step once per task and Spark calls a function once per
Arrow batch, often many times in the same worker process. A model held in a
module (not in the step object or a driver script's global, which the engines
pickle and rebuild for every task) is loaded once per process and reused by
every later task there. The load count and time are kept, so that this can be
measured rather than assumed.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cleaner.api import Cleaner
from cleaner.labels import BODY
from cleaner.model import LineModel, default_model_path
from cleaner.page import InputFormat


@dataclass
class LoadStats:
    """Model loads in this process and the seconds they took."""

    loads: int = 0
    seconds: float = 0.0


STATS = LoadStats()
_models: dict[str, LineModel] = {}
_lock = threading.Lock()


def process_cleaner(model: str | Path | None = None, keep: Iterable[str] = (BODY,),
                    input_format: InputFormat | None = None) -> Cleaner:
    """A :class:`Cleaner` whose model is loaded at most once per process and path.

    ``model`` None is the default model (``$CLEANER_MODEL`` or the shipped one) of
    the process that calls this, so an executor uses its own installed copy.
    """
    path = str(Path(model) if model is not None else default_model_path())
    with _lock:
        loaded = _models.get(path)
        if loaded is None:
            start = time.perf_counter()
            loaded = _models[path] = LineModel.load(path)
            STATS.loads += 1
            STATS.seconds += time.perf_counter() - start
    return Cleaner(loaded, keep=keep, input_format=input_format)
