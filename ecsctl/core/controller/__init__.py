"""The pure service model shared by plan and apply (and, later, the AWS backend's predictions).

One copy of each rule the ECS service scheduler follows, free of storage and I/O:

* :mod:`.service` — a service's launch type, whether a change starts a new deployment, the
  desired count a change leads to, deployment percents and circuit breaker, the constraints
  and strategies its tasks are placed with, its subnets and load balancers;
* :mod:`.zones` — the availability zones of awsvpc tasks and the Fargate zone choice;
* :mod:`.cluster` — a Cluster spec as the container instances it registers;
* :mod:`.ids` — the simulation's deterministic identifiers.

The rolling arithmetic (one move per reconcile) is :mod:`ecsctl.core.deploy.stepper`; task
placement is :mod:`ecsctl.core.scheduling.placement`.
"""
