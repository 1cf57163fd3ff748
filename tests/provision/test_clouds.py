"""SoftLayer through the library's own testing transport, AWS through moto: the real
provider code paths, no network. Issue #29's defects each have a test here: an order
never placed twice, a cluster key and a login check, stopped instances, the AMI's root
device, private subnets, region, login user, flavors, and nothing left after a teardown or
a failed launch."""

import os
import threading

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from SoftLayer import BaseClient
from SoftLayer.exceptions import SoftLayerAPIError, TransportError
from SoftLayer.testing import MockableTransport
from SoftLayer.transports import FixtureTransport

from provision import core, inventory
from provision.errors import ProvisionError
from provision.model import MASTER, NodeSpec
from provision.providers import aws
from provision.providers.aws import AwsProvider
from provision.providers.softlayer import SoftLayerProvider


def _operand(flt: dict) -> str:
    return flt["operation"].split(" ", 1)[-1]  # "_= dr-master" -> "dr-master"


class FakeAccount:
    """Guests and SSH keys held by the mocked SoftLayer API, with faults injected per
    hostname: a rate limit, no capacity, an answer lost after the order was placed, and
    setTags failing (a connection reset) a number of times."""

    def __init__(self, transport: MockableTransport, fail=(), rate_limited_once=(),
                 lost_answer=(), tag_failures=None):  # fmt: skip
        self.guests, self.tags, self.keys, self.next_id = {}, {}, {}, 1000
        self.fail, self.rate_limited = set(fail), set(rate_limited_once)
        self.lost_answer, self.tag_failures = set(lost_answer), dict(tag_failures or {})
        self.polls: dict[int, int] = {}
        self.lock = threading.Lock()
        guest = "SoftLayer_Virtual_Guest"
        transport.set_mock(guest, "createObject").side_effect = self.create
        transport.set_mock(guest, "setTags").side_effect = self.set_tags
        transport.set_mock(guest, "getObject").side_effect = self.get
        transport.set_mock(guest, "deleteObject").side_effect = self.delete
        for method in ("getVirtualGuests", "getHourlyVirtualGuests"):
            transport.set_mock("SoftLayer_Account", method).side_effect = self.list
        transport.set_mock("SoftLayer_Account", "getSshKeys").side_effect = self.list_keys
        key = "SoftLayer_Security_Ssh_Key"
        transport.set_mock(key, "createObject").side_effect = self.add_key
        transport.set_mock(key, "deleteObject").side_effect = self.delete_key

    def _id(self) -> int:
        with self.lock:
            self.next_id += 1
            return self.next_id

    def create(self, call):
        order = call.args[0]
        name = order["hostname"]
        if name in self.rate_limited:
            self.rate_limited.discard(name)
            raise SoftLayerAPIError("SoftLayer_Exception_WebService_RateLimitExceeded", "slow down")
        if name in self.fail:
            raise SoftLayerAPIError("SoftLayer_Exception_Public", f"no capacity for {name}")
        gid = self._id()
        self.guests[gid] = {"id": gid, "hostname": name, "domain": order["domain"],
                            "order": order, "primaryIpAddress": f"198.51.100.{gid - 1000}",
                            "primaryBackendIpAddress": f"10.1.0.{gid - 1000}"}  # fmt: skip
        if name in self.lost_answer:  # placed, but the reply never arrives
            self.lost_answer.discard(name)
            raise TransportError(0, "connection reset by peer")
        return {"id": gid}

    def set_tags(self, call):
        name = self.guests[call.identifier]["hostname"]
        if self.tag_failures.get(name, 0) > 0:
            self.tag_failures[name] -= 1
            raise TransportError(0, "connection reset by peer")
        self.tags[call.identifier] = [t.strip() for t in call.args[0].split(",")]
        return True

    def get(self, call):
        guest = self.guests[call.identifier]
        polls = self.polls[call.identifier] = self.polls.get(call.identifier, 0) + 1
        ready = {"provisionDate": "2026-11-24T10:00:00"} if polls > 1 else {}  # 2nd poll
        refs = [{"tag": {"name": t}} for t in self.tags.get(guest["id"], [])]
        return {**guest, **ready, "tagReferences": refs}

    def list(self, call):
        flt = call.filter["virtualGuests"]
        out = []
        for gid, guest in self.guests.items():
            if "hostname" in flt and _operand(flt["hostname"]) not in guest["hostname"]:
                continue
            if "tagReferences" in flt:
                wanted = set(flt["tagReferences"]["tag"]["name"]["options"][0]["value"])
                if not wanted & set(self.tags.get(gid, [])):
                    continue
            refs = [{"tag": {"name": t}} for t in self.tags.get(gid, [])]
            out.append({**guest, "tagReferences": refs})
        return out

    def delete(self, call):
        self.guests.pop(call.identifier)
        return True

    def add_key(self, call):
        kid = self._id()
        self.keys[kid] = {"id": kid, **call.args[0]}
        return self.keys[kid]

    def list_keys(self, call):
        label = (call.filter or {}).get("sshKeys", {}).get("label")
        return [k for k in self.keys.values() if label is None or k["label"] == _operand(label)]

    def delete_key(self, call):
        self.keys.pop(call.identifier)
        return True


