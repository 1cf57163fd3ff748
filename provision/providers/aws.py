"""AWS EC2 through boto3. Per cluster, created by prepare and removed by finish_destroy
(after a failed launch too): a security group (SSH and the web UIs from the launcher's
address only, every protocol among its members) and, unless the user names a key pair of
their own, a key pair whose private half stays beside the inventory. Instances: the AMI's
own root device, the data disk, IMDSv2 required, spot on request; found in every state
that still bills (stopped included) and terminated until gone.

Credentials: the standard AWS variables (from the vault); region, login user, key, subnet,
spot: provision_spec.aws in group_vars/all/cluster.yml. GPU instance types (g5, p4d ...)
work the same way for the CNN nodes: set instance_type.
"""

import ipaddress
import time
import urllib.request
from pathlib import Path

from provision.errors import ProvisionError
from provision.model import MASTER, WORKER, Node, NodeSpec
from provision.providers import keys
from provision.providers.base import Provider
from provision.providers.sshcheck import ssh_login

TAG_CLUSTER, TAG_ROLE = "drc-cluster", "drc-role"
# Every state in which an instance (and its volumes) still exists and may bill.
LIVE_STATES = ["pending", "running", "stopping", "stopped"]
DATA_DEVICES = [f"/dev/sd{c}" for c in "bcdefghijklmnop"]  # after the AMI's root device
CHECKIP_URL = "https://checkip.amazonaws.com"


def cluster_resource(cluster: str) -> str:
    """The name of the cluster's security group and of the key pair made for it."""
    return f"drc-cluster-{cluster}"


def launcher_address() -> str:
    """This machine's public address, as AWS sees it (flintrock asks the same service)."""
    try:
        with urllib.request.urlopen(CHECKIP_URL, timeout=10) as reply:
            answer = reply.read(64).decode(errors="replace").strip()
    except OSError as exc:
        reason = f"could not learn this launcher's address from {CHECKIP_URL} ({exc}): set it"
        raise ProvisionError("aws admin_cidr", reason) from None
    try:  # a proxy's or portal's page must not become a security group rule
        return str(ipaddress.ip_address(answer))
    except ValueError:
        raise ProvisionError("aws admin_cidr", f"{CHECKIP_URL} answered {answer[:30]!r}, not "
                                               "an address: set it") from None  # fmt: skip


def nvme_id(volume_id: str) -> str:
    """The stable name a Nitro instance gives an EBS volume, whatever its NVMe number."""
    return f"/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_{volume_id.replace('-', '')}"


def _code(exc: Exception) -> str:
    return getattr(exc, "response", {}).get("Error", {}).get("Code", "")


def _failure(what: str, exc: Exception) -> ProvisionError:
    """One line: the API's error code and message (a ClientError), or botocore's."""
    error = getattr(exc, "response", {}).get("Error", {})
    reason = f"{error.get('Code')}: {error.get('Message')}" if error else str(exc)
    return ProvisionError(f"aws {what}", reason)


