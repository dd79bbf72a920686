import gc

from lien.core.collector import YOUNG, few_collections


def test_few_collections_is_reentrant_and_gives_the_thresholds_back():
    before = gc.get_threshold()
    with few_collections():
        assert gc.get_threshold()[0] == YOUNG
        assert gc.get_freeze_count() > 0
        with few_collections():
            assert gc.get_threshold()[0] == YOUNG
        assert gc.get_threshold()[0] == YOUNG  # the outer job still runs
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_cycles_are_still_collected_inside():
    class Node:
        pass

    with few_collections():
        a, b = Node(), Node()
        a.other, b.other = b, a
        del a, b
        assert gc.collect() >= 2


def test_an_error_inside_restores_the_collector():
    before = gc.get_threshold()
    try:
        with few_collections():
            raise ValueError("boom")
    except ValueError:
        pass
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0