class Logins:
    """The SSH check, recorded: what a provider asks to log in with."""

    def __init__(self):
        self.calls = []

    def __call__(self, host, timeout_s, *, user, key):
        self.calls.append((host, user, key))


def softlayer(tmp_path, spec=None, **faults):
    transport = MockableTransport(FixtureTransport())
    account = FakeAccount(transport, **faults)
    logins = Logins()
    provider = SoftLayerProvider(BaseClient(transport=transport), spec or NodeSpec(),
                                 tmp_path / "inv" / "dr", poll_s=0.01, ssh_check=logins,
                                 backoff_s=0.01)  # fmt: skip
    return provider, account, transport, logins


def creates(transport) -> int:
    guest = "SoftLayer_Virtual_Guest"
    return len([c for c in transport.calls if (c.service, c.method) == (guest, "createObject")])


def test_softlayer_creates_tags_waits_and_finds_by_tag(tmp_path):
    provider, account, transport, _ = softlayer(tmp_path, rate_limited_once={"dr-worker-01"})
    spec = NodeSpec(cores=8, ram_gb=32, disks_gb=(100, 500))
    result = core.launch(provider, "dr", 3, spec)
    assert [(n.name, n.role) for n in result.nodes][0] == ("dr-master", MASTER)
    assert all(n.public_ip.startswith("198.51.100.") for n in result.nodes)
    assert creates(transport) == 4  # one rate-limited call retried
    master = next(g for g in account.guests.values() if g["hostname"] == "dr-master")
    order = master["order"]
    assert order["startCpus"] == 8 and order["maxMemory"] == 32768 and order["hourlyBillingFlag"]
    assert sorted(account.tags[master["id"]]) == ["drc-cluster-dr", "drc-role-master"]
    assert sorted(n.name for n in provider.list("dr")) == ["dr-master", "dr-worker-01",
                                                           "dr-worker-02"]  # fmt: skip
    assert core.launch(provider, "dr", 3, NodeSpec()).created == []  # found by tag
    core.destroy(provider, "dr")
    assert account.guests == {} and account.keys == {}


def test_softlayer_partial_failure_cancels_what_it_ordered(tmp_path):
    provider, account, transport, _ = softlayer(tmp_path, fail={"dr-worker-02"})
    with pytest.raises(ProvisionError, match="no capacity for dr-worker-02"):
        core.launch(provider, "dr", 4, NodeSpec())
    assert account.guests == {} and account.keys == {}
    assert len([c for c in transport.calls if c.method == "deleteObject"
                and c.service == "SoftLayer_Virtual_Guest"]) == 3  # fmt: skip


