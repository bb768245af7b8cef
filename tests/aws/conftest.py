"""moto in server mode on 127.0.0.1, started and stopped by the fixtures; fake credentials only.

Every test here talks to AWS only through a ``ThreadedMotoServer`` bound to loopback on an
ephemeral port; ``AWS_ENDPOINT_URL`` points every boto3 client (ecsctl's and the tests') at
it, so nothing leaves the machine. Without moto (``pip install -e '.[test]'`` installs it)
the tests are skipped with that message.
"""

from __future__ import annotations

import json
import shutil
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.request import Request, urlopen

import pytest

SKIP_MOTO = "moto[server] is not installed: pip install -e '.[test]' (the AWS tests run against it)"

REGION = "eu-west-1"
ACCOUNT = "123456789012"  # moto's default account, the one the example manifests name
MANIFESTS = Path(__file__).resolve().parents[2] / "manifests"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def moto_endpoint():
    moto_server = pytest.importorskip("moto.server", reason=SKIP_MOTO)
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=_free_port(), verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def aws_env(moto_endpoint, monkeypatch, tmp_path):
    """Fake credentials, the region, every client at the moto server, and a clean moto."""
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    urlopen(Request(f"{moto_endpoint}/moto-api/reset", method="POST"), timeout=30).read()
    return moto_endpoint


@pytest.fixture
def clients(aws_env):
    boto3 = pytest.importorskip("boto3", reason=SKIP_MOTO)

    def client(name):
        return boto3.client(name, region_name=REGION, endpoint_url=aws_env)

    return client


def _replace_all(text: str, mapping: dict[str, str]) -> str:
    for old, new in mapping.items():
        text = text.replace(old, new)
    return text


@pytest.fixture
def aws_stack(clients, tmp_path):
    """The example stack, copied, with what it refers to created in moto first: a VPC with three
    subnets and two security groups (their ids replace the example's), the SSM parameters,
    secrets, the S3 environment file, the ECR repositories and images, the target group, the
    SQS queue, and the ``ecsEventsRole`` EventBridge runs the scheduled tasks with."""
    ec2, ssm, sm, s3, ecr, elbv2, iam = (clients(n) for n in ("ec2", "ssm", "secretsmanager", "s3", "ecr", "elbv2", "iam"))
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    ids = {"vpc-0a3f5e1c2b4d6e700": vpc}
    for i, az in enumerate(("a", "b", "c"), start=1):
        ids[f"subnet-0a3f5e1c2b4d6e70{i}"] = ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24",
                                                               AvailabilityZone=f"{REGION}{az}")["Subnet"]["SubnetId"]
    for i in range(4):  # the four groups of manifests/network.yaml
        ids[f"sg-0c1d2e3f4a5b6c70{i}"] = ec2.create_security_group(GroupName=f"sg{i}", Description="t", VpcId=vpc)["GroupId"]
    for name, kind in (("/prod/web/db-host", "String"), ("/prod/web/payments-api-key", "SecureString"),
                       ("/prod/report/smtp-password", "SecureString")):
        ssm.put_parameter(Name=name, Value="x", Type=kind)
    for name in ("prod/web/db", "prod/worker/db"):
        sm.create_secret(Name=name, SecretString=json.dumps({"username": "u", "password": "p"}))
    s3.create_bucket(Bucket="acme-prod-config", CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_object(Bucket="acme-prod-config", Key="web/web.env", Body=b"LOG_LEVEL=info\n")
    images = {"web": ["1.4.1", "1.4.2", "1.4.3"], "worker": ["2.7.0", "2.7.1"], "log-router": ["2.32.2"],
              "report": ["0.9.0"], "ingest": ["3.1.0"]}
    for repo, tags in images.items():
        ecr.create_repository(repositoryName=repo)
        for tag in tags:
            manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json", "config": {"digest": f"sha256:{repo}{tag}"}, "layers": []})
            ecr.put_image(repositoryName=repo, imageManifest=manifest, imageTag=tag)
    elbv2.create_target_group(Name="web", Protocol="HTTP", Port=8080, VpcId=vpc, TargetType="ip")
    iam.create_role(RoleName="ecsEventsRole", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}))
    clients("sqs").create_queue(QueueName="prod-jobs")
    target = tmp_path / "manifests"
    shutil.copytree(MANIFESTS, target)
    for path in target.glob("*.yaml"):
        path.write_text(_replace_all(path.read_text(), ids))
    return target


class Throttler:
    """A loopback proxy in front of moto that answers ``ThrottlingException`` to the first
    ``times`` requests of each chosen operation, then forwards everything."""

    def __init__(self, upstream: str, operations: dict[str, int], error: str = "ThrottlingException",
                 message: str = "Rate exceeded"):
        self.upstream = upstream
        self.remaining = dict(operations)
        self.throttled: dict[str, int] = {op: 0 for op in operations}
        self.forwarded: dict[str, int] = {}
        self.lock = threading.Lock()
        throttler = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                target = self.headers.get("X-Amz-Target", "")
                op = target.rsplit(".", 1)[-1] if target else ""
                with throttler.lock:
                    throttle = throttler.remaining.get(op, 0) > 0
                    if throttle:
                        throttler.remaining[op] -= 1
                        throttler.throttled[op] += 1
                    else:
                        throttler.forwarded[op] = throttler.forwarded.get(op, 0) + 1
                if throttle:
                    payload = json.dumps({"__type": error, "message": message}).encode()
                    self.send_response(400)
                    self.send_header("Content-Type", "application/x-amz-json-1.1")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
                request = Request(throttler.upstream + self.path, data=body if body or self.command in ("POST", "PUT") else None,
                                  headers=headers, method=self.command)
                try:
                    with urlopen(request, timeout=60) as answer:
                        status, data, out_headers = answer.status, answer.read(), answer.headers.items()
                except Exception as exc:  # HTTPError carries the upstream error response
                    status = getattr(exc, "code", 502)
                    data = exc.read() if hasattr(exc, "read") else b""
                    out_headers = exc.headers.items() if getattr(exc, "headers", None) else []
                self.send_response(status)
                for k, v in out_headers:
                    if k.lower() not in ("content-length", "transfer-encoding", "connection", "server", "date"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
