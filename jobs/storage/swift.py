"""`swift://container/prefix`: OpenStack Swift (SoftLayer Object Storage ran it).

Credentials come from the environment (or a mapping given in its place: the one-hop
preprocess's tasks, jobs.storage.credentials), as the `swift` CLI reads them: ST_AUTH / ST_USER /
ST_KEY (auth v1, SoftLayer's), or OS_AUTH_URL / OS_USERNAME / OS_PASSWORD / OS_PROJECT_NAME
(+ domains) for Keystone v3. Large files become static large objects (SLO); the segments
live in CONTAINER_segments, as the `swift` CLI puts them.
"""

import json
import os
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from jobs.errors import DrcError
from jobs.storage.base import (
    CHUNK,
    SHA256_META,
    LocalDigest,
    ObjectInfo,
    ObjectMeta,
    Progress,
    Store,
    store_error,
)

SEGMENT_SIZE = 32 << 20
META_HEADER = f"x-object-meta-{SHA256_META}"


def _credentials(env: Mapping[str, str]) -> dict:
    if env.get("ST_AUTH"):
        return {"authurl": env["ST_AUTH"], "user": env.get("ST_USER"), "key": env.get("ST_KEY"),
                "auth_version": "1"}  # fmt: skip
    if env.get("OS_AUTH_URL"):
        return {
            "authurl": env["OS_AUTH_URL"],
            "user": env.get("OS_USERNAME"),
            "key": env.get("OS_PASSWORD"),
            "auth_version": "3",
            "os_options": {
                "project_name": env.get("OS_PROJECT_NAME"),
                "user_domain_name": env.get("OS_USER_DOMAIN_NAME", "Default"),
                "project_domain_name": env.get("OS_PROJECT_DOMAIN_NAME", "Default"),
            },
        }
    raise DrcError("swift", "no credentials: set ST_AUTH/ST_USER/ST_KEY or OS_AUTH_URL/...")


class SwiftStore(Store):
    def __init__(self, url: str, container: str, prefix: str, segment_size: int | None = None,
                 env: Mapping[str, str] | None = None):  # fmt: skip
        self.url, self.container, self.prefix = url, container, prefix
        self.segment_size = segment_size or SEGMENT_SIZE
        self._creds = _credentials(os.environ if env is None else env)
        self._local = threading.local()  # swiftclient connections are not thread-safe

    @property
    def _conn(self):
        from swiftclient.client import Connection

        if not hasattr(self._local, "conn"):
            # Few, short retries: a wrong endpoint should fail in seconds, not minutes.
            self._local.conn = Connection(retries=2, starting_backoff=0.5, max_backoff=2,
                                          timeout=60, **self._creds)  # fmt: skip
        return self._local.conn

    @contextmanager
    def _errors(self, what: str):
        from http.client import HTTPException

        from requests.exceptions import RequestException
        from swiftclient.exceptions import ClientException
        from urllib3.exceptions import HTTPError

        try:
            yield
        except ClientException as exc:
            status, url = exc.http_status, self._creds["authurl"]
            kind, detail = {
                401: ("auth", f"user {self._creds['user']!r}, HTTP 401"),
                403: ("auth", f"user {self._creds['user']!r}, HTTP 403"),
                404: ("missing", "HTTP 404"),
                None: ("unreachable", f"{url} ({exc.msg})"),
            }.get(status, ("", f"HTTP {status} {exc.http_reason or ''}".strip()))
            raise store_error(self.url, kind, what, detail) from None
        except RequestException as exc:
            detail = f"{self._creds['authurl']} ({type(exc).__name__})"
            raise store_error(self.url, "unreachable", what, detail) from None
        except (HTTPError, HTTPException) as exc:  # a body cut off mid-read: worth a retry
            raise store_error(self.url, "other", what, str(exc)[:200]) from None

    def _name(self, key: str) -> str:
        return f"{self.prefix}{key}"

    def list(self) -> Iterator[ObjectInfo]:
        with self._errors(f"container {self.container!r}"):
            _, listing = self._conn.get_container(self.container, prefix=self.prefix,
                                                  full_listing=True)  # fmt: skip
        for entry in listing:
            key = entry["name"][len(self.prefix) :]
            if key and not entry["name"].endswith("/"):
                yield ObjectInfo(key, int(entry["bytes"]), entry.get("hash", "").strip('"'))

    def meta(self, key: str) -> ObjectMeta:
        with self._errors(f"object {key!r}"):
            headers = self._conn.head_object(self.container, self._name(key))
        segmented = "x-static-large-object" in headers or "x-object-manifest" in headers
        return ObjectMeta(headers.get(META_HEADER), segmented)

    def download(self, key: str, target: Path, progress: Progress) -> None:
        with self._errors(f"object {key!r}"):
            # A plain GET of an SLO/DLO manifest streams the joined segments.
            _, body = self._conn.get_object(self.container, self._name(key),
                                            resp_chunk_size=CHUNK)  # fmt: skip
            with target.open("wb") as out:
                for chunk in body:
                    out.write(chunk)
                    progress(len(chunk))

    def read(self, key: str) -> bytes:
        with self._errors(f"object {key!r}"):
            return self._conn.get_object(self.container, self._name(key))[1]

    def upload(self, source: Path, key: str, digest: LocalDigest, progress: Progress) -> None:
        headers = {META_HEADER: digest.sha256}
        name = self._name(key)
        with self._errors(f"container {self.container!r}"):
            if digest.size <= self.segment_size:
                with source.open("rb") as body:
                    self._conn.put_object(self.container, name, body, content_length=digest.size,
                                          etag=digest.md5, headers=headers)  # fmt: skip
                progress(digest.size)
                return
            self._upload_slo(source, name, digest, headers, progress)

    def _upload_slo(self, source, name, digest, headers, progress) -> None:
        seg_container = f"{self.container}_segments"
        self._conn.put_container(seg_container)
        manifest = []
        with source.open("rb") as handle:
            for index in range((digest.size + self.segment_size - 1) // self.segment_size):
                data = handle.read(self.segment_size)
                seg_name = f"{name}/slo/{digest.sha256[:16]}/{index:08d}"
                etag = self._conn.put_object(seg_container, seg_name, data)
                manifest.append({"path": f"/{seg_container}/{seg_name}", "etag": etag,
                                 "size_bytes": len(data)})  # fmt: skip
                progress(len(data))
        self._conn.put_object(self.container, name, json.dumps(manifest), headers=headers,
                              query_string="multipart-manifest=put")  # fmt: skip

    def ensure_container(self) -> None:
        with self._errors(f"container {self.container!r}"):
            self._conn.put_container(self.container)