def test_softlayer_a_failed_set_tags_never_orders_a_second_server(tmp_path):
    """#29 (1): createObject then setTags; a reset during setTags used to re-run the whole
    create: a second server, the first untagged, billed and invisible to list and down."""
    failures = {"dr-master": 1, "dr-worker-01": 2}
    provider, account, transport, _ = softlayer(tmp_path, tag_failures=failures)
    result = core.launch(provider, "dr", 2, NodeSpec())
    assert creates(transport) == 2
    assert len(account.guests) == 2 and set(account.tags) == set(account.guests)
    assert sorted(n.name for n in result.nodes) == ["dr-master", "dr-worker-01"]
    core.destroy(provider, "dr")
    assert account.guests == {}


def test_softlayer_a_lost_order_answer_is_looked_up_not_ordered_again(tmp_path):
    provider, account, transport, _ = softlayer(tmp_path, lost_answer={"dr-worker-01"})
    core.launch(provider, "dr", 2, NodeSpec())
    assert creates(transport) == 2 and len(account.guests) == 2
    assert sorted(n.name for n in provider.list("dr")) == ["dr-master", "dr-worker-01"]


def test_softlayer_a_server_that_cannot_be_tagged_is_cancelled(tmp_path):
    """Every server the launch ordered is in the cluster or released, and the error says so."""
    provider, account, transport, _ = softlayer(tmp_path, tag_failures={"dr-worker-01": 99})
    with pytest.raises(ProvisionError, match="dr-worker-01.*cancelled"):
        core.launch(provider, "dr", 2, NodeSpec())
    assert creates(transport) == 2
    assert account.guests == {} and account.keys == {}


def test_softlayer_flavors_order_without_cores_and_memory(tmp_path):
    """#29 (5): cpus/memory beside a flavor made the library raise ValueError."""
    provider, account, _, _ = softlayer(tmp_path)
    core.launch(provider, "dr", 1, NodeSpec(flavor="B1_16X64X100", disks_gb=(100, 500)))
    order = next(iter(account.guests.values()))["order"]
    assert order["supplementalCreateObjectOptions"]["flavorKeyName"] == "B1_16X64X100"
    assert order["startCpus"] is None and order["maxMemory"] is None
    assert [d["diskImage"]["capacity"] for d in order["blockDevices"]] == ["100", "500"]


def test_softlayer_cluster_key_is_made_registered_used_and_removed(tmp_path):
    """#29 (2): with no ssh_key_ids the nodes had no key at all. Now a key per cluster,
    0600 beside the inventory, in the order; the login check uses it; down removes both."""
    provider, account, _, logins = softlayer(tmp_path)
    result = core.launch(provider, "dr", 2, NodeSpec())
    key = provider.ssh_key("dr")
    assert key == str(tmp_path / "inv" / "dr" / ".provision" / "ssh_key")
    assert os.stat(key).st_mode & 0o777 == 0o600
    [registered] = account.keys.values()
    assert registered["label"] == "drc-cluster-dr"
    assert registered["key"] == open(f"{key}.pub").read().strip()
    assert all(g["order"]["sshKeys"] == [{"id": registered["id"]}]
               for g in account.guests.values())  # fmt: skip
    assert sorted(logins.calls) == sorted((n.public_ip, "root", key) for n in result.nodes)
    core.destroy(provider, "dr")
    assert account.keys == {} and not os.path.exists(key)


def test_softlayer_users_own_keys_are_used_and_kept(tmp_path):
    spec = NodeSpec(ssh_key_ids=(42,), ssh_key_file="/home/me/.ssh/id_sl", ssh_user="debian")
    provider, account, _, logins = softlayer(tmp_path, spec=spec)
    core.launch(provider, "dr", 1, spec)
    assert next(iter(account.guests.values()))["order"]["sshKeys"] == [{"id": 42}]
    assert logins.calls[0][1:] == ("debian", "/home/me/.ssh/id_sl")
    assert account.keys == {}


