{#- roles/run_jobs: on the master node, after the Spark gate, drc pipeline (preprocess, LR,
    kappa, report) on the data in HDFS. Always a change: it is a run, not a configuration. -#}
{%- from "drc/map.jinja" import drc with context %}
include:
  - spark.check

drc-pipeline:
  cmd.run:
    - name: >-
        {{ drc.drc_venv }}/bin/drc pipeline --data-dir {{ drc.run_jobs_data_dir }}
        --out {{ drc.run_jobs_out }} --reports {{ drc.run_jobs_reports }}
        --master {{ drc.spark_master_url }} --master-ui {{ drc.spark_master_ui }}
        --conf-dir {{ drc.spark_conf_dir }} --namenode-ui {{ drc.hadoop_namenode_ui }}
        --train-size {{ drc.run_jobs_train_size }} --max-iter {{ drc.run_jobs_max_iter }}
        --normalise {{ drc.run_jobs_normalise }} --seed {{ drc.run_jobs_split_seed }}
        {%- if drc.run_jobs_sizes %} --sizes {{ drc.run_jobs_sizes | join(",") }}{% endif %}
        {%- if drc.run_jobs_data_source %} --data-source {{ drc.run_jobs_data_source | quote }}{% endif %}
    - env:
        HADOOP_USER_NAME: {{ drc.run_jobs_hdfs_user }}
    - require:
      - cmd: drc-spark-whole
