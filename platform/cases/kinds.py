"""The job kinds of the cases app, declared once (its handlers and the APIs that start them import these
names)."""

# An upload over IMPORT_BACKGROUND_BYTES, imported on the `cpu` queue.
IMPORT_FILE_JOB = "cases.import_file"
