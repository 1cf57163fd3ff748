"""SoftLayer (IBM Cloud classic) virtual servers through the SoftLayer library's VSManager.

Credentials: SL_USERNAME / SL_API_KEY (what the library reads), from the vault. Nodes are
tagged `drc-cluster-NAME` and `drc-role-ROLE`, so a re-run or a cleanup finds them.
"""

from functools import partial

from provision.errors import ProvisionError
from provision.model import MASTER, WORKER, Node, NodeSpec
from provision.providers.base import Provider
from provision.providers.ratelimit import RateLimiter, call_with_retry
from provision.providers.sshcheck import ssh_answers

# The API allows about 50 requests/s per account; stay well below it.
REQUESTS_PER_S = 10
NODE_MASK = "mask[id,hostname,primaryIpAddress,primaryBackendIpAddress,tagReferences[tag[name]]]"


def cluster_tag(cluster: str) -> str:
    return f"drc-cluster-{cluster}"


def _retryable(exc: Exception) -> bool:
    from SoftLayer.exceptions import SoftLayerAPIError, TransportError

    if isinstance(exc, TransportError):
        return True  # connection trouble or an HTTP 5xx
    code = getattr(exc, "faultCode", "") if isinstance(exc, SoftLayerAPIError) else ""
    return "RateLimit" in str(code) or "Timeout" in str(code)


class SoftLayerProvider(Provider):
    name = "softlayer"

    def __init__(self, client, poll_s: float = 10, ssh_check=ssh_answers, backoff_s: float = 1):
        from SoftLayer import VSManager

        self.vs = VSManager(client)
        self.poll_s, self.ssh_check, self.backoff_s = poll_s, ssh_check, backoff_s
        self.limiter = RateLimiter(REQUESTS_PER_S)

    @classmethod
    def from_env(cls) -> "SoftLayerProvider":
        import SoftLayer

        try:
            return cls(SoftLayer.create_client_from_env())
        except SoftLayer.SoftLayerError as exc:
            raise ProvisionError("softlayer", f"no API credentials (SL_USERNAME/SL_API_KEY): "
                                        f"{type(exc).__name__}") from None  # fmt: skip

    def _call(self, what: str, fn, *args, **kwargs):
        from SoftLayer.exceptions import SoftLayerAPIError

        try:
            return call_with_retry(partial(fn, *args, **kwargs), limiter=self.limiter,
                                   retryable=_retryable, backoff_s=self.backoff_s)  # fmt: skip
        except SoftLayerAPIError as exc:
            raise ProvisionError(
                f"softlayer {what}", f"{exc.faultCode}: {exc.faultString}"
            ) from None

    def create(self, cluster: str, name: str, role: str, spec: NodeSpec) -> Node:
        order = {
            "hostname": name,
            "domain": spec.domain,
            "cpus": spec.cores,
            "memory": spec.ram_gb * 1024,
            "datacenter": spec.datacenter,
            "os_code": spec.os_image,
            "disks": [str(d) for d in spec.disks_gb],
            "local_disk": True,
            "hourly": spec.hourly,
            "ssh_keys": list(spec.ssh_key_ids),
            "tags": f"{cluster_tag(cluster)},drc-role-{role}",
            **spec.extra,
        }
        guest = self._call(f"create {name}", self.vs.create_instance, **order)
        return Node(name, role, public_ip="", private_ip="", id=str(guest["id"]))

    def wait_ready(self, node: Node, timeout_s: float) -> Node:
        ready = self._call(f"wait {node.name}", self.vs.wait_for_ready, int(node.id),
                           limit=timeout_s, delay=self.poll_s)  # fmt: skip
        if not ready:
            raise ProvisionError(node.name, f"not provisioned within {timeout_s:.0f} s")
        guest = self._call(f"get {node.name}", self.vs.get_instance, int(node.id), mask=NODE_MASK)
        node = self._node(guest, node.role)
        if not self.ssh_check(node.public_ip, min(timeout_s, 300)):
            raise ProvisionError(node.name, f"sshd on {node.public_ip} did not answer")
        return node

    @staticmethod
    def _node(guest: dict, role: str | None = None) -> Node:
        tags = {ref["tag"]["name"] for ref in guest.get("tagReferences", [])}
        if role is None:
            role = MASTER if "drc-role-master" in tags else WORKER
        return Node(guest["hostname"], role, public_ip=guest.get("primaryIpAddress", ""),
                    private_ip=guest.get("primaryBackendIpAddress", ""),
                    id=str(guest["id"]))  # fmt: skip

    def list(self, cluster: str) -> list[Node]:
        guests = self._call("list", self.vs.list_instances, tags=[cluster_tag(cluster)],
                            mask=NODE_MASK)  # fmt: skip
        return [self._node(g) for g in guests]

    def destroy(self, node: Node) -> None:
        self._call(f"cancel {node.name}", self.vs.cancel_instance, int(node.id))
