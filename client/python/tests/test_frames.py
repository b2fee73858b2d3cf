"""pandas DataFrames: long-form entries, wide matrices, and the ambiguous frame refused."""

import numpy as np
import pytest

import mfserve
from mfserve._matrices import prepare

pd = pytest.importorskip("pandas")


def test_long_form_named_columns_read_as_entries_timestamp_ignored():
    df = pd.DataFrame({"userId": [1, 1, 2], "movieId": [10, 20, 10],
                       "rating": [5.0, 3.0, 4.0], "timestamp": [9, 9, 9]})
    m = prepare(df)
    assert not m.is_dense
    assert m.rows.tolist() == [1, 1, 2]
    assert m.cols.tolist() == [10, 20, 10]
    assert m.values.tolist() == [5.0, 3.0, 4.0]


def test_long_form_string_keys_kept_as_keys():
    df = pd.DataFrame({"user": ["ann", "bob"], "item": ["sku-1", "sku-2"], "score": [1, 2]})
    m = prepare(df)
    assert m.rows == ["ann", "bob"]
    assert m.cols == ["sku-1", "sku-2"]


def test_three_unnamed_columns_refused_naming_both_readings():
    # What pandas.read_csv(header=None) makes of a headerless ratings file.
    df = pd.DataFrame([[1, 10, 5.0], [2, 10, 3.0]])
    with pytest.raises(ValueError) as e:
        prepare(df)
    assert "Ratings.from_dataframe" in str(e.value)
    assert "to_numpy" in str(e.value)


def test_from_dataframe_columns_in_order_or_by_name():
    df = pd.DataFrame([[1, 10, 5.0], [2, 10, 3.0]], columns=["a", "b", "c"])
    r = mfserve.Ratings.from_dataframe(df)
    assert r.users.tolist() == [1, 2] and r.items.tolist() == [10, 10]
    r = mfserve.Ratings.from_dataframe(df, user="b", item="a", rating="c")
    assert r.users.tolist() == [10, 10] and r.items.tolist() == [1, 2]
    with pytest.raises(ValueError, match="not in the DataFrame"):
        mfserve.Ratings.from_dataframe(df, user="x", item="a", rating="c")


def test_user_and_item_without_rating_refused_naming_the_columns():
    with pytest.raises(ValueError, match="no rating column"):
        prepare(pd.DataFrame({"user_id": [1], "item_id": [2], "when": [3]}))


def test_missing_rating_refused():
    df = pd.DataFrame({"user": [1, 2], "item": [1, 1], "rating": [4.0, np.nan]})
    with pytest.raises(ValueError, match="missing values"):
        prepare(df)


def test_wide_pivot_labels_become_keys_and_nan_cells_absent():
    wide = pd.DataFrame({"sku-1": [5.0, np.nan], "sku-2": [3.0, 4.0]}, index=["ann", "bob"])
    m = prepare(wide)
    assert not m.is_dense
    assert sorted(zip(m.rows, m.cols, m.values.tolist())) == [
        ("ann", "sku-1", 5.0), ("ann", "sku-2", 3.0), ("bob", "sku-2", 4.0)]


def test_wide_default_labels_full_is_dense():
    wide = pd.DataFrame(np.arange(8, dtype=float).reshape(2, 4))
    m = prepare(wide)
    assert m.is_dense
    assert m.dense.tolist() == [[0, 1, 2, 3], [4, 5, 6, 7]]


def test_long_form_frame_fits_and_predicts_by_the_frames_ids(server_target):
    rng = np.random.default_rng(3)
    users = rng.integers(1000, 1040, size=600)
    items = rng.integers(50, 80, size=600)
    df = pd.DataFrame({"user_id": users, "item_id": items,
                       "rating": rng.integers(1, 6, size=600).astype(float)})
    df = df.drop_duplicates(["user_id", "item_id"])
    model = mfserve.MatrixFactorization(df, num_topics=3, target=server_target)
    try:
        model.fit()
        first = df.iloc[0]
        assert np.isfinite(model.predict([int(first.user_id)], [int(first.item_id)])).all()
        assert model.info.num_users == df.user_id.nunique()
        assert model.info.num_entries == len(df)
    finally:
        model.delete()
        model.close()
