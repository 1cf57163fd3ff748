{#- roles/stage_data: the data set from its store (file://, swift://, s3://) to this node's
    disk. The store's credentials reach drc through its environment only (no argument, no
    log); nothing transferred is no change. -#}
{%- from "drc/map.jinja" import drc with context %}
{%- from "drc/stage.jinja" import stage %}
{%- set url = drc.stage_data_url %}
{%- if url.startswith("swift://") %}
{%- set env = {"ST_AUTH": drc.stage_data_swift_auth_url, "ST_USER": drc.stage_data_swift_user,
               "ST_KEY": drc.stage_data_swift_key} %}
{%- elif url.startswith("s3://") %}
{%- set env = {"AWS_ACCESS_KEY_ID": drc.stage_data_s3_access_key_id,
               "AWS_SECRET_ACCESS_KEY": drc.stage_data_s3_secret_access_key} %}
{%- if drc.stage_data_s3_endpoint_url %}
{%- do env.update({"AWS_ENDPOINT_URL": drc.stage_data_s3_endpoint_url}) %}
{%- endif %}
{%- else %}
{%- set env = {} %}
{%- endif %}
drc-stage-data:
  cmd.run:
    - name: {{ stage(drc, "get " ~ url ~ " " ~ drc.stage_data_dest ~ " --jobs " ~ drc.stage_data_jobs)
               | tojson }}
    - env: {{ env | tojson }}
    - stateful: true
