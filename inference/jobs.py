"""Job handlers of the inference app. Each is a thin entry point: it calls one service with the job's
context (progress, log, live chart data, cancellation) and returns what the job page shows as its result."""

from inference.kinds import (
    CLASSIFIER_TRAIN_JOB,
    RADIOMICS_EXTRACT_JOB,
    SEGMENT_COHORT_JOB,
    SEGMENTATION_TRAIN_JOB,
)
from inference.training import classifier, features, segmentation
from jobs.registry import JobContext, job_handler

# Training a full configuration takes hours on a GPU (the paper's 1001 epochs of each stage); a demo
# training minutes. The limit only stops a run that hangs.
TRAINING_TIME_LIMIT_S = 24 * 3600
# Segmenting a cohort: seconds per case; a few hundred cases stay well inside.
SEGMENT_COHORT_TIME_LIMIT_S = 6 * 3600
# Radiomics of one case (both sides, 1,184 features each) takes seconds to a minute.
EXTRACTION_TIME_LIMIT_S = 30 * 60
# Extraction of a whole cohort (in parallel children) plus the fits.
CLASSIFIER_TIME_LIMIT_S = 12 * 3600
# A crashed worker's training job is retried (attempts) and resumes from its last checkpoint.
TRAINING_ATTEMPTS = 3


@job_handler(
    SEGMENTATION_TRAIN_JOB, queue="gpu", time_limit=TRAINING_TIME_LIMIT_S, max_attempts=TRAINING_ATTEMPTS
)
def train_segmentation(ctx: JobContext) -> dict:
    return segmentation.segmentation_training_run(ctx)


@job_handler(SEGMENT_COHORT_JOB, queue="gpu", time_limit=SEGMENT_COHORT_TIME_LIMIT_S)
def segment_cohort(ctx: JobContext) -> dict:
    return segmentation.segment_cohort_run(ctx)


@job_handler(RADIOMICS_EXTRACT_JOB, queue="cpu", time_limit=EXTRACTION_TIME_LIMIT_S)
def extract_case_features(ctx: JobContext) -> dict:
    return features.extract_case_run(ctx)


@job_handler(CLASSIFIER_TRAIN_JOB, queue="cpu", time_limit=CLASSIFIER_TIME_LIMIT_S)
def train_classifier(ctx: JobContext) -> dict:
    return classifier.classifier_training_run(ctx)
