"""Amazon S3 or any S3-compatible store (``type = "s3"``; needs the ``s3`` extra).

A PUT of an object is atomic: readers see the old or the new object, so files go
straight to their final key with their Content-Type and Cache-Control.
"""

from __future__ import annotations

from typing import Any

from syndicate.core.errors import install_hint
from syndicate.publishing.hosts.base import AUTH_HINT, DOWN_HINT, PERMISSION_HINT, HostError

# Codes after which trying again may work.
_TEMPORARY_CODES = {
    "SlowDown",
    "ServiceUnavailable",
    "InternalError",
    "RequestTimeout",
    "RequestTimeTooSkewed",
    "Throttling",
    "500",
    "502",
    "503",
    "504",
}
_AUTH_CODES = {"InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "InvalidToken"}


class S3Host:
    atomic_put = True

    def __init__(
        self,
        name: str,
        *,
        bucket: str,
        prefix: str = "",
        region: str | None = None,
        endpoint_url: str | None = None,
        access_key: str | None = None,
        secret_key: str | None = None,
        timeout: float = 30.0,
    ) -> None:
        try:
            import boto3
            from botocore.config import Config
        except ImportError:
            raise HostError(
                f"host {name!r}: S3 needs boto3",
                temporary=False,
                hint=install_hint("s3"),
            ) from None
        self.name = name
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        # One attempt per call: the publisher retries with its own backoff.
        config = Config(
            connect_timeout=timeout,
            read_timeout=timeout,
            retries={"max_attempts": 1, "mode": "standard"},
        )
        self._client: Any = boto3.client(
            "s3",
            region_name=region,
            endpoint_url=endpoint_url,
            aws_access_key_id=access_key,
            aws_secret_access_key=secret_key,
            config=config,
        )

    def _key(self, path: str) -> str:
        return f"{self.prefix}/{path}" if self.prefix else path

    def put(self, path: str, data: bytes, content_type: str, cache_control: str) -> None:
        self._call(
            f"upload {path}",
            "put_object",
            Bucket=self.bucket,
            Key=self._key(path),
            Body=data,
            ContentType=content_type,
            CacheControl=cache_control,
        )

    def delete(self, path: str) -> None:
        # S3 answers 204 for a key that does not exist: already gone is fine.
        self._call(f"delete {path}", "delete_object", Bucket=self.bucket, Key=self._key(path))

    def list_files(self, folder: str) -> list[str]:
        prefix = self._key(folder) + "/" if folder else (f"{self.prefix}/" if self.prefix else "")
        names: list[str] = []
        token: dict[str, str] = {}
        while True:
            page = self._call(
                f"list {folder or '/'}",
                "list_objects_v2",
                Bucket=self.bucket,
                Prefix=prefix,
                Delimiter="/",
                **token,
            )
            names += [item["Key"][len(prefix) :] for item in page.get("Contents", [])]
            if not page.get("IsTruncated"):
                return names
            token = {"ContinuationToken": page["NextContinuationToken"]}

    def close(self) -> None:
        self._client.close()

    def _call(self, what: str, method: str, **kwargs: Any) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

        try:
            return getattr(self._client, method)(**kwargs)
        except ClientError as exc:
            raise self._client_error(what, exc) from None
        except NoCredentialsError:
            raise HostError(
                f"host {self.name!r}: no S3 credentials",
                temporary=False,
                hint="set hosts[].access_key_env and secret_key_env, or the AWS_* variables",
            ) from None
        except BotoCoreError as exc:
            # Endpoint unreachable, connection closed, read timeout.
            raise HostError(
                f"host {self.name!r}: cannot {what}: {exc}", temporary=True, hint=DOWN_HINT
            ) from None

    def _client_error(self, what: str, exc: Any) -> HostError:
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        message = error.get("Message") or code
        text = f"host {self.name!r}: cannot {what}: {code or status} ({message})"
        if code == "NoSuchBucket":
            return HostError(
                f"host {self.name!r}: bucket {self.bucket!r} does not exist",
                temporary=False,
                hint="create the bucket or fix hosts[].bucket",
            )
        if code in _AUTH_CODES:
            return HostError(text, temporary=False, hint=AUTH_HINT)
        if code == "AccessDenied" or status == 403:
            return HostError(text, temporary=False, hint=PERMISSION_HINT)
        temporary = code in _TEMPORARY_CODES or (status is not None and status >= 500)
        return HostError(text, temporary=temporary)
