"""One contract for the BlobStore port, run against every adapter."""

import hashlib
import uuid
from pathlib import Path

import pytest

from mailroom.adapters.filesystem_blobs import FileSystemBlobStore
from mailroom.ports import BlobNotFoundError, BlobStore


class BlobStoreContract:
    @pytest.fixture
    def store(self) -> BlobStore:
        raise NotImplementedError

    def test_put_returns_a_content_address_and_get_returns_the_bytes(self, store):
        data = b"%PDF-1.4 some letter"
        ref = store.put(data, "application/pdf")
        assert ref.sha256 == hashlib.sha256(data).hexdigest()
        assert ref.sha256 in ref.key
        assert ref.size == len(data)
        assert store.get(ref.key) == data
        assert store.exists(ref.key)

    def test_the_same_bytes_are_stored_once_under_the_same_key(self, store):
        assert store.put(b"same") == store.put(b"same")

    def test_different_bytes_get_different_keys(self, store):
        assert store.put(b"one").key != store.put(b"two").key

    def test_an_unknown_key_is_not_found(self, store):
        missing = "sha256/00/" + "0" * 64
        assert not store.exists(missing)
        with pytest.raises(BlobNotFoundError):
            store.get(missing)

    def test_large_blobs_round_trip(self, store):
        data = bytes(range(256)) * 40_000  # 10 MB
        assert store.get(store.put(data).key) == data


class TestFileSystemBlobStore(BlobStoreContract):
    @pytest.fixture
    def store(self, tmp_path: Path) -> BlobStore:
        return FileSystemBlobStore(tmp_path / "blobs")

    def test_keys_cannot_escape_the_root(self, store):
        with pytest.raises(BlobNotFoundError):
            store.get("../../etc/passwd")

    def test_no_temporary_files_are_left_behind(self, store, tmp_path):
        store.put(b"x" * 1000)
        assert not list((tmp_path / "blobs").rglob(".incoming-*"))


class TestS3BlobStore(BlobStoreContract):
    @pytest.fixture
    def store(self, s3_endpoint) -> BlobStore:
        from minio import Minio

        from mailroom.adapters.s3_blobs import S3BlobStore

        client = Minio(
            s3_endpoint.endpoint,
            access_key=s3_endpoint.access_key,
            secret_key=s3_endpoint.secret_key,
            secure=s3_endpoint.secure,
            region=s3_endpoint.region,
        )
        return S3BlobStore(client, f"contract-{uuid.uuid4().hex[:12]}")

    def test_a_second_store_on_an_existing_bucket_sees_the_same_blobs(self, store):
        from mailroom.adapters.s3_blobs import S3BlobStore

        ref = store.put(b"shared")
        other = S3BlobStore(store.client, store.bucket)
        assert other.get(ref.key) == b"shared"
