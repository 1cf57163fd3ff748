"""`s3://bucket/prefix`: Amazon S3 and S3-compatible stores (IBM COS, MinIO, Swift's s3api).

boto3 reads the standard variables itself (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
AWS_ENDPOINT_URL, AWS_PROFILE ...); a mapping given in place of the environment (the one-hop
preprocess's tasks, jobs.storage.credentials) is passed to it explicitly. Large files go up
as multipart uploads.
"""

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from jobs.errors import DrcError
from jobs.storage import base

PART_SIZE = 32 << 20
_AUTH_CODES = {"InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "403",
               "InvalidClientTokenId", "AuthorizationHeaderMalformed"}  # fmt: skip
_MISSING_CODES = {"NoSuchBucket", "NoSuchKey", "404", "NotFound"}


def _session_args(env: Mapping[str, str]) -> dict:
    """boto3's session arguments from a mapping of the variables it would read."""
    names = {"aws_access_key_id": "AWS_ACCESS_KEY_ID",
             "aws_secret_access_key": "AWS_SECRET_ACCESS_KEY",
             "aws_session_token": "AWS_SESSION_TOKEN", "profile_name": "AWS_PROFILE"}  # fmt: skip
    return {arg: env[name] for arg, name in names.items() if env.get(name)}


class S3Store(base.Store):
    def __init__(self, url: str, bucket: str, prefix: str, part_size: int | None = None,
                 env: Mapping[str, str] | None = None):  # fmt: skip
        import boto3
        from boto3.s3.transfer import TransferConfig
        from botocore.config import Config

        self.url, self.bucket, self.prefix = url, bucket, prefix
        given = env is not None
        env = os.environ if env is None else env
        endpoint = env.get("AWS_ENDPOINT_URL")
        self.endpoint = endpoint or "the AWS S3 endpoint"
        config = Config(
            # Other S3 implementations know path-style addressing and plain MD5 checks,
            # not the newer default CRC trailers.
            s3={"addressing_style": "path"} if endpoint else {},
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
            retries={"max_attempts": 3, "mode": "standard"},
            connect_timeout=10,
            max_pool_connections=32,
        )
        region = env.get("AWS_DEFAULT_REGION") or env.get("AWS_REGION")
        session = boto3.session.Session(**(_session_args(env) if given else {}))
        self.client = session.client("s3", config=config, region_name=region or "us-east-1",
                                     endpoint_url=endpoint if given else None)  # fmt: skip
        self.transfer = TransferConfig(multipart_threshold=part_size or PART_SIZE,
                                       multipart_chunksize=part_size or PART_SIZE,
                                       use_threads=False)  # fmt: skip

    @contextmanager
    def _errors(self, what: str):
        from botocore.exceptions import (
            BotoCoreError,
            ClientError,
            EndpointConnectionError,
            NoCredentialsError,
        )

        try:
            yield
        except ClientError as exc:
            error = exc.response.get("Error", {})
            code = str(error.get("Code", ""))
            kind = "auth" if code in _AUTH_CODES else "missing" if code in _MISSING_CODES else ""
            detail = code if kind else f"{code} {error.get('Message', '')}".strip()
            raise base.store_error(self.url, kind, what, detail) from None
        except NoCredentialsError:
            raise DrcError(self.url, "no credentials: set AWS_ACCESS_KEY_ID/"
                                     "AWS_SECRET_ACCESS_KEY or AWS_PROFILE") from None  # fmt: skip
        except EndpointConnectionError:
            raise base.store_error(self.url, "unreachable", what, self.endpoint) from None
        except BotoCoreError as exc:  # a read cut off, a timeout: worth another try
            raise base.store_error(self.url, "other", what, type(exc).__name__) from None

    def list(self) -> Iterator[base.ObjectInfo]:
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=self.prefix
        )
        with self._errors(f"bucket {self.bucket!r}"):
            for page in pages:
                for entry in page.get("Contents", []):
                    key = entry["Key"][len(self.prefix) :]
                    if key and not key.endswith("/"):
                        yield base.ObjectInfo(key, int(entry["Size"]), entry["ETag"].strip('"'))

    def meta(self, key: str) -> base.ObjectMeta:
        with self._errors(f"object {key!r}"):
            head = self.client.head_object(Bucket=self.bucket, Key=self.prefix + key)
        return base.ObjectMeta(head.get("Metadata", {}).get(base.SHA256_META), "-" in head["ETag"])

    def download(self, key: str, target: Path, progress: base.Progress) -> None:
        with self._errors(f"object {key!r}"):
            self.client.download_file(self.bucket, self.prefix + key, str(target),
                                      Callback=progress, Config=self.transfer)  # fmt: skip

    def read(self, key: str) -> bytes:
        with self._errors(f"object {key!r}"):
            return self.client.get_object(Bucket=self.bucket, Key=self.prefix + key)["Body"].read()

    def upload(
        self, source: Path, key: str, digest: base.LocalDigest, progress: base.Progress
    ) -> None:
        with self._errors(f"bucket {self.bucket!r}"):
            self.client.upload_file(str(source), self.bucket, self.prefix + key,
                                    ExtraArgs={"Metadata": {base.SHA256_META: digest.sha256}},
                                    Callback=progress, Config=self.transfer)  # fmt: skip

    def ensure_container(self) -> None:
        from botocore.exceptions import ClientError

        with self._errors(f"bucket {self.bucket!r}"):
            try:
                self.client.head_bucket(Bucket=self.bucket)
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") not in _MISSING_CODES:
                    raise
                self.client.create_bucket(Bucket=self.bucket)
