"""`s3://bucket/prefix`: Amazon S3 and S3-compatible stores (IBM COS, MinIO, Swift's s3api).

boto3 reads the standard variables itself (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
AWS_ENDPOINT_URL, AWS_PROFILE ...). Large files go up as multipart uploads.
"""

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from jobs.errors import DrcError
from jobs.storage import base

PART_SIZE = 32 << 20
_AUTH_CODES = {"InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "403",
               "InvalidClientTokenId", "AuthorizationHeaderMalformed"}  # fmt: skip
_MISSING_CODES = {"NoSuchBucket", "NoSuchKey", "404", "NotFound"}


class S3Store(base.Store):
    def __init__(self, url: str, bucket: str, prefix: str, part_size: int | None = None):
        import boto3
        from boto3.s3.transfer import TransferConfig
        from botocore.config import Config

        self.url, self.bucket, self.prefix = url, bucket, prefix
        self.endpoint = os.environ.get("AWS_ENDPOINT_URL") or "the AWS S3 endpoint"
        config = Config(
            # Other S3 implementations know path-style addressing and plain MD5 checks,
            # not the newer default CRC trailers.
            s3={"addressing_style": "path"} if os.environ.get("AWS_ENDPOINT_URL") else {},
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
            retries={"max_attempts": 3, "mode": "standard"},
            connect_timeout=10,
            max_pool_connections=32,
        )
        region = os.environ.get("AWS_DEFAULT_REGION") or os.environ.get("AWS_REGION")
        self.client = boto3.session.Session().client("s3", config=config,
                                                     region_name=region or "us-east-1")  # fmt: skip
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
        except BotoCoreError as exc:
            raise DrcError(self.url, f"{what}: {type(exc).__name__}") from None

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
