"""A fetch into memory: verified as `drc stage get` verifies, retried, clear when it fails;
and the credentials the tasks carry (their names printable, never their values)."""

import hashlib

import pytest

from jobs.storage import is_object_store
from jobs.storage.base import ObjectInfo, ObjectMeta, Store, StoreError, store_error
from jobs.storage.credentials import store_env
from jobs.storage.fetch import Unfetchable, fetch

DATA = b"a photograph"
INFO = ObjectInfo("16_left.jpeg", len(DATA), hashlib.md5(DATA).hexdigest())


class ScriptedStore(Store):
    """Answers each read from a script: bytes, or a StoreError kind to raise."""

    url = "swift://c/p"

    def __init__(self, *answers):
        self.answers, self.reads = list(answers), 0

    def read(self, key):
        self.reads += 1
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, str):
            raise store_error(self.url, answer, f"object {key!r}", "HTTP 5xx")
        return answer

    def meta(self, key):
        return ObjectMeta(None, False)

    list = download = upload = None


def run(store, **kwargs):
    waits = []
    return fetch(store, INFO, sleep=waits.append, **kwargs), waits


def test_a_verified_object_in_one_read():
    assert run(ScriptedStore(DATA)) == (DATA, [])


def test_transient_errors_and_a_cut_body_are_retried_with_backoff():
    store = ScriptedStore("unreachable", DATA[:5], DATA)
    assert run(store) == (DATA, [0.5, 1.0])
    assert store.reads == 3


def test_a_body_that_never_verifies_is_unverified_after_every_attempt():
    with pytest.raises(Unfetchable) as caught:
        run(ScriptedStore(b"a photographX"))
    assert caught.value.reason == "unverified" and "3 attempts" in caught.value.detail
    assert isinstance(caught.value, OSError)  # the tasks' readers quarantine OSErrors


def test_a_missing_object_fails_at_once_and_refused_credentials_raise():
    store = ScriptedStore("missing")
    with pytest.raises(Unfetchable, match="missing: .*not found") as caught:
        run(store)
    assert store.reads == 1 and caught.value.reason == "missing"
    with pytest.raises(StoreError, match="authentication failed"):
        run(ScriptedStore("auth"))


def test_an_unreachable_store_is_unfetchable_after_the_attempts():
    with pytest.raises(Unfetchable) as caught:
        run(ScriptedStore("other"), attempts=2)
    assert caught.value.reason == "unfetchable" and "2 attempts" in caught.value.detail


def test_credentials_are_picked_by_scheme_and_never_printed():
    environ = {"ST_AUTH": "http://x/auth", "ST_KEY": "s3cret", "AWS_SECRET_ACCESS_KEY": "k3y",
               "HOME": "/root"}  # fmt: skip
    swift = store_env("swift://c/p", environ)
    assert dict(swift) == {"ST_AUTH": "http://x/auth", "ST_KEY": "s3cret"}
    assert repr(swift) == str(swift) == "StoreEnv(ST_AUTH, ST_KEY)"
    assert dict(store_env("s3://b/p", environ)) == {"AWS_SECRET_ACCESS_KEY": "k3y"}
    assert dict(store_env("hdfs://nn/p", environ)) == {}
    assert [is_object_store(u) for u in ("swift://c", "s3://b/p", "hdfs://n/p", "/x")] == [
        True, True, False, False,
    ]  # fmt: skip
