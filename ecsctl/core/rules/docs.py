"""The public page behind every rule: ``ecsctl rules explain`` and SARIF cite it.

One table, rule ID -> URL.  ECS behaviour is cited from the Amazon ECS Developer Guide where a
page describes it, else from the API Reference page of the request or shape that ECS checks
(``API_<Shape>.html``; every shape named here exists in botocore's ECS model, which a test
checks).  The loader's rules cite the YAML and JSON specifications; the envelope's (ecsctl's
own format) the project README.
"""

from __future__ import annotations

_GUIDE = "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/"
_API = "https://docs.aws.amazon.com/AmazonECS/latest/APIReference/"
_AAS_GUIDE = "https://docs.aws.amazon.com/autoscaling/application/userguide/"
_AAS_API = "https://docs.aws.amazon.com/autoscaling/application/APIReference/"
_EB_GUIDE = "https://docs.aws.amazon.com/eventbridge/latest/userguide/"
_EB_API = "https://docs.aws.amazon.com/eventbridge/latest/APIReference/"
_EC2_API = "https://docs.aws.amazon.com/AWSEC2/latest/APIReference/"

README = "https://github.com/ecsctl/ecsctl#manifests"
YAML_SPEC = "https://yaml.org/spec/1.2.2/"
JSON_SPEC = "https://www.rfc-editor.org/rfc/rfc8259"

TASKDEF_PARAMETERS = _GUIDE + "task_definition_parameters.html"
FARGATE = _GUIDE + "fargate-tasks-services.html"
FARGATE_SIZES = _GUIDE + "task-cpu-memory-error.html"
EXECUTION_ROLE = _GUIDE + "task_execution_IAM_role.html"
SENSITIVE_DATA = _GUIDE + "specifying-sensitive-data.html"
ENV_FILES = _GUIDE + "use-environment-file.html"
ENVIRONMENT = _GUIDE + "taskdef-envfiles.html"
CQL = _GUIDE + "cluster-query-language.html"
ROLLING_UPDATE = _GUIDE + "deployment-type-ecs.html"
SCHEDULED_TASKS = _GUIDE + "tasks-scheduled.html"


def api(shape: str) -> str:
    """The ECS API Reference page of an action or shape (``RegisterTaskDefinition``, ``PortMapping``)."""
    return f"{_API}API_{shape}.html"


def aas_api(shape: str) -> str:
    return f"{_AAS_API}API_{shape}.html"


def eb_api(shape: str) -> str:
    return f"{_EB_API}API_{shape}.html"


# The ECS API shapes cited (a test checks each against botocore's service model).
ECS_SHAPES = (
    "RegisterTaskDefinition", "RunTask", "CreateCluster", "CreateCapacityProvider", "CreateService", "ContainerDefinition",
    "Tag", "PortMapping", "Secret", "EnvironmentFile", "Volume", "MountPoint", "VolumeFrom",
    "EFSVolumeConfiguration", "EFSAuthorizationConfig", "DockerVolumeConfiguration", "ContainerDependency",
    "HealthCheck", "LogConfiguration", "FirelensConfiguration", "TaskDefinitionPlacementConstraint",
    "ProxyConfiguration", "InferenceAccelerator", "EphemeralStorage", "NetworkConfiguration",
    "AwsVpcConfiguration", "PlacementStrategy", "PlacementConstraint", "LoadBalancer",
    "DeploymentConfiguration", "CapacityProviderStrategyItem", "PutClusterCapacityProviders",
    "AutoScalingGroupProvider", "ManagedScaling", "KeyValuePair", "RepositoryCredentials",
)
AAS_SHAPES = ("RegisterScalableTarget", "PutScalingPolicy", "TargetTrackingScalingPolicyConfiguration",
              "StepScalingPolicyConfiguration", "PutScheduledAction")
EVENTBRIDGE_SHAPES = ("PutRule", "EcsParameters", "InputTransformer")

