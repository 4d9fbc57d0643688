"""A file push on the scaled shape: uploaded through nginx to one of three workers, stored
in the S3 bucket (moto_server) as ciphertext only, downloaded through nginx byte for byte,
and gone from the bucket when the owner expires the push."""

from __future__ import annotations

import hashlib
import os

import httpx

from tests.scale.conftest import issue_token

CLIENT_IP = "127.0.0.3"


def bucket_objects(s3_server, bucket: str) -> list[dict]:
    return s3_server.client().list_objects_v2(Bucket=bucket).get("Contents", [])


def test_a_30_mib_file_goes_through_nginx_into_s3_and_back(scaled, s3_server):
    bucket = scaled.app.env["PWPUSH_S3_BUCKET"]
    owner = {"Authorization": f"Bearer {issue_token(scaled.app, 'files-live@example.com')}"}
    canary = b"PLAINTEXT-CANARY-5e1f" * 1000
    data = canary + os.urandom(30 * 1024 * 1024)
    transport = httpx.HTTPTransport(local_address=CLIENT_IP, verify=scaled.nginx.ssl_context())
    with httpx.Client(transport=transport, base_url=scaled.nginx.url, timeout=120) as client:
        before = {o["Key"] for o in bucket_objects(s3_server, bucket)}
        created = client.post("/api/v2/pushes", headers=owner,
                              files={"push[files][]": ("backup.tar.gz", data, "application/gzip")},
                              data={"push[expire_after_views]": "2"})
        assert created.status_code == 201, created.text
        token = created.json()["url_token"]

        stored = [o for o in bucket_objects(s3_server, bucket) if o["Key"] not in before]
        assert len(stored) == 1 and stored[0]["Size"] > len(data)  # sealed: records carry nonces and tags
        sealed = s3_server.client().get_object(Bucket=bucket, Key=stored[0]["Key"])["Body"].read()
        assert canary[:21] not in sealed and b"backup.tar.gz" not in sealed

        shown = client.get(f"/api/v2/pushes/{token}").json()
        (listed,) = shown["files"]
        assert listed["filename"] == "backup.tar.gz" and listed["url"].startswith(scaled.nginx.url + "/d/")
        digest = hashlib.sha256()
        with client.stream("GET", listed["url"].removeprefix(scaled.nginx.url)) as download:
            assert download.status_code == 200
            for chunk in download.iter_bytes():
                digest.update(chunk)
        assert digest.hexdigest() == hashlib.sha256(data).hexdigest()

        assert client.delete(f"/api/v2/pushes/{token}", headers=owner).json()["expired"] is True
        assert [o for o in bucket_objects(s3_server, bucket) if o["Key"] not in before] == []
