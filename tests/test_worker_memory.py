"""What keeps a worker's memory flat under load: the lazy listeners' pool holds at most its
workers and its queue (the next submission waits for room instead of the backlog growing
without end), and the server limits glibc's malloc arenas."""

from __future__ import annotations

import threading

from bot.lazy import LazyPool


def test_a_full_pool_makes_the_next_submission_wait_for_room():
    pool = LazyPool(workers=1, queued=1)
    release = threading.Event()
    started = threading.Event()

    def blocked() -> str:
        started.set()
        release.wait(10)
        return "done"

    first = pool.submit(blocked)
    started.wait(10)
    second = pool.submit(lambda: "queued")  # waits in the queue: there is room for one
    third_submitted = threading.Event()
    third: list = []

    def submit_third() -> None:
        third.append(pool.submit(lambda: "third"))
        third_submitted.set()  # as soon as the pool took it

    submitter = threading.Thread(target=submit_third)
    submitter.start()
    assert not third_submitted.wait(0.3), "a third submission was taken while the pool was full"
    release.set()
    assert first.result(10) == "done"
    assert second.result(10) == "queued"
    submitter.join(10)
    assert third_submitted.is_set()
    assert third[0].result(10) == "third"
    pool.shutdown()


def test_an_error_in_the_work_frees_its_place():
    pool = LazyPool(workers=1, queued=0)

    def fails() -> None:
        raise RuntimeError("boom")

    for _ in range(3):  # each would wait for ever if a failed one kept its place
        assert isinstance(pool.submit(fails).exception(10), RuntimeError)
    assert pool.submit(lambda: 42).result(10) == 42
    pool.shutdown()


def test_the_server_limits_malloc_arenas_where_the_c_library_is_glibc():
    import platform

    from bot.web import limit_malloc_arenas

    assert limit_malloc_arenas() is (platform.libc_ver()[0] == "glibc")
