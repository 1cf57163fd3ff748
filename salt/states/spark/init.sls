{#- roles/spark (main): Spark from the pinned wheel (or a checksummed Apache release), its
    state directories and configuration. A configuration change stops the running daemons;
    spark.start starts them again with the new files (drc salt apply runs both). -#}
{%- from "drc/map.jinja" import drc, context with context %}
{%- import "spark/daemons.jinja" as daemons %}
{%- if (drc.spark_executor_memory | human_to_bytes) > (drc.spark_worker_memory | human_to_bytes) %}
{{ raise("spark_executor_memory=" ~ drc.spark_executor_memory ~ " exceeds spark_worker_memory=" ~ drc.spark_worker_memory ~ ": no executor could ever start (jobs would wait forever).") }}
{%- endif %}
{%- if drc.spark_authenticate_enabled and (drc.spark_auth_secret | default("") | length) < 32 %}
{{ raise("spark_authenticate is on but the cluster has no secret of 32+ characters (vault_spark_auth_secret: start_cluster.yml writes it to inventories/CLUSTER/group_vars/all/secrets.yml)") }}
{%- endif %}

{%- if drc.spark_install_method == "tarball" %}
{%- if drc.spark_version not in drc.spark_sha512 %}
{{ raise("No SHA-512 pinned for Spark " ~ drc.spark_version ~ ": add spark_sha512['" ~ drc.spark_version ~ "'] from the release's .sha512 file before installing it.") }}
{%- endif %}
# Mirrors in order, each verified against the pinned checksum.
drc-spark-release:
  archive.extracted:
    - name: {{ drc.spark_install_dir }}
    - source:
{%- for mirror in drc.spark_mirrors %}
      - {{ mirror }}/spark-{{ drc.spark_version }}/{{ drc.spark_package }}.tgz
{%- endfor %}
    - source_hash: sha512={{ drc.spark_sha512[drc.spark_version] }}
    - if_missing: {{ drc.spark_install_dir }}/{{ drc.spark_package }}/sbin
    - retry: {attempts: {{ drc.spark_download_retries }}, interval: 5}
{%- set spark_home = drc.spark_install_dir ~ "/" ~ drc.spark_package %}
{%- endif %}

drc-spark-launch-scripts:
  cmd.run:
    - name: echo "no sbin/spark-daemon.sh in the Spark home" >&2; exit 1
{%- if drc.spark_install_method == "tarball" %}
    - unless: test -x {{ spark_home }}/sbin/spark-daemon.sh
{%- else %}
    - unless: test -x "{{ daemons.wheel_home(drc) }}/sbin/spark-daemon.sh"
{%- endif %}

# The configuration holds the cluster's secret, the scratch directories the applications'
# data: the daemons' own, nobody else's.
{%- for dir in [drc.spark_conf_dir, drc.spark_log_dir, drc.spark_pid_dir, drc.spark_work_dir,
                drc.spark_local_dir, drc.spark_cache_dir] %}
drc-spark-dir-{{ dir }}:
  file.directory:
    - name: {{ dir }}
    - mode: "0700"
    - makedirs: true
{%- endfor %}

{%- for name in ["spark-env.sh", "spark-defaults.conf", "workers"] %}
drc-spark-conf-{{ name }}:
  file.managed:
    - name: {{ drc.spark_conf_dir }}/{{ name }}
    - source: salt://roles/spark/templates/{{ name }}.j2
    - template: jinja
    - context: {{ context | tojson }}
    - mode: "0600"
    - show_changes: false  # spark-defaults.conf holds the secret: no diff of it anywhere
    - require:
      - file: drc-spark-dir-{{ drc.spark_conf_dir }}
{%- endfor %}

drc-spark-stop-on-change:
  cmd.run:
    - name: {{ daemons.stop_all(drc, spark_home if spark_home is defined else daemons.wheel_home(drc)) | tojson }}
    - onchanges:
{%- for name in ["spark-env.sh", "spark-defaults.conf", "workers"] %}
      - file: drc-spark-conf-{{ name }}
{%- endfor %}
