from accounts.models import AuditEvent
from cases.services import exclusion_add, exclusion_remove, qct_set


def test_creates_changes_and_deletes_of_clinical_data_are_audited_with_old_and_new_values(
    make_case, coordinator
):
    import datetime as dt

    case = make_case()
    qct_set(
        case=case,
        qct_date=dt.date(2024, 1, 2),
        values={"femoral_neck_t": -1.5},
        days_from_ct=1,
        actor=coordinator,
    )
    qct_set(
        case=case,
        qct_date=dt.date(2024, 1, 2),
        values={"femoral_neck_t": -2.7},
        days_from_ct=1,
        actor=coordinator,
    )
    exclusion = exclusion_add(case=case, reason="other", actor=coordinator)
    exclusion_remove(exclusion=exclusion, actor=coordinator)

    change = AuditEvent.objects.filter(model="cases.qctmeasurement", action="update").get()
    assert change.changes["femoral_neck_t"] == [-1.5, -2.7]
    assert change.actor == coordinator
    status = AuditEvent.objects.filter(model="cases.case", action="update").order_by("id")
    assert [e.changes["bone_status"] for e in status] == [["", "osteopenia"], ["osteopenia", "osteoporosis"]]
    assert AuditEvent.objects.filter(model="cases.exclusion", action="delete").exists()
