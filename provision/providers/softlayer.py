"""SoftLayer (IBM Cloud classic) virtual servers through the SoftLayer library's VSManager.

Credentials: SL_USERNAME / SL_API_KEY (what the library reads), from the vault. Nodes are
tagged `drc-cluster-NAME` and `drc-role-ROLE`, so a re-run or a cleanup finds them. Unless
the user names registered keys (ssh_key_ids + ssh_key_file), the cluster gets an SSH key of
its own (label `drc-cluster-NAME`), removed with it.
"""

import time
from functools import partial
from pathlib import Path

from provision.errors import ProvisionError
from provision.model import MASTER, WORKER, Node, NodeSpec
from provision.providers import keys
from provision.providers.base import Provider
from provision.providers.ratelimit import RateLimiter, call_with_retry
from provision.providers.sshcheck import ssh_login

# The API allows about 50 requests/s per account; stay well below it.
REQUESTS_PER_S = 10
# polls (poll_s apart: 10 s by default, so 2 min) for an order whose answer was lost
LOST_ORDER_WAIT_POLLS = 12
NODE_MASK = "mask[id,hostname,primaryIpAddress,primaryBackendIpAddress,tagReferences[tag[name]]]"


def cluster_tag(cluster: str) -> str:
    return f"drc-cluster-{cluster}"


def _fault(exc: Exception) -> str:
    return str(getattr(exc, "faultCode", ""))


def _retryable(exc: Exception) -> bool:
    """Safe to repeat whatever the first call did: reads, tags, cancels."""
    from SoftLayer.exceptions import SoftLayerAPIError, TransportError

    if isinstance(exc, TransportError):
        return True  # connection trouble or an HTTP 5xx
    code = _fault(exc) if isinstance(exc, SoftLayerAPIError) else ""
    return "RateLimit" in code or "Timeout" in code


def _refused(exc: Exception) -> bool:
    """An order the API answered with a rate limit: it was not placed, so ordering again
    cannot make a second server. (A lost answer is not this: see create.)"""
    from SoftLayer.exceptions import SoftLayerAPIError, TransportError

    return (isinstance(exc, SoftLayerAPIError) and not isinstance(exc, TransportError)
            and "RateLimit" in _fault(exc))  # fmt: skip


