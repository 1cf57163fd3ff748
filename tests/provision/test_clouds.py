"""SoftLayer through the library's own testing transport, AWS through moto: the real
provider code paths, no network."""

import threading

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from SoftLayer import BaseClient
from SoftLayer.exceptions import SoftLayerAPIError
from SoftLayer.testing import MockableTransport
from SoftLayer.transports import FixtureTransport

from provision import core
from provision.errors import ProvisionError
from provision.model import MASTER, NodeSpec
from provision.providers.aws import AwsProvider
from provision.providers.softlayer import SoftLayerProvider


class FakeAccount:
    """Guests held by the mocked SoftLayer API, with faults injected per hostname."""

    def __init__(self, transport: MockableTransport, fail=(), rate_limited_once=()):
        self.guests, self.tags, self.next_id = {}, {}, 1000
        self.fail, self.rate_limited = set(fail), set(rate_limited_once)
        self.polls: dict[int, int] = {}
        self.lock = threading.Lock()
        guest = "SoftLayer_Virtual_Guest"
        transport.set_mock(guest, "createObject").side_effect = self.create
        transport.set_mock(guest, "setTags").side_effect = self.set_tags
        transport.set_mock(guest, "getObject").side_effect = self.get
        transport.set_mock(guest, "deleteObject").side_effect = self.delete
        for method in ("getVirtualGuests", "getHourlyVirtualGuests"):
            transport.set_mock("SoftLayer_Account", method).side_effect = self.list

    def create(self, call):
        order = call.args[0]
        name = order["hostname"]
        if name in self.rate_limited:
            self.rate_limited.discard(name)
            raise SoftLayerAPIError("SoftLayer_Exception_WebService_RateLimitExceeded", "slow down")
        if name in self.fail:
            raise SoftLayerAPIError("SoftLayer_Exception_Public", f"no capacity for {name}")
        with self.lock:
            self.next_id += 1
            gid = self.next_id
        self.guests[gid] = {"id": gid, "hostname": name, "order": order,
                            "primaryIpAddress": f"198.51.100.{gid - 1000}",
                            "primaryBackendIpAddress": f"10.1.0.{gid - 1000}"}  # fmt: skip
        return {"id": gid}

    def set_tags(self, call):
        self.tags[call.identifier] = [t.strip() for t in call.args[0].split(",")]
        return True

    def get(self, call):
        guest = self.guests[call.identifier]
        polls = self.polls[call.identifier] = self.polls.get(call.identifier, 0) + 1
        ready = {"provisionDate": "2026-11-24T10:00:00"} if polls > 1 else {}  # 2nd poll
        refs = [{"tag": {"name": t}} for t in self.tags.get(guest["id"], [])]
        return {**guest, **ready, "tagReferences": refs}

    def list(self, call):
        wanted = set(call.filter["virtualGuests"]["tagReferences"]["tag"]["name"]["options"][0]
                     ["value"])  # fmt: skip
        out = []
        for gid, guest in self.guests.items():
            if wanted & set(self.tags.get(gid, [])):
                refs = [{"tag": {"name": t}} for t in self.tags[gid]]
                out.append({**guest, "tagReferences": refs})
        return out

    def delete(self, call):
        self.guests.pop(call.identifier)
        return True


def softlayer(**faults):
    transport = MockableTransport(FixtureTransport())
    account = FakeAccount(transport, **faults)
    provider = SoftLayerProvider(BaseClient(transport=transport), poll_s=0.01,
                                 ssh_check=lambda host, timeout: True, backoff_s=0.01)  # fmt: skip
    return provider, account, transport


def test_softlayer_creates_tags_waits_and_finds_by_tag():
    provider, account, transport = softlayer(rate_limited_once={"dr-worker-01"})
    result = core.launch(provider, "dr", 3, NodeSpec(cores=8, ram_gb=32, disks_gb=(100, 500)))
    assert [(n.name, n.role) for n in result.nodes][0] == ("dr-master", MASTER)
    assert all(n.public_ip.startswith("198.51.100.") for n in result.nodes)
    creates = [c for c in transport.calls if c.method == "createObject"]
    assert len(creates) == 4  # one rate-limited call retried
    order = account.guests[1001]["order"]
    assert order["startCpus"] == 8 and order["maxMemory"] == 32768 and order["hourlyBillingFlag"]
    assert sorted(account.tags[1001]) == ["drc-cluster-dr", "drc-role-master"]
    assert sorted(n.name for n in provider.list("dr")) == ["dr-master", "dr-worker-01",
                                                           "dr-worker-02"]  # fmt: skip
    assert core.launch(provider, "dr", 3, NodeSpec()).created == []  # found by tag
    core.destroy(provider, "dr")
    assert account.guests == {}


def test_softlayer_partial_failure_cancels_what_it_ordered():
    provider, account, transport = softlayer(fail={"dr-worker-02"})
    with pytest.raises(ProvisionError, match="no capacity for dr-worker-02"):
        core.launch(provider, "dr", 4, NodeSpec())
    assert account.guests == {}
    assert len([c for c in transport.calls if c.method == "deleteObject"]) == 3


@pytest.fixture
def ec2():
    with mock_aws():
        client = boto3.client("ec2", region_name="us-east-1")
        yield client


def aws_provider(client):
    return AwsProvider(client, ssh_check=lambda host, timeout: True, poll_s=0.01)


def test_aws_launch_tags_and_terminate(ec2):
    ami = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    provider = aws_provider(ec2)
    spec = NodeSpec(instance_type="g5.xlarge", image_id=ami, disks_gb=(100, 500))
    result = core.launch(provider, "dr", 3, spec)
    assert [n.name for n in result.nodes] == ["dr-master", "dr-worker-01", "dr-worker-02"]
    assert all(n.private_ip for n in result.nodes)
    found = ec2.describe_instances(Filters=[{"Name": "tag:drc-cluster", "Values": ["dr"]}])
    instances = [i for r in found["Reservations"] for i in r["Instances"]]
    assert {i["InstanceType"] for i in instances} == {"g5.xlarge"}
    assert core.launch(provider, "dr", 3, spec).created == []
    core.destroy(provider, "dr")
    assert provider.list("dr") == []


def test_aws_error_is_clear_and_cleans_up(ec2):
    provider = aws_provider(ec2)
    with pytest.raises(ProvisionError, match="image_id"):
        core.launch(provider, "dr", 2, NodeSpec())
    ami = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    flaky = AwsProvider(NoCapacityFor("dr-worker-02", ec2), ssh_check=lambda h, t: True,
                        poll_s=0.01)  # fmt: skip
    with pytest.raises(
        ProvisionError, match="aws create dr-worker-02.*InsufficientInstanceCapacity"
    ):
        core.launch(flaky, "dr", 4, NodeSpec(image_id=ami))
    assert provider.list("dr") == []  # the three it did start were terminated


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
