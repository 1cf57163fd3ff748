{#- roles/spark (stop): this node's workers and master, by their pid files. -#}
{%- from "drc/map.jinja" import drc with context %}
{%- import "spark/daemons.jinja" as daemons %}
drc-spark-stop:
  cmd.run:
    - name: {{ daemons.stop_all(drc, daemons.wheel_home(drc)) | tojson }}
    - onlyif: ls {{ drc.spark_pid_dir }}/*.pid