class SoftLayerProvider(Provider):
    name = "softlayer"

    def __init__(self, client, spec: NodeSpec | None = None, cluster_dir: Path | None = None,
                 poll_s: float = 10, ssh_check=ssh_login, backoff_s: float = 1):  # fmt: skip
        from SoftLayer import SshKeyManager, VSManager

        self.vs, self.sshkeys = VSManager(client), SshKeyManager(client)
        self.spec, self.cluster_dir = spec or NodeSpec(), cluster_dir
        self.poll_s, self.ssh_check, self.backoff_s = poll_s, ssh_check, backoff_s
        self.limiter = RateLimiter(REQUESTS_PER_S)
        self.key_ids = list(self.spec.ssh_key_ids)

    @classmethod
    def from_env(cls, spec: NodeSpec | None = None, cluster_dir: Path | None = None):
        import SoftLayer

        try:
            return cls(SoftLayer.create_client_from_env(), spec, cluster_dir)
        except SoftLayer.SoftLayerError as exc:
            raise ProvisionError("softlayer", f"no API credentials (SL_USERNAME/SL_API_KEY): "
                                        f"{type(exc).__name__}") from None  # fmt: skip

    def _call(self, what: str, fn, *args, retryable=_retryable, **kwargs):
        from SoftLayer.exceptions import SoftLayerAPIError

        try:
            return call_with_retry(partial(fn, *args, **kwargs), limiter=self.limiter,
                                   retryable=retryable, backoff_s=self.backoff_s)  # fmt: skip
        except SoftLayerAPIError as exc:
            raise ProvisionError(
                f"softlayer {what}", f"{exc.faultCode}: {exc.faultString}"
            ) from None

    # -- the cluster's SSH key ----------------------------------------------------------
    def _own_key(self) -> bool:
        return not self.spec.ssh_key_ids

    def ssh_key(self, cluster: str) -> str | None:
        return self._key()

    def _key(self) -> str | None:
        if not self._own_key():
            return self.spec.ssh_key_file or None
        return str(keys.key_path(self.cluster_dir)) if self.cluster_dir else None

    def prepare(self, cluster: str) -> None:
        if not self._own_key():
            return
        if self.cluster_dir is None:
            raise ProvisionError("softlayer", "no ssh_key_ids and nowhere to keep a cluster key")
        # RSA: the key type every image accepts, old ones included.
        key, made_now = keys.ensure_key(self.cluster_dir, "rsa", cluster_tag(cluster))
        label = cluster_tag(cluster)
        found = self._call("list ssh keys", self.sshkeys.list_keys, label=label)
        if found and made_now:  # a stale key of a cluster whose inventory is gone
            for old in found:
                self._call("delete ssh key", self.sshkeys.delete_key, old["id"])
            found = []
        if not found:
            found = [self._call("add ssh key", self.sshkeys.add_key, keys.public_key(key), label)]
        self.key_ids = [found[0]["id"]]

    def finish_destroy(self, cluster: str) -> None:
        if not self._own_key():
            return
        for old in self._call("list ssh keys", self.sshkeys.list_keys, label=cluster_tag(cluster)):
            self._call("delete ssh key", self.sshkeys.delete_key, old["id"])
        if self.cluster_dir is not None:
            keys.remove_key(self.cluster_dir)

    # -- nodes --------------------------------------------------------------------------
    def _order(self, name: str, spec: NodeSpec) -> dict:
        # A flavor fixes cores, memory and the first disk's kind: the library refuses
        # cpus/memory beside it, and its CLI drops local_disk.
        shape = (
            {"flavor": spec.flavor, "local_disk": None}
            if spec.flavor
            else {"cpus": spec.cores, "memory": spec.ram_gb * 1024, "local_disk": True}
        )
        return {
            "hostname": name,
            "domain": spec.domain,
            **shape,
            "datacenter": spec.datacenter,
            "os_code": spec.os_image,
            "disks": [str(d) for d in spec.disks_gb],
            "hourly": spec.hourly,
            "ssh_keys": list(self.key_ids),
            **spec.extra,
        }  # fmt: skip

    def _by_hostname(self, name: str, domain: str) -> list[dict]:
        found = self._call(f"find {name}", self.vs.list_instances, hostname=name, domain=domain,
                           mask=NODE_MASK)  # fmt: skip
        return [g for g in found if g["hostname"] == name]  # the API's filter: "contains"

    def _wait_listed(self, name: str, domain: str) -> list[dict]:
        """A server whose order's answer was lost may take a while to be listed: look for
        it for LOST_ORDER_WAIT_POLLS polls before ordering again."""
        for poll in range(LOST_ORDER_WAIT_POLLS):
            found = self._by_hostname(name, domain)
            if found or poll == LOST_ORDER_WAIT_POLLS - 1:
                return found
            time.sleep(self.poll_s)
        return []

    def _place_order(self, name: str, spec: NodeSpec) -> dict:
        """createObject at most once per server: repeated only when the API refused it, or
        when its answer was lost and no server of that hostname exists."""
        from SoftLayer.exceptions import SoftLayerAPIError, TransportError

        order, lost = self._order(name, spec), None
        for _ in range(3):
            try:
                return call_with_retry(partial(self.vs.create_instance, **order),
                                       limiter=self.limiter, retryable=_refused,
                                       backoff_s=self.backoff_s)  # fmt: skip
            except TransportError as exc:
                lost = exc
                found = self._wait_listed(name, spec.domain)
                if found:
                    return found[0]
            except SoftLayerAPIError as exc:
                raise ProvisionError(f"softlayer create {name}",
                                     f"{exc.faultCode}: {exc.faultString}") from None  # fmt: skip
        raise ProvisionError(f"softlayer create {name}", f"{lost.faultCode}: {lost.faultString} "
                                                         "(3 orders, none placed)")  # fmt: skip

    def create(self, cluster: str, name: str, role: str, spec: NodeSpec) -> Node:
        guest = self._place_order(name, spec)
        tags = f"{cluster_tag(cluster)},drc-role-{role}"
        try:
            self._call(f"tag {name}", self.vs.guest.setTags, tags, id=guest["id"])
        except ProvisionError as exc:
            # Untagged, list and down would never see it: it leaves now, or the error says
            # which server to cancel by hand.
            try:
                self._call(f"cancel {name}", self.vs.cancel_instance, int(guest["id"]))
            except ProvisionError as cancel:
                reason = f"{exc}; and CANCEL FAILED, cancel guest {guest['id']} by hand: {cancel}"
                raise ProvisionError(name, reason) from None
            raise ProvisionError(name, f"{exc}; guest {guest['id']} cancelled") from None
        return Node(name, role, public_ip="", private_ip="", ssh_user=self._user(),
                    id=str(guest["id"]))  # fmt: skip

    def _user(self) -> str:
        return self.spec.ssh_user or "root"

    def wait_ready(self, node: Node, timeout_s: float) -> Node:
        ready = self._call(f"wait {node.name}", self.vs.wait_for_ready, int(node.id),
                           limit=timeout_s, delay=self.poll_s)  # fmt: skip
        if not ready:
            raise ProvisionError(node.name, f"not provisioned within {timeout_s:.0f} s")
        guest = self._call(f"get {node.name}", self.vs.get_instance, int(node.id), mask=NODE_MASK)
        node = self._node(guest, node.role)
        self.ssh_check(node.public_ip or node.private_ip, min(timeout_s, 300), user=node.ssh_user,
                       key=self._key())  # fmt: skip
        return node

    def _node(self, guest: dict, role: str | None = None) -> Node:
        tags = {ref["tag"]["name"] for ref in guest.get("tagReferences", [])}
        if role is None:
            role = MASTER if "drc-role-master" in tags else WORKER
        return Node(guest["hostname"], role, public_ip=guest.get("primaryIpAddress", ""),
                    private_ip=guest.get("primaryBackendIpAddress", ""), ssh_user=self._user(),
                    id=str(guest["id"]))  # fmt: skip

    def list(self, cluster: str) -> list[Node]:
        guests = self._call("list", self.vs.list_instances, tags=[cluster_tag(cluster)],
                            mask=NODE_MASK)  # fmt: skip
        return [self._node(g) for g in guests]

    def destroy(self, node: Node) -> None:
        self._call(f"cancel {node.name}", self.vs.cancel_instance, int(node.id))

    def host_vars(self, cluster: str, node: Node) -> dict[str, str]:
        # The second disk (device 2) has no stable name inside a Xen guest: roles/data_disk
        # takes the one blank disk of this size and mounts it by its filesystem's UUID.
        disks = self.spec.disks_gb
        return {"data_disk_size_gb": str(disks[1])} if len(disks) > 1 else {}