def test_softlayer_data_disk_is_named_to_the_role(tmp_path):
    provider, _, _, _ = softlayer(tmp_path, spec=NodeSpec(disks_gb=(100, 500)))
    [node] = core.launch(provider, "dr", 1, NodeSpec()).nodes
    assert provider.host_vars("dr", node) == {"data_disk_size_gb": "500"}


# -- AWS through moto -------------------------------------------------------------------
LAUNCHER = "203.0.113.7"


@pytest.fixture
def ec2():
    with mock_aws():
        client = boto3.client("ec2", region_name="us-east-1")
        yield client


def xvda_ami(client) -> str:
    images = client.describe_images(Owners=["amazon"], Filters=[
        {"Name": "root-device-name", "Values": ["/dev/xvda"]}])["Images"]  # fmt: skip
    return images[0]["ImageId"]


def aws_provider(client, tmp_path, spec=None, logins=None):
    return AwsProvider(client, spec or NodeSpec(), tmp_path / "inv" / "dr",
                       ssh_check=logins or Logins(), poll_s=0.01,
                       my_address=lambda: LAUNCHER)  # fmt: skip


def instances(client, cluster="dr", states=("pending", "running", "stopping", "stopped")):
    found = client.describe_instances(Filters=[
        {"Name": "tag:drc-cluster", "Values": [cluster]},
        {"Name": "instance-state-name", "Values": list(states)}])  # fmt: skip
    return [i for r in found["Reservations"] for i in r["Instances"]]


def names(items: list[dict], key: str) -> list[str]:
    return [item[key] for item in items]


def leftovers(client, cluster="dr") -> dict:
    """What of the cluster still exists (and may bill)."""
    tagged = [{"Name": "tag:drc-cluster", "Values": [cluster]}]
    named = [{"Name": "group-name", "Values": [f"drc-cluster-{cluster}"]}]
    own_key = f"drc-cluster-{cluster}"
    key_pairs = names(client.describe_key_pairs()["KeyPairs"], "KeyName")
    return {
        "instances": [i["InstanceId"] for i in instances(client, cluster)],
        "volumes": [v["VolumeId"] for v in client.describe_volumes(Filters=tagged)["Volumes"]],
        "groups": client.describe_security_groups(Filters=named)["SecurityGroups"],
        "keys": [k for k in key_pairs if k == own_key],
    }


def test_aws_launch_tags_and_terminate(ec2, tmp_path):
    ami = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    provider = aws_provider(ec2, tmp_path)
    spec = NodeSpec(instance_type="g5.xlarge", image_id=ami, disks_gb=(100, 500))
    result = core.launch(provider, "dr", 3, spec)
    assert [n.name for n in result.nodes] == ["dr-master", "dr-worker-01", "dr-worker-02"]
    assert all(n.private_ip for n in result.nodes)
    assert {i["InstanceType"] for i in instances(ec2)} == {"g5.xlarge"}
    assert core.launch(provider, "dr", 3, spec).created == []
    core.destroy(provider, "dr")
    assert provider.list("dr") == []


def test_aws_security_group_key_pair_and_login_then_nothing_left(ec2, tmp_path):
    """#29 (2): no security group (the VPC's default admits members only) and no key: the
    nodes could not be reached. Now a group per cluster (SSH and the UIs from the launcher,
    everything among members), a key pair whose private half is 0600 beside the inventory,
    a login check with it; after down, moto holds nothing of the cluster."""
    logins = Logins()
    provider = aws_provider(ec2, tmp_path, logins=logins)
    spec = NodeSpec(image_id=xvda_ami(ec2), disks_gb=(100, 500))
    result = core.launch(provider, "dr", 2, spec)
    [group] = leftovers(ec2)["groups"]
    rules = group["IpPermissions"]
    ssh = [r for r in rules if r.get("FromPort") == 22]
    assert ssh and ssh[0]["IpRanges"][0]["CidrIp"] == f"{LAUNCHER}/32"
    assert {r["FromPort"] for r in rules if r.get("IpRanges")} == set(spec.admin_ports)
    assert any(p["GroupId"] == group["GroupId"] for r in rules for p in r["UserIdGroupPairs"])
    for instance in instances(ec2):
        assert [g["GroupId"] for g in instance["SecurityGroups"]] == [group["GroupId"]]
        assert instance["KeyName"] == "drc-cluster-dr"
    key = tmp_path / "inv" / "dr" / ".provision" / "ssh_key"
    assert provider.ssh_key("dr") == str(key) and key.stat().st_mode & 0o777 == 0o600
    assert sorted(logins.calls) == sorted((n.public_ip, "admin", str(key)) for n in result.nodes)
    text = inventory.render("dr", "aws", result.nodes, provider.ssh_key("dr"), {}, {})
    assert f"ansible_ssh_private_key_file={key}" in text
    core.destroy(provider, "dr")
    assert leftovers(ec2) == {"instances": [], "volumes": [], "groups": [], "keys": []}
    assert not key.exists()


