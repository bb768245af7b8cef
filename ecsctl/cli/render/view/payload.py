"""The view model packed for the page: repeated strings interned, tasks and instances as rows.

At 2,500 instances and 50,000 tasks the model as dicts is ~14 MB of JSON, most of it key
names and the same few strings (group, revision, status, start time) repeated per task.
The page receives instead::

    {"v": 1, "strings": [...],                  # every interned string once
     "state", "services", "plan", "scaling",     # as in the view model (small)
     "clusters": [{"name", "status", "deregistered", "pending": [TASK...],
                   "zones": [{"name", "instances": [INSTANCE...], "fargate": [TASK...]}]}]}

    INSTANCE = [id, ec2InstanceId, #instanceType, #group, #status, agentConnected (0/1),
                #ec2State, #agentVersion, registeredCpu, registeredMemory, remainingCpu,
                remainingMemory, #attributes (JSON text), [TASK...]]
    TASK     = [id, #group, #taskDefinition, #lastStatus, cpu, memory, hostPorts, privateIp or 0,
                #startedAt, #launchType]

where ``#x`` is an index into ``strings``.  ``page.js`` reads the rows by these positions
(``I_*`` and ``T_*`` there), so the two lists change together.
"""

from __future__ import annotations

import json

PAYLOAD_VERSION = 1


class _Strings:
    def __init__(self) -> None:
        self.table: list[str] = []
        self._index: dict[str, int] = {}

    def __call__(self, value: object) -> int:
        text = "" if value is None else str(value)
        index = self._index.get(text)
        if index is None:
            index = self._index[text] = len(self.table)
            self.table.append(text)
        return index


def _task(t: dict, s: _Strings) -> list:
    return [t["id"], s(t["group"]), s(t["taskDefinition"]), s(t["lastStatus"]), t["cpu"], t["memory"],
            t["hostPorts"], t["privateIp"] or 0, s(t["startedAt"]), s(t["launchType"])]


def _instance(i: dict, s: _Strings) -> list:
    attributes = json.dumps(i["attributes"], sort_keys=True, separators=(",", ":"))
    return [i["id"], i["ec2InstanceId"], s(i["instanceType"]), s(i["group"]), s(i["status"]),
            1 if i["agentConnected"] else 0, s(i["ec2State"]), s(i["agentVersion"]),
            i["registered"]["cpu"], i["registered"]["memory"], i["remaining"]["cpu"], i["remaining"]["memory"],
            s(attributes), [_task(t, s) for t in i["tasks"]]]


def pack(model: dict) -> dict:
    """The page's payload for the view model ``model`` (see ``ecsctl.app.view``)."""
    s = _Strings()
    # services first, so a service's colour (its group's index) follows the service table's order
    for svc in model["services"]:
        s(f"service:{svc['name']}")
    clusters = [
        {"name": c["name"], "status": c["status"], "deregistered": c["deregistered"],
         "pending": [_task(t, s) for t in c["pending"]],
         "zones": [{"name": z["name"], "instances": [_instance(i, s) for i in z["instances"]],
                    "fargate": [_task(t, s) for t in z["fargate"]]} for z in c["zones"]]}
        for c in model["clusters"]
    ]
    return {"v": PAYLOAD_VERSION, "strings": s.table, "state": model["state"], "clusters": clusters,
            "services": model["services"], "plan": model["plan"], "scaling": model["scaling"]}


def to_script_json(data: object) -> str:
    """JSON that is safe inside ``<script type="application/json">`` (no ``</script>``, no ``<!--``)."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
