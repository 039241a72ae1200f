"""Limits: sizes as people write them, validation messages, worker sizing."""

import pytest

from autograder.sandbox.limits import Limits, format_size, limits_from, parse_size, plan_workers


@pytest.mark.parametrize("text, expected", [
    ("4GiB", 4 * 1024**3), ("20MB", 20_000_000), ("512k", 512_000), ("1.5GiB", int(1.5 * 1024**3)),
    ("100", 100), (" 2 gb ", 2_000_000_000), (4096, 4096),
])
def test_sizes_parse_as_written(text, expected):
    assert parse_size(text) == expected


@pytest.mark.parametrize("text", ["", "lots", "-1MB", "0", "4 parsecs", "1e9"])
def test_bad_sizes_name_the_option(text):
    with pytest.raises(ValueError, match=r"Invalid value for `memory`.*Received memory="):
        parse_size(text, name="memory")


def test_format_size_round_trips_the_usual_sizes():
    for text in ("4GiB", "512MiB", "20MB", "1kB"):
        assert format_size(parse_size(text)) == text


def test_limits_reject_non_positive_values():
    with pytest.raises(ValueError, match=r"Invalid value for `cell_timeout`. Expected a positive number. Received cell_timeout=0"):
        Limits(cell_timeout=0)
    with pytest.raises(ValueError, match="threads"):
        Limits(threads=0)


def test_limits_from_options_keeps_defaults_for_missing_ones():
    limits = limits_from(memory="2GiB", timeout=None, max_output="1MB")
    assert limits.memory == 2 * 1024**3 and limits.max_output == 1_000_000
    assert limits.timeout == Limits().timeout
    assert "memory 2GiB" in limits.describe() and "output 1MB" in limits.describe()


def test_workers_are_sized_from_cores_and_memory():
    plan = plan_workers(memory_per_worker=4 * 1024**3, cores=8, available_memory=64 * 1024**3)
    assert (plan.workers, plan.threads) == (8, 1)
    plan = plan_workers(memory_per_worker=4 * 1024**3, cores=8, available_memory=10 * 1024**3)
    assert (plan.workers, plan.threads) == (2, 4)  # memory bounds the workers; threads fill the cores
    plan = plan_workers(3, memory_per_worker=1, cores=2, available_memory=1)
    assert (plan.workers, plan.threads) == (3, 1) and "as asked" in plan.line()


def test_workers_must_be_positive():
    with pytest.raises(ValueError, match=r"Received workers=0"):
        plan_workers(0, memory_per_worker=1)
