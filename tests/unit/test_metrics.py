"""Classification metrics against a hand-worked example."""

import numpy as np
import pytest

from cnnkit.training import classification_metrics


def test_metrics_hand_worked():
    y_true = [0, 0, 0, 1, 1, 2]
    y_pred = [0, 0, 1, 1, 2, 2]
    m = classification_metrics(y_true, y_pred, ("a", "b", "c"))
    assert m.accuracy == pytest.approx(4 / 6)
    np.testing.assert_array_equal(m.confusion, [[2, 1, 0], [0, 1, 1], [0, 0, 1]])
    assert m.per_class_recall == pytest.approx((2 / 3, 1 / 2, 1.0))
    # F1: a = 2*1*(2/3)/(1+2/3) = 0.8; b = 2*(1/2)(1/2)/1 = 0.5; c = 2*(1/2)*1/(3/2) = 2/3
    assert m.macro_f1 == pytest.approx((0.8 + 0.5 + 2 / 3) / 3)


def test_class_never_predicted_nor_present_counts_zero():
    m = classification_metrics([0, 0], [0, 0], ("a", "b"))
    assert m.accuracy == 1 and m.per_class_recall == (1.0, 0.0) and m.macro_f1 == pytest.approx(0.5)
