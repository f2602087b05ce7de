"""DICOM as scanners, CDs and PACS export it: discovery by content, series choice, slice geometry, dose
reports, the sealed source UIDs, SEG/SR export and DICOMweb.

Plain pydicom / SimpleITK / highdicom; the only Django here is settings and the one sealed-source model.
"""
