"""Task-definition rules (E2xxx/W2xxx): one passing and at least one failing case per rule.

Each case is a whole spec, built from a valid Fargate or EC2 base with a few
fields changed, written as a manifest and run through ``Validator``.  A passing
case must produce no findings at all (so that a schema error cannot make it
pass by stopping the rules); a failing case must produce the expected rule with
the message fragment.
"""

from __future__ import annotations

import copy
import json

import pytest

from ecsctl.app.validate import Validator
from ecsctl.core.findings import Severity
from ecsctl.core.manifest.document import Document, Locator, Position
from ecsctl.core.rules import all_rules
from ecsctl.core.rules.context import RuleContext

ROLE = "arn:aws:iam::123456789012:role/ecsTaskExecutionRole"
ECR = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/web:1"
SM = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf"


def C(name="web", **fields):
    return {"name": name, "image": "nginx:1.27", **fields}


def fargate(*containers, **top):
    spec = {"requiresCompatibilities": ["FARGATE"], "networkMode": "awsvpc", "cpu": "256", "memory": "512",
            "containerDefinitions": list(containers) or [C()]}
    spec.update(top)
    return {k: v for k, v in spec.items() if v is not None}


def ec2(*containers, **top):
    spec = {"requiresCompatibilities": ["EC2"], "containerDefinitions": list(containers) or [C(memory=256)]}
    spec.update(top)
    return {k: v for k, v in spec.items() if v is not None}


def M(name="web", **fields):
    """An EC2 container with memory set."""
    return C(name, memory=256, **fields)


def HC(**fields):
    return {"command": ["CMD-SHELL", "true"], **fields}


def EFS(**fields):
    return {"name": "data", "efsVolumeConfiguration": {"fileSystemId": "fs-1", **fields}}


def awslogs(**options):
    return {"logDriver": "awslogs", "options": options}


GOOD_LOGS = awslogs(**{"awslogs-group": "/ecs/web", "awslogs-region": "eu-west-1"})