def test_aws_a_failed_launch_leaves_nothing(ec2, tmp_path):
    provider = aws_provider(ec2, tmp_path)
    with pytest.raises(ProvisionError, match="image_id"):
        core.launch(provider, "dr", 2, NodeSpec())
    assert leftovers(ec2) == {"instances": [], "volumes": [], "groups": [], "keys": []}
    flaky = AwsProvider(NoCapacityFor("dr-worker-02", ec2), NodeSpec(), tmp_path / "inv" / "dr",
                        ssh_check=Logins(), poll_s=0.01, my_address=lambda: LAUNCHER)  # fmt: skip
    with pytest.raises(
        ProvisionError, match="aws create dr-worker-02.*InsufficientInstanceCapacity"
    ):
        core.launch(flaky, "dr", 4, NodeSpec(image_id=xvda_ami(ec2)))
    assert leftovers(ec2) == {"instances": [], "volumes": [], "groups": [], "keys": []}
    assert not (tmp_path / "inv" / "dr" / ".provision" / "ssh_key").exists()


def test_aws_root_disk_is_the_amis_root_device_and_the_data_disk_is_named(ec2, tmp_path):
    """#29 (4): /dev/sda1 hard-coded: on a /dev/xvda AMI, EC2 adds the 100 GB as an extra
    disk and leaves the root at the AMI's size."""
    ami = xvda_ami(ec2)
    provider = aws_provider(ec2, tmp_path)
    [node] = core.launch(provider, "dr", 1, NodeSpec(image_id=ami, disks_gb=(100, 500))).nodes
    [instance] = instances(ec2)
    mapped = {m["DeviceName"]: m["Ebs"]["VolumeId"] for m in instance["BlockDeviceMappings"]}
    assert instance["RootDeviceName"] == "/dev/xvda" and set(mapped) == {"/dev/xvda", "/dev/sdb"}
    size = {v["VolumeId"]: v["Size"] for v in ec2.describe_volumes()["Volumes"]}
    assert size[mapped["/dev/xvda"]] == 100 and size[mapped["/dev/sdb"]] == 500
    assert provider.host_vars("dr", node) == {"data_disk_device": aws.nvme_id(mapped["/dev/sdb"]),
                                              "data_disk_size_gb": "500"}  # fmt: skip
    assert aws.nvme_id("vol-0abc") == "/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_vol0abc"


def test_aws_stopped_instances_are_found_and_terminated(ec2, tmp_path):
    """#29 (3): a stopped worker (and its volumes) survived stop_cluster.yml."""
    provider = aws_provider(ec2, tmp_path)
    core.launch(provider, "dr", 2, NodeSpec(image_id=xvda_ami(ec2)))
    worker = next(n for n in provider.list("dr") if n.name == "dr-worker-01")
    ec2.stop_instances(InstanceIds=[worker.id])
    assert sorted(n.name for n in provider.list("dr")) == ["dr-master", "dr-worker-01"]
    assert core.launch(provider, "dr", 2, NodeSpec(image_id=xvda_ami(ec2))).created == []
    ec2.stop_instances(InstanceIds=[worker.id])
    assert sorted(core.destroy(provider, "dr")) == ["dr-master", "dr-worker-01"]
    assert leftovers(ec2) == {"instances": [], "volumes": [], "groups": [], "keys": []}


