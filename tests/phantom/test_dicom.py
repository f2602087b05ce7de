import numpy as np
import pydicom
import SimpleITK as sitk

from phantom.case import CaseOptions
from phantom.cohort import CohortConfig, write_cohort

IDENTIFYING = (
    "PatientName",
    "PatientID",
    "PatientBirthDate",
    "InstitutionName",
    "ReferringPhysicianName",
    "AccessionNumber",
)


def _cohort(tmp_path):
    options = CaseOptions(matrix=64, region="hips", exclusion="")
    write_cohort(CohortConfig(out=tmp_path, cases=1, seed=3, options=options, dicom=True))
    return sorted((tmp_path / "dicom" / "SYN-0001").glob("*.dcm"))


def test_dicom_slices_carry_fake_identifiers_for_the_importer_to_strip(tmp_path):
    files = _cohort(tmp_path)
    ds = pydicom.dcmread(files[0])
    for keyword in IDENTIFYING:
        assert str(getattr(ds, keyword, "")).strip(), keyword
    assert ds.Modality == "CT" and int(ds.KVP) == 120 and float(ds.SliceThickness) == 1.25
    assert ds.StudyInstanceUID and ds.SeriesInstanceUID and ds.SOPInstanceUID
    assert float(ds.CTDIvol) > 0 and "DLP" in ds.ImageComments


def test_the_dicom_series_reads_back_as_the_nifti_volume(tmp_path):
    files = _cohort(tmp_path)
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames([str(f) for f in files])
    series = reader.Execute()
    nifti = sitk.ReadImage(str(tmp_path / "images" / "SYN-0001.nii.gz"))
    assert np.array_equal(sitk.GetArrayFromImage(series).astype(np.int16), sitk.GetArrayViewFromImage(nifti))
    assert np.allclose(series.GetOrigin(), nifti.GetOrigin(), atol=1e-3)
    assert np.allclose(series.GetSpacing(), nifti.GetSpacing(), atol=1e-3)


def test_the_manifest_and_qct_tables_have_the_importers_columns(tmp_path):
    _cohort(tmp_path)
    manifest = (tmp_path / "manifest.csv").read_text().splitlines()
    assert manifest[0] == (
        "study_id,sex,birth_year,exam_datetime,scanner_model,manufacturer,kvp,"
        "slice_thickness_mm,dlp_mgycm,exclusion_reason,image,reference_mask,reader1_mask,"
        "reader2_mask"
    )
    qct = (tmp_path / "qct.csv").read_text().splitlines()
    assert qct[0] == (
        "study_id,qct_date,femoral_neck_bmd,femoral_neck_t,trochanter_bmd,trochanter_t,"
        "intertrochanter_bmd,intertrochanter_t,total_hip_bmd,total_hip_t,bmd_unit"
    )
    assert manifest[1].startswith("SYN-0001,") and qct[1].startswith("SYN-0001,")
