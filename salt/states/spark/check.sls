{#- roles/spark (check): the health gate, on the master node: ALIVE with every worker of
    the inventory ALIVE. -#}
{%- from "drc/map.jinja" import drc, groups with context %}
drc-spark-whole:
  cmd.run:
    - name: >-
        {{ drc.drc_venv }}/bin/python -m jobs.cluster.health spark {{ drc.spark_master_ui }}
        --workers {{ (groups.spark_workers | length) * (drc.spark_worker_instances | int) }}
        --timeout {{ drc.health_timeout_s }} --salt
    - stateful: true
