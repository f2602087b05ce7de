"""Every CSV a person downloads (the per-case predictions, a model's feature table) neutralises cells that
start like a spreadsheet formula."""

import csv
import io

from inference.training.features import feature_table_csv


def test_the_feature_table_neutralises_a_study_id_that_starts_like_a_formula(tmp_path):
    path = feature_table_csv(
        tmp_path / "features.csv",
        [
            (1, '=HYPERLINK("http://evil","open")', "training", {"original_firstorder_Mean": -12.5}),
            (2, "@SUM(A1:A9)", "validation", {"original_firstorder_Mean": 3.25}),
        ],
    )
    rows = list(csv.reader(io.StringIO(path.read_text())))
    assert rows[1][1] == '\'=HYPERLINK("http://evil","open")' and rows[2][1] == "'@SUM(A1:A9)"
    assert rows[1][3] == "-12.5"