# (case id, spec, expected rule or None, message fragment)
CASES = [
    # --- identity.py
    ("containers-ok", fargate(C("a"), C("b")), None, ""),
    ("containers-empty", fargate(containerDefinitions=[]), "E2001", "Container list cannot be empty."),
    ("containers-11", fargate(*[C(f"c{n}") for n in range(11)]), "E2001", "Too many containers."),
    ("names-unique", fargate(C("a"), C("b")), None, ""),
    ("names-duplicate", fargate(C("a"), C("a")), "E2002", "Container names must be unique within a Task Definition."),
    ("essential-default", fargate(C("a", essential=False), C("b")), None, ""),
    ("essential-none", fargate(C("a", essential=False)), "E2003", "no container is essential"),
    ("family-matches", fargate(family="web"), None, ""),
    ("family-differs", fargate(family="web-prod"), "E2004", "must equal metadata.name"),
    ("size-ok", fargate(C(environment=[{"name": f"V{n}", "value": "x" * 100} for n in range(100)])), None, ""),
    ("size-over-64k", fargate(C(environment=[{"name": f"V{n}", "value": "x" * 1000} for n in range(70)])), "E2005", "the limit is 65536"),
    ("tags-50", fargate(tags=[{"key": f"k{n}", "value": "v"} for n in range(50)]), None, ""),
    ("tags-51", fargate(tags=[{"key": f"k{n}", "value": "v"} for n in range(51)]), "E2006", "at most 50"),
    ("tag-keys-unique", fargate(tags=[{"key": "a", "value": "1"}, {"key": "b", "value": "1"}]), None, ""),
    ("tag-keys-duplicate", fargate(tags=[{"key": "a", "value": "1"}, {"key": "a", "value": "2"}]), "E2007", "'a' is given more than once"),
    ("tag-prefix-ok", fargate(tags=[{"key": "awsome", "value": "1"}]), None, ""),
    ("tag-prefix-aws", fargate(tags=[{"key": "AWS:team", "value": "1"}]), "E2008", "reserved prefix 'aws:'"),
    # --- resources.py
    ("cpu-vcpu", fargate(cpu="0.25 vCPU", memory="0.5GB"), None, ""),
    ("cpu-bad-units", ec2(cpu="half a core"), "E2010", "Invalid 'cpu' setting for task"),
    ("memory-bad-units", ec2(memory="512MB"), "E2011", "Invalid 'memory' setting for task"),
    ("cpu-sum-fits", ec2(M("a", cpu=128), M("b", cpu=128), cpu="256"), None, ""),
    ("cpu-sum-over", ec2(M("a", cpu=256), M("b", cpu=128), cpu="256"), "E2012",
     "The sum of all container 'cpu' values cannot be greater than the value of the task 'cpu'."),
    ("memory-fits", ec2(C(memory=1024), memory="1 GB"), None, ""),
    ("memory-over-task", ec2(C(memory=1024), memory="512"), "E2013", "The 'memory' setting for container 'web' is greater than for the task."),
    ("reservations-fit", ec2(C("a", memoryReservation=256), C("b", memoryReservation=256), memory="512"), None, ""),
    ("reservations-over", ec2(C("a", memoryReservation=384), C("b", memoryReservation=256), memory="512"), "E2014",
     "The sum of all container 'memoryReservation' values cannot be greater than the value of the task 'memory'."),
    ("memory-ge-reservation", ec2(C(memory=256, memoryReservation=256)), None, ""),
    ("memory-lt-reservation", ec2(C(memory=256, memoryReservation=512)), "E2015", "must be greater than or equal to 'memoryReservation'"),
    ("ec2-task-memory-only", ec2(C(), memory="512"), None, ""),
    ("ec2-reservation-only", ec2(C(memoryReservation=128)), None, ""),
    ("ec2-no-memory", ec2(C("app")), "E2016",
     "Invalid setting for container 'app'. At least one of 'memory' or 'memoryReservation' must be specified."),
    ("memory-6", ec2(C(memory=6)), None, ""),
    ("memory-2", ec2(C(memory=2)), "E2017", "at least 4 MiB"),
    ("memory-5", ec2(C(memoryReservation=5)), "W2018", "at least 6 MiB"),
    # --- fargate.py
    ("fargate-awsvpc", fargate(), None, ""),
    ("fargate-bridge", fargate(networkMode="bridge"), "E2020", "Fargate only supports network mode ‘awsvpc’."),
    ("fargate-no-mode", fargate(networkMode=None), "E2020", "Fargate only supports network mode"),
    ("fargate-no-cpu", fargate(cpu=None), "E2021", "Fargate requires that 'cpu' be defined at the task level."),
    ("fargate-no-memory", fargate(memory=None), "E2022", "Fargate requires that 'memory' be defined at the task level."),
    ("fargate-size-ok", fargate(cpu="4 vCPU", memory="30 GB"), None, ""),
    ("fargate-size-bad", fargate(cpu="512", memory="512"), "E2023", "No Fargate configuration exists for given values: 512 CPU, 512 memory."),
    ("fargate-size-bad-cpu", fargate(cpu="384", memory="1024"), "E2023", "No Fargate configuration exists"),
    ("fargate-windows-1vcpu", fargate(cpu="1024", memory="2048", runtimePlatform={"operatingSystemFamily": "WINDOWS_SERVER_2019_CORE"}), None, ""),
    ("fargate-windows-small", fargate(runtimePlatform={"operatingSystemFamily": "WINDOWS_SERVER_2019_CORE"}), "E2024", "at least 1 vCPU"),
    ("fargate-pid-task", fargate(pidMode="task"), None, ""),
    ("fargate-ipc", fargate(ipcMode="host"), "E2025", "Tasks using the Fargate launch type do not support ipcMode."),
    ("fargate-pid-host", fargate(pidMode="host"), "E2025", "do not support pidMode 'host'"),
    ("fargate-placement", fargate(placementConstraints=[{"type": "memberOf", "expression": "attribute:a == b"}]), "E2025",
     "do not support placementConstraints"),
    ("fargate-ptrace", fargate(C(privileged=False, dnsServers=[], linuxParameters={"capabilities": {"add": ["SYS_PTRACE"]}, "initProcessEnabled": True})), None, ""),
    ("no-image", fargate({"name": "web"}), "E2009", "Container.image should not be null or empty."),
    ("blank-image", fargate(C(image=" ")), "E2009", "Container.image should not be null or empty."),
    ("no-name", fargate({"image": "nginx:1.27"}), "E2009", "Container.name should not be null or empty."),
    ("blank-env-name", fargate(C(environment=[{"name": "", "value": "x"}])), "E2009",
     "Environment variable name cannot be null or blank."),
    ("env-without-name", fargate(C(environment=[{"value": "x"}])), "E2009", "Environment variable name cannot be null or blank."),
    ("fargate-privileged", fargate(C(privileged=True)), "E2026", "container 'web': Tasks using the Fargate launch type do not support privileged."),
    # the API's SystemControl: "only supported for tasks that are hosted on Fargate if the tasks are
    # using platform version 1.4.0 or later (Linux)" — the platform's default (LATEST)
    ("fargate-system-controls", fargate(C(systemControls=[{"namespace": "net.core.somaxconn", "value": "1024"}])), None, None),
    ("fargate-tmpfs", fargate(C(linuxParameters={"tmpfs": [{"containerPath": "/tmp", "size": 64}]})), "E2026", "linuxParameters.tmpfs"),
    ("fargate-cap-add", fargate(C(linuxParameters={"capabilities": {"add": ["NET_ADMIN"]}})), "E2026", "SYS_PTRACE capability, not NET_ADMIN"),
    ("ec2-gpu", ec2(M(resourceRequirements=[{"type": "GPU", "value": "1"}])), None, ""),
    ("fargate-gpu", fargate(C(resourceRequirements=[{"type": "GPU", "value": "1"}])), "E2027", "do not support GPU"),
    ("fargate-bind-mount", fargate(volumes=[{"name": "scratch", "host": {}}]), None, ""),
    ("fargate-source-path", fargate(volumes=[{"name": "d", "host": {"sourcePath": "/data"}}]), "E2028",
     "host.sourcePath should not be set for volumes in Fargate."),
    ("fargate-docker-volume", fargate(volumes=[{"name": "d", "dockerVolumeConfiguration": {"scope": "task"}}]), "E2028", "dockerVolumeConfiguration"),
    ("fargate-splunk", fargate(C(logConfiguration={"logDriver": "splunk", "options": {"splunk-url": "https://s"}})), None, ""),
    ("fargate-json-file", fargate(C(logConfiguration={"logDriver": "json-file"})), "E2029", "log driver 'json-file' is not supported on Fargate"),
    ("fargate-stop-120", fargate(C(stopTimeout=120)), None, ""),
    ("fargate-stop-300", fargate(C(stopTimeout=300)), "E2030", "exceeds the Fargate maximum of 120"),
    ("ec2-stop-300", ec2(M(stopTimeout=300)), None, ""),
    ("fargate-ephemeral", fargate(ephemeralStorage={"sizeInGiB": 50}), None, ""),
    ("ec2-ephemeral", ec2(ephemeralStorage={"sizeInGiB": 50}), "W2031", "only applies to Fargate"),
    ("ephemeral-200", fargate(ephemeralStorage={"sizeInGiB": 200}), None, ""),
    ("ephemeral-11", fargate(ephemeralStorage={"sizeInGiB": 11}), "E2032", "sizeInGiB 11 is outside 21-200"),
    # --- networking.py
    ("awsvpc-ports-match", fargate(C(portMappings=[{"containerPort": 80, "hostPort": 80}])), None, ""),
    ("awsvpc-ports-differ", fargate(C(portMappings=[{"containerPort": 8080, "hostPort": 80}])), "E2040",
     "When networkMode=awsvpc, the host ports and container ports in port mappings must match."),
    ("host-ports-differ", ec2(M(portMappings=[{"containerPort": 8080, "hostPort": 80}]), networkMode="host"), "E2040", "When networkMode=host"),
    ("bridge-ports-differ", ec2(M(portMappings=[{"containerPort": 8080, "hostPort": 80}])), None, ""),
    ("none-no-ports", ec2(M(), networkMode="none"), None, ""),
    ("none-with-ports", ec2(M(portMappings=[{"containerPort": 80}]), networkMode="none"), "E2041", "not supported when networkMode=none"),
    ("bridge-port-2222", ec2(M(portMappings=[{"containerPort": 22, "hostPort": 2222}])), None, ""),
    ("bridge-port-22", ec2(M(portMappings=[{"containerPort": 22, "hostPort": 22}])), "W2042", "host port 22 is reserved"),
    ("host-port-51679", ec2(M(portMappings=[{"containerPort": 51679}]), networkMode="host"), "W2042", "host port 51679 is reserved"),
    ("port-two-ports", fargate(C(portMappings=[{"containerPort": 53, "protocol": "udp"}, {"containerPort": 54, "protocol": "tcp"}])), None, ""),
    ("port-two-protocols", fargate(C(portMappings=[{"containerPort": 53, "protocol": "tcp"}, {"containerPort": 53, "protocol": "udp"}])), "E2043",
     "container port 53 is exposed for both tcp and udp"),
    ("bridge-dynamic-twice", ec2(M("a", portMappings=[{"containerPort": 80}]), M("b", portMappings=[{"containerPort": 80, "hostPort": 0}])), None, ""),
    ("awsvpc-port-twice", fargate(C("a", portMappings=[{"containerPort": 80}]), C("b", portMappings=[{"containerPort": 80}])), "E2044",
     "container 'b': host port 80/tcp is already mapped by container 'a'"),
    ("bridge-static-twice", ec2(M("a", portMappings=[{"containerPort": 80, "hostPort": 8080}]), M("b", portMappings=[{"containerPort": 81, "hostPort": 8080}])),
     "E2044", "host port 8080/tcp is already mapped"),
    ("range-ok", fargate(C(portMappings=[{"containerPortRange": "8000-8100"}, {"containerPort": 9000}])), None, ""),
    ("range-syntax", fargate(C(portMappings=[{"containerPortRange": "8000:8100"}])), "E2045", "must look like 'first-last'"),
    ("range-reversed", fargate(C(portMappings=[{"containerPortRange": "9000-8000"}])), "E2045", "needs 1 <= first < last <= 65535"),
    ("range-host-mode", ec2(M(portMappings=[{"containerPortRange": "8000-8100"}]), networkMode="host"), "E2045", "only supported with networkMode bridge or awsvpc"),
    ("range-overlap", fargate(C(portMappings=[{"containerPortRange": "8000-8100"}, {"containerPortRange": "8050-8200"}])), "E2045", "overlap"),
    ("range-101", fargate(C(portMappings=[{"containerPortRange": f"{1000 + 10 * n}-{1005 + 10 * n}"} for n in range(101)])), "E2045", "at most 100"),
    ("app-protocol-named", fargate(C(portMappings=[{"containerPort": 80, "name": "web", "appProtocol": "http"}])), None, ""),
    ("app-protocol-unnamed", fargate(C(portMappings=[{"containerPort": 80, "appProtocol": "http"}])), "E2046", "needs the port mapping's 'name'"),
    ("hostname-bridge", ec2(M(hostname="web")), None, ""),
    ("hostname-awsvpc", fargate(C(hostname="web")), "E2047", "hostname is not supported on container when networkMode=awsvpc."),
    ("links-bridge", ec2(M("a", links=["b:db"]), M("b")), None, ""),
    ("links-awsvpc", ec2(M("a", links=["b"]), M("b"), networkMode="awsvpc"), "E2048", "links are only supported when networkMode=bridge"),
    ("links-missing", ec2(M("a", links=["db"])), "E2049", "link target 'db' is not a container"),
    ("links-self", ec2(M("a", links=["a"])), "E2049", "cannot link to itself"),
    ("links-cycle", ec2(M("a", links=["b"]), M("b", links=["c"]), M("c", links=["a:alias"])), "E2050",
     "Container links should not have a cycle (a -> b -> c -> a)"),
    ("dns-bridge", ec2(M(dnsServers=["10.0.0.2"], extraHosts=[{"hostname": "db", "ipAddress": "10.0.0.3"}])), None, ""),
    ("dns-awsvpc", ec2(M(dnsServers=["10.0.0.2"]), networkMode="awsvpc"), "E2051", "dnsServers is not supported when networkMode=awsvpc"),
    # --- secrets.py
    ("secrets-with-role", fargate(C(secrets=[{"name": "DB", "valueFrom": "/app/db"}]), executionRoleArn=ROLE), None, ""),
    ("secrets-no-role", ec2(M(secrets=[{"name": "DB", "valueFrom": "/app/db"}])), "E2060", "secrets require the task definition to have an executionRoleArn"),
    ("env-files-no-role", ec2(M(environmentFiles=[{"type": "s3", "value": "arn:aws:s3:::b/app.env"}])), "E2060", "environmentFiles require"),
    ("repo-creds-no-role", ec2(M(repositoryCredentials={"credentialsParameter": SM})), "E2060", "repositoryCredentials require"),
    ("awslogs-ec2-no-role", ec2(M(logConfiguration=GOOD_LOGS)), None, ""),
    ("awslogs-fargate-role", fargate(C(logConfiguration=GOOD_LOGS), executionRoleArn=ROLE), None, ""),
    ("awslogs-fargate-no-role", fargate(C(logConfiguration=GOOD_LOGS)), "E2061",
     "Fargate requires task definition to have execution role ARN to support log driver awslogs."),
    ("ecr-ec2-no-role", ec2(M(image=ECR)), None, ""),
    ("ecr-fargate-no-role", fargate(C(image=ECR)), "E2062", "Fargate requires task definition to have execution role ARN to support ECR images."),
    ("secret-forms-ok", fargate(C(secrets=[
        {"name": "A", "valueFrom": "db_pass"},
        {"name": "B", "valueFrom": "arn:aws:ssm:eu-west-1:123456789012:parameter/app/db"},
        {"name": "C", "valueFrom": SM},
        {"name": "D", "valueFrom": SM + ":username::"},
        {"name": "E", "valueFrom": SM + "::AWSPREVIOUS:"},
        {"name": "F", "valueFrom": SM + ":::a1b2c3d4-5678-90ab-cdef-EXAMPLE11111"},
    ]), executionRoleArn=ROLE), None, ""),
    ("secret-missing-colons", fargate(C(secrets=[{"name": "A", "valueFrom": SM + ":username"}]), executionRoleArn=ROLE), "E2063", "with all three colons"),
    ("secret-stage-and-id", fargate(C(secrets=[{"name": "A", "valueFrom": SM + "::AWSCURRENT:abc"}]), executionRoleArn=ROLE), "E2063", "mutually exclusive"),
    ("secret-bad-ssm-arn", fargate(C(secrets=[{"name": "A", "valueFrom": "arn:aws:ssm:eu-west-1:123:parameter/x"}]), executionRoleArn=ROLE), "E2063", "an SSM ARN looks like"),
    ("secret-s3-arn", fargate(C(secrets=[{"name": "A", "valueFrom": "arn:aws:s3:::bucket/key"}]), executionRoleArn=ROLE), "E2063", "'s3' ARNs cannot be secrets"),
    ("secret-log-option", fargate(C(logConfiguration={"logDriver": "splunk", "options": {}, "secretOptions": [{"name": "splunk-token", "valueFrom": "arn:aws:secretsmanager:x"}]}),
                                  executionRoleArn=ROLE), "E2063", "secret 'splunk-token'"),
    ("secret-names-duplicate", fargate(C(secrets=[{"name": "A", "valueFrom": "/a"}, {"name": "A", "valueFrom": "/b"}]), executionRoleArn=ROLE), "E2064",
     "secret 'A' is defined more than once"),
    ("secret-and-env", fargate(C(environment=[{"name": "A", "value": "x"}], secrets=[{"name": "A", "valueFrom": "/a"}]), executionRoleArn=ROLE), "E2065",
     "'A' is both a secret and an environment variable"),
    ("env-file-ok", fargate(C(environmentFiles=[{"type": "s3", "value": "arn:aws:s3:::my-bucket/path/app.env"}]), executionRoleArn=ROLE), None, ""),
    ("env-file-s3-url", fargate(C(environmentFiles=[{"type": "s3", "value": "s3://my-bucket/app.env"}]), executionRoleArn=ROLE), "E2066", "must be an S3 object ARN"),
    ("env-file-no-key", fargate(C(environmentFiles=[{"type": "s3", "value": "arn:aws:s3:::my-bucket/"}]), executionRoleArn=ROLE), "E2066", "must be an S3 object ARN"),
    # RegisterTaskDefinition takes other names than *.env (a user's arn:aws:s3:::bucket/folder/env_file_name)
    ("env-file-extension", fargate(C(environmentFiles=[{"type": "s3", "value": "arn:aws:s3:::my-bucket/app.txt"}]), executionRoleArn=ROLE), "W2069", "does not end in .env"),
    # a file at the bucket's root, and a legacy bucket name (found by a helper's trial)
    ("env-file-at-root", fargate(C(environmentFiles=[{"type": "s3", "value": "arn:aws:s3:::my-config/.env"}]), executionRoleArn=ROLE), None, None),
    ("env-file-legacy-bucket", fargate(C(environmentFiles=[{"type": "s3", "value": "arn:aws:s3:::My_Bucket/app.env"}]), executionRoleArn=ROLE), None, None),
    ("env-file-11", fargate(C(environmentFiles=[{"type": "s3", "value": f"arn:aws:s3:::my-bucket/{n}.env"} for n in range(11)]), executionRoleArn=ROLE),
     "E2067", "11 environment files given; at most 10"),
    # --- volumes.py
    ("volumes-ok", ec2(M(mountPoints=[{"sourceVolume": "a", "containerPath": "/a"}]), volumes=[{"name": "a"}, {"name": "b"}]), None, ""),
    ("volumes-duplicate", ec2(volumes=[{"name": "a"}, {"name": "a"}]), "E2070", "volume name 'a' is used more than once"),
    ("mount-undeclared", ec2(M(mountPoints=[{"sourceVolume": "data", "containerPath": "/d"}])), "E2071",
     "container 'web': mount point sourceVolume 'data' is not a volume"),
    ("volumes-from-ok", ec2(M("a", volumesFrom=[{"sourceContainer": "b"}]), M("b")), None, ""),
    ("volumes-from-self", ec2(M("a", volumesFrom=[{"sourceContainer": "a"}])), "E2072", "cannot name the container itself"),
    ("volumes-from-missing", ec2(M("a", volumesFrom=[{"sourceContainer": "z"}])), "E2072", "sourceContainer 'z' is not a container"),
    ("efs-iam-tls", ec2(volumes=[EFS(transitEncryption="ENABLED", authorizationConfig={"iam": "ENABLED"})]), None, ""),
    ("efs-iam-no-tls", ec2(volumes=[EFS(authorizationConfig={"iam": "ENABLED"})]), "E2073", "transitEncryption must be ENABLED when authorizationConfig.iam"),
    ("efs-ap-ok", ec2(volumes=[EFS(transitEncryption="ENABLED", rootDirectory="/", authorizationConfig={"accessPointId": "fsap-1"})]), None, ""),
    ("efs-ap-no-tls", ec2(volumes=[EFS(authorizationConfig={"accessPointId": "fsap-1"})]), "E2074", "transitEncryption must be ENABLED when an accessPointId"),
    ("efs-ap-root", ec2(volumes=[EFS(transitEncryption="ENABLED", rootDirectory="/data", authorizationConfig={"accessPointId": "fsap-1"})]), "E2074",
     "rootDirectory must be omitted or '/'"),
    ("docker-shared-auto", ec2(volumes=[{"name": "d", "dockerVolumeConfiguration": {"scope": "shared", "autoprovision": True}}]), None, ""),
    ("docker-task-auto", ec2(volumes=[{"name": "d", "dockerVolumeConfiguration": {"scope": "task", "autoprovision": True}}]), "E2075",
     "autoprovision is only allowed when scope is 'shared'"),
    # --- dependencies.py
    ("depends-ok", ec2(M("app", dependsOn=[{"containerName": "init", "condition": "SUCCESS"}, {"containerName": "db", "condition": "HEALTHY"}]),
                       M("init", essential=False), M("db", healthCheck=HC()))
     , None, ""),
    ("depends-missing", ec2(M("app", dependsOn=[{"containerName": "init", "condition": "START"}])), "E2080",
     "container 'app': Cannot depend on container 'init' because it does not exist"),
    ("depends-self", ec2(M("app", dependsOn=[{"containerName": "app", "condition": "START"}])), "E2081", "cannot depend on itself"),
    ("depends-cycle", ec2(M("a", dependsOn=[{"containerName": "b", "condition": "START"}]), M("b", dependsOn=[{"containerName": "a", "condition": "START"}])),
     "E2082", "should not have a cycle (a -> b -> a)"),
    ("depends-healthy-no-check", ec2(M("app", dependsOn=[{"containerName": "db", "condition": "HEALTHY"}]), M("db")), "E2083",
     "condition HEALTHY needs a healthCheck on container 'db'"),
    ("depends-success-essential", ec2(M("app", dependsOn=[{"containerName": "init", "condition": "COMPLETE"}]), M("init")), "E2084",
     "A dependency container with SUCCESS or COMPLETE condition cannot be an essential container"),
    # --- health.py
    ("health-ok", ec2(M(healthCheck=HC(interval=5, timeout=60, retries=10, startPeriod=0))), None, ""),
    ("health-empty-command", ec2(M(healthCheck={"command": []})), "E2090", "needs a non-empty command"),
    ("health-no-prefix", ec2(M(healthCheck={"command": ["curl -f http://localhost/"]})), "W2091", "should start with 'CMD' or 'CMD-SHELL'"),
    ("health-interval", ec2(M(healthCheck=HC(interval=301))), "E2092", "healthCheck.interval 301 is outside 5-300"),
    ("health-retries", ec2(M(healthCheck=HC(retries=0))), "E2092", "healthCheck.retries 0 is outside 1-10"),
    # --- logging.py
    ("awslogs-missing-region", ec2(M(logConfiguration=awslogs(**{"awslogs-group": "/ecs/web"}))), "E2095",
     "Log driver awslogs requires options: awslogs-region, awslogs-group (missing awslogs-region)"),
    ("awslogs-no-options", ec2(M(logConfiguration={"logDriver": "awslogs"})), "E2095", "missing awslogs-region, awslogs-group"),
    ("firelens-ok", fargate(C("router", firelensConfiguration={"type": "fluentbit"}), C("app", logConfiguration={"logDriver": "awsfirelens"})), None, ""),
    ("firelens-no-router", fargate(C("app", logConfiguration={"logDriver": "awsfirelens"})), "E2096", "needs a container with firelensConfiguration"),
    # --- placement.py
    ("member-of", ec2(placementConstraints=[{"type": "memberOf", "expression": "attribute:ecs.instance-type =~ t3.*"}]), None, ""),
    ("member-of-no-expression", ec2(placementConstraints=[{"type": "memberOf"}]), "E2100", "needs an expression"),
    # a service's malformed expression was refused (E3011), a task definition's passed (a helper's trial)
    ("member-of-bad-cql", ec2(placementConstraints=[{"type": "memberOf", "expression": "attribute:a === b"}]), "E2100",
     "invalid expression at column 15"),
    ("placement-11", ec2(placementConstraints=[{"type": "memberOf", "expression": f"attribute:n == {n}"} for n in range(11)]), "E2100", "at most 10"),
    ("proxy-ok", ec2(M("app"), M("envoy"), networkMode="awsvpc", proxyConfiguration={"type": "APPMESH", "containerName": "envoy"}), None, ""),
    ("proxy-missing", ec2(M("app"), networkMode="awsvpc", proxyConfiguration={"type": "APPMESH", "containerName": "envoy"}), "E2101",
     "containerName 'envoy' is not a container"),
    ("inference-ok", ec2(M(resourceRequirements=[{"type": "InferenceAccelerator", "value": "d1"}]),
                         inferenceAccelerators=[{"deviceName": "d1", "deviceType": "eia2.medium"}]), None, ""),
    ("inference-missing", ec2(M(resourceRequirements=[{"type": "InferenceAccelerator", "value": "d1"}])), "E2102", "'d1' is not declared"),
    ("windows-no-ipc", ec2(runtimePlatform={"operatingSystemFamily": "WINDOWS_SERVER_2019_FULL"}), None, ""),
    ("windows-ipc", ec2(ipcMode="host", runtimePlatform={"operatingSystemFamily": "WINDOWS_SERVER_2019_FULL"}), "E2103", "ipcMode is not supported for Windows"),
]


