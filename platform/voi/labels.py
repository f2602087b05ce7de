"""The label contract of every VOI the platform stores or predicts, declared once.

A label volume is uint8 on its CT's grid: 0 background, 1 the patient's LEFT proximal femur, 2 the
patient's RIGHT proximal femur. Left is the patient's left, which is +x in the LPS frame every stored
volume uses (see ``voi.grid``), whatever the scanner wrote: the image is reoriented on import, so label 1
always lies at larger x than label 2.
"""

from __future__ import annotations

BACKGROUND = 0
LEFT = 1
RIGHT = 2
# The femur labels in label order, and the side names used in feature names and settings ("left_<feature>").
FEMUR_LABELS: tuple[int, ...] = (LEFT, RIGHT)
SIDES: dict[str, int] = {"left": LEFT, "right": RIGHT}
SIDE_OF_LABEL: dict[int, str] = {label: side for side, label in SIDES.items()}
LABEL_NAMES: dict[int, str] = {
    BACKGROUND: "background",
    LEFT: "left proximal femur",
    RIGHT: "right proximal femur",
}
MAX_LABEL = max(LABEL_NAMES)
