"""Leases in the metadata store: one holder at a time, expiry, a dead holder replaced."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from noria.store.metadata import MetadataStore


def test_one_holder_at_a_time_until_it_expires_or_is_released(metadata: MetadataStore) -> None:
    assert metadata.acquire_lease("loop:m", "a", ttl=60)
    assert not metadata.acquire_lease("loop:m", "b", ttl=60)
    assert metadata.acquire_lease("loop:m", "a", ttl=60)  # the holder renews
    assert metadata.lease("loop:m")[0] == "a"
    assert metadata.acquire_lease("loop:other", "b", ttl=60)  # another name is another lease
    metadata.release_lease("loop:m", "b")  # not b's: nothing happens
    assert metadata.lease("loop:m")[0] == "a"
    metadata.release_lease("loop:m", "a")
    assert metadata.lease("loop:m") is None
    assert metadata.acquire_lease("loop:m", "b", ttl=0.05)
    time.sleep(0.1)
    assert metadata.lease("loop:m") is None  # expired
    assert metadata.acquire_lease("loop:m", "c", ttl=60)
    assert not metadata.acquire_lease("loop:m", "d", ttl=60, replace="b")  # b is not the holder
    assert metadata.acquire_lease("loop:m", "d", ttl=60, replace="c")  # c is known to be dead


def test_many_takers_at_once_one_wins(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'noria.db'}"
    MetadataStore(url).close()
    start = threading.Barrier(8, timeout=10)
    won: list[str] = []

    def take(owner: str) -> None:
        store = MetadataStore(url)
        try:
            start.wait()
            if store.acquire_lease("loop:m", owner, ttl=60):
                won.append(owner)
        finally:
            store.close()

    threads = [threading.Thread(target=take, args=(f"o{i}",)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(won) == 1