def manifest(spec: dict, name: str = "web") -> str:
    return json.dumps({"apiVersion": "ecsctl/v1", "kind": "TaskDefinition", "metadata": {"name": name}, "spec": spec})


@pytest.fixture(scope="module")
def validator() -> Validator:
    return Validator()


def run(validator, tmp_path, text: str, name: str = "td.yaml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return validator.validate([str(path)])


def check_directly(spec: dict, rule_id: str, form: str = "manifest", name: str = "web"):
    """Run one rule on a spec without the schema in front of it."""
    doc = Document(file="x.yaml", index=0, data={"spec": spec}, locator=Locator(None, Position(1, 1)),
                   kind="TaskDefinition", name=name, spec=copy.deepcopy(spec), spec_path=("spec",), form=form)
    return list(all_rules()[rule_id]().check(doc.spec, doc, RuleContext([doc])))


@pytest.mark.parametrize("case, spec, rule, fragment", CASES, ids=[c[0] for c in CASES])
def test_rule(validator, tmp_path, case, spec, rule, fragment):
    report = run(validator, tmp_path, manifest(spec))
    found = [(f.rule, f.message) for f in report.findings]
    if rule is None:
        assert found == [], f"{case}: expected no findings, got {found}"
    else:
        hits = [m for r, m in found if r == rule]
        if not hits and any(r.startswith("E1") for r, _ in found):
            # The JSON Schema refused the document first (some limits live in both);
            # the rule must still catch it on its own.
            hits = [m for _, m in check_directly(spec, rule)]
        assert hits, f"{case}: expected {rule}, got {found}"
        assert any(fragment in m for m in hits), f"{case}: no {rule} message contains {fragment!r}: {hits}"


def test_every_taskdef_rule_has_a_failing_and_passing_case():
    ids = {r for r in all_rules() if r[1] == "2"}
    tested = {rule for _, _, rule, _ in CASES if rule}
    # W2068 reads the run's other documents (Repository, Parameter…): its cases are multi-document,
    # in tests/rules/test_service_rules.py (test_a_task_that_would_stop_at_start_is_a_warning)
    assert ids - tested == {"W2068"}
    assert sum(1 for c in CASES if c[2] is None) >= 55


def test_every_taskdef_rule_explains_itself():
    for rule_id, cls in all_rules().items():
        if rule_id[1] != "2":
            continue
        text = cls.explanation()
        assert "Bad:" in text and "Good:" in text, rule_id
        assert cls.severity is (Severity.WARNING if rule_id.startswith("W") else Severity.ERROR), rule_id


@pytest.mark.parametrize(
    "text, family_error",
    [
        ('{"family": "web", "containerDefinitions": [{"name": "web", "image": "nginx", "memory": 128}]}', False),
        ('{"family": "other", "containerDefinitions": [{"name": "web", "image": "nginx", "memory": 128}]}', False),  # E2004 is for manifests
        ('{"containerDefinitions": [{"name": "web", "image": "nginx", "memory": 128}]}', True),
        ('{"taskDefinition": {"containerDefinitions": [{"name": "web", "image": "nginx", "memory": 128}]}}', True),
    ],
)
def test_bare_documents(validator, tmp_path, text, family_error):
    """Bare RegisterTaskDefinition/describe documents: no family rule of ours fires; a missing family is refused once."""
    report = run(validator, tmp_path, text, "td.json")
    assert not [f for f in report.findings if f.rule.startswith(("E2", "W2"))]
    assert [("family" in f.message) for f in report.findings] == ([True] if family_error else [])


@pytest.mark.parametrize(
    "spec, rule, path, line",
    [
        (ec2(M("a"), M("a")), "E2002", "/spec/containerDefinitions/1/name", None),
        (fargate(C(portMappings=[{"containerPort": 8080, "hostPort": 80}])), "E2040", "/spec/containerDefinitions/0/portMappings/0/hostPort", None),
        (fargate(cpu="512", memory="512"), "E2023", "/spec/memory", None),
        (ec2(M("a", dependsOn=[{"containerName": "b", "condition": "START"}])), "E2080", "/spec/containerDefinitions/0/dependsOn/0/containerName", None),
        (fargate(volumes=[{"name": "d", "host": {"sourcePath": "/x"}}]), "E2028", "/spec/volumes/0/host/sourcePath", None),
    ],
)
def test_finding_paths(validator, tmp_path, spec, rule, path, line):
    report = run(validator, tmp_path, manifest(spec))
    hits = [f for f in report.findings if f.rule == rule]
    assert [f.pointer for f in hits] == [path]


def test_finding_line_points_at_the_field(validator, tmp_path):
    text = """\
apiVersion: ecsctl/v1
kind: TaskDefinition
metadata: {name: web}
spec:
  requiresCompatibilities: [FARGATE]
  networkMode: awsvpc
  cpu: "256"
  memory: "512"
  containerDefinitions:
    - name: web
      image: nginx
      hostname: web
"""
    report = run(validator, tmp_path, text)
    (finding,) = report.findings
    assert (finding.rule, finding.line, finding.column) == ("E2047", 12, 7)


# Rules must tolerate specs the schema has not vetted: run them directly on odd shapes.
ODD_SPECS = [
    {},
    {"containerDefinitions": None},
    {"containerDefinitions": "web"},
    {"containerDefinitions": [None, 3, "x", []]},
    {"requiresCompatibilities": "FARGATE", "cpu": [], "memory": {}, "networkMode": 5},
    {"requiresCompatibilities": ["FARGATE"], "cpu": "lots", "memory": "x", "containerDefinitions": [{"name": 5}]},
    {"volumes": [None, {"efsVolumeConfiguration": "x"}, {"host": "y", "dockerVolumeConfiguration": []}], "tags": [None, {"key": 3}], "placementConstraints": "x"},
    {"containerDefinitions": [{
        "name": "a", "portMappings": [None, {"containerPort": "80", "hostPort": None, "containerPortRange": 7}, {"containerPortRange": "a-b"}],
        "links": [None, 3], "dependsOn": [None, {"containerName": None}, {"containerName": ["x"]}], "secrets": [None, {"valueFrom": 3}],
        "environmentFiles": [None, {"value": None}], "healthCheck": {"command": "CMD true", "interval": "5"},
        "logConfiguration": {"logDriver": "awslogs", "options": None, "secretOptions": [None]}, "linuxParameters": {"capabilities": {"add": "ALL"}},
        "mountPoints": [None, {"sourceVolume": ["x"]}], "volumesFrom": [None], "resourceRequirements": [None, {"type": "GPU"}],
        "memory": True, "memoryReservation": "x", "cpu": None,
    }], "proxyConfiguration": {"containerName": ["x"]}, "runtimePlatform": {"operatingSystemFamily": None}, "ephemeralStorage": {"sizeInGiB": "x"}},
]


@pytest.mark.parametrize("spec", ODD_SPECS, ids=[f"odd{n}" for n in range(len(ODD_SPECS))])
@pytest.mark.parametrize("form", ["manifest", "register"])
def test_rules_never_crash(spec, form):
    doc = Document(file="x.yaml", index=0, data={"spec": spec}, locator=Locator(None, Position(1, 1)),
                   kind="TaskDefinition", name="web", spec=copy.deepcopy(spec), spec_path=("spec",), form=form)
    ctx = RuleContext([doc])
    for rule_id, cls in all_rules().items():
        if "TaskDefinition" in cls.kinds:
            issues = list(cls().check(doc.spec, doc, ctx))
            for path, message in issues:
                assert isinstance(path, tuple) and isinstance(message, str) and message, rule_id