def test_aws_private_subnet_nodes_are_reached_on_their_private_address(ec2, tmp_path):
    """#29 (5): a private subnet wrote `ansible_host=` (empty) into the inventory."""
    vpc = ec2.create_vpc(CidrBlock="10.42.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.42.1.0/24")["Subnet"]["SubnetId"]
    logins = Logins()
    spec = NodeSpec(image_id=xvda_ami(ec2), subnet_id=subnet)
    provider = aws_provider(ec2, tmp_path, spec=spec, logins=logins)
    [node] = core.launch(provider, "dr", 1, spec).nodes
    assert node.public_ip == "" and node.private_ip.startswith("10.42.1.")
    assert logins.calls[0][0] == node.private_ip
    text = inventory.render("dr", "aws", [node], None, {}, {})
    assert f"dr-master ansible_host={node.private_ip} " in text
    [group] = leftovers(ec2)["groups"]
    assert group["VpcId"] == vpc
    ssh = next(r for r in group["IpPermissions"] if r.get("FromPort") == 22)
    assert ssh["IpRanges"][0]["CidrIp"] == "10.42.0.0/16"  # the launcher sits in the VPC
    core.destroy(provider, "dr")
    assert leftovers(ec2) == {"instances": [], "volumes": [], "groups": [], "keys": []}


def test_aws_imdsv2_spot_login_user_and_the_users_key_pair(ec2, tmp_path):
    ec2.create_key_pair(KeyName="mine")
    logins = Logins()
    spec = NodeSpec(image_id=xvda_ami(ec2), spot=True, ssh_user="ec2-user", key_name="mine",
                    ssh_key_file="/home/me/mine.pem", admin_cidr="198.51.100.0/24")  # fmt: skip
    provider = aws_provider(ec2, tmp_path, spec=spec, logins=logins)
    [node] = core.launch(provider, "dr", 1, spec).nodes
    [instance] = instances(ec2)
    assert instance["MetadataOptions"]["HttpTokens"] == "required"
    assert instance["InstanceLifecycle"] == "spot" and instance["KeyName"] == "mine"
    assert node.ssh_user == "ec2-user"
    assert logins.calls == [(node.public_ip, "ec2-user", "/home/me/mine.pem")]
    ssh = next(r for r in leftovers(ec2)["groups"][0]["IpPermissions"] if r.get("FromPort") == 22)
    assert ssh["IpRanges"][0]["CidrIp"] == "198.51.100.0/24"
    core.destroy(provider, "dr")
    assert [k["KeyName"] for k in ec2.describe_key_pairs()["KeyPairs"]] == ["mine"]  # kept


def test_aws_region_is_a_setting(monkeypatch, tmp_path):
    """#29 (5): no region setting: NoRegionError unless the shell supplied one."""
    for name in ("AWS_DEFAULT_REGION", "AWS_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    with mock_aws():
        provider = AwsProvider.from_env(NodeSpec(region="eu-west-1"), tmp_path)
        assert provider.ec2.meta.region_name == "eu-west-1"
        with pytest.raises(ProvisionError, match="no region: set region in provision_spec.aws"):
            AwsProvider.from_env(NodeSpec(), tmp_path)


class NoCapacityFor:
    """The moto client, except that run_instances fails for one node name."""

    def __init__(self, name, client):
        self.name, self.client = name, client

    def __getattr__(self, attr):
        return getattr(self.client, attr)

    def run_instances(self, **request):
        tags = request["TagSpecifications"][0]["Tags"]
        if {"Key": "Name", "Value": self.name} in tags:
            error = {"Error": {"Code": "InsufficientInstanceCapacity", "Message": "none left"}}
            raise ClientError(error, "RunInstances")
        return self.client.run_instances(**request)
