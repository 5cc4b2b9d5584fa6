import numpy as np
import pytest
from scipy.stats import pearsonr
from sklearn import metrics as skm

from emorec import metrics


def test_wa_ua_hand_computed():
    y = [0, 0, 0, 0, 1, 1]
    p = [0, 0, 0, 0, 0, 1]
    assert metrics.wa(y, p) == pytest.approx(5 / 6)
    assert metrics.ua(y, p) == pytest.approx((1.0 + 0.5) / 2)


def test_against_sklearn():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 5, 300)
    p = np.where(rng.random(300) < 0.6, y, rng.integers(0, 5, 300))
    assert metrics.ua(y, p) == pytest.approx(skm.balanced_accuracy_score(y, p))
    assert metrics.f1_macro(y, p) == pytest.approx(skm.f1_score(y, p, average="macro"))
    assert metrics.f1_weighted(y, p) == pytest.approx(skm.f1_score(y, p, average="weighted"))
    np.testing.assert_array_equal(metrics.confusion_matrix(y, p), skm.confusion_matrix(y, p))


def test_ccc_and_pearson():
    x = np.array([1.0, 2.0, 3.0, 4.0])
    assert metrics.ccc(x, x) == pytest.approx(1.0)
    # shifted copy: perfectly correlated but not concordant
    y = x + 1
    assert metrics.pearson(x, y) == pytest.approx(1.0)
    # hand: var = 1.25 each, cov = 1.25, mean diff = 1 -> 2.5 / (2.5 + 1)
    assert metrics.ccc(x, y) == pytest.approx(2.5 / 3.5)
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=50), rng.normal(size=50)
    assert metrics.pearson(a, b) == pytest.approx(pearsonr(a, b)[0])


def test_acc2_conventions_and_acc7():
    y = np.array([-2.0, 0.0, 1.0, 2.4])
    p = np.array([-1.0, -0.5, 0.2, 2.6])
    assert metrics.acc2(y, p, "has-zero") == pytest.approx(3 / 4)  # 0 counts as non-negative
    assert metrics.acc2(y, p, "non-zero") == pytest.approx(1.0)  # the 0 label is dropped
    assert metrics.acc7(y, p) == pytest.approx(1 / 4)  # rounded: -2/-1 no, 0/0 yes, 1/0 no, 2/3 no
    assert metrics.mae(y, p) == pytest.approx(np.mean([1.0, 0.5, 0.8, 0.2]))
