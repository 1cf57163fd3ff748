{#- The cluster as `drc salt apply` resolved it (cluster.json, in the cluster's own pillar
    directory beside this one): the groups (master, workers, NameNode, DataNodes), every
    host's address, and this host's settings (versions, checksums, ports, paths). The
    secrets come from the ext_pillar, at run time. -#}
{%- import_json "cluster.json" as cluster %}
drc: {{ cluster.hosts[opts.id] | tojson }}
drc_cluster:
  groups: {{ cluster.groups | tojson }}
  hostvars: {{ cluster.hostvars | tojson }}
  managed: {{ cluster.managed | tojson }}
