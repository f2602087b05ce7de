"""The job kinds of the cases app, declared once (its handlers and the APIs that start them import these
names)."""

# An upload over IMPORT_BACKGROUND_BYTES, imported on the `cpu` queue.
IMPORT_FILE_JOB = "cases.import_file"

# Studies picked on the PACS page, retrieved over DICOMweb (WADO-RS) and imported on the `cpu` queue.
IMPORT_PACS_JOB = "cases.import_pacs"
