"""Labels the reading workflow shows but does not own, looked up by tag (MONAI Label's datastore idea).

The viewer's "start" labelmap is the active segmentation model's prediction, which the inference app
holds. Annotations sits below inference and may not import it, so it declares this small interface and
inference registers a source for the tag in its AppConfig.ready(). A tag nobody registered gives None: the
reader starts from an empty labelmap, as when no model is active.
"""

from collections.abc import Callable
from pathlib import Path

from cases.models import Case

# The starting point a reader may load into the viewer. Never another reader's VOI: a starting point must
# not unblind anyone.
START = "start"

LabelSource = Callable[[Case], Path | None]

_sources: dict[str, LabelSource] = {}


def label_source_register(tag: str, source: LabelSource) -> None:
    """Make `source(case)` answer for `tag`; a later registration for the same tag replaces it."""
    _sources[tag] = source


def label_path(case: Case, *, tag: str) -> Path | None:
    """The path of the case's label volume for the tag (NIfTI uint8 on the case grid), or None."""
    source = _sources.get(tag)
    return source(case) if source is not None else None
