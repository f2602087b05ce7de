"""The PACS page (coordinators, admins): search a PACS over DICOMweb, pick studies, import them as a job."""

import datetime as dt

from django import forms
from django.shortcuts import redirect, render

from accounts.permissions import role_required
from accounts.roles import Role
from jobs.services import job_start

from .dicom import pacs
from .kinds import IMPORT_PACS_JOB
from .validation import ImportRejected


class PacsSearchForm(forms.Form):
    pacs = forms.ChoiceField(label="PACS")
    date_from = forms.DateField(required=False, label="from", widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(required=False, label="to", widget=forms.DateInput(attrs={"type": "date"}))
    modality = forms.RegexField(r"^[A-Za-z]{0,8}$", required=False, initial="CT", max_length=8)
    description = forms.CharField(required=False, max_length=64, label="study description contains")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        choice = self.fields["pacs"]
        assert isinstance(choice, forms.ChoiceField)
        choice.choices = [(e.name, e.name) for e in pacs.pacs_endpoints()]


def _search(form: PacsSearchForm) -> tuple[list[dict], str]:
    data = dict(form.cleaned_data)
    try:
        endpoint = pacs.pacs_endpoint(data.pop("pacs"))
        return pacs.studies_search(endpoint, **data), ""
    except ImportRejected as exc:
        return [], str(exc)


def _import(request):
    name, tokens = request.POST.get("pacs", ""), request.POST.getlist("study")
    if not tokens:
        return None, "pick at least one study"
    try:
        pacs.pacs_endpoint(name)
        for token in tokens:
            pacs.study_uid_of(token)
    except ImportRejected as exc:
        return None, str(exc)
    job = job_start(
        kind=IMPORT_PACS_JOB,
        owner=request.user,
        params={"pacs": name, "studies": tokens, "study_id": request.POST.get("study_id", "")[:64]},
    )
    return job, ""


@role_required(Role.COORDINATOR, Role.ADMIN)
def pacs_search(request):
    error = ""
    if request.method == "POST":
        job, error = _import(request)
        if job is not None:
            return redirect("jobs:detail", pk=job.pk)
    form = PacsSearchForm(request.GET or None, initial={"date_to": dt.date.today(), "modality": "CT"})
    studies: list[dict] = []
    if form.is_bound and form.is_valid():
        studies, error = _search(form)
    return render(
        request,
        "cases/pacs.html",
        {
            "form": form,
            "studies": studies,
            "error": error,
            "searched": form.is_bound,
            "endpoints": [e.public() for e in pacs.pacs_endpoints()],
            "pacs_name": form.cleaned_data.get("pacs", "") if form.is_bound and form.is_valid() else "",
        },
    )
