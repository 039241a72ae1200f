"""Every seed the course secret decides comes from `cnnkit.seeds.derive_seed`:
repeatable, personal, chained, in range, and course-wide labels apart from
student ids."""

import pytest

from autograder.pipeline.collect import safe_name
from cnnkit.assignment import improvement_seeds
from cnnkit.seeds import check_seed, derive_seed, student_seed


def test_a_check_seed_is_the_chain_through_the_students_seed():
    assert derive_seed("secret", "ann", "conv2d_layer") == check_seed(student_seed("secret", "ann"), "conv2d_layer")
    assert derive_seed("secret", "ann") == student_seed("secret", "ann") != student_seed("secret", "bob")
    assert student_seed("secret", "ann") != student_seed("other", "ann")


def test_a_submissions_seed_chains_its_content_hash_and_the_verifier_draws_from_it():
    from autograder.verifier.kinds import Submitter
    from autograder.verifier.verifier import Verifier

    assert student_seed("secret", "ann", "d1") == derive_seed("secret", "ann", "d1") != student_seed("secret", "ann")
    verifier = Verifier({}, "secret")
    assert verifier.seed(Submitter("ann", "d1"), "conv2d_layer") == derive_seed("secret", "ann", "d1", "conv2d_layer")
    assert verifier.seed(Submitter("ann", "d1"), "pool") != verifier.seed(Submitter("ann", "d2"), "pool")
    assert verifier.seed("ann", "pool") == derive_seed("secret", "ann", "pool"), "a bare id: the student's seed"
    again = __import__("pickle").loads(__import__("pickle").dumps(Submitter("ann", "d1")))
    assert again == "ann" and again.code_hash == "d1", "crosses to a trusted worker whole"


def test_seeds_are_in_range():
    assert all(0 <= derive_seed("s", str(i)) < 2**63 for i in range(200))
    assert all(0 <= derive_seed("s", str(i), bits=31) < 2**31 for i in range(200))
    assert all(0 <= seed < 2**31 for seed in improvement_seeds("any secret"))  # Keras' global seeding takes them


def test_the_class_shares_its_training_seeds_and_courses_differ():
    assert improvement_seeds("a") == improvement_seeds("a") != improvement_seeds("b")
    assert improvement_seeds(None) == (0, 1)  # the public seeds of the notebook and the benchmarks


def test_course_wide_labels_can_never_be_a_student_id():
    assert not safe_name(":improve") and not safe_name(":held-out")


@pytest.mark.parametrize("kwargs", [{}, {"bits": 0}, {"bits": 64}])
def test_bad_arguments_are_refused_with_the_argument_named(kwargs):
    labels = () if not kwargs else ("x",)
    with pytest.raises(ValueError, match="labels" if not kwargs else "bits"):
        derive_seed("s", *labels, **kwargs)
