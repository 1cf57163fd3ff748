{#- roles/hadoop (start): the NameNode on its host, a DataNode on each hdfs_datanodes host;
    each is started only when its pid file names no live process. -#}
{%- from "drc/map.jinja" import drc, groups, me with context %}
{%- for daemon, group in [("namenode", "hdfs_namenode"), ("datanode", "hdfs_datanodes")] %}
{%- if me in groups[group] %}
drc-hadoop-{{ daemon }}:
  cmd.run:
    - name: {{ drc.hadoop_conf_dir }}/hdfs-daemon.sh start {{ daemon }}
    - unless: >-
        kill -0 "$(cat {{ drc.hadoop_pid_dir }}/hadoop-{{ drc.hadoop_user }}-{{ daemon }}.pid
        2>/dev/null)" 2>/dev/null
{%- endif %}
{%- endfor %}
