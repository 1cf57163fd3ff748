{#- roles/hadoop (stop): this node's DataNode, then its NameNode (hdfs-daemon.sh waits until
    each JVM is gone). -#}
{%- from "drc/map.jinja" import drc with context %}
{%- for daemon in ["datanode", "namenode"] %}
drc-hadoop-stop-{{ daemon }}:
  cmd.run:
    - name: {{ drc.hadoop_conf_dir }}/hdfs-daemon.sh stop {{ daemon }}
    - onlyif: test -f {{ drc.hadoop_pid_dir }}/hadoop-{{ drc.hadoop_user }}-{{ daemon }}.pid
{%- endfor %}
