{#- roles/spark (start): the master on the spark_master host, the workers on every
    spark_workers host; each is started only when its pid file names no live process. -#}
{%- from "drc/map.jinja" import drc, groups, me with context %}
{%- import "spark/daemons.jinja" as daemons %}
{%- if drc.spark_install_method == "tarball" %}
{%- set spark_home = drc.spark_install_dir ~ "/" ~ drc.spark_package %}
{%- else %}
{%- set spark_home = daemons.wheel_home(drc) %}
{%- endif %}
{#- spark-daemon.sh finds its home from its own path #}
{%- set daemon = spark_home ~ "/sbin/spark-daemon.sh" %}
{%- set pid = drc.spark_pid_dir ~ "/spark-" ~ drc.spark_ident ~ "-org.apache.spark.deploy." %}
{%- set env = {"SPARK_CONF_DIR": drc.spark_conf_dir} %}

{%- if me in groups.spark_master %}
drc-spark-master:
  cmd.run:
    - name: >-
        {{ daemon }} start org.apache.spark.deploy.master.Master 1
    - env: {{ env | tojson }}
    - unless: kill -0 "$(cat {{ pid }}master.Master-1.pid 2>/dev/null)" 2>/dev/null

drc-spark-master-alive:
  cmd.run:
    - name: >-
        {{ drc.drc_venv }}/bin/python -m jobs.cluster.health spark {{ drc.spark_master_ui }}
        --workers 0 --timeout {{ drc.health_timeout_s }} --salt
    - stateful: true
    - require:
      - cmd: drc-spark-master
{%- endif %}

{%- if me in groups.spark_workers %}
{%- for i in range(1, (drc.spark_worker_instances | int) + 1) %}
drc-spark-worker-{{ i }}:
  cmd.run:
    - name: >-
        {{ daemon }} start org.apache.spark.deploy.worker.Worker {{ i }}
        --webui-port {{ (drc.spark_worker_webui_port | int) + i - 1 }} {{ drc.spark_master_url }}
    - env: {{ env | tojson }}
    - unless: kill -0 "$(cat {{ pid }}worker.Worker-{{ i }}.pid 2>/dev/null)" 2>/dev/null
{%- endfor %}
{%- endif %}