class AwsProvider(Provider):
    name = "aws"

    def __init__(self, ec2_client, spec: NodeSpec | None = None, cluster_dir: Path | None = None,
                 ssh_check=ssh_login, poll_s: float = 5, my_address=launcher_address):  # fmt: skip
        self.ec2, self.ssh_check, self.poll_s = ec2_client, ssh_check, poll_s
        self.spec, self.cluster_dir, self.my_address = spec or NodeSpec(), cluster_dir, my_address
        self.group_id, self.key_name = "", self.spec.key_name
        self._roots: dict[str, str] = {}

    @classmethod
    def from_env(cls, spec: NodeSpec | None = None, cluster_dir: Path | None = None):
        import boto3
        from botocore.exceptions import NoRegionError

        spec = spec or NodeSpec()
        try:
            return cls(boto3.client("ec2", region_name=spec.region or None), spec, cluster_dir)
        except NoRegionError:
            raise ProvisionError("aws", "no region: set region in provision_spec.aws "
                                        "(group_vars/all/cluster.yml)") from None  # fmt: skip

    def _errors(self, what: str, fn, **kwargs):
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return fn(**kwargs)
        except (ClientError, BotoCoreError) as exc:
            raise _failure(what, exc) from None

    # -- cluster-wide: network, security group, key pair ------------------------------------
    def _network(self) -> tuple[str, str | None]:
        """(VPC id, its range where the nodes get no public address, else None)."""
        if self.spec.subnet_id:
            subnet = self._errors("describe subnet", self.ec2.describe_subnets,
                                  SubnetIds=[self.spec.subnet_id])["Subnets"][0]  # fmt: skip
            vpc = subnet["VpcId"]
            if subnet.get("MapPublicIpOnLaunch"):
                return vpc, None
            return vpc, self._errors("describe vpc", self.ec2.describe_vpcs,
                                     VpcIds=[vpc])["Vpcs"][0]["CidrBlock"]  # fmt: skip
        default = [{"Name": "isDefault", "Values": ["true"]}]
        vpcs = self._errors("describe vpcs", self.ec2.describe_vpcs, Filters=default)["Vpcs"]
        if not vpcs:
            raise ProvisionError("aws", "this region has no default VPC: set subnet_id")
        return vpcs[0]["VpcId"], None

    def _groups(self, cluster: str) -> list[dict]:
        named = [{"Name": "group-name", "Values": [cluster_resource(cluster)]}]
        reply = self._errors("find security group", self.ec2.describe_security_groups,
                             Filters=named)  # fmt: skip
        return reply["SecurityGroups"]

    def _security_group(self, cluster: str) -> str:
        vpc, private_range = self._network()
        found = [g for g in self._groups(cluster) if g.get("VpcId") == vpc]
        if found:
            group = found[0]["GroupId"]
        else:
            tags = [{"Key": TAG_CLUSTER, "Value": cluster}]
            group = self._errors("create security group", self.ec2.create_security_group,
                                 GroupName=cluster_resource(cluster), VpcId=vpc,
                                 Description=f"dr-cluster {cluster}: SSH and UIs from its admin, "
                                             "everything among its nodes",
                                 TagSpecifications=[{"ResourceType": "security-group",
                                                     "Tags": tags}])["GroupId"]  # fmt: skip
        admin = self.spec.admin_cidr or private_range or f"{self.my_address()}/32"
        rules = [{"IpProtocol": "tcp", "FromPort": port, "ToPort": port,
                  "IpRanges": [{"CidrIp": admin, "Description": "the launcher"}]}
                 for port in self.spec.admin_ports]  # fmt: skip
        rules.append({"IpProtocol": "-1", "UserIdGroupPairs": [{"GroupId": group}]})
        for rule in rules:  # one at a time: a re-run finds most of them there already
            self._authorize(group, rule)
        return group

    def _authorize(self, group: str, rule: dict) -> None:
        from botocore.exceptions import ClientError

        try:
            self.ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[rule])
        except ClientError as exc:
            if _code(exc) != "InvalidPermission.Duplicate":
                raise _failure("authorize", exc) from None

    def _key_pair(self, cluster: str) -> str:
        if self.cluster_dir is None:
            raise ProvisionError("aws", "no key_name and nowhere to keep a cluster key")
        name = cluster_resource(cluster)
        key, made_now = keys.ensure_key(self.cluster_dir, "ed25519", name)
        named = [{"Name": "key-name", "Values": [name]}]
        found = self._errors("find key pair", self.ec2.describe_key_pairs, Filters=named)
        found = found["KeyPairs"]
        if found and made_now:  # a stale pair of a cluster whose inventory is gone
            self._errors("delete key pair", self.ec2.delete_key_pair, KeyName=name)
        if not found or made_now:
            self._errors("import key pair", self.ec2.import_key_pair, KeyName=name,
                         PublicKeyMaterial=keys.public_key(key).encode(),
                         TagSpecifications=[{"ResourceType": "key-pair", "Tags": [
                             {"Key": TAG_CLUSTER, "Value": cluster}]}])  # fmt: skip
        return name

    def prepare(self, cluster: str) -> None:
        self.group_id = self._security_group(cluster)
        self.key_name = self.spec.key_name or self._key_pair(cluster)

    def finish_destroy(self, cluster: str) -> None:
        """After the last instance is gone: its security group, and the key pair made for it
        (never one the user named)."""
        from botocore.exceptions import ClientError

        for group in self._groups(cluster):
            deadline = time.monotonic() + 300
            while True:  # network interfaces let go of the group a little after termination
                try:
                    self.ec2.delete_security_group(GroupId=group["GroupId"])
                    break
                except ClientError as exc:
                    if _code(exc) != "DependencyViolation" or time.monotonic() > deadline:
                        raise _failure("delete security group", exc) from None
                    time.sleep(self.poll_s)
        if not self.spec.key_name:
            self._errors("delete key pair", self.ec2.delete_key_pair,
                         KeyName=cluster_resource(cluster))  # fmt: skip
            if self.cluster_dir is not None:
                keys.remove_key(self.cluster_dir)

    def ssh_key(self, cluster: str) -> str | None:
        return self._key()

    def _key(self) -> str | None:
        if self.spec.key_name:
            return self.spec.ssh_key_file or None  # None: ssh's own keys or agent
        return str(keys.key_path(self.cluster_dir)) if self.cluster_dir else None

    # -- nodes ---------------------------------------------------------------------------
    def _root_device(self, image_id: str) -> str:
        if image_id not in self._roots:
            images = self._errors("describe image", self.ec2.describe_images,
                                  ImageIds=[image_id])["Images"]  # fmt: skip
            if not images:
                raise ProvisionError("aws image_id", f"{image_id}: no such AMI in this region")
            self._roots[image_id] = images[0]["RootDeviceName"]
        return self._roots[image_id]

    def create(self, cluster: str, name: str, role: str, spec: NodeSpec) -> Node:
        if not spec.image_id:
            raise ProvisionError("aws", "spec.image_id (the AMI) is required")
        # The first size goes to the AMI's own root device (/dev/xvda or /dev/sda1): under
        # any other name EC2 would add a disk and leave the root at the AMI's size.
        devices = [self._root_device(spec.image_id), *DATA_DEVICES]
        disks = [{"DeviceName": device, "Ebs": {"VolumeSize": size, "VolumeType": "gp3",
                                                "DeleteOnTermination": True}}
                 for device, size in zip(devices, spec.disks_gb, strict=False)]  # fmt: skip
        tags = [{"Key": "Name", "Value": name}, {"Key": TAG_CLUSTER, "Value": cluster},
                {"Key": TAG_ROLE, "Value": role}]  # fmt: skip
        spot = {
            "MarketType": "spot",
            "SpotOptions": {
                "SpotInstanceType": "one-time",
                "InstanceInterruptionBehavior": "terminate",
            },
        }
        request = {
            "ImageId": spec.image_id,
            "InstanceType": spec.instance_type,
            "MinCount": 1,
            "MaxCount": 1,
            "BlockDeviceMappings": disks,
            "TagSpecifications": [{"ResourceType": kind, "Tags": tags}
                                  for kind in ("instance", "volume")],
            "SecurityGroupIds": [g for g in (self.group_id, *spec.security_group_ids) if g],
            **({"KeyName": self.key_name} if self.key_name else {}),
            **({"SubnetId": spec.subnet_id} if spec.subnet_id else {}),
            **({"MetadataOptions": {"HttpTokens": "required", "HttpEndpoint": "enabled"}}
               if spec.imds_v2 else {}),
            **({"InstanceMarketOptions": spot} if spec.spot else {}),
            **({"IamInstanceProfile": {"Name": spec.iam_instance_profile}}
               if spec.iam_instance_profile else {}),
            **spec.extra,
        }  # fmt: skip
        reply = self._errors(f"create {name}", self.ec2.run_instances, **request)
        return Node(name, role, public_ip="", private_ip="", ssh_user=self._user(),
                    id=reply["Instances"][0]["InstanceId"])  # fmt: skip

    def _user(self) -> str:
        return self.spec.ssh_user or "admin"  # Debian's AMIs; ec2-user, ubuntu elsewhere

    def _describe(self, node: Node) -> dict:
        reply = self._errors(f"describe {node.name}", self.ec2.describe_instances,
                             InstanceIds=[node.id])  # fmt: skip
        return reply["Reservations"][0]["Instances"][0]

    def _wait(self, node: Node, waiter: str, timeout_s: float) -> None:
        attempts = max(1, int(timeout_s / self.poll_s))
        self._errors(f"wait {node.name}", self.ec2.get_waiter(waiter).wait, InstanceIds=[node.id],
                     WaiterConfig={"Delay": self.poll_s, "MaxAttempts": attempts})  # fmt: skip

    def wait_ready(self, node: Node, timeout_s: float) -> Node:
        if self._describe(node)["State"]["Name"] in ("stopping", "stopped"):  # found on a re-run
            self._wait(node, "instance_stopped", timeout_s)
            self._errors(f"start {node.name}", self.ec2.start_instances, InstanceIds=[node.id])
        self._wait(node, "instance_running", timeout_s)
        node = self._node(self._describe(node))
        self.ssh_check(node.public_ip or node.private_ip, min(timeout_s, 300), user=node.ssh_user,
                       key=self._key())  # fmt: skip
        return node

    def _node(self, instance: dict) -> Node:
        tags = {t["Key"]: t["Value"] for t in instance.get("Tags", [])}
        return Node(tags.get("Name", instance["InstanceId"]),
                    MASTER if tags.get(TAG_ROLE) == MASTER else WORKER,
                    public_ip=instance.get("PublicIpAddress", ""),
                    private_ip=instance.get("PrivateIpAddress", ""), ssh_user=self._user(),
                    id=instance["InstanceId"])  # fmt: skip

    def list(self, cluster: str) -> list[Node]:
        pages = self.ec2.get_paginator("describe_instances").paginate(Filters=[
            {"Name": f"tag:{TAG_CLUSTER}", "Values": [cluster]},
            {"Name": "instance-state-name", "Values": LIVE_STATES}])  # fmt: skip
        reservations = self._errors("list", lambda: [r for p in pages for r in p["Reservations"]])
        return [self._node(i) for r in reservations for i in r["Instances"]]

    def destroy(self, node: Node) -> None:
        self._errors(f"terminate {node.name}", self.ec2.terminate_instances, InstanceIds=[node.id])
        # Gone, not going: its security group cannot be deleted before.
        self._wait(node, "instance_terminated", 600)

    def host_vars(self, cluster: str, node: Node) -> dict[str, str]:
        """The data disk by its volume's stable name (roles/data_disk; on instance types
        without NVMe it falls back to the one blank disk of that size)."""
        if len(self.spec.disks_gb) < 2:
            return {}
        mappings = self._describe(node).get("BlockDeviceMappings", [])
        volume = [m["Ebs"]["VolumeId"] for m in mappings if m["DeviceName"] == DATA_DEVICES[0]]
        return {
            **({"data_disk_device": nvme_id(volume[0])} if volume else {}),
            "data_disk_size_gb": str(self.spec.disks_gb[1]),
        }