URLS: dict[str, str] = {
    # loading: the file and its YAML/JSON
    "E0001": YAML_SPEC, "E0002": YAML_SPEC, "E0003": README, "E0004": YAML_SPEC,
    "E0005": "https://en.wikipedia.org/wiki/Billion_laughs_attack", "E0006": README, "E0007": README,
    "E0008": YAML_SPEC, "E0009": README, "E0010": README, "E0017": YAML_SPEC, "E0018": YAML_SPEC,
    # the envelope (ecsctl's own format)
    "E0011": README, "E0012": README, "E0013": README, "E0014": README, "E0015": README,
    "E0016": README, "E0900": "https://github.com/ecsctl/ecsctl/issues",
    # JSON Schemas: the API request each kind stands for
    "E1001": api("CreateCluster"),
    "E1002": api("CreateCapacityProvider"),
    "E1003": api("RegisterTaskDefinition"),
    "E1004": api("CreateService"),
    "E1005": "https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateTargetGroup.html",
    "E1006": eb_api("PutRule"),
    "E1007": "https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_PutParameter.html",
    "E1008": "https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_CreateSecret.html",
    "E1009": ENV_FILES,
    "E1010": "https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_CreateRepository.html",
    "E1011": "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_CreateQueue.html",
    "E1012": _EC2_API + "API_CreateSecurityGroup.html",
    # task definitions
    "E2001": api("RegisterTaskDefinition"), "E2002": api("ContainerDefinition"), "E2003": api("ContainerDefinition"),
    "E2004": api("RegisterTaskDefinition"), "E2005": api("RegisterTaskDefinition"),
    "E2006": api("Tag"), "E2007": api("Tag"), "E2008": api("Tag"), "E2009": api("ContainerDefinition"),
    "E2010": TASKDEF_PARAMETERS, "E2011": TASKDEF_PARAMETERS, "E2012": api("ContainerDefinition"),
    "E2013": api("ContainerDefinition"), "E2014": api("ContainerDefinition"), "E2015": api("ContainerDefinition"),
    "E2016": api("ContainerDefinition"), "E2017": api("ContainerDefinition"), "W2018": api("ContainerDefinition"),
    "E2020": FARGATE, "E2021": FARGATE_SIZES, "E2022": FARGATE_SIZES, "E2023": FARGATE_SIZES, "E2024": FARGATE,
    "E2025": FARGATE, "E2026": FARGATE, "E2027": FARGATE, "E2028": FARGATE, "E2029": FARGATE, "E2030": FARGATE,
    "W2031": api("EphemeralStorage"), "E2032": api("EphemeralStorage"),
    "E2040": api("PortMapping"), "E2041": api("PortMapping"), "W2042": api("PortMapping"), "E2043": api("PortMapping"),
    "E2044": api("PortMapping"), "E2045": api("PortMapping"), "E2046": api("PortMapping"),
    "E2047": api("ContainerDefinition"), "E2048": api("ContainerDefinition"), "E2049": api("ContainerDefinition"),
    "E2050": api("ContainerDefinition"), "E2051": api("ContainerDefinition"),
    "E2060": EXECUTION_ROLE, "E2061": EXECUTION_ROLE, "E2062": EXECUTION_ROLE,
    "E2063": api("Secret"), "E2064": api("Secret"), "E2065": SENSITIVE_DATA,
    "E2066": api("EnvironmentFile"), "E2067": ENV_FILES, "W2069": ENV_FILES, "W2068": _GUIDE + "stopped-task-errors.html",
    "E2070": api("Volume"), "E2071": api("MountPoint"), "E2072": api("VolumeFrom"),
    "E2073": api("EFSVolumeConfiguration"), "E2074": api("EFSAuthorizationConfig"),
    "E2075": api("DockerVolumeConfiguration"),
    "E2080": api("ContainerDependency"), "E2081": api("ContainerDependency"), "E2082": api("ContainerDependency"),
    "E2083": api("ContainerDependency"), "E2084": api("ContainerDependency"),
    "E2090": api("HealthCheck"), "W2091": api("HealthCheck"), "E2092": api("HealthCheck"),
    "E2095": api("LogConfiguration"), "E2096": api("FirelensConfiguration"),
    "E2100": api("TaskDefinitionPlacementConstraint"), "E2101": api("ProxyConfiguration"),
    "E2102": api("InferenceAccelerator"), "E2103": api("RegisterTaskDefinition"),
    # services
    "E3001": api("CreateService"), "E3002": api("CreateService"), "E3003": api("LoadBalancer"),
    "E3004": api("NetworkConfiguration"), "E3005": api("NetworkConfiguration"), "E3006": api("CreateService"),
    "E3007": FARGATE, "E3008": api("CreateService"), "E3009": api("PlacementStrategy"), "E3010": api("CreateService"),
    "E3011": CQL, "E3012": api("LoadBalancer"), "E3013": api("LoadBalancer"), "E3014": api("LoadBalancer"),
    "E3015": api("CreateService"), "W3016": api("DeploymentConfiguration"), "W3017": ROLLING_UPDATE,
    "W3018": aas_api("RegisterScalableTarget"), "E3019": api("CapacityProviderStrategyItem"),
    "W3020": api("CreateService"), "E3021": api("AwsVpcConfiguration"),
    # clusters and capacity providers
    "E4001": README, "E4002": api("PutClusterCapacityProviders"), "E4003": api("ManagedScaling"),
    "E4004": api("AutoScalingGroupProvider"), "E4005": _GUIDE + "memory-management.html",
    "E4006": api("CreateCapacityProvider"),
    # service auto scaling
    "E5001": aas_api("RegisterScalableTarget"), "E5002": aas_api("PutScalingPolicy"),
    "E5003": aas_api("TargetTrackingScalingPolicyConfiguration"),
    "E5004": aas_api("StepScalingPolicyConfiguration"), "E5005": aas_api("PutScheduledAction"),
    "E5006": _GUIDE + "service-auto-scaling.html",
    "W5007": _AAS_GUIDE + "application-auto-scaling-target-tracking.html",
    "W5008": _AAS_GUIDE + "application-auto-scaling-scheduled-scaling.html",
    # scheduled and event-triggered tasks
    "E6001": eb_api("PutRule"), "E6002": _EB_GUIDE + "eb-scheduled-rule-pattern.html",
    "E6003": _EB_GUIDE + "eb-event-patterns.html", "E6004": eb_api("EcsParameters"), "W6013": api("RunTask"),
    "E6005": eb_api("InputTransformer"), "W6006": _EB_GUIDE + "eb-transform-target-input.html",
    "E6007": _GUIDE + "task-lifecycle-explanation.html", "W6008": _GUIDE + "ecs_services.html",
    "W6010": _GUIDE + "ecs_services.html",
    "E6011": "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-available-cloudwatch-metrics.html",
    "W6012": "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-visibility-timeout.html",
    # hygiene
    "W7001": SENSITIVE_DATA,
    # security groups
    "E8001": _EC2_API + "API_IpPermission.html", "E8003": _EC2_API + "API_CreateSecurityGroup.html",
    "W8002": "https://docs.aws.amazon.com/vpc/latest/userguide/vpc-security-groups.html",
    "W8010": _GUIDE + "alb.html", "W8011": _GUIDE + "alb.html", "W8012": api("PortMapping"),
}


# Rules on fields that are ecsctl's own (the simulation's), not the ECS API's.
OWN_FIELDS = frozenset({"E4001", "E4005", "E5006", "E6007", "E6011"})


def url_of(rule_id: str) -> str:
    """The page behind a rule; every rule of the catalogue has one (a test checks)."""
    return URLS[rule_id]
