{#- roles/hadoop (check): the health gate, on the NameNode's host: safe mode off, every
    DataNode of the inventory live, a file written, read back and removed. -#}
{%- from "drc/map.jinja" import drc, groups with context %}
drc-hadoop-whole:
  cmd.run:
    - name: >-
        {{ drc.drc_venv }}/bin/python -m jobs.cluster.health hdfs {{ drc.hadoop_namenode_ui }}
        --datanodes {{ groups.hdfs_datanodes | length }} --url {{ drc.hadoop_url }}
        --timeout {{ drc.health_timeout_s }} --salt
    - env:
        HADOOP_USER_NAME: {{ drc.hadoop_user }}  # the HDFS superuser: simple authentication
    - stateful: true
