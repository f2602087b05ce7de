"""The job kinds of the inference app, declared once: the handlers (inference.jobs), the services that
start them and the pages that list them all import these names instead of repeating the strings."""

SEGMENTATION_TRAIN_JOB = "segmentation.train"
SEGMENT_COHORT_JOB = "segmentation.segment_cohort"
RADIOMICS_EXTRACT_JOB = "radiomics.extract_case"
CLASSIFIER_TRAIN_JOB = "classifier.train"
# The demo's whole model pipeline (osteoscreen.demo registers its handler): a model job, so the models
# pages list it with the others.
DEMO_PIPELINE_JOB = "models.demo_pipeline"

# The jobs the models page lists and its job page follows.
MODEL_JOB_KINDS = (SEGMENTATION_TRAIN_JOB, SEGMENT_COHORT_JOB, CLASSIFIER_TRAIN_JOB, DEMO_PIPELINE_JOB)
