from cases.models import Case


def test_make_case_imports_a_volume_in_canonical_form(make_case):
    case = make_case(size=(24, 20, 16))
    assert Case.objects.count() == 1
    assert case.size == [24, 20, 16]
    assert case.direction == [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0]
    assert len(case.volume_sha256) == 64
