{#- roles/hadoop (put): the staged data set into HDFS. drc stage put skips what HDFS holds
    with the same size and SHA-256: nothing moved is no change. -#}
{%- from "drc/map.jinja" import drc with context %}
{%- from "drc/stage.jinja" import stage %}
drc-hadoop-put:
  cmd.run:
    - name: {{ stage(drc, "put " ~ drc.hadoop_put_source ~ " " ~ drc.hadoop_url ~ drc.hadoop_put_path
                     ~ " --jobs " ~ drc.hadoop_put_jobs) | tojson }}
    - env:
        HADOOP_USER_NAME: {{ drc.hadoop_user }}  # the data belongs to the hadoop user
    - stateful: true
