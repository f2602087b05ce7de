"""Writes of the models app, one module per idea (import from the module, e.g.
`from inference.services.versions import model_version_promote`):

- versions: the life of a model version (create, trained, promote, retire, fail) and its files.
- segmentation: the "Retrain segmentation" and "Segment cohort" jobs, and segmenting one CT.
- features: radiomics feature vectors per (case, mask source, mask SHA-256, side, settings hash).
- classifier: the "Retrain classifier" job (features -> RFE/mRMR/LASSO/RF + baseline -> predictions).
- screening: the whole deployed path on one CT (the `screen` command and the bench).
- demo: the demo pipeline (train, segment, classify, promote) the `load_demo` command starts.
"""


def demo_pipeline_start(*, owner, **kwargs):
    """Queue the demo's model pipeline (see inference.services.demo); returns its Job."""
    from .demo import demo_pipeline_start as start

    return start(owner=owner, **kwargs)
