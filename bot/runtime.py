"""Process-wide tuning of a Rasa process that serves messages, applied once its model is loaded.

Python's cyclic garbage collector walks every tracked object at each full collection. A
loaded Rasa process holds about half a million of them (Rasa, TensorFlow, scikit-learn, the
model), none of which will ever be garbage, so under load a full collection stops every
conversation of the process for a long time (measured: about 150 ms, several times a minute at
300 messages a second). `gc.freeze()` moves what is alive once the server has started out of
the collector's reach; what messages allocate afterwards is collected as before.

Applied from the channels' blueprints (an `after_server_start` listener, after Rasa has
loaded the model), once per process.
"""

from __future__ import annotations

import gc
import logging
import os
from typing import Any

logger = logging.getLogger(__name__)

_frozen_in: int | None = None  # the process that froze (Sanic workers are forked)


def freeze_loaded_objects(*_args: Any) -> bool:
    """Freeze what is alive now out of the garbage collector's reach (once per process)."""
    global _frozen_in
    if _frozen_in == os.getpid():
        return False
    gc.collect()
    gc.freeze()
    _frozen_in = os.getpid()
    logger.info("garbage collector: %d objects of the loaded model frozen", gc.get_freeze_count())
    return True


def add_server_listeners(blueprint: Any) -> Any:
    """Register the process tuning on a channel's blueprint (any channel may be the only one)."""
    blueprint.listener("after_server_start")(_after_server_start)
    return blueprint


async def _after_server_start(_app: Any, _loop: Any) -> None:
    freeze_loaded_objects()
