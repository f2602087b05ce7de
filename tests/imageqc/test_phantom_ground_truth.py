"""The phantom's exclusion cases are flagged on the right side for the right reason, its clean cases not."""

from imageqc import image_qc, sides_qc
from imageqc.flags import FEMUR_CUT, METAL


def side_verdicts(case):
    return sides_qc(image_qc(case.image), case.label)


def test_clean_cases_are_assessable_on_both_sides(clean_cases):
    for case in clean_cases:
        verdicts = side_verdicts(case)
        assert all(v.assessable for v in verdicts.values()), {s: v.reasons for s, v in verdicts.items()}


def test_clean_cases_raise_no_image_finding_on_import(clean_cases):
    for case in clean_cases:
        assert image_qc(case.image).flags == []


def test_a_hip_replacement_is_flagged_as_metal_on_its_side_on_import(prosthesis_cases):
    for case in prosthesis_cases:
        replaced = "left" if not (_labels(case) == 1).any() else "right"  # the replaced side has no VOI
        flags = image_qc(case.image).flags
        assert [(f.code, f.side) for f in flags] == [(METAL, replaced)], [f.reason for f in flags]
        assert "HU" in flags[0].reason and "cm3" in flags[0].reason


def test_a_hip_replacement_leaves_the_other_side_assessable(prosthesis_cases):
    for case in prosthesis_cases:
        verdicts = side_verdicts(case)
        replaced = [side for side, v in verdicts.items() if any(f.code == METAL for f in v.flags)]
        assert len(replaced) == 1
        other = "right" if replaced == ["left"] else "left"
        assert verdicts[other].assessable and not verdicts[replaced[0]].assessable


def test_an_incomplete_scan_cuts_both_femurs_at_its_bottom(incomplete_cases):
    for case in incomplete_cases:
        for side, verdict in side_verdicts(case).items():
            cut = [f for f in verdict.flags if f.code == FEMUR_CUT]
            assert cut and "bottom" in cut[0].reason, (side, verdict.reasons)


def _labels(case):
    import SimpleITK as sitk

    return sitk.GetArrayViewFromImage(case.label)
