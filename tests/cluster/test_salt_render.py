"""The Salt states render the roles' own templates: for the same inventory, Salt's Jinja
(with the settings `drc salt apply` gives the nodes) writes what Ansible's template module
writes. The integration test (tests/integration/test_salt.py) checks the files on real nodes."""

import json
from pathlib import Path

from jobs.cluster.cluster_vars import REPO, resolve
from jobs.cluster.salt_ssh import JINJA_ENV
from tests.support.ansible import run_ansible

FILES = {"spark-defaults.conf": "spark", "spark-env.sh": "spark", "core-site.xml": "hadoop",
         "hdfs-site.xml": "hadoop", "workers": "spark"}  # fmt: skip
NODES = {"dr-master": "10.9.0.1", "dr-worker-01": "10.9.0.2", "dr-worker-02": "10.9.0.3"}


def salt_render(template: Path, context: dict) -> str:
    import salt.config
    import salt.utils.templates

    opts = salt.config.minion_config(None)
    opts.update(file_client="local", jinja_env=JINJA_ENV)
    return salt.utils.templates.render_jinja_tmpl(
        template.read_text(), dict(context, opts=opts, saltenv="base", grains={}, pillar={})
    )


def test_salt_and_ansible_render_the_same_files(tmp_path):
    hosts = "\n".join(f"{name} ansible_host={ip} spark_bind_address={ip} spark_worker_cores=1"
                      for name, ip in NODES.items())  # fmt: skip
    inventory = tmp_path / "hosts"
    (tmp_path / "group_vars").mkdir()
    (tmp_path / "group_vars" / "all").symlink_to(REPO / "group_vars" / "all")  # as provision does
    inventory.write_text(
        f"[spark_master]\ndr-master\n[hdfs_namenode]\ndr-master\n"
        f"[spark_workers]\n{chr(10).join(NODES)}\n[hdfs_datanodes]\n{chr(10).join(NODES)}\n"
        f"[all]\n{hosts}\n[all:vars]\nspark_network_crypto=no\n"
    )
    secret = "s3cret-for-this-test-only-0123456789abcdef"
    extra = {"vault_spark_auth_secret": secret, "hadoop_replication": 2}
    out = tmp_path / "ansible"
    proc = run_ansible("ansible-playbook", "tests/support/render_config.yml", inventory=inventory,
                       extra={**extra, "render_out": str(out), "drc_repo": str(REPO),
                              "provision_state_root": str(tmp_path / "state")})  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:]
    cluster = resolve(inventory, (json.dumps(extra),))
    for host in NODES:
        # what salt/states/drc/map.jinja gives the templates on that node
        context = dict(cluster.hosts[host], **cluster.secrets[host], groups=cluster.groups,
                       hostvars=cluster.hostvars(), ansible_managed=cluster.managed)  # fmt: skip
        for name, role in FILES.items():
            if not (out / host / name).is_file():
                continue  # render_config.yml writes the four the issue names
            salt = salt_render(REPO / "roles" / role / "templates" / f"{name}.j2", context)
            assert salt == (out / host / name).read_text(), (host, name)
        defaults = salt_render(REPO / "roles/spark/templates/spark-defaults.conf.j2", context)
        assert f"spark.authenticate.secret         {secret}\n" in defaults
        assert "spark.network.crypto.enabled      false\n" in defaults  # "no" is a boolean
