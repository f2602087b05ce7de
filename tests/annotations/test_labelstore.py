"""The label store: annotations asks for labels by tag; inference answers the "start" tag."""

from annotations import labelstore
from inference.selectors import start_labelmap_path


def test_a_tag_nobody_registered_gives_no_label(make_case):
    assert labelstore.label_path(make_case(), tag="no-such-tag") is None


def test_inference_answers_the_start_tag():
    # Registered by inference's AppConfig.ready(): annotations never imports inference.
    assert labelstore._sources[labelstore.START] is start_labelmap_path
