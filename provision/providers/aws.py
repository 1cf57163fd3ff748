"""AWS EC2 through boto3: run_instances with tags, waiters, terminate_instances.

Credentials and region: the standard AWS variables (from the vault). GPU instance types
(g5, p4d ...) work the same way for the CNN nodes: set spec.instance_type.
"""

from provision.errors import ProvisionError
from provision.model import MASTER, WORKER, Node, NodeSpec
from provision.providers.base import Provider
from provision.providers.sshcheck import ssh_answers

TAG_CLUSTER, TAG_ROLE = "drc-cluster", "drc-role"
LIVE_STATES = ["pending", "running"]


class AwsProvider(Provider):
    name = "aws"

    def __init__(self, ec2_client, ssh_check=ssh_answers, poll_s: float = 5):
        self.ec2, self.ssh_check, self.poll_s = ec2_client, ssh_check, poll_s

    @classmethod
    def from_env(cls) -> "AwsProvider":
        import boto3

        return cls(boto3.client("ec2"))

    def _errors(self, what: str, fn, **kwargs):
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return fn(**kwargs)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            raise ProvisionError(
                f"aws {what}", f"{error.get('Code')}: {error.get('Message')}"
            ) from None
        except BotoCoreError as exc:
            raise ProvisionError(f"aws {what}", str(exc)) from None

    def create(self, cluster: str, name: str, role: str, spec: NodeSpec) -> Node:
        if not spec.image_id:
            raise ProvisionError("aws", "spec.image_id (the AMI) is required")
        disks = [
            {"DeviceName": f"/dev/sd{chr(ord('a') + i)}{'1' if i == 0 else ''}",
             "Ebs": {"VolumeSize": size, "VolumeType": "gp3", "DeleteOnTermination": True}}
            for i, size in enumerate(spec.disks_gb)
        ]  # fmt: skip
        request = {
            "ImageId": spec.image_id,
            "InstanceType": spec.instance_type,
            "MinCount": 1,
            "MaxCount": 1,
            "BlockDeviceMappings": disks,
            "TagSpecifications": [{"ResourceType": "instance", "Tags": [
                {"Key": "Name", "Value": name}, {"Key": TAG_CLUSTER, "Value": cluster},
                {"Key": TAG_ROLE, "Value": role}]}],
            **({"KeyName": spec.key_name} if spec.key_name else {}),
            **({"SubnetId": spec.subnet_id} if spec.subnet_id else {}),
            **({"SecurityGroupIds": list(spec.security_group_ids)}
               if spec.security_group_ids else {}),
            **spec.extra,
        }  # fmt: skip
        reply = self._errors(f"create {name}", self.ec2.run_instances, **request)
        return Node(name, role, public_ip="", private_ip="", ssh_user="admin",
                    id=reply["Instances"][0]["InstanceId"])  # fmt: skip

    def wait_ready(self, node: Node, timeout_s: float) -> Node:
        waiter = self.ec2.get_waiter("instance_running")
        attempts = max(1, int(timeout_s / self.poll_s))
        self._errors(f"wait {node.name}", waiter.wait, InstanceIds=[node.id],
                     WaiterConfig={"Delay": self.poll_s, "MaxAttempts": attempts})  # fmt: skip
        reply = self._errors(f"describe {node.name}", self.ec2.describe_instances,
                             InstanceIds=[node.id])  # fmt: skip
        node = self._node(reply["Reservations"][0]["Instances"][0])
        if not self.ssh_check(node.public_ip or node.private_ip, min(timeout_s, 300)):
            raise ProvisionError(node.name, f"sshd on {node.public_ip} did not answer")
        return node

    @staticmethod
    def _node(instance: dict) -> Node:
        tags = {t["Key"]: t["Value"] for t in instance.get("Tags", [])}
        return Node(tags.get("Name", instance["InstanceId"]),
                    MASTER if tags.get(TAG_ROLE) == MASTER else WORKER,
                    public_ip=instance.get("PublicIpAddress", ""),
                    private_ip=instance.get("PrivateIpAddress", ""), ssh_user="admin",
                    id=instance["InstanceId"])  # fmt: skip

    def list(self, cluster: str) -> list[Node]:
        pages = self.ec2.get_paginator("describe_instances").paginate(Filters=[
            {"Name": f"tag:{TAG_CLUSTER}", "Values": [cluster]},
            {"Name": "instance-state-name", "Values": LIVE_STATES}])  # fmt: skip
        reservations = self._errors("list", lambda: [r for p in pages for r in p["Reservations"]])
        return [self._node(i) for r in reservations for i in r["Instances"]]

    def destroy(self, node: Node) -> None:
        self._errors(f"terminate {node.name}", self.ec2.terminate_instances, InstanceIds=[node.id])
