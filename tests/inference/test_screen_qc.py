"""Screening says when a CT cannot be assessed: per side {"assessable", "qc": [reasons]}, and no class
unless every side the classifier reads is assessable (issue 13: a liver-level CT was classed from "femurs"
of 15 and 7 voxels; issue 15: a near-empty mask was reported as a normal result)."""

import json

import numpy as np
import pytest
import SimpleITK as sitk
from django.core.management import call_command

from inference.predictions import screening
from inference.training.features import radiomics_settings
from phantom.case import CaseOptions, generate_case

SIDES = ("left", "right")


class FixedModel:
    """A stand-in classifier: the test is about whether it is asked, not what it answers."""

    def __init__(self):
        self.asked = 0

    def probabilities(self, row):
        self.asked += 1
        return {"normal": 0.2, "osteopenia": 0.3, "osteoporosis": 0.5}


@pytest.fixture
def tiny_radiomics(settings, tmp_path):
    params = tmp_path / "params.yaml"
    params.write_text("imageType:\n  Original: {}\nfeatureClass:\n  firstorder:\nsetting:\n  binWidth: 25\n")
    settings.RADIOMICS_PARAMS_PATH = str(params)
    return radiomics_settings()


def segmenter_giving(labels: np.ndarray, confidence: dict[int, float] | None = None):
    def segment(image, coarse, fine, confidence_out=None, **kw):
        if confidence_out is not None and confidence:
            confidence_out.update(confidence)
        mask = sitk.GetImageFromArray(labels.astype(np.uint8))
        mask.CopyInformation(image)
        return mask

    return segment


def upper_abdomen() -> sitk.Image:
    case = generate_case(seed=51, index=0, options=CaseOptions(matrix=96, region="abdomen", readers=False))
    first = int(np.ceil((case.anatomy.crest_z + 20.0 - case.grid.origin[2]) / case.grid.spacing[2]))
    return case.image[:, :, first:]


def specks(image: sitk.Image) -> np.ndarray:
    """15 voxels of "left femur" and 7 of "right", as the issue's model found on a liver-level CT."""
    labels = np.zeros(image.GetSize()[::-1], np.uint8)
    z, y, x = (n // 2 for n in labels.shape)
    labels[z, y, x + 10 : x + 25], labels[z, y, x - 17 : x - 10] = 1, 2
    return labels


def test_a_ct_with_no_femur_gets_no_class_and_says_why(monkeypatch, tiny_radiomics):
    image = upper_abdomen()
    monkeypatch.setattr("inference.ml.segmentation.segment_image", segmenter_giving(specks(image)))
    model = FixedModel()
    result = screening.screen_image(
        image, coarse=None, fine=None, model=model, settings=tiny_radiomics, sides=SIDES
    )
    as_json = json.loads(json.dumps(result.as_dict()))
    assert (
        as_json["predicted_class"] is None
        and as_json["probabilities"] == {}
        and as_json["assessable"] is False
    )
    for side in SIDES:
        verdict = as_json["per_side"][side]
        assert verdict["assessable"] is False
        assert any("no femur in the field of view" in reason for reason in verdict["qc"])
    assert as_json["per_side"]["left"]["voxels"] == 15 and as_json["per_side"]["right"]["voxels"] == 7
    assert model.asked == 0


def test_a_hip_ct_with_a_plausible_mask_is_classified(monkeypatch, tiny_radiomics):
    case = generate_case(seed=52, index=0, options=CaseOptions(matrix=96, exclusion="", readers=False))
    monkeypatch.setattr(
        "inference.ml.segmentation.segment_image", segmenter_giving(sitk.GetArrayFromImage(case.label))
    )
    model = FixedModel()
    result = screening.screen_image(
        case.image, coarse=None, fine=None, model=model, settings=tiny_radiomics, sides=SIDES
    )
    assert result.assessable and result.predicted_class == "osteoporosis" and model.asked == 1
    assert all(result.per_side[side]["qc"] == [] for side in SIDES)


def test_a_side_the_model_is_unsure_of_is_not_assessable(monkeypatch, tiny_radiomics):
    case = generate_case(seed=52, index=0, options=CaseOptions(matrix=96, exclusion="", readers=False))
    monkeypatch.setattr(
        "inference.ml.segmentation.segment_image",
        segmenter_giving(sitk.GetArrayFromImage(case.label), confidence={1: 0.55, 2: 0.97}),
    )
    result = screening.screen_image(
        case.image, coarse=None, fine=None, model=FixedModel(), settings=tiny_radiomics, sides=SIDES
    )
    assert result.predicted_class is None and result.per_side["right"]["assessable"]
    assert result.per_side["left"]["qc"] == [
        "the model is unsure of the left femur: mean probability 0.55 over its mask (below 0.7)"
    ]


def test_one_side_not_assessable_withholds_the_class_of_a_two_sided_classifier(monkeypatch, tiny_radiomics):
    case = generate_case(
        seed=53, index=0, options=CaseOptions(matrix=96, exclusion="hip_replacement", readers=False)
    )
    monkeypatch.setattr(
        "inference.ml.segmentation.segment_image", segmenter_giving(sitk.GetArrayFromImage(case.label))
    )
    result = screening.screen_image(
        case.image, coarse=None, fine=None, model=FixedModel(), settings=tiny_radiomics, sides=SIDES
    )
    assessable = {side: result.per_side[side]["assessable"] for side in SIDES}
    assert sorted(assessable.values()) == [False, True] and result.predicted_class is None
    replaced = next(side for side, ok in assessable.items() if not ok)
    assert any(reason.startswith("metal") for reason in result.per_side[replaced]["qc"])


def test_segment_command_prints_each_side_verdict(db, monkeypatch, tmp_path):
    image = upper_abdomen()
    path, out = tmp_path / "abdomen.nii.gz", tmp_path / "mask.nii.gz"
    sitk.WriteImage(image, str(path))
    monkeypatch.setattr(
        "inference.management.commands.segment.segment_ct",
        lambda ct, version, **kw: segmenter_giving(specks(ct))(ct, None, None),
    )
    monkeypatch.setattr(
        "inference.management.commands.segment.selectors.deployed_version",
        lambda family, number: type("Version", (), {"number": 1})(),
    )
    from io import StringIO

    printed = StringIO()
    call_command("segment", str(path), "--out", str(out), stdout=printed)
    lines = printed.getvalue().splitlines()
    assert lines[1].startswith("left: not assessable (") and "no femur in the field of view" in lines[1]
    assert lines[2].startswith("right: not assessable (")


def test_segmenting_a_case_stores_its_mask_findings_for_the_case_page(db, tmp_path):
    from cases.services import case_import
    from inference.training.segmentation import mask_qc_record

    image = upper_abdomen()
    path = tmp_path / "abdomen.nii.gz"
    sitk.WriteImage(image, str(path))
    case = case_import(path=path, study_id="ABD-9").case
    mask = segmenter_giving(specks(image))(image, None, None)
    mask_qc_record(case=case, image=image, mask=mask, version=type("Version", (), {"number": 3})())
    stored = {(f.source, f.code, f.side) for f in case.qc_findings.all()}
    assert stored == {
        ("import", "no_femur", "left"),
        ("import", "no_femur", "right"),
        ("segmentation v3", "mask_volume", "left"),
        ("segmentation v3", "mask_volume", "right"),
    }
